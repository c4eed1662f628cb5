// The mapper against brute force, and the legality of every mapping kind in the simulator.
//
// Brute force: the test enumerates the mapspace itself from its documented rules (mapper.h:
// tile sizes u * ceil(U / q), the powers of two times u and D; all 6 loop orders; residency
// levels 0..3 per operand; every allowed dataflow), prices each point with evaluate_mapping and
// takes the minimum. The mapper's branch-and-bound choice must have that minimum objective on
// every case: many small shapes, arrays, buffer sizes, single and double buffering, separate
// and shared buffers, and each objective.
//
// Legality: for mappings with spilled partial sums, resident blocks and a shared buffer, in
// every dataflow, the tile walk covers every MAC exactly once, the simulated DRAM bytes equal
// the mapper's, no buffer overflows (the simulator throws), cycle mode equals tile mode, and the
// functional outputs are bit-identical to quant::reference_matmul.
#include <gtest/gtest.h>

#include <algorithm>
#include <limits>
#include <numeric>
#include <random>
#include <set>

#include "qarch/models/mapper.h"
#include "qarch/models/operand_format.h"
#include "qarch/models/simulator.h"
#include "qarch/models/tiler.h"
#include "qarch/common/error.h"
#include "test_util.h"

namespace qarch::models {
namespace {

int64_t cdiv(int64_t a, int64_t b) {
  return (a + b - 1) / b;
}

// The documented candidate rule, written out independently of the mapper.
std::vector<int64_t> candidates(int64_t D, int64_t u, bool small) {
  u = std::max<int64_t>(1, std::min(u, D));
  std::set<int64_t> s;
  const int64_t U = cdiv(D, u);
  for (int64_t q = 1; q <= U; ++q) s.insert(std::min(D, u * cdiv(U, q)));
  for (int64_t t = u; t < D; t *= 2) s.insert(t);
  if (small)
    for (int64_t t = 1; t < u && t < D; t *= 2) s.insert(t);
  return {s.begin(), s.end()};
}

// Granule per dimension and whether it is the streamed one without a scale-group constraint.
std::array<int64_t, 3> granule(const ArchConfig& a, Dataflow df, const GemmJob& j,
                               std::array<bool, 3>& small) {
  const OperandFormat& x = operand_format(j.x_format);
  const OperandFormat& w = operand_format(j.w_format);
  int64_t g = 1;
  for (int64_t s : {x.group_cols, w.group_cols})
    if (s > 0) g = std::lcm(g, s);
  const int fuse = pe_type(a.array.pe).fuse();
  const int64_t R = a.array.rows / fuse, C = a.array.cols / fuse;
  std::array<int64_t, 3> u{8, 8, std::lcm<int64_t>(g, 8)};
  if (df == Dataflow::kOutputStationary) u[0] = R, u[1] = C;
  if (df == Dataflow::kWeightStationary) u[2] = std::lcm<int64_t>(g, R), u[1] = C;
  if (df == Dataflow::kInputStationary) u[2] = std::lcm<int64_t>(g, R), u[0] = C;
  small = {true, true, g == 1};
  return u;
}

// The value each objective minimises (mapper.h), from a mapping's cycles and energy.
double objective_of(Objective o, const MappingCost& c) {
  return o == Objective::kLatency  ? c.cycles
         : o == Objective::kEnergy ? c.energy_pj
                                   : c.cycles * c.energy_pj;
}

// Minimum of each objective (latency, energy, edp) over the whole mapspace by brute force
// (+inf when nothing fits).
std::array<double, 3> brute_force(const ArchConfig& a, const GemmJob& j, const MapperOptions& o,
                                  size_t* legal) {
  std::array<double, 3> best;
  best.fill(std::numeric_limits<double>::infinity());
  *legal = 0;
  std::array<int, 3> order{0, 1, 2};
  for (Dataflow df : a.allowed_dataflows()) {
    std::array<bool, 3> small{};
    const auto u = granule(a, df, j, small);
    for (int64_t tm : candidates(j.m, u[0], small[0]))
      for (int64_t tn : candidates(j.n, u[1], small[1]))
        for (int64_t tk : candidates(j.k, u[2], small[2])) {
          std::sort(order.begin(), order.end());
          do {
            for (int lx = 0; lx < 4; ++lx)
              for (int lw = 0; lw < 4; ++lw)
                for (int ly = 0; ly < 4; ++ly) {
                  Mapping m;
                  m.dataflow = df;
                  m.tile = {tm, tn, tk};
                  m.order = order;
                  m.level = {lx, lw, ly};
                  MappingCost c;
                  try {
                    c = evaluate_mapping(a, j, m, o);
                  } catch (const Error&) {
                    continue;  // does not fit
                  }
                  ++*legal;
                  for (int i = 0; i < 3; ++i)
                    best[static_cast<size_t>(i)] = std::min(
                        best[static_cast<size_t>(i)], objective_of(static_cast<Objective>(i), c));
                }
          } while (std::next_permutation(order.begin(), order.end()));
        }
  }
  return best;
}

ArchConfig small_arch(int rows, int cols, Dataflow df, int64_t in, int64_t wt, int64_t out) {
  ArchConfig a;
  a.array.rows = rows;
  a.array.cols = cols;
  a.array.dataflow = df;
  a.array.pe = "int8";
  a.dram.bandwidth_bytes_per_cycle = 8;
  a.dram.latency_cycles = 20;
  a.input_buffer.size_bytes = in;
  a.weight_buffer.size_bytes = wt;
  a.output_buffer.size_bytes = out;
  return a;
}

GemmJob job(int64_t m, int64_t n, int64_t k, const std::string& x = "int8",
            const std::string& w = "int8", int64_t batch = 1) {
  GemmJob j;
  j.name = "g";
  j.m = m, j.n = n, j.k = k, j.batch = batch;
  j.x_format = x;
  j.w_format = w;
  return j;
}

TEST(Mapper, EqualsBruteForceOnManySmallCases) {
  std::mt19937 gen(2026);
  std::uniform_int_distribution<int64_t> dim(1, 24);
  const int sizes[] = {4, 8};
  const Dataflow dfs[] = {Dataflow::kOutputStationary, Dataflow::kWeightStationary,
                          Dataflow::kInputStationary};
  const Objective objs[] = {Objective::kLatency, Objective::kEnergy, Objective::kEdp};
  int cases = 0, nontrivial = 0;
  for (int c = 0; c < 27; ++c) {
    const int R = sizes[gen() % 2], C = sizes[gen() % 2];
    ArchConfig a =
        small_arch(R, C, dfs[c % 3], 64 << (gen() % 6), 64 << (gen() % 6), 128 << (gen() % 6));
    if (c % 5 == 1)
      a.array.dataflows = {Dataflow::kOutputStationary, Dataflow::kWeightStationary,
                           Dataflow::kInputStationary};
    if (c % 4 == 2) a.shared_buffer = true;
    if (c % 6 == 3) a.input_buffer.double_buffered = false;
    const GemmJob j =
        job(dim(gen), dim(gen), dim(gen), "int8", c % 7 == 0 ? "int8:group=16" : "int8",
            1 + static_cast<int64_t>(c % 3 == 0));
    MapperOptions o;
    if (c % 2) {
      o.costs.given = true;
      o.costs.dram_pj_per_byte = 160;
      o.costs.sram_pj_per_byte[0] = 1.5, o.costs.sram_pj_per_byte[1] = 2.0;
      o.costs.sram_pj_per_byte[2] = 1.2;
      o.costs.register_pj_per_byte = 0.1;
      o.costs.decoder_pj_per_op[0] = 0.2, o.costs.decoder_pj_per_op[1] = 0.3;
      o.costs.static_pj_per_cycle = 5;
    }
    size_t legal = 0;
    const std::array<double, 3> bfs = brute_force(a, j, o, &legal);
    for (Objective ob : objs) {
      o.objective = ob;
      const double bf = bfs[static_cast<size_t>(ob)];
      SCOPED_TRACE("case " + std::to_string(c) + " " + std::to_string(j.m) + "x" +
                   std::to_string(j.n) + "x" + std::to_string(j.k) + " " + objective_name(ob));
      if (legal == 0) {
        EXPECT_THROW(map_gemm(a, j, o), Error);
        continue;
      }
      const MapResult r = map_gemm(a, j, o);
      ++cases;
      if (legal > 50) ++nontrivial;
      EXPECT_EQ(r.best.cost.objective, bf) << r.best.mapping.key();
      // The reported cost is the cost of the reported mapping.
      EXPECT_EQ(evaluate_mapping(a, j, r.best.mapping, o).objective, r.best.cost.objective);
      // Runners-up are no better than the best and in order.
      double prev = r.best.cost.objective;
      for (const MappedGemm& g : r.runners_up) {
        EXPECT_GE(g.cost.objective, prev);
        prev = g.cost.objective;
      }
      EXPECT_LE(r.compulsory_total(), r.best.cost.dram_total());
    }
  }
  EXPECT_GE(cases, 55);
  EXPECT_GE(nontrivial, 35);
}

// The tile walk of a mapping: every (m, n, k) element is covered exactly once per instance.
void expect_covers_each_mac_once(const TilePlan& p) {
  std::vector<int> seen(static_cast<size_t>(p.m * p.n * p.k), 0);
  for (int64_t t = 0; t < p.tiles_per_instance(); ++t) {
    const Tile tl = p.tile(t);
    for (int64_t i = tl.m0; i < tl.m1; ++i)
      for (int64_t j = tl.n0; j < tl.n1; ++j)
        for (int64_t k = tl.k0; k < tl.k1; ++k)
          ++seen[static_cast<size_t>((i * p.n + j) * p.k + k)];
    // The tile lies inside its blocks.
    EXPECT_TRUE(tl.xb.r0 <= tl.m0 && tl.m1 <= tl.xb.r1 && tl.xb.c0 <= tl.k0 && tl.k1 <= tl.xb.c1);
    EXPECT_TRUE(tl.wb.r0 <= tl.n0 && tl.n1 <= tl.wb.r1 && tl.wb.c0 <= tl.k0 && tl.k1 <= tl.wb.c1);
    EXPECT_TRUE(tl.yb.r0 <= tl.m0 && tl.m1 <= tl.yb.r1 && tl.yb.c0 <= tl.n0 && tl.n1 <= tl.yb.c1);
  }
  for (int s : seen) ASSERT_EQ(s, 1);
}

struct Kind {
  const char* name;
  std::array<int, 3> order;
  std::array<int, 3> level;
  bool shared;
};

// Mapping kinds the old tiler never produced.
const Kind kKinds[] = {
    {"k_outer_psum_spill", {2, 0, 1}, {3, 3, 3}, false},       // k m n: Y spilled per K block
    {"x_resident_across_n", {0, 1, 2}, {1, 3, 3}, false},      // X block Tm x K kept while n runs
    {"w_resident_across_m", {1, 0, 2}, {3, 1, 3}, false},      // W block Tn x K kept while m runs
    {"y_resident_k_middle", {0, 2, 1}, {3, 3, 1}, false},      // Y block Tm x N kept across k, n
    {"shared_buffer_psum", {2, 1, 0}, {3, 2, 3}, true},        // k n m, W kept across m, spill
    {"n_outer_everything_inner", {1, 2, 0}, {0, 3, 1}, true},  // X whole, Y Tn column block
};

class MappingKinds : public ::testing::TestWithParam<Kind> {};

TEST_P(MappingKinds, AreLegalExactAndBitIdentical) {
  const Kind kind = GetParam();
  const int64_t m = 37, n = 29, k = 80;
  for (Dataflow df :
       {Dataflow::kOutputStationary, Dataflow::kWeightStationary, Dataflow::kInputStationary}) {
    SCOPED_TRACE(dataflow_name(df));
    ArchConfig a = small_arch(8, 8, df, 4096, 4096, 8192);
    a.shared_buffer = kind.shared;
    GemmJob j = job(m, n, k, "int8", "int8:group=16");
    const auto xe = test::encoded("int8", m, k, 3), we = test::encoded("int8:group=16", n, k, 4);
    j.x = {Operand{xe, nullptr}};
    j.w = {Operand{we, nullptr}};
    Mapping mp;
    mp.dataflow = df;
    mp.tile = {16, 16, 32};
    mp.order = kind.order;
    mp.level = kind.level;
    SimOptions so;
    so.mappings = {mp};
    const JobPlan jp = plan_mapping(a, j, mp);
    expect_covers_each_mac_once(jp.plan);
    const SimResult t = simulate(a, {j}, so);
    so.mode = SimMode::kCycle;
    const SimResult c = simulate(a, {j}, so);
    // Exact DRAM traffic: the mapper's count is what the simulator moves.
    const MappingCost est = evaluate_mapping(a, j, mp, {});
    const JobStats& s = t.stats.jobs[0];
    EXPECT_EQ(s.dram_x_bytes, est.dram_bytes[0]);
    EXPECT_EQ(s.dram_w_bytes, est.dram_bytes[1]);
    EXPECT_EQ(s.dram_y_bytes, est.dram_bytes[2]);
    EXPECT_EQ(s.psum_bytes, est.psum_bytes);
    EXPECT_EQ(t.stats.dram.read_bytes + t.stats.dram.write_bytes, est.dram_total());
    if (kind.order[0] == kDimK && kind.level[2] == 3) {
      EXPECT_GT(s.psum_bytes, 0u);
    }
    // Buffers within capacity.
    if (!kind.shared) {
      EXPECT_LE(t.stats.input_buffer.peak_bytes, a.input_buffer.size_bytes);
      EXPECT_LE(t.stats.weight_buffer.peak_bytes, a.weight_buffer.size_bytes);
      EXPECT_LE(t.stats.output_buffer.peak_bytes, a.output_buffer.size_bytes);
    }
    // Cycle mode agrees with tile mode.
    EXPECT_EQ(t.stats.cycles, c.stats.cycles);
    EXPECT_EQ(t.stats.array.busy_cycles, c.stats.array.busy_cycles);
    EXPECT_EQ(t.stats.dram.read_bytes, c.stats.dram.read_bytes);
    EXPECT_EQ(t.stats.dram.write_bytes, c.stats.dram.write_bytes);
    // Functional outputs equal quant's reference bit for bit, in both modes.
    const std::vector<float> ref = test::reference(*xe, *we);
    EXPECT_TRUE(test::same_bits(t.outputs[0][0], ref));
    EXPECT_TRUE(test::same_bits(c.outputs[0][0], ref));
  }
}

INSTANTIATE_TEST_SUITE_P(All, MappingKinds, ::testing::ValuesIn(kKinds),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(Mapper, AMappingThatDoesNotFitIsRejected) {
  const ArchConfig a = small_arch(8, 8, Dataflow::kOutputStationary, 1024, 1024, 1024);
  Mapping mp;
  mp.tile = {64, 64, 64};
  EXPECT_THROW(evaluate_mapping(a, job(64, 64, 64), mp, {}), Error);
}

TEST(Mapper, TooSmallBuffersNameTheBuffer) {
  const ArchConfig a = small_arch(8, 8, Dataflow::kOutputStationary, 4096, 4096, 6);
  try {
    map_gemm(a, job(64, 64, 64), {});
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("arch.output_buffer.size_bytes"), std::string::npos)
        << e.what();
  }
}

TEST(Mapper, ObjectiveNamesRoundTripAndTyposAreErrors) {
  for (Objective o : {Objective::kLatency, Objective::kEnergy, Objective::kEdp})
    EXPECT_EQ(parse_objective(objective_name(o)), o);
  EXPECT_THROW(parse_objective("fast"), Error);
}

// The loop nest printout names every loop with its trip count and the spatial mapping.
TEST(Mapper, LoopNestText) {
  Mapping mp;
  mp.dataflow = Dataflow::kOutputStationary;
  mp.tile = {128, 128, 256};
  mp.order = {1, 2, 0};
  mp.level = {0, 3, 1};
  const std::string t = loop_nest_text(mp, 2048, 4096, 4096, 1, 32, 32);
  EXPECT_NE(t.find("for n in [0:32)"), std::string::npos) << t;
  EXPECT_NE(t.find("for k in [0:16)"), std::string::npos) << t;
  EXPECT_NE(t.find("for m in [0:16)"), std::string::npos) << t;
  EXPECT_NE(t.find("spatial 32 x 32"), std::string::npos) << t;
  EXPECT_NE(t.find("X 2048x4096"), std::string::npos) << t;
}

// An array with several dataflows: for each GEMM the mapper's choice is as good as the best
// single-dataflow array's (GEMV, prefill projection, attention-like shapes).
TEST(Mapper, SeveralDataflowsAreAsGoodAsTheBestSingleOne) {
  for (const GemmJob& j :
       {job(1, 4096, 4096), job(256, 1024, 512), job(64, 64, 128, "int8", "int8", 8)}) {
    ArchConfig a = small_arch(32, 32, Dataflow::kOutputStationary, 128 << 10, 256 << 10, 128 << 10);
    a.dram.bandwidth_bytes_per_cycle = 1024;
    MapperOptions o;
    o.objective = Objective::kLatency;
    double best_single = std::numeric_limits<double>::infinity();
    Dataflow best_df = Dataflow::kOutputStationary;
    for (Dataflow df :
         {Dataflow::kOutputStationary, Dataflow::kWeightStationary, Dataflow::kInputStationary}) {
      a.array.dataflows = {df};
      const double v = map_gemm(a, j, o).best.cost.objective;
      if (v < best_single) best_single = v, best_df = df;
    }
    a.array.dataflows = {Dataflow::kOutputStationary, Dataflow::kWeightStationary,
                         Dataflow::kInputStationary};
    const MapResult r = map_gemm(a, j, o);
    EXPECT_EQ(r.best.cost.objective, best_single);
    // The chosen dataflow is one of the best (ties break on the mapping's text).
    a.array.dataflows = {r.best.mapping.dataflow};
    EXPECT_EQ(map_gemm(a, j, o).best.cost.objective, best_single);
    (void)best_df;
  }
}

}  // namespace
}  // namespace qarch::models
