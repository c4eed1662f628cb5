// The prebuilt Verilated harness tops of `qarch verify` (rtl/verify/verify_<unit>.v, verilated
// into qarch_rtl_models), registered with sim/'s verify.h so `qarch verify` runs built-in units
// without a runtime Verilator build. Linked as an object library into the qarch executable and
// the verify tests (the static initializer must not be dropped by the linker). The cycle
// protocol is verify.h's, the same as the stimulus player's that cmd_verify.cpp generates.
#include <verilated.h>
#include <verilated_vcd_c.h>

#include <memory>
#include <type_traits>

#include "Vverify_int8_mac.h"
#include "Vverify_mxfp4_pe.h"
#include "Vverify_ovp4_encoder.h"
#include "Vverify_ovp4_pe.h"
#include "qarch/sim/verify.h"

namespace qarch::sim::verify {
namespace {

template <class M>
struct Access {
  using Set = void (*)(M&, uint64_t);
  using Get = uint64_t (*)(const M&);
  std::vector<Set> set;
  std::vector<Get> get;
};

template <class M>
class Model final : public UnitModel {
 public:
  explicit Model(Access<M> a) : a_(std::move(a)) {}
  std::vector<uint64_t> run(const Stimulus& st, const Waveform& wave) override {
    const size_t ni = a_.set.size(), no = a_.get.size();
    std::vector<uint64_t> out(static_cast<size_t>(st.cycles) * no);
    VerilatedContext ctx;
    ctx.randReset(2);
    ctx.randSeed(12345);
    const bool vcd = !wave.path.empty();
    if (vcd) ctx.traceEverOn(true);
    M top(&ctx, "top");
    VerilatedVcdC tfp;
    if (vcd) {
      top.trace(&tfp, 99);
      tfp.open(wave.path.c_str());
    }
    uint64_t time = 0;
    auto ev = [&](uint64_t c) {
      top.eval();
      if (vcd && c >= wave.from && c <= wave.to) tfp.dump(time);
      ++time;
    };
    top.clk = 0;
    for (size_t k = 0; k < ni; ++k) a_.set[k](top, 0);
    ev(0);
    for (int64_t c = 0; c < st.cycles; ++c) {
      const uint64_t* v = &st.in[static_cast<size_t>(c) * ni];
      for (size_t k = 0; k < ni; ++k) a_.set[k](top, v[k]);
      const auto cu = static_cast<uint64_t>(c);
      ev(cu);
      top.clk = 1;
      ev(cu);
      top.clk = 0;
      ev(cu);
      uint64_t* o = &out[static_cast<size_t>(c) * no];
      for (size_t k = 0; k < no; ++k) o[k] = a_.get[k](top);
    }
    top.final();
    if (vcd) tfp.close();
    return out;
  }

 private:
  Access<M> a_;
};

#define QV_IN(M, p) \
  [](M& m, uint64_t v) { m.p = static_cast<std::remove_reference_t<decltype(m.p)>>(v); }
#define QV_OUT(M, p) [](const M& m) { return static_cast<uint64_t>(m.p); }

template <class M>
void reg(const char* top, std::vector<std::string> in, std::vector<std::string> out, Access<M> a) {
  register_builtin_model(
      {top, std::move(in), std::move(out), [a] { return std::make_unique<Model<M>>(a); }});
}

// Port lists in the order of cmd_verify.cpp's unit table (checked there at use).
const bool registered = [] {
  using P = Vverify_ovp4_pe;
  reg<P>("verify_ovp4_pe", {"valid", "first", "sel", "a_pair", "w_pair"}, {"acc"},
         {{QV_IN(P, valid), QV_IN(P, first), QV_IN(P, sel), QV_IN(P, a_pair), QV_IN(P, w_pair)},
          {QV_OUT(P, acc)}});
  using I = Vverify_int8_mac;
  reg<I>("verify_int8_mac", {"valid", "first", "a", "w"}, {"acc"},
         {{QV_IN(I, valid), QV_IN(I, first), QV_IN(I, a), QV_IN(I, w)}, {QV_OUT(I, acc)}});
  using X = Vverify_mxfp4_pe;
  reg<X>("verify_mxfp4_pe", {"valid", "first", "last", "a", "w", "a_scale", "w_scale"},
         {"acc", "blk_valid", "blk_exp", "blk_nan"},
         {{QV_IN(X, valid), QV_IN(X, first), QV_IN(X, last), QV_IN(X, a), QV_IN(X, w),
           QV_IN(X, a_scale), QV_IN(X, w_scale)},
          {QV_OUT(X, acc), QV_OUT(X, blk_valid), QV_OUT(X, blk_exp), QV_OUT(X, blk_nan)}});
  using E = Vverify_ovp4_encoder;
  reg<E>("verify_ovp4_encoder", {"valid", "victim_even", "ties_up", "v_even", "v_odd"},
         {"out_valid", "pair", "cls"},
         {{QV_IN(E, valid), QV_IN(E, victim_even), QV_IN(E, ties_up), QV_IN(E, v_even),
           QV_IN(E, v_odd)},
          {QV_OUT(E, out_valid), QV_OUT(E, pair), QV_OUT(E, cls)}});
  return true;
}();

}  // namespace
}  // namespace qarch::sim::verify
