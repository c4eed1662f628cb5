// The online quantizers (rtl/src/ovp_encoder.v, rtl/src/mx_quantizer.v; harness
// rtl/harness/quant_unit.v) against quant/'s encoders. Expected codes and scales come only from
// quant/: ovp_encode_pair (olive4, olive8 E4M3 / E2M5) and the formats' encode() (olive4 /
// olive8 on layer traces; mxfp4, mxint8, mxfp8_e4m3, mxfp8_e5m2, mxfp6_e3m2, mxfp6_e2m3 and
// amxfp4:scale=pot everywhere). The test only chooses inputs: grid points and rounding
// boundaries are taken from quant's decoders (OvpType's magnitudes, the MX formats' decode()),
// and the values next to them are the neighbouring FP32 numbers.
// - OVP: every grid point and rounding boundary of each grid, the FP32 values just below and
//   above, both signs, specials (0, -0, subnormals, FLT_MAX, +-Inf, NaN), in pairs (olive4:
//   every pair of them; olive8: each against a partner set, both orders), both victim rules
//   where a pair holds two outliers; random pairs; layer traces through the olive formats
//   (calibrated scales), bytes and pair classes equal to encode()'s.
// - MX: at every shared exponent the format allows, every element grid point and rounding
//   boundary (+-1 ulp, both signs, RNE and half-away); every power-of-two block maximum from
//   2^-149 to 2^127 (subnormals and both clamps); zero / NaN / Inf blocks; partial blocks and
//   stalls (in_ready); random blocks; layer traces. Codes, scales and block marks every cycle.
// - Latency and throughput as the module headers state them.
// - The mutant model (QARCH_MUTANT_ROUNDING) fails the boundary and random checks.
// QARCH_RTL_LONG=1 lengthens the random streams 16x.
#include <gtest/gtest.h>

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <limits>

#include "../../quant/src/mx_kernels.h"  // e2m1_quotient_thresholds: test points only
#include "Vquant_unit.h"
#include "Vquant_unit_mutant.h"
#include "qarch/quant/format.h"
#include "qarch/quant/fp_element.h"
#include "qarch/quant/olive.h"
#include "rtl_harness.h"

