// `qarch verify`: an RTL unit (ours, or a user's drop-in with the same ports) against quant's
// reference on the operands of a trace (`qarch trace`). For every GEMM of the trace the unit
// takes, the unit's table entry turns the stored operands into a per-cycle stimulus of the
// unit's harness top (rtl/verify/verify_<unit>.v) and the expected outputs, worked out by
// quant (decode_operand, reference_int_dot, reference_dot_segments, ovp_encode_pair), and
// counts the corner classes the stimulus hits. The top runs in a prebuilt Verilated model
// (qarch built with Verilator) or in the stimulus player, a small executable built here with
// verilator from rtl/ sources, with the user's FILE (--rtl) replacing the rtl/ file(s) that
// define the same modules. The first mismatch is reported with its inputs and a VCD window of
// the 200 cycles before it; --junit writes one testcase per GEMM.
//
// Adding a unit: a harness top rtl/verify/verify_<unit>.v (clock `clk`, ports <= 64 bits), an
// entry in units() below (ports in the top's order, the rtl/ files it needs, which formats it
// takes and its plan: stimulus, expected outputs, coverage), and, for the prebuilt path, a
// verilate() line in rtl/CMakeLists.txt and a registration in rtl/verify/builtin_models.cpp.
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <boost/program_options.hpp>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <map>
#include <regex>
#include <set>
#include <sstream>

#include "qarch/common/atomic_file.h"
#include "qarch/common/error.h"
#include "qarch/quant/decoded.h"
#include "qarch/quant/format.h"
#include "qarch/quant/olive.h"
#include "qarch/sim/command_args.h"
#include "qarch/sim/commands.h"
#include "qarch/sim/verify.h"
#include "qarch/workloads/trace.h"

extern char** environ;

namespace po = boost::program_options;
namespace fs = std::filesystem;

namespace qarch::sim {

// ---- Prebuilt model registry (verify.h).
namespace verify {
namespace {
std::vector<BuiltinModel>& registry() {
  static std::vector<BuiltinModel> r;
  return r;
}
}  // namespace
void register_builtin_model(BuiltinModel m) {
  registry().push_back(std::move(m));
}
const BuiltinModel* find_builtin_model(const std::string& top) {
  for (const auto& m : registry())
    if (m.top == top) return &m;
  return nullptr;
}
}  // namespace verify

namespace {

using verify::Port;
using verify::Stimulus;
using verify::UnitModel;
using verify::Waveform;
using i128 = __int128;

uint64_t mask_bits(int w) {
  return w >= 64 ? ~uint64_t{0} : (uint64_t{1} << w) - 1;
}

/// v as a `bits`-wide two's-complement register holds it (low bits).
uint64_t wrap_bits(i128 v, int bits) {
  return static_cast<uint64_t>(v) & mask_bits(bits);
}

int64_t sext(uint64_t v, int bits) {
  const uint64_t m = mask_bits(bits);
  v &= m;
  if (bits < 64 && ((v >> (bits - 1)) & 1)) v |= ~m;
  return static_cast<int64_t>(v);
}

std::string hex(uint64_t v, int digits) {
  std::ostringstream os;
  os << "0x" << std::hex << std::setw(digits) << std::setfill('0') << v;
  return os.str();
}

uint32_t float_bits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}

std::string float_text(float f) {
  std::ostringstream os;
  os << std::setprecision(9) << f << " (" << hex(float_bits(f), 8) << ")";
  return os.str();
}

// ---- What a unit's plan produces for one GEMM.

struct Plan {
  Stimulus st;
  std::vector<uint64_t> want;  // cycles x outputs
  std::vector<uint8_t> check;  // cycles x outputs: compare this value?
  /// Inputs and context of cycle c, for the mismatch report.
  std::function<std::string(int64_t c)> describe;
  /// Coverage: class -> count, in the order classes were first named.
  std::vector<std::pair<std::string, int64_t>> coverage;
  std::string shape;  // what was streamed ("4 x 4 outputs, K = 768")
};

struct Coverage {
  std::vector<std::pair<std::string, int64_t>>* v;
  void add(const std::string& cls, int64_t n = 1) {
    for (auto& [k, c] : *v) {
      if (k == cls) {
        c += n;
        return;
      }
    }
    v->emplace_back(cls, n);
  }
  void name(const std::string& cls) { add(cls, 0); }
};

/// A GEMM's operands, decoded by their formats.
struct Operands {
  std::string gemm;
  quant::EncodedTensor ex, ew;
  std::unique_ptr<quant::Format> fx, fw;
  quant::DecodedTensor dx, dw;
  int64_t rows = 4, cols = 4;  // --rows / --cols: outputs streamed (PE) or X rows (encoder)
};

struct Unit {
  std::string name;
  std::string dut;      // the module a drop-in replaces
  std::string top;      // harness top
  std::string harness;  // rtl-dir relative
  std::vector<std::string> sources;
  std::vector<Port> inputs, outputs;
  std::string takes;  // for --help and errors
  /// "" if the unit takes this GEMM's formats, else why not.
  std::function<std::string(const quant::FormatTraits& x, const quant::FormatTraits& w)> fits;
  /// Stimulus, expected outputs and coverage for one GEMM (throws qarch::Error if the operands
  /// are not what the unit's harness takes).
  Plan (*plan)(const Unit&, const Operands&) = nullptr;
};

bool plain(const quant::FormatTraits& t) {
  return t.keep_count == 0 && t.keep_fraction == 0.0;
}

// 1 at the first k of every scale segment of reference_dot(x, i, w, j) (quant's segments: the
// whole K for per-tensor / per-row scales, each group for grouped ones), where an integer PE
// restarts its accumulator.
std::vector<uint8_t> segment_starts(const quant::DecodedTensor& x, int64_t i,
                                    const quant::DecodedTensor& w, int64_t j) {
  std::vector<uint8_t> f(static_cast<size_t>(x.cols), 0);
  for (const auto& s : quant::reference_dot_segments(x, i, w, j)) f[s.k0] = 1;
  return f;
}

// Sizes the plan's tables.
void init_plan(Plan& p, const Unit& u, int64_t cycles) {
  // Stimulus, expected values and masks take ~100 bytes per cycle: 2^23 cycles ~ 0.8 GB.
  constexpr int64_t kMaxCycles = int64_t{1} << 23;
  if (cycles > kMaxCycles) {
    throw Error(std::to_string(cycles) + " cycles for unit " + u.name + " (at most " +
                std::to_string(kMaxCycles) + " per GEMM): lower --rows / --cols");
  }
  p.st.cycles = cycles;
  p.st.in.assign(static_cast<size_t>(cycles) * u.inputs.size(), 0);
  p.want.assign(static_cast<size_t>(cycles) * u.outputs.size(), 0);
  p.check.assign(p.want.size(), 0);
}

// ---- ovp4_pe: olive4 X and W; output (i, j) streams row i of X against row j of W, one
// element per cycle (sel picks the element of the pair), restarting the accumulator at every
// scale segment of reference_dot (once per output for per-tensor and per-row scales).
// Expected: the exact running sum of quant's per-element products (reference_int_dot) as the
// 32-bit accumulator holds it. OVP pair rule (OliVe, ISCA 2023): a nibble 1000b is the victim
// (value 0) and the other nibble of its byte the outlier.

constexpr uint32_t kOvp4Victim = 8;

std::string ovp4_element_class(uint8_t byte, int sel) {
  const uint32_t me = (byte >> (4 * sel)) & 15u, other = (byte >> (4 * (1 - sel))) & 15u;
  if (me == kOvp4Victim) return "victim";
  if (other == kOvp4Victim) return "outlier";
  return me == 0 ? "zero" : "normal";
}

// Largest |mant << shift| over a code space given by a decoder of bytes.
int64_t olive4_max_magnitude() {
  int64_t m = 0;
  for (int b = 0; b < 256; ++b)
    for (const auto& p : quant::olive4_decode_byte(static_cast<uint8_t>(b)))
      m = std::max<int64_t>(m, std::abs(int64_t{p.mant}) * (int64_t{1} << p.shift));
  return m;
}

// The decoded operand must be what the RTL decoder makes of the bytes (same code space).
void check_olive4_bytes(const quant::EncodedTensor& e, const quant::DecodedTensor& d, int64_t rows,
                        const std::string& what) {
  const int64_t K = d.cols, rb = (K + 1) / 2;
  if (static_cast<int64_t>(e.elements.size()) < d.rows * rb)
    throw Error(what + ": " + std::to_string(e.elements.size()) + " element bytes, expected " +
                std::to_string(d.rows * rb));
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t k = 0; k < K; ++k) {
      const auto p = quant::olive4_decode_byte(e.elements[r * rb + k / 2])[k % 2];
      if (p.mant != d.mant[r * K + k] || p.shift != d.shift[r * K + k]) {
        throw Error(what + " (" + e.format + "): element (" + std::to_string(r) + ", " +
                    std::to_string(k) +
                    ") decodes differently from the olive4 code space the unit's decoder "
                    "implements (a sign= or types= variant?)");
      }
    }
  }
}

