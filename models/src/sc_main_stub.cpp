// libsystemc's own main() calls sc_main, so every program linked with libsystemc.so needs the
// symbol, even though qarch programs have their own main() and start simulations through
// models::simulate(). This placeholder satisfies the linker; it is weak, so a program that
// defines sc_main keeps its own. models/CMakeLists.txt makes consumers pull it from the static
// library (-Wl,--undefined=sc_main).
extern "C" __attribute__((weak)) int sc_main(int, char*[]) {
  return 1;
}