namespace qarch::rtltest {

template <class M>
void quant_idle(M& m) {
  m.ovp4_clk = m.ovp8_clk = m.mxfp4_clk = m.mxint8_clk = m.amx_clk = m.mxfp_clk = 0;
  m.ovp4_valid = m.ovp8_valid = m.mxfp4_valid = m.mxint8_valid = m.amx_valid = m.mxfp_valid = 0;
  m.mxfp4_rst = m.mxint8_rst = m.amx_rst = m.mxfp_rst = 0;
  m.nv_clk = m.nv_valid = m.nv_rst = m.amx8_clk = m.amx8_valid = m.amx8_rst = 0;
  m.ovp4_ties_up = m.ovp8_ties_up = 0;
}
template <>
struct SimInit<Vquant_unit> {
  static void apply(Vquant_unit& m) { quant_idle(m); }
};
template <>
struct SimInit<Vquant_unit_mutant> {
  static void apply(Vquant_unit_mutant& m) { quant_idle(m); }
};

namespace {

uint32_t f2u(float f) {
  uint32_t u;
  std::memcpy(&u, &f, sizeof u);
  return u;
}
float u2f(uint32_t u) {
  float f;
  std::memcpy(&f, &u, sizeof f);
  return f;
}

std::string hex(uint32_t v, int digits) {
  char b[16];
  std::snprintf(b, sizeof b, "0x%0*x", digits, v);
  return b;
}

// An FP32 input for a report: bits and value.
std::string fp_text(float v) {
  char b[64];
  std::snprintf(b, sizeof b, "%s (%.9g)", hex(f2u(v), 8).c_str(), static_cast<double>(v));
  return b;
}

// v, the FP32 numbers just below and above it (toward 0 / away), for both signs.
void add_neighbourhood(std::vector<float>& out, float v) {
  for (const float s : {1.0f, -1.0f}) {
    const float a = s * v;
    out.push_back(a);
    out.push_back(std::nextafter(a, 0.0f));
    out.push_back(std::nextafter(a, s * std::numeric_limits<float>::infinity()));
  }
}

void add_specials(std::vector<float>& out) {
  const float inf = std::numeric_limits<float>::infinity();
  for (const float v :
       {0.0f, -0.0f, u2f(1), u2f(0x007fffffu), FLT_MIN, -FLT_MIN, FLT_MAX, -FLT_MAX, inf, -inf,
        std::numeric_limits<float>::quiet_NaN(), u2f(0xffc00001u), u2f(0x7f800001u)}) {
    out.push_back(v);
  }
}

// ==== OVP pair encoder ====

// type 0: olive4, 1: olive8 E4M3 outliers, 2: olive8 E2M5 outliers.
const quant::OvpType& ovp_type(int type) {
  return type == 0 ? quant::kOvp4 : (type == 1 ? quant::kOvp8E4M3 : quant::kOvp8E2M5);
}

struct OvpCase {
  float even, odd;
  bool victim_even;
  bool ties_up = false;  ///< quant's ties=up (the authors' rule) instead of ties away
};

// The pair of codes as the unit outputs it: element 2k in the low bits.
uint32_t ovp_want(const quant::OvpType& t, const OvpCase& c, quant::OvpPairClass* cls) {
  const auto w = quant::ovp_encode_pair(
      t, c.even, c.odd, c.victim_even ? quant::OvpVictim::kEven : quant::OvpVictim::kLarger, cls,
      c.ties_up);
  return w[0] | (w[1] << t.bits);
}

// One pair per clock edge through the encoder of `type`; the registered codes and class must
// equal ovp_encode_pair's after every edge.
template <class M>
MaybeMismatch ovp_run(Sim<M>& sim, int type, const std::vector<OvpCase>& cases) {
  const quant::OvpType& t = ovp_type(type);
  for (size_t i = 0; i < cases.size(); ++i) {
    const OvpCase& c = cases[i];
    uint32_t got = 0, got_cls = 0, got_valid = 0;
    if (type == 0) {
      sim->ovp4_v_even = f2u(c.even);
      sim->ovp4_v_odd = f2u(c.odd);
      sim->ovp4_victim_even = c.victim_even;
      sim->ovp4_ties_up = c.ties_up;
      sim->ovp4_valid = 1;
      sim.posedge([&](int v) { sim->ovp4_clk = v; });
      got = sim->ovp4_pair;
      got_cls = sim->ovp4_cls;
      got_valid = sim->ovp4_out_valid;
    } else {
      sim->ovp8_type = type - 1;
      sim->ovp8_v_even = f2u(c.even);
      sim->ovp8_v_odd = f2u(c.odd);
      sim->ovp8_victim_even = c.victim_even;
      sim->ovp8_ties_up = c.ties_up;
      sim->ovp8_valid = 1;
      sim.posedge([&](int v) { sim->ovp8_clk = v; });
      got = sim->ovp8_pair;
      got_cls = sim->ovp8_cls;
      got_valid = sim->ovp8_out_valid;
    }
    quant::OvpPairClass cls;
    const uint32_t want = ovp_want(t, c, &cls);
    if (!got_valid || got != want || got_cls != static_cast<uint32_t>(cls)) {
      return Mismatch{
          sim.cycle(),
          std::string(t.name) + " pair " + std::to_string(i) + ": even " + fp_text(c.even) +
              ", odd " + fp_text(c.odd) + ", victim " + (c.victim_even ? "even" : "larger") +
              (c.ties_up ? ", ties up" : "") + ": RTL " + hex(got, t.bits / 2) + " class " +
              std::to_string(got_cls) + " valid " + std::to_string(got_valid) + ", quant " +
              hex(want, t.bits / 2) + " class " + std::to_string(static_cast<int>(cls))};
    }
  }
  return std::nullopt;
}

// The combined grid of t in units of s: the normals 0..N and the outlier magnitudes (quant's
// OvpType), ascending.
std::vector<double> ovp_grid(const quant::OvpType& t) {
  std::vector<double> g;
  for (int32_t k = 0; k <= t.normal_max(); ++k) g.push_back(k);
  for (uint32_t c = 1; c < t.identifier(); ++c) g.push_back(t.abfloat_magnitude(c));
  return g;
}

// Every grid point, every midpoint of neighbours (the rounding boundaries), N + 1/2 (quant's
// normal limit), twice the largest magnitude (saturation): each with its FP32 neighbours, both
// signs; and the specials.
std::vector<float> ovp_probes(const quant::OvpType& t, bool outliers) {
  const std::vector<double> g = ovp_grid(t);
  std::vector<float> v;
  for (size_t i = 0; i < g.size(); ++i) {
    if (!outliers && g[i] > t.normal_max()) break;
    add_neighbourhood(v, static_cast<float>(g[i]));
    if (i + 1 < g.size()) add_neighbourhood(v, static_cast<float>((g[i] + g[i + 1]) / 2));
  }
  add_neighbourhood(v, static_cast<float>(t.normal_max()) + 0.5f);
  if (outliers) {
    add_neighbourhood(v, 2.0f * static_cast<float>(t.outlier_max()));
    add_specials(v);
  }
  return v;
}

// Adds (a, b) with the paper's victim rule, and with the authors' too when quant finds two
// outliers; each also with ties=up where quant's codes differ from ties away (a negative value
// on a tie) and for every 8th pair.
void add_case(const quant::OvpType& t, std::vector<OvpCase>& cases, float a, float b) {
  quant::OvpPairClass cls;
  ovp_want(t, {a, b, false}, &cls);
  for (const bool even : {false, true}) {
    if (even && cls != quant::OvpPairClass::kOutlierOutlier) break;
    const OvpCase c{a, b, even, false}, u{a, b, even, true};
    cases.push_back(c);
    if (cases.size() % 8 == 0 || ovp_want(t, c, nullptr) != ovp_want(t, u, nullptr)) {
      cases.push_back(u);
    }
  }
}

// olive4: every pair of probe values. olive8: every probe against every 24th probe (both
// orders) and against itself and its negation (equal magnitudes: the victim tie).
std::vector<OvpCase> ovp_boundary_cases(int type) {
  const quant::OvpType& t = ovp_type(type);
  const std::vector<float> v = ovp_probes(t, true);
  std::vector<OvpCase> cases;
  if (type == 0) {
    for (float a : v) {
      for (float b : v) add_case(t, cases, a, b);
    }
    return cases;
  }
  std::vector<float> partners;
  for (size_t i = 0; i < v.size(); i += 24) partners.push_back(v[i]);
  add_specials(partners);
  for (float a : v) {
    for (float b : partners) {
      add_case(t, cases, a, b);
      add_case(t, cases, b, a);
    }
    add_case(t, cases, a, a);
    add_case(t, cases, a, -a);
  }
  return cases;
}

// Random scaled values: log-uniform magnitudes up to 4x the largest outlier, uniform ones over
// the grid, boundary values moved by a few ulps, and arbitrary bit patterns; random signs.
float ovp_random_value(const quant::OvpType& t, const std::vector<float>& probes,
                       std::mt19937& rng) {
  std::uniform_real_distribution<double> u01(0.0, 1.0);
  const double top = 4.0 * t.outlier_max();
  float v;
  switch (rng() % 4) {
    case 0:
      v = static_cast<float>(std::exp2(-4.0 + u01(rng) * (std::log2(top) + 4.0)));
      break;
    case 1:
      v = static_cast<float>(u01(rng) * 1.1 * t.outlier_max());
      break;
    case 2:
      v = u2f(f2u(probes[rng() % probes.size()]) + (rng() % 9) - 4u);
      break;
    default:
      return u2f(static_cast<uint32_t>(rng()));
  }
  return (rng() & 1) ? -v : v;
}

std::vector<OvpCase> ovp_random_cases(int type, int64_t n, uint32_t seed) {
  const quant::OvpType& t = ovp_type(type);
  const std::vector<float> probes = ovp_probes(t, true);
  std::mt19937 rng(seed);
  std::vector<OvpCase> cases(static_cast<size_t>(n));
  for (auto& c : cases) {
    c.even = ovp_random_value(t, probes, rng);
    c.odd = ovp_random_value(t, probes, rng);
    c.victim_even = rng() & 1;
    c.ties_up = (rng() & 3) == 0;
  }
  return cases;
}

TEST(OvpEncoder, EveryBoundaryPair) {
  for (int type = 0; type < 3; ++type) {
    const auto cases = ovp_boundary_cases(type);
    // The pairs where ties=up changes the codes (a negative value exactly on a tie).
    int64_t tie_pairs = 0;
    for (const OvpCase& c : cases) {
      OvpCase away = c;
      away.ties_up = false;
      tie_pairs += c.ties_up &&
                   ovp_want(ovp_type(type), c, nullptr) != ovp_want(ovp_type(type), away, nullptr);
    }
    std::printf("%s: %zu boundary pairs, %lld where ties=up changes the codes\n",
                ovp_type(type).name, cases.size(), static_cast<long long>(tie_pairs));
    EXPECT_GT(tie_pairs, 0);
    QARCH_EXPECT_NO_MISMATCH(
        run_check<Vquant_unit>(std::string("ovp_encoder_boundaries_") + ovp_type(type).name,
                               [&](Sim<Vquant_unit>& sim) { return ovp_run(sim, type, cases); }));
  }
}

TEST(OvpEncoder, RandomPairs) {
  const int64_t n = stream_count(int64_t{1} << 20, int64_t{1} << 24);
  for (int type = 0; type < 3; ++type) {
    const auto cases = ovp_random_cases(type, type == 0 ? n : n / 2, 7 + type);
    QARCH_EXPECT_NO_MISMATCH(
        run_check<Vquant_unit>(std::string("ovp_encoder_random_") + ovp_type(type).name,
                               [&](Sim<Vquant_unit>& sim) { return ovp_run(sim, type, cases); }));
  }
}

// Layer traces: the olive formats encode x with their calibrated scale s (OliVe's search; one
// per row for weights); the encoder gets fl(x / s), the quotient encode() rounds, and must
// produce encode()'s bytes, and the pre-pruning pair classes of olive_pair_stats.
TEST(OvpEncoder, LayerTraces) {
  const int64_t rows = 16, cols = 1023;  // odd: the last element pairs with an implicit zero
  const auto xa = outlier_activations(rows, cols, 31), xw = outlier_weights(rows, cols, 32);
  const struct {
    const char* spec;
    int type;
    bool weights;
  } runs[] = {{"olive4", 0, false},
              {"olive4:victim=even", 0, false},
              {"olive4:ties=up:victim=even", 0, false},
              {"olive4:per=row", 0, true},
              {"olive8", 1, false},
              {"olive8:per=row", 1, true},
              {"olive8:per=row:ties=up", 1, true},
              {"olive8:outlier=e2m5", 2, false},
              {"olive8:outlier=e2m5:per=row:victim=even", 2, true}};
  for (const auto& run : runs) {
    const std::vector<float>& x = run.weights ? xw : xa;
    const auto fmt = quant::make_format(run.spec);
    const quant::EncodedTensor e = fmt->encode(x.data(), rows, cols);
    const quant::OvpPairStats st = quant::olive_pair_stats(fmt->name(), x.data(), rows, cols);
    const quant::OvpType& t = ovp_type(run.type);
    const bool even = std::string(run.spec).find("victim=even") != std::string::npos;
    const bool up = std::string(run.spec).find("ties=up") != std::string::npos;
    const int64_t units = (cols + 1) / 2, unit_bytes = t.bits / 4;  // olive4: 1, olive8: 2
    std::vector<OvpCase> cases;
    std::vector<uint32_t> want;
    for (int64_t r = 0; r < rows; ++r) {
      const float s = e.fp32[e.fp32.size() == 1 ? 0 : r];
      for (int64_t u = 0; u < units; ++u) {
        const int64_t c = 2 * u;
        cases.push_back(
            {x[r * cols + c] / s, c + 1 < cols ? x[r * cols + c + 1] / s : 0.0f, even, up});
        const uint8_t* b = e.elements.data() + (r * units + u) * unit_bytes;
        want.push_back(t.bits == 4 ? b[0] : static_cast<uint32_t>(b[0] | (b[1] << 8)));
      }
    }
    int64_t classes[3] = {0, 0, 0};
    QARCH_EXPECT_NO_MISMATCH(run_check<Vquant_unit>(
        std::string("ovp_encoder_trace_") + t.name, [&](Sim<Vquant_unit>& sim) -> MaybeMismatch {
          // ovp_run compares with ovp_encode_pair; the bytes are compared with encode()'s here.
          for (auto& k : classes) k = 0;
          for (size_t i = 0; i < cases.size(); ++i) {
            if (auto mm = ovp_run(sim, run.type, {cases[i]})) return mm;
            const uint32_t got = run.type == 0 ? sim->ovp4_pair : sim->ovp8_pair;
            ++classes[run.type == 0 ? sim->ovp4_cls : sim->ovp8_cls];
            if (got != want[i]) {
              return Mismatch{sim.cycle(), std::string(run.spec) + " pair unit " +
                                               std::to_string(i) + ": RTL " + hex(got, 4) +
                                               ", encode() " + hex(want[i], 4)};
            }
          }
          return std::nullopt;
        }));
    EXPECT_EQ(classes[0], st.normal_normal) << run.spec;
    EXPECT_EQ(classes[1], st.outlier_normal) << run.spec;
    EXPECT_EQ(classes[2], st.outlier_outlier) << run.spec;
    EXPECT_GT(classes[1], 0) << run.spec << ": the trace must exercise outliers";
  }
}

// One pair per cycle, each result one edge after its inputs.
TEST(OvpEncoder, OnePairPerCycleLatencyOne) {
  Sim<Vquant_unit> sim;
  const auto cases = ovp_random_cases(0, 64, 3);
  sim->ovp4_valid = 0;
  sim.posedge([&](int v) { sim->ovp4_clk = v; });
  EXPECT_EQ(sim->ovp4_out_valid, 0);
  for (const OvpCase& c : cases) {
    sim->ovp4_v_even = f2u(c.even);
    sim->ovp4_v_odd = f2u(c.odd);
    sim->ovp4_victim_even = c.victim_even;
    sim->ovp4_ties_up = c.ties_up;
    sim->ovp4_valid = 1;
    sim.eval();
    sim.posedge([&](int v) { sim->ovp4_clk = v; });
    ASSERT_EQ(sim->ovp4_out_valid, 1);
    ASSERT_EQ(sim->ovp4_pair, ovp_want(quant::kOvp4, c, nullptr));
  }
}

// ==== MX block quantizer ====

// One MX-family format on one harness section.
struct MxKind {
  const char* spec;  // quant format name (options but block / round)
  int section;  // 0 mxfp4, 1 mxint8, 2 amx, 3 mxfp (sub = mxfp_type), 4 nv, 5 amx8 (sub = type)
  int sub;
  int bits;    // element code width
  bool split;  // AMXFP4: two scales per block
};
const MxKind kMxfp4{"mxfp4", 0, 0, 4, false};
const MxKind kMxint8{"mxint8", 1, 0, 8, false};
const MxKind kAmxPot{"amxfp4:scale=pot", 2, 0, 4, true};
const MxKind kMxKinds[] = {kMxfp4,
                           kMxint8,
                           kAmxPot,
                           {"mxfp8_e4m3", 3, 0, 8, false},
                           {"mxfp8_e5m2", 3, 1, 8, false},
                           {"mxfp6_e3m2", 3, 2, 6, false},
                           {"mxfp6_e2m3", 3, 3, 6, false}};
// The FP8-scaled ones (rtl/src/fp_block_quantizer.v): NVFP4 (blocks up to 16) and AMXFP4 with
// E5M2 / E4M3 scales.
const MxKind kNvfp4{"nvfp4", 4, 0, 4, false};
const MxKind kAmxE5m2{"amxfp4:scale=e5m2", 5, 0, 4, true};
const MxKind kAmxE4m3{"amxfp4:scale=e4m3", 5, 1, 4, true};
const MxKind kFp8ScaledKinds[] = {kNvfp4, kAmxE5m2, kAmxE4m3};

std::string mx_spec(const MxKind& k, int64_t block, bool away) {
  return std::string(k.spec) + ":block=" + std::to_string(block) +
         ":round=" + (away ? "away" : "even");
}

struct MxOut {
  bool valid, first, last;
  uint32_t code, scale, scale_neg;
};

// How a check drives one section of model M.
struct MxPort {
  std::function<void(int)> clk;
  std::function<void(bool rst, bool away, bool valid, bool last, uint32_t data)> drive;
  std::function<bool()> ready;
  std::function<MxOut()> read;
  std::function<void(uint32_t)> s_enc;  ///< NVFP4's per-tensor FP32 scale input (else empty)
};

#define QARCH_MX_PORT(P, SCALE, SCALE_NEG)                                      \
  p.clk = [&sim](int v) { sim->P##_clk = v; };                                  \
  p.drive = [&sim](bool rst, bool away, bool valid, bool last, uint32_t data) { \
    sim->P##_rst = rst;                                                         \
    sim->P##_away = away;                                                       \
    sim->P##_valid = valid;                                                     \
    sim->P##_last = last;                                                       \
    sim->P##_data = data;                                                       \
  };                                                                            \
  p.ready = [&sim] { return sim->P##_ready != 0; };                             \
  p.read = [&sim] {                                                             \
    return MxOut{sim->P##_out_valid != 0,                                       \
                 sim->P##_out_first != 0,                                       \
                 sim->P##_out_last != 0,                                        \
                 sim->P##_code,                                                 \
                 sim->SCALE,                                                    \
                 sim->SCALE_NEG};                                               \
  }

template <class M>
MxPort mx_port(Sim<M>& sim, const MxKind& k) {
  MxPort p;
  switch (k.section) {
    case 0:
      QARCH_MX_PORT(mxfp4, mxfp4_scale, mxfp4_scale);
      break;
    case 1:
      QARCH_MX_PORT(mxint8, mxint8_scale, mxint8_scale);
      break;
    case 2:
      QARCH_MX_PORT(amx, amx_scale_pos, amx_scale_neg);
      break;
    case 3:
      sim->mxfp_type = k.sub;
      QARCH_MX_PORT(mxfp, mxfp_scale, mxfp_scale);
      break;
    case 4:
      QARCH_MX_PORT(nv, nv_scale, nv_scale);
      p.s_enc = [&sim](uint32_t v) { sim->nv_s_enc = v; };
      break;
    default:
      sim->amx8_type = k.sub;
      QARCH_MX_PORT(amx8, amx8_scale_pos, amx8_scale_neg);
      break;
  }
  return p;
}

// Streams x [rows, cols] through the quantizer of `k`, row by row, blocks of `block` along cols
// (in_last at each block's end), one element per cycle unless stalls (a random idle input
// cycle in 8 with stall_seed != 0) or in_ready hold it back. Every output must equal the
// format's encode() of x: the element code, the block's scale code(s), first / last marks, in
// order.
template <class M>
MaybeMismatch mx_stream(Sim<M>& sim, const MxKind& k, int64_t block, bool away,
                        const std::vector<float>& x, int64_t rows, int64_t cols,
                        uint32_t stall_seed = 0) {
  const auto fmt = quant::make_format(mx_spec(k, block, away));
  const quant::EncodedTensor e = fmt->encode(x.data(), rows, cols);
  const std::vector<uint32_t> codes = quant::unpack_codes(e.elements, rows, cols, k.bits);
  const int64_t nb = (cols + block - 1) / block, n = rows * cols;
  const MxPort port = mx_port(sim, k);
  if (port.s_enc) port.s_enc(f2u(e.fp32.at(0)));  // NVFP4: quant's S_enc for this tensor
  port.drive(true, away, false, false, 0);
  sim.posedge(port.clk);
  sim.posedge(port.clk);
  std::mt19937 rng(stall_seed);
  int64_t in = 0, out = 0, idle = 0;
  while (out < n) {
    const bool have = in < n && !(stall_seed && rng() % 8 == 0);
    const int64_t ci = in % cols;
    const bool last = (ci % block == block - 1) || ci == cols - 1;
    port.drive(false, away, have, have && last, have ? f2u(x[in]) : 0u);
    const bool accepted = have && port.ready();
    sim.posedge(port.clk);
    if (accepted) ++in;
    const MxOut o = port.read();
    if (!o.valid) {
      if (++idle > 2 * block + 4) {
        return Mismatch{sim.cycle(), mx_spec(k, block, away) + ": no output for " +
                                         std::to_string(idle) + " cycles after element " +
                                         std::to_string(out) + " (" + std::to_string(in) +
                                         " accepted)"};
      }
      continue;
    }
    idle = 0;
    const int64_t r = out / cols, c = out % cols, g = r * nb + c / block;
    const uint32_t ws = k.split ? e.scales[2 * g] : e.scales[g];
    const uint32_t wsn = k.split ? e.scales[2 * g + 1] : ws;
    const bool wf = c % block == 0, wl = (c % block == block - 1) || c == cols - 1;
    if (o.code != codes[out] || o.scale != ws || o.scale_neg != wsn || o.first != wf ||
        o.last != wl) {
      std::string blk;
      for (int64_t j = c - c % block; j < std::min(cols, c - c % block + block); ++j) {
        blk += " " + hex(f2u(x[r * cols + j]), 8);
      }
      return Mismatch{sim.cycle(), mx_spec(k, block, away) + " element " + std::to_string(out) +
                                       " (row " + std::to_string(r) + ", col " + std::to_string(c) +
                                       ") " + fp_text(x[out]) + ": RTL code " + hex(o.code, 2) +
                                       " scale " + hex(o.scale, 2) + "/" + hex(o.scale_neg, 2) +
                                       " first " + std::to_string(o.first) + " last " +
                                       std::to_string(o.last) + ", encode() code " +
                                       hex(codes[out], 2) + " scale " + hex(ws, 2) + "/" +
                                       hex(wsn, 2) + " first " + std::to_string(wf) + " last " +
                                       std::to_string(wl) + "; block:" + blk};
    }
    ++out;
  }
  return std::nullopt;
}

// The non-negative finite element values of k with the scale 2^0, ascending: the format's own
// decode() of every element code in blocks whose scale code(s) are 127.
std::vector<double> mx_grid(const MxKind& k) {
  const auto fmt = quant::make_format(mx_spec(k, 32, false));
  const int64_t n = int64_t{1} << k.bits;
  std::vector<uint32_t> c(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) c[i] = static_cast<uint32_t>(i);
  quant::EncodedTensor e;
  e.format = fmt->name();
  e.rows = 1;
  e.cols = n;
  e.elements = quant::pack_codes(c, 1, n, k.bits);
  e.scales.assign(static_cast<size_t>((k.split ? 2 : 1) * ((n + 31) / 32)), 127);
  std::vector<float> v(static_cast<size_t>(n));
  fmt->decode(e, v.data());
  std::vector<double> g;
  for (float f : v) {
    if (std::isfinite(f) && f >= 0.0f) g.push_back(f);
  }
  std::sort(g.begin(), g.end());
  g.erase(std::unique(g.begin(), g.end()), g.end());
  return g;
}

// Packs probe values into blocks of `block` after `anchor` values (the first of each block),
// padding the last block with zeros.
void pack_blocks(std::vector<float>& x, const std::vector<float>& anchors,
                 const std::vector<float>& probes, int64_t block) {
  const auto per = static_cast<size_t>(block) - anchors.size();
  for (size_t i = 0; i < probes.size(); i += per) {
    x.insert(x.end(), anchors.begin(), anchors.end());
    for (size_t j = 0; j < per; ++j) x.push_back(i + j < probes.size() ? probes[i + j] : 0.0f);
  }
}

// Every shared exponent S in [-127, 127 - emax_elem]: a block anchored at (largest element) x 2^S
// (so its scale is exactly S; AMXFP4 gets it with both signs), filled with every grid point and
// every midpoint of neighbours x 2^S (the rounding boundaries, subnormal FP32 values at small S),
// values between the largest element and the next binade (saturation), each with its FP32
// neighbours and both signs. `s_stride` > 1 visits every s_stride-th S, plus the 24 smallest and
// the 8 largest (where FP32 subnormals and the clamps live).
std::vector<float> mx_boundary_values(const MxKind& k, int s_stride, bool grid_only = false) {
  const std::vector<double> g = mx_grid(k);
  const double gmax = g.back();
  const int emax = std::ilogb(gmax);
  std::vector<float> x;
  for (int s = -127; s <= 127 - emax; ++s) {
    if (s_stride > 1 && s > -104 && s < 120 - emax && (s + 127) % s_stride != 0) continue;
    std::vector<float> probes;
    for (size_t i = 0; i < g.size(); ++i) {
      if (grid_only) {
        probes.push_back(std::ldexp(static_cast<float>(g[i]), s));
        probes.push_back(-std::ldexp(static_cast<float>(g[i]), s));
        continue;
      }
      add_neighbourhood(probes, std::ldexp(static_cast<float>(g[i]), s));
      const double next = i + 1 < g.size() ? g[i + 1] : std::ldexp(1.0, emax + 1);
      add_neighbourhood(probes, std::ldexp(static_cast<float>((g[i] + next) / 2), s));
    }
    // Drop values beyond the anchor's binade (the last neighbour of 2^(emax+1)).
    const float lim = std::nextafter(std::ldexp(1.0f, emax + 1 + s), 0.0f);
    probes.erase(
        std::remove_if(probes.begin(), probes.end(), [&](float v) { return std::fabs(v) > lim; }),
        probes.end());
    const float a = std::ldexp(static_cast<float>(gmax), s);
    pack_blocks(x, k.split ? std::vector<float>{a, -a} : std::vector<float>{a}, probes, 32);
  }
  return x;
}

// Blocks whose largest magnitude is every power of two 2^e, e = -149 .. 127, and the largest
// FP32 value of each binade; positive and negative maxima; the other elements random below the
// maximum (half in its binade), subnormals included.
std::vector<float> mx_pow2_max_values(uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<float> x;
  for (int e = -149; e <= 127; ++e) {
    const float p = std::ldexp(1.0f, e);
    const float top = e == 127 ? FLT_MAX : std::nextafter(std::ldexp(1.0f, e + 1), 0.0f);
    for (const float m : {p, top, -p, -top}) {
      const uint32_t mb = f2u(std::fabs(m));
      x.push_back(m);
      for (int j = 1; j < 32; ++j) {
        uint32_t b = (rng() & 1) ? mb - std::min<uint32_t>(mb, rng() % (1u << 23))
                                 : static_cast<uint32_t>(rng() % (uint64_t{mb} + 1));
        if (rng() % 16 == 0) b = 0;
        x.push_back(u2f(b | ((rng() & 1) ? 0x80000000u : 0u)));
      }
    }
  }
  return x;
}

// Zero, NaN and Inf blocks (NaN / Inf anywhere make the block's scale 0xFF and its codes 0).
std::vector<float> mx_special_values() {
  const float inf = std::numeric_limits<float>::infinity();
  const float nan = std::numeric_limits<float>::quiet_NaN();
  std::vector<float> x;
  auto block = [&](std::vector<std::pair<int, float>> set, float fill) {
    std::vector<float> b(32, fill);
    for (auto [i, v] : set) b[static_cast<size_t>(i)] = v;
    x.insert(x.end(), b.begin(), b.end());
  };
  block({}, 0.0f);
  block({}, -0.0f);
  block({{3, -0.0f}, {9, 0.0f}}, 0.0f);
  for (int pos : {0, 13, 31}) {
    block({{pos, nan}}, 1.5f);
    block({{pos, inf}}, -3.0f);
    block({{pos, -inf}}, 0.0f);
    block({{pos, u2f(0xffc00001u)}}, FLT_MAX);
    block({{pos, u2f(0x7f800001u)}}, u2f(1));
  }
  block({{0, inf}, {1, nan}, {2, -inf}}, 2.0f);
  block({}, u2f(1));                            // every element the smallest subnormal
  block({{5, -u2f(1)}}, 0.0f);                  // one negative subnormal
  block({{0, FLT_MAX}, {1, -FLT_MAX}}, 1e30f);  // the largest scales
  block({}, -FLT_MAX);
  block({{7, 1.0f}}, -0.0f);  // AMXFP4: no negative element -> S- of an all-zero side
  block({{7, -1.0f}}, 0.0f);  // no positive element
  return x;
}

// Random blocks: per block a base exponent in [-150, 128] and elements 2^(base - k) x (1 + f)
// with k mostly small (outliers inside a block), random signs, some zeros, rare NaN / Inf.
std::vector<float> mx_random_values(int64_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<float> x(static_cast<size_t>(n));
  std::uniform_real_distribution<float> f01(0.0f, 1.0f);
  for (int64_t i = 0; i < n; i += 32) {
    const int base = -150 + static_cast<int>(rng() % 279);
    const int spread = 1 + static_cast<int>(rng() % ((rng() & 3) ? 8 : 40));
    for (int64_t j = i; j < std::min(n, i + 32); ++j) {
      float v = std::ldexp(1.0f + f01(rng), base - static_cast<int>(rng() % spread));
      if (rng() % 32 == 0) v = 0.0f;
      if (rng() % 8 == 0) v = u2f(f2u(v) & ~0xffu);  // short mantissas: exact ties
      if (rng() & 1) v = -v;
      x[j] = v;
    }
    if (rng() % 4096 == 0) x[i + rng() % 32 % (n - i)] = std::numeric_limits<float>::infinity();
  }
  return x;
}

TEST(MxQuantizer, EveryRoundingBoundaryAtEveryScale) {
  for (const MxKind& k : kMxKinds) {
    // The 4-bit types at every S; the wider ones (127 .. 255 grid points) at every 3rd S and at
    // all of the 24 smallest and 8 largest.
    const std::vector<float> x = mx_boundary_values(k, k.bits == 4 ? 1 : 3);
    const int64_t rows = static_cast<int64_t>(x.size()) / 32;
    std::printf("%s: %zu boundary values\n", k.spec, x.size());
    for (const bool away : {false, true}) {
      QARCH_EXPECT_NO_MISMATCH(run_check<Vquant_unit>(
          std::string("mx_boundaries_") + k.spec + (away ? "_away" : "_even"),
          [&](Sim<Vquant_unit>& sim) { return mx_stream(sim, k, 32, away, x, rows, 32); }));
    }
  }
}

TEST(MxQuantizer, EveryPowerOfTwoBlockMaximum) {
  const std::vector<float> x = mx_pow2_max_values(5);
  for (const MxKind& k : kMxKinds) {
    QARCH_EXPECT_NO_MISMATCH(
        run_check<Vquant_unit>(std::string("mx_pow2_max_") + k.spec, [&](Sim<Vquant_unit>& sim) {
          return mx_stream(sim, k, 32, false, x, static_cast<int64_t>(x.size()) / 32, 32);
        }));
  }
}

TEST(MxQuantizer, ZeroNanInfBlocks) {
  const std::vector<float> x = mx_special_values();
  for (const MxKind& k : kMxKinds) {
    for (const bool away : {false, true}) {
      QARCH_EXPECT_NO_MISMATCH(run_check<Vquant_unit>(
          std::string("mx_specials_") + k.spec + (away ? "_away" : "_even"),
          [&](Sim<Vquant_unit>& sim) {
            return mx_stream(sim, k, 32, away, x, static_cast<int64_t>(x.size()) / 32, 32);
          }));
    }
  }
}

// Rows whose length is not a multiple of the block (a short last block), blocks shorter than
// the buffer (in_last), random idle input cycles: in_ready holds the input while the bank to
// fill still drains.
TEST(MxQuantizer, PartialBlocksAndStalls) {
  int64_t elements = 0;
  for (const MxKind& k : {kMxfp4, kMxint8, kAmxPot}) {
    for (const int64_t block : {32, 16, 8, 2}) {
      for (const int64_t cols : {1, 3, 17, 31, 33, 100}) {
        const int64_t rows = 5;
        const auto x = mx_random_values(rows * cols, static_cast<uint32_t>(block * 1000 + cols));
        elements += rows * cols;
        QARCH_EXPECT_NO_MISMATCH(
            run_check<Vquant_unit>(std::string("mx_partial_") + k.spec, [&](Sim<Vquant_unit>& sim) {
              return mx_stream(sim, k, block, (cols & 1) != 0, x, rows, cols,
                               static_cast<uint32_t>(cols));
            }));
      }
    }
  }
  std::printf("%lld elements in partial blocks\n", static_cast<long long>(elements));
}

TEST(MxQuantizer, RandomBlocks) {
  const int64_t n = stream_count(int64_t{1} << 20, int64_t{1} << 24);
  for (const MxKind& k : kMxKinds) {
    // 2^20 per format (split over both rounding modes) for MXFP4, MXINT8, AMXFP4; an eighth for
    // the FP8 / FP6 elements.
    const int64_t m = (k.section == 3 ? n / 8 : n) / 2;
    for (const bool away : {false, true}) {
      const auto x = mx_random_values(m, 11 + k.section * 4 + k.sub + (away ? 100 : 0));
      QARCH_EXPECT_NO_MISMATCH(run_check<Vquant_unit>(
          std::string("mx_random_") + k.spec + (away ? "_away" : "_even"),
          [&](Sim<Vquant_unit>& sim) {
            return mx_stream(sim, k, 32, away, x, m / 1024, 1024, away ? 9 : 0);
          }));
    }
  }
}

// Layer traces of the outlier generator (activations and weights, 1000 columns: a short last
// block) through the formats' encode().
TEST(MxQuantizer, LayerTraces) {
  const int64_t rows = 16, cols = 1000;
  const auto xa = outlier_activations(rows, cols, 41), xw = outlier_weights(rows, cols, 42);
  const struct {
    const MxKind& k;
    int64_t block;
  } runs[] = {{kMxfp4, 32},      {kMxfp4, 16},      {kMxint8, 32},     {kAmxPot, 32},
              {kMxKinds[3], 32}, {kMxKinds[4], 32}, {kMxKinds[5], 32}, {kMxKinds[6], 32}};
  for (const auto& run : runs) {
    for (const auto* x : {&xa, &xw}) {
      QARCH_EXPECT_NO_MISMATCH(
          run_check<Vquant_unit>(std::string("mx_trace_") + run.k.spec, [&](Sim<Vquant_unit>& sim) {
            return mx_stream(sim, run.k, run.block, false, *x, rows, cols);
          }));
    }
  }
}

// Full blocks back to back: in_ready stays high, one element leaves every cycle once the first
// block is in, and each element leaves exactly 32 edges after it was accepted (the header's
// latency L = block length and throughput 1 element / cycle).
TEST(MxQuantizer, OneElementPerCycleLatencyOfOneBlock) {
  Sim<Vquant_unit> sim;
  const MxPort port = mx_port(sim, kMxfp4);
  port.drive(true, false, false, false, 0);
  sim.posedge(port.clk);
  const int64_t n = 32 * 64;
  const auto x = mx_random_values(n, 17);
  std::vector<uint64_t> accepted_at;
  int64_t out = 0;
  uint64_t first_out = 0;
  for (int64_t i = 0; out < n; ++i) {
    const bool have = i < n;
    port.drive(false, false, have, false, have ? f2u(x[i]) : 0u);
    if (have) {
      ASSERT_TRUE(port.ready()) << "stall at element " << i;
      accepted_at.push_back(sim.cycle() + 1);
    }
    sim.posedge(port.clk);
    const MxOut o = port.read();
    if (out > 0 || o.valid) {
      ASSERT_TRUE(o.valid) << "gap in the output at element " << out;
      if (out == 0) first_out = sim.cycle();
      ASSERT_EQ(sim.cycle() - accepted_at[static_cast<size_t>(out)], 32u) << "element " << out;
      ++out;
    }
  }
  std::printf("mx_quantizer: %lld elements in %llu cycles after the first output; latency 32\n",
              static_cast<long long>(n),
              static_cast<unsigned long long>(sim.cycle() - first_out + 1));
}

// ==== FP8-scaled block quantizers (rtl/src/fp_block_quantizer.v): NVFP4, AMXFP4 E5M2 / E4M3 ====

// The positive finite values of an FP8 scale type (codes 1 .. max), from quant's fp_decode.
std::vector<float> fp8_values(const quant::FpElementSpec& t) {
  std::vector<float> v;
  for (uint32_t c = 1; c <= t.max_code(); ++c) v.push_back(quant::fp_decode(t, c));
  return v;
}

// The E2M1 quotient thresholds of scale s, quant's own (the smallest FP32 w with E2M1(fl(w / s))
// past each step: mx_kernels.h, e2m1_quotient_thresholds), with their FP32 neighbours, times
// `sign`.
void add_quotient_boundaries(std::vector<float>& out, float s, bool away, float sign) {
  float w[7];
  if (away) {
    quant::detail::e2m1_quotient_thresholds<true>(s, w);
  } else {
    quant::detail::e2m1_quotient_thresholds<false>(s, w);
  }
  for (const float t : w) {
    out.push_back(sign * t);
    out.push_back(sign * std::nextafter(t, 0.0f));
    out.push_back(sign * std::nextafter(t, std::numeric_limits<float>::infinity()));
  }
}

// Blocks whose largest magnitude m makes fl(m / 6) land on, or 1-2 ulps beside, every midpoint
// between neighbouring FP8 values (the scale's double rounding: FP32 quotient, then FP8), with
// `sign`; the other elements fractions of m.
void add_scale_boundaries(std::vector<float>& x, const std::vector<float>& sv, int64_t block,
                          float sign) {
  std::vector<float> all = {0.0f};
  all.insert(all.end(), sv.begin(), sv.end());
  for (size_t i = 0; i + 1 < all.size(); ++i) {
    const float mid6 = 6.0f * ((all[i] + all[i + 1]) / 2.0f);  // exact: <= 7 significant bits
    for (int d = -2; d <= 2; ++d) {
      const float m = u2f(f2u(mid6) + static_cast<uint32_t>(d));
      std::vector<float> b = {sign * m};
      for (int j = 1; j < block; ++j)
        b.push_back((j & 1 ? -0.75f : 0.3f) * m / static_cast<float>(j));
      x.insert(x.end(), b.begin(), b.end());
    }
  }
}

// NVFP4 (blocks of 16): S_enc = 2688 / 2688 = 1 (the tensor's largest magnitude is 6 x 448), so
// the elements' w = |x|. For every E4M3 scale code: blocks whose maximum is 6 s (scale exactly
// s) holding every quotient threshold of s +-1 ulp, both signs; then the scale boundaries.
std::vector<float> nvfp4_boundary_values(bool away) {
  std::vector<float> x;
  const auto sv = fp8_values(quant::kE4M3);
  for (const float s : sv) {
    std::vector<float> probes;
    add_quotient_boundaries(probes, s, away, 1.0f);
    add_quotient_boundaries(probes, s, away, -1.0f);
    pack_blocks(x, {6.0f * s}, probes, 16);
  }
  add_scale_boundaries(x, sv, 16, 1.0f);
  return x;
}

// AMXFP4 with FP8 scales t (blocks of 32): for every scale code, blocks with s+ exactly s (the
// maximum 6 s) and s- another code's value s', holding every quotient threshold of s (positive
// elements) and of s' (negative elements) +-1 ulp; then the scale boundaries of both signs.
std::vector<float> amx_fp8_boundary_values(const quant::FpElementSpec& t, bool away) {
  std::vector<float> x;
  const auto sv = fp8_values(t);
  for (size_t i = 0; i < sv.size(); ++i) {
    const float sp = sv[i], sn = sv[(i * 7 + 3) % sv.size()];
    std::vector<float> probes;
    add_quotient_boundaries(probes, sp, away, 1.0f);
    add_quotient_boundaries(probes, sn, away, -1.0f);
    pack_blocks(x, {6.0f * sp, -6.0f * sn}, probes, 32);
  }
  add_scale_boundaries(x, sv, 32, 1.0f);
  add_scale_boundaries(x, sv, 32, -1.0f);
  return x;
}

TEST(Fp8ScaledQuantizer, EveryQuotientAndScaleBoundary) {
  for (const bool away : {false, true}) {
    const auto nv = nvfp4_boundary_values(away);
    const auto a5 = amx_fp8_boundary_values(quant::kE5M2, away);
    const auto a4 = amx_fp8_boundary_values(quant::kE4M3, away);
    if (!away)
      std::printf("boundary values: nvfp4 %zu, amxfp4 e5m2 %zu, e4m3 %zu\n", nv.size(), a5.size(),
                  a4.size());
    const struct {
      const MxKind& k;
      const std::vector<float>& x;
      int64_t block;
    } runs[] = {{kNvfp4, nv, 16}, {kAmxE5m2, a5, 32}, {kAmxE4m3, a4, 32}};
    for (const auto& r : runs) {
      QARCH_EXPECT_NO_MISMATCH(run_check<Vquant_unit>(
          std::string("fp8s_boundaries_") + r.k.spec + (away ? "_away" : "_even"),
          [&](Sim<Vquant_unit>& sim) {
            return mx_stream(sim, r.k, r.block, away, r.x,
                             static_cast<int64_t>(r.x.size()) / r.block, r.block);
          }));
    }
  }
}

// Power-of-two block maxima 2^-149 .. 2^127: AMXFP4 in one tensor; NVFP4 one tensor per
// exponent (its S_enc follows the tensor's maximum, so the multiplier sees subnormal x with
// large S_enc and the reverse). Zero / NaN / Inf blocks.
TEST(Fp8ScaledQuantizer, PowerOfTwoMaximaAndSpecials) {
  const std::vector<float> x = mx_pow2_max_values(6);
  const std::vector<float> sp = mx_special_values();
  for (const MxKind* k : {&kAmxE5m2, &kAmxE4m3}) {
    QARCH_EXPECT_NO_MISMATCH(
        run_check<Vquant_unit>(std::string("fp8s_pow2_") + k->spec, [&](Sim<Vquant_unit>& sim) {
          return mx_stream(sim, *k, 32, false, x, static_cast<int64_t>(x.size()) / 32, 32);
        }));
  }
  QARCH_EXPECT_NO_MISMATCH(
      run_check<Vquant_unit>("fp8s_pow2_nvfp4", [&](Sim<Vquant_unit>& sim) -> MaybeMismatch {
        for (size_t t = 0; t < x.size(); t += 128) {
          const std::vector<float> xt(x.begin() + static_cast<int64_t>(t),
                                      x.begin() + static_cast<int64_t>(t) + 128);
          if (auto mm = mx_stream(sim, kNvfp4, 16, (t / 128) & 1, xt, 8, 16)) return mm;
        }
        return std::nullopt;
      }));
  for (const MxKind& k : kFp8ScaledKinds) {
    const int64_t block = k.section == 4 ? 16 : 32;
    for (const bool away : {false, true}) {
      QARCH_EXPECT_NO_MISMATCH(run_check<Vquant_unit>(
          std::string("fp8s_specials_") + k.spec + (away ? "_away" : "_even"),
          [&](Sim<Vquant_unit>& sim) {
            return mx_stream(sim, k, block, away, sp, static_cast<int64_t>(sp.size()) / block,
                             block);
          }));
    }
  }
}

// Random tensors: NVFP4 2^20 elements as 1024 tensors of 8 x 128 (each with its S_enc; block
// exponents within 24 binades of the tensor's), with partial blocks (cols 100) and stalls in
// some; AMXFP4 2^17 random blocks per scale type as the MX checks.
TEST(Fp8ScaledQuantizer, RandomBlocks) {
  const int64_t n = stream_count(int64_t{1} << 20, int64_t{1} << 24);
  QARCH_EXPECT_NO_MISMATCH(
      run_check<Vquant_unit>("fp8s_random_nvfp4", [&](Sim<Vquant_unit>& sim) -> MaybeMismatch {
        std::mt19937 rng(21);
        std::uniform_real_distribution<float> f01(0.0f, 1.0f);
        for (int64_t t = 0; t < n / 1024; ++t) {
          const int64_t cols = t % 8 == 7 ? 100 : 128, rows = 1024 / cols;
          std::vector<float> x(static_cast<size_t>(rows * cols));
          const int center = -140 + static_cast<int>(rng() % 260);
          for (size_t i = 0; i < x.size(); i += 16) {
            const int base = center - static_cast<int>(rng() % 24);
            for (size_t j = i; j < std::min(x.size(), i + 16); ++j) {
              float v = std::ldexp(1.0f + f01(rng), base - static_cast<int>(rng() % 6));
              if (rng() % 8 == 0) v = u2f(f2u(v) & ~0xfffu);
              if (rng() % 32 == 0) v = 0.0f;
              x[j] = (rng() & 1) ? -v : v;
            }
          }
          if (auto mm = mx_stream(sim, kNvfp4, 16, t & 1, x, rows, cols,
                                  t % 4 == 3 ? static_cast<uint32_t>(t) : 0u)) {
            return mm;
          }
        }
        return std::nullopt;
      }));
  for (const MxKind* k : {&kAmxE5m2, &kAmxE4m3}) {
    const int64_t m = n / 16;
    for (const bool away : {false, true}) {
      const auto x = mx_random_values(m, 31 + k->sub + (away ? 2 : 0));
      QARCH_EXPECT_NO_MISMATCH(run_check<Vquant_unit>(
          std::string("fp8s_random_") + k->spec + (away ? "_away" : "_even"),
          [&](Sim<Vquant_unit>& sim) {
            return mx_stream(sim, *k, 32, away, x, m / 1000, 1000, away ? 5 : 0);
          }));
    }
  }
}

TEST(Fp8ScaledQuantizer, LayerTraces) {
  const int64_t rows = 16, cols = 1000;
  const auto xa = outlier_activations(rows, cols, 51), xw = outlier_weights(rows, cols, 52);
  for (const MxKind& k : kFp8ScaledKinds) {
    for (const auto* x : {&xa, &xw}) {
      QARCH_EXPECT_NO_MISMATCH(
          run_check<Vquant_unit>(std::string("fp8s_trace_") + k.spec, [&](Sim<Vquant_unit>& sim) {
            return mx_stream(sim, k, k.section == 4 ? 16 : 32, false, *x, rows, cols);
          }));
    }
  }
}

// ==== The regression catches a wrong rounding: Vquant_unit_mutant (QARCH_MUTANT_ROUNDING: OVP
// outlier mantissa truncated, MX ties-to-even without the sticky bits).
TEST(QuantMutant, BrokenRoundingIsCaught) {
  const std::string vcd = vcd_dir() + "/quant_mutant_ovp_random.vcd";
  std::filesystem::remove(vcd);
  const auto random = ovp_random_cases(0, 1 << 14, 7);
  const MaybeMismatch ovp_rand = run_check<Vquant_unit_mutant>(
      "quant_mutant_ovp_random",
      [&](Sim<Vquant_unit_mutant>& sim) { return ovp_run(sim, 0, random); });
  ASSERT_TRUE(ovp_rand.has_value()) << "the OVP random check missed the mutant";
  std::printf("OVP mutant caught by the random pairs: cycle %llu: %s\n",
              static_cast<unsigned long long>(ovp_rand->cycle), ovp_rand->what.c_str());
  EXPECT_TRUE(std::filesystem::exists(vcd));
  EXPECT_GT(std::filesystem::file_size(vcd), 1000u) << "the mismatch waveform is empty";
  const auto bound = ovp_boundary_cases(0);
  EXPECT_TRUE(run_check<Vquant_unit_mutant>("quant_mutant_ovp_boundaries",
                                            [&](auto& sim) { return ovp_run(sim, 0, bound); })
                  .has_value())
      << "the OVP boundary check missed the mutant";
  // Normal values never reach the outlier rounding: the mutant agrees there (the checks catch it
  // because they exercise outliers).
  std::vector<OvpCase> normals;
  const auto nv = ovp_probes(quant::kOvp4, false);
  for (float a : nv) {
    for (float b : nv) normals.push_back({a, b, false});
  }
  EXPECT_FALSE(run_check<Vquant_unit_mutant>("quant_mutant_ovp_normals", [&](auto& sim) {
                 return ovp_run(sim, 0, normals);
               }).has_value());

  const auto mx_bound = mx_boundary_values(kMxfp4, 1);
  EXPECT_TRUE(run_check<Vquant_unit_mutant>("quant_mutant_mx_boundaries",
                                            [&](auto& sim) {
                                              return mx_stream(
                                                  sim, kMxfp4, 32, false, mx_bound,
                                                  static_cast<int64_t>(mx_bound.size()) / 32, 32);
                                            })
                  .has_value())
      << "the MX boundary check missed the mutant";
  const auto mx_rand = mx_random_values(1 << 14, 13);
  const MaybeMismatch mr = run_check<Vquant_unit_mutant>("quant_mutant_mx_random", [&](auto& sim) {
    return mx_stream(sim, kMxfp4, 32, false, mx_rand, 16, 1024);
  });
  ASSERT_TRUE(mr.has_value()) << "the MX random check missed the mutant";
  std::printf("MX mutant caught by the random blocks: cycle %llu: %s\n",
              static_cast<unsigned long long>(mr->cycle), mr->what.c_str());
  // The FP8-scaled quantizers share the element rounding: the NVFP4 boundary check catches it.
  const auto nv_bound = nvfp4_boundary_values(false);
  EXPECT_TRUE(run_check<Vquant_unit_mutant>("quant_mutant_nvfp4_boundaries",
                                            [&](auto& sim) {
                                              return mx_stream(
                                                  sim, kNvfp4, 16, false, nv_bound,
                                                  static_cast<int64_t>(nv_bound.size()) / 16, 16);
                                            })
                  .has_value())
      << "the NVFP4 boundary check missed the mutant";
  // Values on the element grid need no rounding: the mutant agrees there.
  const auto grid = mx_boundary_values(kMxfp4, 1, true);
  EXPECT_FALSE(run_check<Vquant_unit_mutant>("quant_mutant_mx_grid", [&](auto& sim) {
                 return mx_stream(sim, kMxfp4, 32, false, grid,
                                  static_cast<int64_t>(grid.size()) / 32, 32);
               }).has_value());
}

}  // namespace
}  // namespace qarch::rtltest