Plan plan_ovp4_pe(const Unit& u, const Operands& o) {
  const auto& dx = o.dx;
  const auto& dw = o.dw;
  const int64_t K = dx.cols, R = std::min(o.rows, dx.rows), C = std::min(o.cols, dw.rows);
  const int64_t rb = (K + 1) / 2;
  check_olive4_bytes(o.ex, dx, R, "X");
  check_olive4_bytes(o.ew, dw, C, "W");
  Plan p;
  init_plan(p, u, R * C * K);
  p.shape = std::to_string(R) + " x " + std::to_string(C) + " outputs, K = " + std::to_string(K);
  const int64_t maxmag = olive4_max_magnitude();
  Coverage cov{&p.coverage};
  for (const char* c : {"normal x normal", "outlier x normal", "outlier x outlier",
                        "victim operand", "zero operand", "saturated operand (largest magnitude)",
                        "accumulator wraps (int32)", "outputs"})
    cov.name(c);
  int64_t c = 0;
  for (int64_t i = 0; i < R; ++i) {
    for (int64_t j = 0; j < C; ++j) {
      i128 run = 0;
      bool wrapped = false;
      cov.add("outputs");
      const std::vector<uint8_t> first = segment_starts(dx, i, dw, j);
      for (int64_t k = 0; k < K; ++k, ++c) {
        if (first[k]) run = 0;
        const uint8_t a = o.ex.elements[i * rb + k / 2], w = o.ew.elements[j * rb + k / 2];
        const int sel = static_cast<int>(k % 2);
        uint64_t* in = &p.st.in[c * u.inputs.size()];
        in[0] = 1;         // valid
        in[1] = first[k];  // first
        in[2] = sel;       // sel
        in[3] = a;         // a_pair
        in[4] = w;         // w_pair
        run += quant::reference_int_dot(dx, i, dw, j, k, k + 1).sum[0][0];
        if (run >= (i128{1} << 31) || run < -(i128{1} << 31)) wrapped = true;
        p.want[c] = wrap_bits(run, 32);
        p.check[c] = 1;
        const std::string ca = ovp4_element_class(a, sel), cw = ovp4_element_class(w, sel);
        const bool oa = ca == "outlier", ow = cw == "outlier";
        if (ca == "victim" || cw == "victim") cov.add("victim operand");
        if (ca == "zero" || cw == "zero") cov.add("zero operand");
        cov.add(oa && ow     ? "outlier x outlier"
                : (oa || ow) ? "outlier x normal"
                             : "normal x normal");
        auto mag = [](const quant::DecodedTensor& d, int64_t r, int64_t kk) {
          return std::abs(int64_t{d.mant[r * d.cols + kk]}) *
                 (int64_t{1} << d.shift[r * d.cols + kk]);
        };
        if (mag(dx, i, k) == maxmag || mag(dw, j, k) == maxmag)
          cov.add("saturated operand (largest magnitude)");
      }
      if (wrapped) cov.add("accumulator wraps (int32)");
    }
  }
  const auto ex = std::make_shared<quant::EncodedTensor>(o.ex);
  const auto ew = std::make_shared<quant::EncodedTensor>(o.ew);
  p.describe = [ex, ew, K, C, rb](int64_t cyc) {
    const int64_t k = cyc % K, out = cyc / K, i = out / C, j = out % C;
    const uint8_t a = ex->elements[i * rb + k / 2], w = ew->elements[j * rb + k / 2];
    std::ostringstream os;
    const auto pa = quant::olive4_decode_byte(a)[k % 2], pw = quant::olive4_decode_byte(w)[k % 2];
    os << "output (" << i << ", " << j << ") k = " << k << ": A byte " << hex(a, 2) << " element "
       << k % 2 << " <shift " << pa.shift << ", mant " << pa.mant << ">, W byte " << hex(w, 2)
       << " <shift " << pw.shift << ", mant " << pw.mant << ">";
    return os.str();
  };
  return p;
}

// ---- int8_mac: int8 X and W (one byte per element, two's complement), same streaming (a
// grouped int8:group=G restarts at every group).

Plan plan_int8_mac(const Unit& u, const Operands& o) {
  const auto& dx = o.dx;
  const auto& dw = o.dw;
  const int64_t K = dx.cols, R = std::min(o.rows, dx.rows), C = std::min(o.cols, dw.rows);
  for (const auto* e : {&o.ex, &o.ew}) {
    const auto& d = e == &o.ex ? dx : dw;
    const int64_t n = e == &o.ex ? R : C;
    if (static_cast<int64_t>(e->elements.size()) < d.rows * K)
      throw Error(e->format + ": fewer element bytes than rows x K");
    for (int64_t q = 0; q < n * K; ++q) {
      if (d.mant[q] != static_cast<int8_t>(e->elements[q]) || d.shift[q] != 0)
        throw Error(e->format + ": element " + std::to_string(q) +
                    " does not decode to its two's-complement byte (not the int8 MAC's code)");
    }
  }
  Plan p;
  init_plan(p, u, R * C * K);
  p.shape = std::to_string(R) + " x " + std::to_string(C) + " outputs, K = " + std::to_string(K);
  Coverage cov{&p.coverage};
  for (const char* c : {"products", "zero operand", "saturated operand (+-127)", "-128 operand",
                        "accumulator wraps (int32)", "outputs"})
    cov.name(c);
  int64_t c = 0;
  for (int64_t i = 0; i < R; ++i) {
    for (int64_t j = 0; j < C; ++j) {
      i128 run = 0;
      bool wrapped = false;
      cov.add("outputs");
      const std::vector<uint8_t> first = segment_starts(dx, i, dw, j);
      for (int64_t k = 0; k < K; ++k, ++c) {
        if (first[k]) run = 0;
        const uint8_t a = o.ex.elements[i * K + k], w = o.ew.elements[j * K + k];
        uint64_t* in = &p.st.in[c * u.inputs.size()];
        in[0] = 1;
        in[1] = first[k];
        in[2] = a;
        in[3] = w;
        run += quant::reference_int_dot(dx, i, dw, j, k, k + 1).sum[0][0];
        if (run >= (i128{1} << 31) || run < -(i128{1} << 31)) wrapped = true;
        p.want[c] = wrap_bits(run, 32);
        p.check[c] = 1;
        cov.add("products");
        const int sa = static_cast<int8_t>(a), sw = static_cast<int8_t>(w);
        if (sa == 0 || sw == 0) cov.add("zero operand");
        if (std::abs(sa) == 127 || std::abs(sw) == 127) cov.add("saturated operand (+-127)");
        if (sa == -128 || sw == -128) cov.add("-128 operand");
      }
      if (wrapped) cov.add("accumulator wraps (int32)");
    }
  }
  const auto ex = std::make_shared<quant::EncodedTensor>(o.ex);
  const auto ew = std::make_shared<quant::EncodedTensor>(o.ew);
  p.describe = [ex, ew, K, C](int64_t cyc) {
    const int64_t k = cyc % K, out = cyc / K, i = out / C, j = out % C;
    return "output (" + std::to_string(i) + ", " + std::to_string(j) +
           ") k = " + std::to_string(k) + ": A " +
           std::to_string(static_cast<int8_t>(ex->elements[i * K + k])) + ", W " +
           std::to_string(static_cast<int8_t>(ew->elements[j * K + k]));
  };
  return p;
}

// ---- mxfp4_pe: MXFP4 X and W (E2M1 codes, E8M0 block scales). The PE restarts at every
// scale segment of reference_dot (quant's reference_dot_segments); after every edge acc is the
// exact running block sum (16 bits), blk_valid is 1 after a segment's last element, then
// blk_nan says whether either scale code is 0xFF (OCP MX v1.0 NaN) and, for a block that is
// not NaN, blk_exp = quant's scale_exp[gx] + scale_exp[gw] (10 bits).

Plan plan_mxfp4_pe(const Unit& u, const Operands& o) {
  const auto& dx = o.dx;
  const auto& dw = o.dw;
  const int64_t K = dx.cols, R = std::min(o.rows, dx.rows), C = std::min(o.cols, dw.rows);
  if (dx.group_rows != 1 || dw.group_rows != 1 || dx.group_cols <= 0 || dw.group_cols <= 0)
    throw Error("the MX operands must have one scale per row block");
  const auto ca = quant::unpack_codes(o.ex.elements, o.ex.rows, K, 4);
  const auto cw = quant::unpack_codes(o.ew.elements, o.ew.rows, K, 4);
  const int64_t bx = dx.group_cols, bw = dw.group_cols;
  const int64_t nbx = (K + bx - 1) / bx, nbw = (K + bw - 1) / bw;
  if (static_cast<int64_t>(o.ex.scales.size()) < o.ex.rows * nbx ||
      static_cast<int64_t>(o.ew.scales.size()) < o.ew.rows * nbw)
    throw Error("the MX operands hold fewer scale codes than blocks");
  Plan p;
  init_plan(p, u, R * C * K);
  p.shape = std::to_string(R) + " x " + std::to_string(C) + " outputs, K = " + std::to_string(K) +
            ", blocks " + std::to_string(bx) + " / " + std::to_string(bw);
  Coverage cov{&p.coverage};
  for (const char* c : {"products", "zero element", "subnormal element (0.5)",
                        "saturated element (6)", "blocks", "zero blocks", "NaN blocks", "outputs"})
    cov.name(c);
  const size_t ni = u.inputs.size(), no = u.outputs.size();
  int64_t c = 0;
  for (int64_t i = 0; i < R; ++i) {
    for (int64_t j = 0; j < C; ++j) {
      cov.add("outputs");
      for (const quant::DotSegment& s : quant::reference_dot_segments(dx, i, dw, j)) {
        i128 run = 0;
        bool zero_a = true, zero_w = true;
        const uint64_t sa = o.ex.scales[i * nbx + s.k0 / bx], sw = o.ew.scales[j * nbw + s.k0 / bw];
        const bool nan = std::isnan(dx.scale_mul[s.gx]) || std::isnan(dw.scale_mul[s.gw]);
        for (int64_t k = s.k0; k < s.k1; ++k, ++c) {
          const uint32_t a = ca[i * K + k], w = cw[j * K + k];
          const bool last = k + 1 == s.k1;
          uint64_t* in = &p.st.in[c * ni];
          in[0] = 1;
          in[1] = k == s.k0;
          in[2] = last;
          in[3] = a;
          in[4] = w;
          in[5] = sa;
          in[6] = sw;
          run += quant::reference_int_dot(dx, i, dw, j, k, k + 1).sum[0][0];
          uint64_t* want = &p.want[c * no];
          uint8_t* chk = &p.check[c * no];
          want[0] = wrap_bits(run, 16);
          chk[0] = 1;
          want[1] = last;
          chk[1] = 1;
          if (last) {
            want[3] = nan;
            chk[3] = 1;
            if (!nan) {
              want[2] = wrap_bits(i128{dx.scale_exp[s.gx]} + dw.scale_exp[s.gw], 10);
              chk[2] = 1;
            }
          }
          cov.add("products");
          if ((a & 7u) != 0) zero_a = false;
          if ((w & 7u) != 0) zero_w = false;
          if ((a & 7u) == 0 || (w & 7u) == 0) cov.add("zero element");
          if ((a & 7u) == 1 || (w & 7u) == 1) cov.add("subnormal element (0.5)");
          if ((a & 7u) == 7 || (w & 7u) == 7) cov.add("saturated element (6)");
        }
        cov.add("blocks");
        if (zero_a || zero_w) cov.add("zero blocks");
        if (nan) cov.add("NaN blocks");
      }
    }
  }
  // Cycle -> (output, k): every output streams exactly K elements.
  auto pca = std::make_shared<std::vector<uint32_t>>(ca);
  auto pcw = std::make_shared<std::vector<uint32_t>>(cw);
  const auto sx = std::make_shared<std::vector<uint8_t>>(o.ex.scales);
  const auto sw = std::make_shared<std::vector<uint8_t>>(o.ew.scales);
  p.describe = [pca, pcw, sx, sw, K, C, bx, bw, nbx, nbw](int64_t cyc) {
    const int64_t k = cyc % K, out = cyc / K, i = out / C, j = out % C;
    return "output (" + std::to_string(i) + ", " + std::to_string(j) +
           ") k = " + std::to_string(k) + ": A code " + hex((*pca)[i * K + k], 1) + " scale " +
           hex((*sx)[i * nbx + k / bx], 2) + ", W code " + hex((*pcw)[j * K + k], 1) + " scale " +
           hex((*sw)[j * nbw + k / bw], 2);
  };
  return p;
}

// ---- ovp4_encoder: the trace's olive4 activations (X) as the encoder's FP32 inputs v = x / s
// (decode_operand's mant << shift, in units of the scale). Two passes over the first --rows
// rows: the values themselves (on the grid), then each value moved to the midpoint between its
// magnitude and the next larger grid magnitude (a tie; the largest magnitude moves to twice
// itself, which saturates). Expected: quant's ovp_encode_pair with the format's victim= and
// ties= options; the pair is registered, so row c of the outputs holds pair c.

std::vector<double> olive4_grid() {
  std::set<double> g;
  for (int b = 0; b < 256; ++b)
    for (const auto& p : quant::olive4_decode_byte(static_cast<uint8_t>(b)))
      g.insert(std::abs(std::ldexp(static_cast<double>(p.mant), p.shift)));
  return {g.begin(), g.end()};
}

Plan plan_ovp4_encoder(const Unit& u, const Operands& o) {
  const auto& dx = o.dx;
  const int64_t K = dx.cols, R = std::min(o.rows, dx.rows), pairs = (K + 1) / 2;
  check_olive4_bytes(o.ex, dx, R, "X");
  const quant::FormatSpec spec = quant::FormatSpec::parse(o.ex.format);
  auto opt = [&](const char* key, const char* def) {
    const auto it = spec.options.find(key);
    return it == spec.options.end() ? std::string(def) : it->second;
  };
  const bool victim_even = opt("victim", "larger") == "even";
  const bool ties_up = opt("ties", "away") == "up";
  const std::vector<double> grid = olive4_grid();
  std::vector<float> v(static_cast<size_t>(R * K));
  for (int64_t r = 0; r < R; ++r)
    for (int64_t k = 0; k < K; ++k)
      v[r * K + k] =
          static_cast<float>(std::ldexp(static_cast<double>(dx.mant[r * K + k]),
                                        dx.shift[r * K + k] + dx.scale_exp[dx.group_index(r, k)]));
  auto tie_of = [&](float x) -> float {
    const double m = std::abs(static_cast<double>(x));
    const auto it = std::upper_bound(grid.begin(), grid.end(), m);
    const double t = it == grid.end() ? 2 * m : (m + *it) / 2;
    return static_cast<float>(std::signbit(x) ? -t : t);
  };
  Plan p;
  init_plan(p, u, 2 * R * pairs);
  p.shape = std::to_string(R) + " rows x " + std::to_string(pairs) +
            " pairs, twice (on the grid, " + "ties); victim=" + (victim_even ? "even" : "larger") +
            " ties=" + (ties_up ? "up" : "away");
  Coverage cov{&p.coverage};
  for (const char* c : {"pairs", "normal-normal", "outlier-normal", "outlier-outlier", "tie inputs",
                        "saturated inputs", "zero inputs", "NaN inputs"})
    cov.name(c);
  const double gmax = grid.back();
  auto is_tie = [&](float x) {
    const double m = std::abs(static_cast<double>(x));
    for (size_t q = 0; q + 1 < grid.size(); ++q)
      if (m == (grid[q] + grid[q + 1]) / 2) return true;
    return false;
  };
  auto ins = std::make_shared<std::vector<float>>(2 * static_cast<size_t>(2 * R * pairs));
  const size_t ni = u.inputs.size(), no = u.outputs.size();
  int64_t c = 0;
  for (int pass = 0; pass < 2; ++pass) {
    for (int64_t r = 0; r < R; ++r) {
      for (int64_t q = 0; q < pairs; ++q, ++c) {
        float a = v[r * K + 2 * q], b = 2 * q + 1 < K ? v[r * K + 2 * q + 1] : 0.0f;
        if (pass == 1) {
          a = tie_of(a);
          b = 2 * q + 1 < K ? tie_of(b) : 0.0f;
        }
        (*ins)[2 * c] = a;
        (*ins)[2 * c + 1] = b;
        uint64_t* in = &p.st.in[c * ni];
        in[0] = 1;
        in[1] = victim_even;
        in[2] = ties_up;
        in[3] = float_bits(a);
        in[4] = float_bits(b);
        quant::OvpPairClass cls{};
        const auto codes = quant::ovp_encode_pair(
            quant::kOvp4, a, b, victim_even ? quant::OvpVictim::kEven : quant::OvpVictim::kLarger,
            &cls, ties_up);
        uint64_t* want = &p.want[c * no];
        uint8_t* chk = &p.check[c * no];
        want[0] = 1;
        want[1] = codes[0] | (codes[1] << 4);
        want[2] = static_cast<uint64_t>(cls);
        chk[0] = chk[1] = chk[2] = 1;
        cov.add("pairs");
        cov.add(cls == quant::OvpPairClass::kNormalNormal    ? "normal-normal"
                : cls == quant::OvpPairClass::kOutlierNormal ? "outlier-normal"
                                                             : "outlier-outlier");
        for (float x : {a, b}) {
          if (std::isnan(x))
            cov.add("NaN inputs");
          else if (x == 0.0f)
            cov.add("zero inputs");
          else if (std::abs(static_cast<double>(x)) > gmax)
            cov.add("saturated inputs");
          else if (is_tie(x))
            cov.add("tie inputs");
        }
      }
    }
  }
  p.describe = [ins, R, pairs](int64_t cyc) {
    const int64_t pass = cyc / (R * pairs), rq = cyc % (R * pairs);
    return std::string(pass ? "tie pass" : "grid pass") + ", row " + std::to_string(rq / pairs) +
           " pair " + std::to_string(rq % pairs) + ": v_even " + float_text((*ins)[2 * cyc]) +
           ", v_odd " + float_text((*ins)[2 * cyc + 1]);
  };
  return p;
}

std::string need(bool ok, const std::string& what) {
  return ok ? "" : what;
}

const std::vector<Unit>& units() {
  static const std::vector<Unit> u = [] {
    std::vector<Unit> v;
    {
      Unit x;
      x.name = "ovp4_pe";
      x.plan = plan_ovp4_pe;
      x.dut = "ovp4_pe";
      x.top = "verify_ovp4_pe";
      x.sources = {"src/ovp_decoder.v", "src/ovp4_pe.v"};
      x.inputs = {{"valid", 1}, {"first", 1}, {"sel", 1}, {"a_pair", 8}, {"w_pair", 8}};
      x.outputs = {{"acc", 32, true}};
      x.takes = "olive4 X and W (OVP border decoders + the 4-bit OVP PE, int32 accumulator)";
      x.fits = [](const quant::FormatTraits& a, const quant::FormatTraits& w) {
        return need(a.decoder == "ovp4" && w.decoder == "ovp4" && a.element_bits == 4 &&
                        w.element_bits == 4 && plain(a) && plain(w),
                    "needs olive4 (decoder ovp4, no keep=) for both operands");
      };
      v.push_back(x);
    }
    {
      Unit x;
      x.name = "int8_mac";
      x.plan = plan_int8_mac;
      x.dut = "int8_mac";
      x.top = "verify_int8_mac";
      x.sources = {"src/int8_mac.v"};
      x.inputs = {{"valid", 1}, {"first", 1}, {"a", 8}, {"w", 8}};
      x.outputs = {{"acc", 32, true}};
      x.takes = "int8 X and W (the INT8 MAC, int32 accumulator)";
      x.fits = [](const quant::FormatTraits& a, const quant::FormatTraits& w) {
        return need(a.decoder == "int" && w.decoder == "int" && a.element == "int" &&
                        w.element == "int" && a.element_bits == 8 && w.element_bits == 8 &&
                        plain(a) && plain(w),
                    "needs int8 (8-bit integer elements, no keep=) for both operands");
      };
      v.push_back(x);
    }
    {
      Unit x;
      x.name = "mxfp4_pe";
      x.plan = plan_mxfp4_pe;
      x.dut = "mxfp4_pe";
      x.top = "verify_mxfp4_pe";
      x.sources = {"src/fp_elem_decoder.v", "src/block_mac_pe.v", "src/block_pes.v"};
      x.inputs = {{"valid", 1}, {"first", 1},   {"last", 1},   {"a", 4},
                  {"w", 4},     {"a_scale", 8}, {"w_scale", 8}};
      x.outputs = {{"acc", 16, true}, {"blk_valid", 1}, {"blk_exp", 10, true}, {"blk_nan", 1}};
      x.takes = "MXFP4 X and W (E2M1 decoders + the MXFP4 block PE: block sums, exponents, NaN)";
      x.fits = [](const quant::FormatTraits& a, const quant::FormatTraits& w) {
        return need(a.decoder == "mx" && w.decoder == "mx" && a.element == "e2m1" &&
                        w.element == "e2m1" && !a.sign_split && !w.sign_split && plain(a) &&
                        plain(w),
                    "needs MXFP4 (E2M1 elements, E8M0 scales, no keep=) for both operands");
      };
      v.push_back(x);
    }
    {
      Unit x;
      x.name = "ovp4_encoder";
      x.plan = plan_ovp4_encoder;
      x.dut = "ovp_encoder";
      x.top = "verify_ovp4_encoder";
      x.sources = {"src/ovp_encoder.v"};
      x.inputs = {{"valid", 1}, {"victim_even", 1}, {"ties_up", 1}, {"v_even", 32}, {"v_odd", 32}};
      x.outputs = {{"out_valid", 1}, {"pair", 8}, {"cls", 2}};
      x.takes = "olive4 activations X (the OVP online quantizer: FP32 x / s in, OVP byte out)";
      x.fits = [](const quant::FormatTraits& a, const quant::FormatTraits&) {
        return need(a.decoder == "ovp4" && a.element_bits == 4 && plain(a),
                    "needs olive4 activations (decoder ovp4, no keep=)");
      };
      v.push_back(x);
    }
    for (auto& x : v) x.harness = "verify/" + x.top + ".v";
    return v;
  }();
  return u;
}

// ---- The stimulus player (runtime Verilator build).

std::string read_text(const std::string& path, const std::string& what) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw Error(what + " " + path + ": cannot be read");
  std::ostringstream os;
  os << f.rdbuf();
  return os.str();
}

uint64_t fnv1a(const std::string& s, uint64_t h = 0xcbf29ce484222325ull) {
  for (unsigned char ch : s) {
    h ^= ch;
    h *= 0x100000001b3ull;
  }
  return h;
}

/// Module names a Verilog file defines (comments stripped).
std::vector<std::string> modules_defined(const std::string& text) {
  std::string s;
  s.reserve(text.size());
  for (size_t i = 0; i < text.size();) {
    if (text.compare(i, 2, "//") == 0) {
      while (i < text.size() && text[i] != '\n') ++i;
    } else if (text.compare(i, 2, "/*") == 0) {
      const size_t e = text.find("*/", i + 2);
      i = e == std::string::npos ? text.size() : e + 2;
      s.push_back(' ');
    } else {
      s.push_back(text[i++]);
    }
  }
  std::vector<std::string> mods;
  static const std::regex re(R"((^|[^A-Za-z0-9_$])module\s+([A-Za-z_][A-Za-z0-9_$]*))");
  for (auto it = std::sregex_iterator(s.begin(), s.end(), re); it != std::sregex_iterator(); ++it)
    mods.push_back((*it)[2].str());
  return mods;
}

/// Runs argv with stdout and stderr into `log`; returns the exit status (-1: not started).
int run_process(const std::vector<std::string>& argv, const std::string& log) {
  std::vector<char*> a;
  for (const auto& s : argv) a.push_back(const_cast<char*>(s.c_str()));
  a.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&fa, 1, 2);
  pid_t pid = 0;
  const int rc = posix_spawnp(&pid, a[0], &fa, nullptr, a.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) return -1;
  int status = 0;
  if (waitpid(pid, &status, 0) < 0) return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status)
                           : 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}

std::string first_error_lines(const std::string& log_text, size_t max_lines) {
  std::istringstream is(log_text);
  std::string line, errors, tail;
  std::vector<std::string> all;
  size_t n = 0;
  while (std::getline(is, line)) {
    all.push_back(line);
    if (n < max_lines &&
        (line.rfind("%Error", 0) == 0 || line.find("error:") != std::string::npos ||
         line.rfind("make: ***", 0) == 0)) {
      errors += "  " + line + "\n";
      ++n;
    }
  }
  if (!errors.empty()) return errors;
  for (size_t i = all.size() > max_lines ? all.size() - max_lines : 0; i < all.size(); ++i)
    tail += "  " + all[i] + "\n";
  return tail;
}

std::string player_source(const Unit& u) {
  std::ostringstream s;
  s << "// Generated by qarch verify: stimulus player of " << u.top
    << " (sim/include/qarch/sim/verify.h describes the protocol).\n"
       "#include <cstdint>\n#include <cstdio>\n#include <cstdlib>\n#include <type_traits>\n"
       "#include <vector>\n"
       "#include \"Vplayer.h\"\n#include \"verilated.h\"\n#include \"verilated_vcd_c.h\"\n"
       "int main(int argc, char** argv) {\n"
       "  if (argc != 3 && argc != 6) { std::fprintf(stderr, \"usage: player IN OUT [VCD FROM "
       "TO]\\n\"); return 2; }\n"
       "  const size_t ni = "
    << u.inputs.size() << ", no = " << u.outputs.size()
    << ";\n"
       "  std::vector<uint64_t> in;\n"
       "  { FILE* f = std::fopen(argv[1], \"rb\"); if (!f) return 3; uint64_t v;\n"
       "    while (std::fread(&v, 8, 1, f) == 1) in.push_back(v); std::fclose(f); }\n"
       "  const size_t cycles = in.size() / ni;\n"
       "  std::vector<uint64_t> out(cycles * no);\n"
       "  VerilatedContext ctx; ctx.randReset(2); ctx.randSeed(12345);\n"
       "  const bool vcd = argc == 6; if (vcd) ctx.traceEverOn(true);\n"
       "  const uint64_t from = vcd ? std::strtoull(argv[4], nullptr, 10) : 0;\n"
       "  const uint64_t to = vcd ? std::strtoull(argv[5], nullptr, 10) : 0;\n"
       "  Vplayer top(&ctx, \"top\");\n"
       "  VerilatedVcdC tfp; if (vcd) { top.trace(&tfp, 99); tfp.open(argv[3]); }\n"
       "  uint64_t time = 0;\n"
       "  auto ev = [&](uint64_t c) { top.eval(); if (vcd && c >= from && c <= to) tfp.dump(time); "
       "++time; };\n"
       "  top.clk = 0;\n";
  for (const auto& p : u.inputs) s << "  top." << p.name << " = 0;\n";
  s << "  ev(0);\n  for (size_t c = 0; c < cycles; ++c) {\n    const uint64_t* v = &in[c * ni];\n";
  for (size_t k = 0; k < u.inputs.size(); ++k) {
    s << "    top." << u.inputs[k].name << " = static_cast<std::remove_reference_t<decltype(top."
      << u.inputs[k].name << ")>>(v[" << k << "]);\n";
  }
  s << "    ev(c); top.clk = 1; ev(c); top.clk = 0; ev(c);\n    uint64_t* o = &out[c * no];\n";
  for (size_t k = 0; k < u.outputs.size(); ++k)
    s << "    o[" << k << "] = static_cast<uint64_t>(top." << u.outputs[k].name << ");\n";
  s << "  }\n  top.final(); if (vcd) tfp.close();\n"
       "  FILE* f = std::fopen(argv[2], \"wb\"); if (!f) return 3;\n"
       "  if (!out.empty() && std::fwrite(out.data(), 8, out.size(), f) != out.size()) return 3;\n"
       "  return std::fclose(f) == 0 ? 0 : 3;\n}\n";
  return s.str();
}

class PlayerModel final : public UnitModel {
 public:
  PlayerModel(std::string exe, std::string dir, size_t n_out)
      : exe_(std::move(exe)), dir_(std::move(dir)), n_out_(n_out) {}
  std::vector<uint64_t> run(const Stimulus& st, const Waveform& wave) override {
    const std::string in = dir_ + "/stimulus.bin", out = dir_ + "/outputs.bin",
                      log = dir_ + "/player.log";
    write_file_atomic(in, st.in.data(), st.in.size() * sizeof(uint64_t));
    std::vector<std::string> argv = {exe_, in, out};
    if (!wave.path.empty()) {
      argv.insert(argv.end(), {fs::absolute(wave.path).string(), std::to_string(wave.from),
                               std::to_string(wave.to)});
    }
    const int rc = run_process(argv, log);
    if (rc != 0) {
      throw Error("the stimulus player " + exe_ + " failed (exit " + std::to_string(rc) + "):\n" +
                  first_error_lines(read_text(log, "log"), 8));
    }
    const std::string bytes = read_text(out, "player output");
    const size_t want = static_cast<size_t>(st.cycles) * n_out_ * sizeof(uint64_t);
    if (bytes.size() != want)
      throw Error("the stimulus player wrote " + std::to_string(bytes.size()) + " bytes to " + out +
                  ", expected " + std::to_string(want));
    std::vector<uint64_t> v(want / sizeof(uint64_t));
    if (want) std::memcpy(v.data(), bytes.data(), want);
    return v;
  }

 private:
  std::string exe_, dir_;
  size_t n_out_;
};

std::string find_verilator() {
  if (const char* e = std::getenv("QARCH_VERILATOR")) return e;
  const char* path = std::getenv("PATH");
  std::istringstream is(path ? path : "");
  std::string d;
  while (std::getline(is, d, ':')) {
    const fs::path p = fs::path(d.empty() ? "." : d) / "verilator";
    if (::access(p.c_str(), X_OK) == 0) return p.string();
  }
  return "";
}

/// Builds (or reuses) the player of unit u from rtl_dir's sources, with `rtl_file` (if not
/// empty) replacing the unit's source files that define the same modules.
std::unique_ptr<UnitModel> build_player(const Unit& u, const std::string& rtl_dir,
                                        const std::string& rtl_file, const std::string& work,
                                        std::ostream& out) {
  std::vector<std::string> files;
  std::string key = player_source(u);
  std::vector<std::string> dropped;
  std::vector<std::string> user_mods;
  if (!rtl_file.empty()) {
    const std::string text = read_text(rtl_file, "--rtl");
    user_mods = modules_defined(text);
    if (user_mods.empty()) throw Error("--rtl " + rtl_file + ": defines no module");
    if (std::find(user_mods.begin(), user_mods.end(), u.dut) == user_mods.end()) {
      std::string list;
      for (const auto& m : user_mods) list += (list.empty() ? "" : ", ") + m;
      throw Error("--rtl " + rtl_file + ": does not define module " + u.dut + ", the module unit " +
                  u.name + " replaces (it defines: " + list + ")");
    }
    if (std::find(user_mods.begin(), user_mods.end(), u.top) != user_mods.end())
      throw Error("--rtl " + rtl_file + ": defines the harness top " + u.top + " itself");
    key += text;
  }
  for (const auto& rel : u.sources) {
    const std::string path = rtl_dir + "/" + rel;
    const std::string text = read_text(path, "RTL source (--rtl-dir)");
    bool replaced = false;
    for (const auto& m : modules_defined(text))
      if (std::find(user_mods.begin(), user_mods.end(), m) != user_mods.end()) replaced = true;
    if (replaced) {
      dropped.push_back(rel);
      continue;
    }
    files.push_back(fs::absolute(path).string());
    key += text;
  }
  const std::string harness = rtl_dir + "/" + u.harness;
  key += read_text(harness, "harness top (--rtl-dir)");
  if (!rtl_file.empty()) files.push_back(fs::absolute(rtl_file).string());
  files.push_back(fs::absolute(harness).string());

  const std::string verilator = find_verilator();
  if (verilator.empty())
    throw Error(
        "verilator is not on PATH (nor QARCH_VERILATOR): --rtl needs it to build the "
        "stimulus player");
  std::ostringstream h;
  h << std::hex << std::setw(16) << std::setfill('0') << fnv1a(key + verilator);
  const std::string dir = (fs::absolute(work) / (u.name + "-" + h.str())).string();
  const std::string exe = dir + "/obj/player";
  fs::create_directories(dir);
  const bool cached = ::access(exe.c_str(), X_OK) == 0;
  out << "stimulus player " << dir << (cached ? " (cached)" : " (building with " + verilator + ")");
  if (!dropped.empty()) {
    out << "; " << rtl_file << " replaces";
    for (const auto& d : dropped) out << " rtl/" << d;
  }
  out << "\n";
  if (!cached) {
    write_file_atomic(dir + "/player.cpp", player_source(u));
    std::vector<std::string> argv = {verilator,
                                     "--cc",
                                     "--exe",
                                     "--build",
                                     "-j",
                                     "2",
                                     "--top-module",
                                     u.top,
                                     "--prefix",
                                     "Vplayer",
                                     "--Mdir",
                                     dir + "/obj",
                                     "--trace",
                                     "--x-assign",
                                     "unique",
                                     "--x-initial",
                                     "unique",
                                     "-Wno-DECLFILENAME",
                                     "-MAKEFLAGS",
                                     "OPT_FAST=-O1 OPT_SLOW=-O0 OPT_GLOBAL=-O1",
                                     "-o",
                                     "player",
                                     dir + "/player.cpp"};
    argv.insert(argv.end(), files.begin(), files.end());
    const std::string log = dir + "/build.log";
    const int rc = run_process(argv, log);
    if (rc != 0 || ::access(exe.c_str(), X_OK) != 0) {
      throw Error((rtl_file.empty() ? std::string("the unit's RTL") : "--rtl " + rtl_file) +
                  " does not build with the harness " + u.top + " (verilator exit " +
                  std::to_string(rc) + "; the ports must be those of rtl/ module " + u.dut +
                  "). First errors (whole log: " + log + "):\n" +
                  first_error_lines(read_text(log, "log"), 8));
    }
  }
  return std::make_unique<PlayerModel>(exe, dir, u.outputs.size());
}

// ---- Comparison, reports.

struct Mismatch {
  int64_t cycle = -1;
  std::string text;
};

Mismatch compare(const Unit& u, const Plan& p, const std::vector<uint64_t>& got) {
  const size_t no = u.outputs.size();
  for (int64_t c = 0; c < p.st.cycles; ++c) {
    for (size_t k = 0; k < no; ++k) {
      const size_t q = static_cast<size_t>(c) * no + k;
      if (!p.check[q]) continue;
      const int w = u.outputs[k].width;
      const uint64_t g = got[q] & mask_bits(w), e = p.want[q] & mask_bits(w);
      if (g == e) continue;
      std::ostringstream os;
      auto text = [&](uint64_t v) {
        return hex(v, (w + 3) / 4) +
               (u.outputs[k].is_signed ? " (" + std::to_string(sext(v, w)) + ")" : std::string());
      };
      os << "cycle " << c << ", output " << u.outputs[k].name << ": RTL " << text(g) << ", quant "
         << text(e) << "\n  inputs: " << p.describe(c);
      return {c, os.str()};
    }
  }
  return {};
}

std::string xml_escape(const std::string& s) {
  std::string o;
  for (char ch : s) {
    switch (ch) {
      case '&':
        o += "&amp;";
        break;
      case '<':
        o += "&lt;";
        break;
      case '>':
        o += "&gt;";
        break;
      case '"':
        o += "&quot;";
        break;
      default:
        if (static_cast<unsigned char>(ch) < 0x20 && ch != '\n' && ch != '\t')
          o += ' ';
        else
          o += ch;
    }
  }
  return o;
}

struct CaseResult {
  std::string gemm, formats, shape;
  int64_t cycles = 0;
  bool skipped = false;
  std::string skip_reason;
  Mismatch mm;
  std::vector<std::pair<std::string, int64_t>> coverage;
};

std::string junit(const Unit& u, const std::string& rtl, const std::vector<CaseResult>& cases) {
  int tests = 0, failures = 0, skipped = 0;
  for (const auto& c : cases) {
    ++tests;
    if (c.skipped)
      ++skipped;
    else if (c.mm.cycle >= 0)
      ++failures;
  }
  std::ostringstream os;
  os << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites tests=\"" << tests
     << "\" failures=\"" << failures << "\" errors=\"0\" skipped=\"" << skipped << "\">\n"
     << "  <testsuite name=\"qarch verify " << xml_escape(u.name) << "\" tests=\"" << tests
     << "\" failures=\"" << failures << "\" errors=\"0\" skipped=\"" << skipped << "\">\n"
     << "    <properties><property name=\"rtl\" value=\"" << xml_escape(rtl)
     << "\"/></properties>\n";
  for (const auto& c : cases) {
    os << "    <testcase classname=\"" << xml_escape(u.name) << "\" name=\"" << xml_escape(c.gemm)
       << "\">\n";
    if (c.skipped) {
      os << "      <skipped message=\"" << xml_escape(c.skip_reason) << "\"/>\n";
    } else {
      if (c.mm.cycle >= 0) {
        os << "      <failure message=\"RTL differs from quant at cycle " << c.mm.cycle
           << "\" type=\"mismatch\">" << xml_escape(c.mm.text) << "</failure>\n";
      }
      os << "      <system-out>"
         << xml_escape(c.formats + "; " + c.shape + "; " + std::to_string(c.cycles) + " cycles");
      for (const auto& [k, n] : c.coverage) os << xml_escape("\n" + k + ": " + std::to_string(n));
      os << "</system-out>\n";
    }
    os << "    </testcase>\n";
  }
  os << "  </testsuite>\n</testsuites>\n";
  return os.str();
}

}  // namespace

int cmd_verify(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  std::string units_text;
  for (const auto& u : units()) units_text += "  " + u.name + ": " + u.takes + "\n";
  po::options_description desc(
      "qarch verify: run an RTL unit against quant's reference on the operands of a trace\n\n"
      "usage: qarch verify --unit NAME --trace DIR [--rtl FILE.v] [--junit FILE] [--vcd FILE]\n"
      "       qarch verify --list-units\n\n"
      "For every GEMM of the trace (`qarch trace`) in formats the unit takes, the unit's harness\n"
      "top (rtl/verify/verify_<unit>.v) is driven cycle by cycle from the stored operands and\n"
      "every output is compared with quant's reference (first --rows x --cols outputs of each\n"
      "GEMM; the encoder: the first --rows rows of X). Prints a coverage table of the corner\n"
      "classes the operands hit and, on a mismatch, the first differing cycle with its inputs\n"
      "and a VCD of the 200 cycles before it. Without --rtl the prebuilt Verilated model runs;\n"
      "--rtl FILE (a drop-in with the same ports) builds a stimulus player with verilator at\n"
      "run time from rtl/ sources, FILE replacing the rtl/ file(s) defining its modules.\n"
      "Exit status: 0 all equal, 1 a mismatch, 2 bad input (or a FILE that does not build).\n\n"
      "units:\n" +
      units_text + "\noptions");
  std::string unit_name, trace_dir, rtl_file, rtl_dir = QARCH_RTL_DIR, work, vcd, junit_path, gemms;
  int64_t rows = 4, cols = 4;
  bool list = false, player = false;
  desc.add_options()("help,h", "print this help")("unit,u", po::value(&unit_name),
                                                  "unit to verify (see the list above)")(
      "trace,t", po::value(&trace_dir), "trace directory written by `qarch trace`")(
      "rtl", po::value(&rtl_file),
      "Verilog file with a drop-in for the unit's module (same ports); needs verilator")(
      "rtl-dir", po::value(&rtl_dir)->default_value(rtl_dir),
      "qarch's rtl/ folder (sources and harness tops for the player)")(
      "work", po::value(&work),
      "folder for player builds, kept as a cache (default: <temp>/qarch-verify)")(
      "player", po::bool_switch(&player),
      "run the built-in unit through a runtime-built player too (no prebuilt model)")(
      "gemm", po::value(&gemms),
      "comma list of GEMM names to verify (default: every one it takes)")(
      "rows", po::value(&rows)->default_value(rows), "X rows per GEMM")(
      "cols", po::value(&cols)->default_value(cols), "W rows per GEMM (PE units)")(
      "vcd", po::value(&vcd), "waveform file on a mismatch (default ./qarch-verify-<unit>.vcd)")(
      "junit", po::value(&junit_path), "write a JUnit XML report (one testcase per GEMM)")(
      "list-units", po::bool_switch(&list), "list the units and exit");
  po::variables_map vm;
  if (parse_command_args(args, desc, vm, out)) return 0;
  if (list) {
    out << units_text;
    return 0;
  }
  if (unit_name.empty()) throw Error("--unit is required (one of the units in --help)");
  if (trace_dir.empty()) throw Error("--trace is required");
  if (rows < 1 || cols < 1) throw Error("--rows and --cols must be at least 1");
  const Unit* unit = nullptr;
  for (const auto& u : units())
    if (u.name == unit_name) unit = &u;
  if (!unit) {
    std::string names;
    for (const auto& u : units()) names += " " + u.name;
    throw Error("--unit " + unit_name + ": no such unit (units:" + names + ")");
  }
  if (!rtl_file.empty() && !fs::is_regular_file(rtl_file))
    throw Error("--rtl " + rtl_file + ": no such file");
  if (vcd.empty()) vcd = "qarch-verify-" + unit->name + ".vcd";
  if (work.empty()) work = (fs::temp_directory_path() / "qarch-verify").string();

  if (!fs::is_directory(trace_dir))
    throw Error("--trace " + trace_dir + ": no such directory (write one with `qarch trace`)");
  const workloads::TraceReader reader(trace_dir);
  if (reader.header().shape_only)
    throw Error("--trace " + trace_dir + ": a shape-only trace (no operand values to verify on)");
  std::set<std::string> wanted;
  {
    std::istringstream is(gemms);
    std::string g;
    while (std::getline(is, g, ','))
      if (!g.empty()) wanted.insert(g);
    for (const auto& g2 : wanted) (void)reader.find(g2);  // throws, naming the missing GEMM
  }

  // Which GEMMs the unit takes.
  std::vector<size_t> todo;
  std::vector<CaseResult> cases;
  std::string formats_seen;
  for (size_t i = 0; i < reader.gemms().size(); ++i) {
    const auto& g = reader.gemms()[i];
    if (!wanted.empty() && !wanted.count(g.op.name)) continue;
    const auto tx = quant::make_format(g.x.format)->traits();
    const auto tw = quant::make_format(g.w.format)->traits();
    const std::string why = unit->fits(tx, tw);
    if (why.empty()) {
      todo.push_back(i);
    } else {
      CaseResult c;
      c.gemm = g.op.name;
      c.skipped = true;
      c.skip_reason = "X " + g.x.format + ", W " + g.w.format + ": unit " + unit->name + " " + why;
      cases.push_back(c);
      formats_seen += "\n  " + g.op.name + ": X " + g.x.format + ", W " + g.w.format;
    }
  }
  if (todo.empty()) {
    throw Error("--trace " + trace_dir + ": no GEMM in a format unit " + unit->name + " takes (" +
                unit->takes + "); the trace holds:" + formats_seen);
  }

  // The model.
  std::unique_ptr<UnitModel> model;
  std::string rtl_label;
  const verify::BuiltinModel* builtin = verify::find_builtin_model(unit->top);
  if (rtl_file.empty() && !player && builtin) {
    std::vector<std::string> in, outp;
    for (const auto& p : unit->inputs) in.push_back(p.name);
    for (const auto& p : unit->outputs) outp.push_back(p.name);
    if (in != builtin->inputs || outp != builtin->outputs)
      throw Error("the prebuilt model of " + unit->top + " lists other ports than the unit table");
    model = builtin->make();
    rtl_label = "built-in (prebuilt model)";
  } else {
    if (rtl_file.empty() && !player && find_verilator().empty()) {
      throw Error(
          "this qarch was built without Verilator (no prebuilt RTL models) and verilator is not "
          "on PATH: install Verilator and rebuild, or put verilator on PATH to build the unit "
          "at run time");
    }
    model = build_player(*unit, rtl_dir, rtl_file, work, out);
    rtl_label = rtl_file.empty() ? "built-in (player)" : rtl_file;
  }

  out << "qarch verify: unit " << unit->name << " (" << rtl_label << ") on " << trace_dir << "\n\n";
  int failures = 0;
  std::map<std::string, std::vector<std::pair<std::string, int64_t>>> cov_by_format;
  std::vector<std::string> format_order;
  for (size_t i : todo) {
    const auto& g = reader.gemms()[i];
    Operands o;
    o.gemm = g.op.name;
    o.rows = rows;
    o.cols = cols;
    auto ops = reader.load_operands(i);
    o.ex = std::move(ops.first);
    o.ew = std::move(ops.second);
    o.fx = quant::make_format(o.ex.format);
    o.fw = quant::make_format(o.ew.format);
    o.dx = o.fx->decode_operand(o.ex);
    o.dw = o.fw->decode_operand(o.ew);
    CaseResult c;
    c.gemm = g.op.name;
    c.formats = unit->name == "ovp4_encoder" ? "X " + o.ex.format
                                             : "X " + o.ex.format + " / W " + o.ew.format;
    try {
      Plan p = unit->plan(*unit, o);
      c.shape = p.shape;
      c.cycles = p.st.cycles;
      c.coverage = p.coverage;
      const std::vector<uint64_t> got = model->run(p.st, {});
      c.mm = compare(*unit, p, got);
      if (c.mm.cycle >= 0) {
        ++failures;
        const auto from = static_cast<uint64_t>(std::max<int64_t>(0, c.mm.cycle - 200));
        const auto to = static_cast<uint64_t>(c.mm.cycle + 2);
        if (failures == 1) {
          model->run(p.st, {vcd, from, to});
          c.mm.text += "\n  waveform: " + vcd + " (cycles " + std::to_string(from) + ".." +
                       std::to_string(to) +
                       ", cycle c: inputs at time 3c+1, clock high 3c+2, low 3c+3)";
        }
      }
    } catch (const Error& e) {
      throw Error("GEMM " + g.op.name + ": " + e.what());
    }
    out << std::left << std::setw(28) << c.gemm << " " << (c.mm.cycle >= 0 ? "FAIL" : "ok  ")
        << "  " << c.formats << ", " << c.shape << ", " << c.cycles << " cycles\n";
    if (c.mm.cycle >= 0) out << "  first mismatch: " << c.mm.text << "\n";
    if (!cov_by_format.count(c.formats)) format_order.push_back(c.formats);
    auto& agg = cov_by_format[c.formats];
    for (const auto& [k, n] : c.coverage) {
      auto it =
          std::find_if(agg.begin(), agg.end(), [&k = k](const auto& e) { return e.first == k; });
      if (it == agg.end())
        agg.emplace_back(k, n);
      else
        it->second += n;
    }
    cases.push_back(std::move(c));
  }
  for (const auto& c : cases)
    if (c.skipped)
      out << std::left << std::setw(28) << c.gemm << " skip  " << c.skip_reason << "\n";

  out << "\ncoverage (corner classes hit, per format)\n";
  for (const auto& f : format_order) {
    out << "  " << f << "\n";
    for (const auto& [k, n] : cov_by_format[f])
      out << "    " << std::left << std::setw(40) << k << std::right << std::setw(12) << n
          << (n == 0 ? "   (not hit)" : "") << "\n";
  }
  out << "\n"
      << (todo.size() - static_cast<size_t>(failures)) << " of " << todo.size()
      << " GEMMs equal to quant" << (failures ? "; " + std::to_string(failures) + " differ" : "")
      << "\n";
  if (!junit_path.empty()) write_file_atomic(junit_path, junit(*unit, rtl_label, cases));
  (void)err;
  return failures ? 1 : 0;
}

}  // namespace qarch::sim
