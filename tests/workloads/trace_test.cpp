// Trace files: FNV-1a 64 against its published test vectors, the write -> read -> decode round
// trip bit for bit, clear errors for truncated / corrupted / incomplete / future-version traces,
// shape-only traces, sampling, real tensors through bindings, attention probabilities, MoE.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "qarch/common/error.h"
#include "qarch/quant/olive.h"
#include "qarch/quant/tensor_io.h"
#include "qarch/workloads/checksum.h"
#include "qarch/workloads/trace_builder.h"

namespace qarch::workloads {
namespace {

namespace fs = std::filesystem;

// A scratch directory removed at the end of the test.
struct TempDir {
  std::string path;
  TempDir() {
    char tmpl[] = "/tmp/qarch_trace_test_XXXXXX";
    path = ::mkdtemp(tmpl);
  }
  ~TempDir() { fs::remove_all(path); }
};

std::string read(const std::string& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}
void write(const std::string& p, const std::string& s) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out << s;
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const qarch::Error& e) {
    return e.what();
  }
  return "";
}

const char* kTinyYaml = R"(name: tiny
source: test
kind: decoder
hidden_size: 64
num_layers: 2
num_heads: 4
num_kv_heads: 2
intermediate_size: 96
ffn: gated
activation: silu
norm: rmsnorm
position: rotary
vocab_size: 80
max_positions: 128
)";

ModelConfig tiny() {
  return parse_model_yaml(kTinyYaml, "tiny.yaml");
}

WorkloadParams prefill(int64_t seq) {
  WorkloadParams p;
  p.phase = Phase::kPrefill;
  p.seq = seq;
  return p;
}

TraceOptions opts(const std::string& fmt) {
  TraceOptions o;
  const FormatChoice c = resolve_formats(fmt, "", "");
  o.act_format = c.act;
  o.weight_format = c.weight;
  o.seed = 7;
  return o;
}

TEST(Checksum, Fnv1a64TestVectors) {
  // From the FNV reference (Noll's test suite, also draft-eastlake-fnv): offset basis for the
  // empty string, and the hashes of "a" and "foobar".
  EXPECT_EQ(fnv1a64(""), 0xcbf29ce484222325ull);
  EXPECT_EQ(fnv1a64("a"), 0xaf63dc4c8601ec8cull);
  EXPECT_EQ(fnv1a64("foobar"), 0x85944171f73967e8ull);
  // Incremental == one shot, across the 4-byte unrolled loop boundary.
  const std::string s = "the quick brown fox jumps over the lazy dog";
  EXPECT_EQ(fnv1a64(s.substr(7), fnv1a64(s.substr(0, 7))), fnv1a64(s));
  EXPECT_EQ(hex64(0x0123456789abcdefull), "0123456789abcdef");
}

TEST(Trace, RoundTripBitForBit) {
  TempDir tmp;
  for (const char* fmt : {"olive4", "int8", "e4m3", "gobo", "mxfp4", "nvfp4", "amxfp4"}) {
    SCOPED_TRACE(fmt);
    TraceOptions o = opts(fmt);
    o.sample_rows = 24;  // of 32 tokens: exercises sampling
    const TraceBuilder b(tiny(), prefill(32), o);
    const std::string dir = tmp.path + "/" + fmt;
    const TraceSummary sum = write_trace(b, dir);
    EXPECT_EQ(sum.gemms, b.selected().size());
    EXPECT_EQ(sum.gemms, 2u * 7 + 1);
    const TraceReader r(dir);
    EXPECT_EQ(r.header().model.name, "tiny");
    EXPECT_EQ(r.header().act_format, o.act_format);
    EXPECT_EQ(r.header().weight_format, o.weight_format);
    EXPECT_EQ(r.header().tokens, 32);
    ASSERT_EQ(r.gemms().size(), sum.gemms);
    EXPECT_FALSE(r.elementwise().empty());
    for (size_t i = 0; i < r.gemms().size(); ++i) {
      const TraceGemm& tg = r.gemms()[i];
      const GemmOp& op = b.workload().gemms[b.selected()[i]];
      EXPECT_EQ(tg.op.name, op.name);
      EXPECT_EQ(tg.op.m, op.m);
      EXPECT_EQ(tg.op.n, op.n);
      EXPECT_EQ(tg.op.k, op.k);
      EXPECT_EQ(tg.op.batch, op.batch);
      EXPECT_EQ(tg.op.w_source, op.w_source);
      // Rebuild in memory (deterministic) and compare with what was read back.
      const GemmResult mem = b.build(op);
      const auto [x, w] = r.load_operands(i);
      for (const auto* pair : {&x, &w}) {
        const quant::EncodedTensor& got = *pair;
        const quant::EncodedTensor& want = pair == &x ? mem.x : mem.w;
        EXPECT_EQ(got.format, want.format);
        EXPECT_EQ(got.rows, want.rows);
        EXPECT_EQ(got.cols, want.cols);
        EXPECT_EQ(got.elements, want.elements);
        EXPECT_EQ(got.scales, want.scales);
        EXPECT_EQ(got.indices, want.indices);
        ASSERT_EQ(got.fp32.size(), want.fp32.size());
        if (!got.fp32.empty()) {
          EXPECT_EQ(0, std::memcmp(got.fp32.data(), want.fp32.data(), got.fp32.size() * 4));
        }
        // Decode with a format made from the manifest's spec: bit-identical values.
        const auto f = quant::make_format(pair == &x ? tg.x.format : tg.w.format);
        const quant::Tensor a = f->decode(got), bb = f->decode(want);
        ASSERT_EQ(a.data.size(), bb.data.size());
        if (!a.data.empty()) {
          EXPECT_EQ(0, std::memcmp(a.data.data(), bb.data.data(), a.data.size() * 4));
        }
      }
      EXPECT_EQ(x.rows, tg.x.sample.count);
      EXPECT_EQ(tg.x.sample.count,
                op.is_attention() || op.m >= 24 ? std::min<int64_t>(op.m, 24) : op.m);
      EXPECT_TRUE(tg.has_output_error);
      EXPECT_EQ(tg.output_error.qsnr_db, mem.meta.output_error.qsnr_db);
      EXPECT_TRUE(tg.x.has_stats);
      EXPECT_EQ(tg.x.stats.outlier_channels, mem.meta.x.stats.outlier_channels);
      EXPECT_GT(tg.x.bits_per_element, 0);
    }
  }
}

// OliVe's per-tensor MSE scale search on a row sample, then a fixed-scale encode: the fixed
// scale path reproduces the format's own search bit for bit when given the same scale, and the
// sampled scale is exactly olive_search_scale on the sampled rows.
TEST(Trace, OliveScaleSearchOnASample) {
  TraceOptions o = opts("olive4");
  o.layers = "0";
  o.scale_search_elements = 64 * 8;  // 8 rows of the 64-wide QKV input (of 32)
  const TraceBuilder b(tiny(), prefill(32), o);
  const GemmOp& qkv = b.workload().gemms[b.selected()[0]];
  ASSERT_EQ(qkv.kind, "qkv");
  const GemmResult r = b.build(qkv);
  EXPECT_EQ(r.meta.x.requested_format, o.act_format);
  EXPECT_EQ(r.meta.x.scale_search_rows, 8);
  EXPECT_NE(r.meta.x.format.find(":scale="), std::string::npos);
  // Recompute: regenerate the FP32 X (the builder's generator, key and tokens), then the
  // search on its rows 0, 4, ..., 28.
  std::vector<TokenRef> toks;
  for (int64_t t = 0; t < 32; ++t) toks.push_back({0, t});
  const quant::Tensor x =
      TensorGenerator(tiny().outliers, o.seed).activation({0, "qkv_in"}, 64, toks).data;
  std::vector<float> sample;
  for (int64_t i = 0; i < 8; ++i) sample.insert(sample.end(), x.row(i * 4), x.row(i * 4) + 64);
  const float s =
      quant::olive_search_scale(quant::kOvp4, quant::OvpVictim::kLarger, sample.data(), 8, 64);
  char text[32];
  std::snprintf(text, sizeof text, "olive4:scale=%.9g", static_cast<double>(s));
  EXPECT_EQ(quant::make_format(text)->name(), r.meta.x.format);
  EXPECT_EQ(quant::make_format(text)->encode(x).elements, r.x.elements);
  // Searching the whole operand and encoding with that fixed scale == the plain format.
  const float s_all = quant::olive_search_scale(quant::kOvp4, quant::OvpVictim::kLarger,
                                                x.data.data(), x.rows(), x.cols());
  std::snprintf(text, sizeof text, "olive4:scale=%.9g", static_cast<double>(s_all));
  const quant::EncodedTensor fixed = quant::make_format(text)->encode(x);
  const quant::EncodedTensor searched = quant::make_format("olive4")->encode(x);
  EXPECT_EQ(fixed.elements, searched.elements);
  EXPECT_EQ(fixed.fp32, searched.fp32);
  // Without sampling (the default budget exceeds this small operand) the plain format is used.
  const GemmResult rp = TraceBuilder(tiny(), prefill(32), opts("olive4")).build(qkv);
  EXPECT_TRUE(rp.meta.x.requested_format.empty());
  EXPECT_EQ(rp.x.elements, searched.elements);
}

TEST(Trace, ThreadsAndRewritesGiveTheSameFiles) {
  TempDir tmp;
  TraceOptions o = opts("int8");
  const TraceBuilder b(tiny(), prefill(16), o);
  write_trace(b, tmp.path + "/one", 1);
  write_trace(b, tmp.path + "/two", 3);
  // Rewriting a directory that held a bigger trace leaves no stale GEMM files behind.
  TraceOptions all = o;
  all.layers = "all";
  write_trace(TraceBuilder(tiny(), prefill(32), all), tmp.path + "/re");
  TraceOptions few = o;
  few.layers = "1";
  // Replacing a trace needs the explicit flag (qarch trace --force).
  const std::string e =
      error_of([&] { write_trace(TraceBuilder(tiny(), prefill(16), few), tmp.path + "/re"); });
  EXPECT_NE(e.find("holds a trace already; pass --force"), std::string::npos) << e;
  EXPECT_GT(TraceReader(tmp.path + "/re").gemms().size(), 7u);  // untouched
  write_trace(TraceBuilder(tiny(), prefill(16), few), tmp.path + "/re", 1, {}, true);
  EXPECT_EQ(std::distance(fs::directory_iterator(tmp.path + "/re/gemms"), fs::directory_iterator()),
            2 * 7);
  EXPECT_EQ(TraceReader(tmp.path + "/re").gemms().size(), 7u);
  EXPECT_FALSE(fs::exists(tmp.path + "/re.partial"));
  EXPECT_FALSE(fs::exists(tmp.path + "/re.old"));
  for (const auto& e : fs::directory_iterator(tmp.path + "/one/gemms")) {
    const std::string n = e.path().filename().string();
    EXPECT_EQ(read(e.path().string()), read(tmp.path + "/two/gemms/" + n)) << n;
  }
  EXPECT_EQ(read(tmp.path + "/one/trace.json"), read(tmp.path + "/two/trace.json"));
}

TEST(Trace, AnInterruptedRetraceLeavesThePreviousTraceIntact) {
  TempDir tmp;
  TraceOptions o = opts("int8");
  o.layers = "all";
  const std::string dir = tmp.path + "/t/";  // a trailing slash, as users type it
  write_trace(TraceBuilder(tiny(), prefill(16), o), dir);
  const size_t before = TraceReader(dir).gemms().size();
  const std::string index = read(tmp.path + "/t/trace.json");
  // A re-trace that fails half-way (a bound tensor of the wrong shape for a later GEMM).
  quant::write_npy(tmp.path + "/bad.npy",
                   quant::Tensor::matrix(3, 5, std::vector<float>(15, 1.0f)));
  write(tmp.path + "/bind.yaml", "tensors:\n  - gemm: layers.1.mlp.down\n    w: bad.npy\n");
  TraceOptions bad = o;
  bad.bindings = std::make_shared<TensorBindings>(TensorBindings::load(tmp.path + "/bind.yaml"));
  const std::string e =
      error_of([&] { write_trace(TraceBuilder(tiny(), prefill(16), bad), dir, 1, {}, true); });
  EXPECT_NE(e.find("bad.npy"), std::string::npos) << e;
  EXPECT_EQ(TraceReader(dir).gemms().size(), before);
  EXPECT_EQ(read(tmp.path + "/t/trace.json"), index);
  EXPECT_TRUE(fs::exists(tmp.path + "/t.partial"));  // the unfinished one, out of the way
  // The next trace clears the leftover staging folder.
  o.layers = "0";
  write_trace(TraceBuilder(tiny(), prefill(16), o), dir, 1, {}, true);
  EXPECT_LT(TraceReader(dir).gemms().size(), before);
  EXPECT_FALSE(fs::exists(tmp.path + "/t.partial"));
  // A folder that holds something else is never written into or deleted.
  fs::create_directories(tmp.path + "/mine");
  write(tmp.path + "/mine/notes.txt", "keep me");
  const std::string m = error_of(
      [&] { write_trace(TraceBuilder(tiny(), prefill(16), o), tmp.path + "/mine", 1, {}, true); });
  EXPECT_NE(m.find("holds no qarch trace"), std::string::npos) << m;
  EXPECT_EQ(read(tmp.path + "/mine/notes.txt"), "keep me");
}

TEST(Trace, FormatsPerOperandAndGoboIsWeightOnly) {
  const FormatChoice g = resolve_formats("gobo", "", "");
  EXPECT_EQ(quant::FormatSpec::parse(g.act).name, "fp16");
  EXPECT_EQ(quant::FormatSpec::parse(g.weight).name, "gobo");
  const FormatChoice o = resolve_formats("olive4", "", "int8");
  EXPECT_EQ(quant::FormatSpec::parse(o.act).name, "olive4");
  EXPECT_EQ(quant::FormatSpec::parse(o.weight).name, "int8");
  EXPECT_NE(error_of([] { resolve_formats("int8", "gobo", ""); }).find("weights only"),
            std::string::npos);
  EXPECT_NE(error_of([] { resolve_formats("nosuchformat", "", ""); }).find("unknown format"),
            std::string::npos);
  // Attention GEMMs use the activation format for both operands.
  TraceOptions op = opts("int8");
  op.weight_format = quant::make_format("olive4")->name();
  op.shape_only = true;
  const TraceBuilder b(tiny(), prefill(16), op);
  for (size_t i : b.selected()) {
    const GemmOp& g = b.workload().gemms[i];
    const GemmResult r = b.build(g);
    EXPECT_EQ(r.meta.w.format, g.is_attention() ? op.act_format : op.weight_format) << g.name;
  }
}

// QLLM (an activation format qllm:...): every linear GEMM is recorded with the grown K' (the
// shape models/ times), its stored operands are the base / weight formats' encodings of X', W'
// (K' wide), written and read back as such; with assembly K is restored. The layer-output error
// is against the untransformed FP32 product, so it is honest about the assembly's approximation.
TEST(Trace, QllmGrowsKOfLinearGemmsAndAssemblyRestoresIt) {
  TempDir tmp;
  for (const bool assemble : {false, true}) {
    for (const bool shape_only : {false, true}) {
      SCOPED_TRACE(std::string(assemble ? "assemble" : "disassemble") +
                   (shape_only ? " shape-only" : ""));
      TraceOptions o = opts("int8");
      o.act_format = quant::make_format(std::string("qllm:ratio=0.05:assemble=") +
                                        (assemble ? "true" : "false"))
                         ->name();
      o.shape_only = shape_only;
      const TraceBuilder b(tiny(), prefill(32), o);
      const std::string dir = tmp.path + (assemble ? "/ca" : "/cd") + (shape_only ? "s" : "");
      write_trace(b, dir);
      const TraceReader r(dir);
      ASSERT_EQ(r.gemms().size(), b.selected().size());
      for (size_t i = 0; i < r.gemms().size(); ++i) {
        const TraceGemm& g = r.gemms()[i];
        const GemmOp& op = b.workload().gemms[b.selected()[i]];
        SCOPED_TRACE(op.name);
        // tiny: hidden 64 -> 64 + floor(3.2) = 67; intermediate 96 -> 96 + floor(4.8) = 100.
        const int64_t kp = op.is_attention() || assemble ? op.k : op.k + (op.k == 64 ? 3 : 4);
        EXPECT_EQ(g.op.k, kp);
        EXPECT_EQ(g.x.cols, kp);
        EXPECT_EQ(g.w.cols, kp);
        EXPECT_EQ(quant::FormatSpec::parse(g.x.format).name, "int8");
        if (!op.is_attention()) {
          EXPECT_EQ(g.x.requested_format, o.act_format);
        }
        if (shape_only) continue;
        const auto [x, w] = r.load_operands(i);
        EXPECT_EQ(x.cols, kp);
        EXPECT_EQ(w.cols, kp);
        ASSERT_TRUE(g.has_output_error);
        EXPECT_GT(g.output_error.qsnr_db, 10.0);
      }
    }
  }
}

TEST(Trace, CorruptionTruncationAndVersionAreClearErrors) {
  TempDir tmp;
  TraceOptions o = opts("olive4");
  o.layers = "0";
  const TraceBuilder b(tiny(), prefill(16), o);
  const std::string dir = tmp.path + "/t";
  write_trace(b, dir);
  const TraceReader ok(dir);
  const TraceGemm& g0 = ok.gemms()[0];
  const std::string bin = dir + "/" + g0.data_file;
  const std::string man = dir + "/" + g0.manifest;
  const std::string bin_text = read(bin), man_text = read(man),
                    idx_text = read(dir + "/trace.json");

  // One flipped bit in the packed operands.
  std::string bad = bin_text;
  bad[100] ^= 0x10;
  write(bin, bad);
  std::string e = error_of([&] { TraceReader(dir).load_operands(0); });
  EXPECT_NE(e.find("checksum mismatch"), std::string::npos) << e;
  EXPECT_NE(e.find(g0.data_file), std::string::npos) << e;
  // Truncated binary.
  write(bin, bin_text.substr(0, bin_text.size() / 2));
  e = error_of([&] { TraceReader(dir).load_operands(0); });
  EXPECT_NE(e.find("truncated"), std::string::npos) << e;
  write(bin, bin_text);
  EXPECT_NO_THROW(TraceReader(dir).load_operands(0));
  // verify_data (what `qarch run --trace` calls) checks every operand file up front: a flipped
  // byte, and a deleted file.
  EXPECT_NO_THROW(TraceReader(dir).verify_data());
  bad = bin_text;
  bad[bad.size() / 3] ^= 0x01;
  write(bin, bad);
  e = error_of([&] { TraceReader(dir).verify_data(); });
  EXPECT_NE(e.find("checksum mismatch"), std::string::npos) << e;
  fs::remove(bin);
  e = error_of([&] { TraceReader(dir).verify_data(); });
  EXPECT_NE(e.find("missing or unreadable"), std::string::npos) << e;
  EXPECT_NE(e.find(g0.data_file), std::string::npos) << e;
  write(bin, bin_text);

  // A changed manifest: its own checksum fails first.
  bad = man_text;
  bad[bad.find("\"m\":") + 5] = '9';
  write(man, bad);
  e = error_of([&] { TraceReader r(dir); });
  EXPECT_NE(e.find("checksum"), std::string::npos) << e;
  // A truncated manifest.
  write(man, man_text.substr(0, man_text.size() - 10));
  e = error_of([&] { TraceReader r(dir); });
  EXPECT_NE(e.find(g0.manifest), std::string::npos) << e;
  write(man, man_text);

  // A truncated index and a missing index.
  write(dir + "/trace.json", idx_text.substr(0, idx_text.size() - 30));
  e = error_of([&] { TraceReader r(dir); });
  EXPECT_NE(e.find("trace.json"), std::string::npos) << e;
  EXPECT_NE(e.find("truncated"), std::string::npos) << e;
  fs::remove(dir + "/trace.json");
  e = error_of([&] { TraceReader r(dir); });
  EXPECT_NE(e.find("not a complete qarch trace"), std::string::npos) << e;

  // A future version with a valid checksum.
  nlohmann::json j = nlohmann::json::parse(open_json_envelope(idx_text, "trace.json"));
  j["version"] = kTraceVersion + 1;
  write(dir + "/trace.json", json_envelope(j.dump()));
  e = error_of([&] { TraceReader r(dir); });
  EXPECT_NE(e.find("trace version 2"), std::string::npos) << e;
  EXPECT_NE(error_of([&] { TraceReader r(tmp.path + "/nothing"); }).find("not a complete"),
            std::string::npos);
}

TEST(Trace, ShapeOnlyHasNoValuesButKnowsTheBits) {
  TempDir tmp;
  TraceOptions o = opts("olive4");
  o.shape_only = true;
  const TraceBuilder b(load_model("llama2-7b"), prefill(2048), o);
  const std::string dir = tmp.path + "/s";
  const TraceSummary s = write_trace(b, dir);
  EXPECT_EQ(s.gemms, 32u * 7 + 1);
  EXPECT_LT(s.bytes, 4u << 20);  // manifests only
  const TraceReader r(dir);
  EXPECT_TRUE(r.header().shape_only);
  EXPECT_EQ(r.header().model_flops, b.workload().total_flops());
  for (const auto& g : r.gemms()) {
    EXPECT_TRUE(g.data_file.empty());
    EXPECT_FALSE(g.x.has_values);
    // OliVe 4-bit: 4 bits per element plus the per-tensor FP32 scale over the 64-row probe.
    EXPECT_GT(g.x.bits_per_element, 4.0);
    EXPECT_LT(g.x.bits_per_element, 4.2);
  }
  EXPECT_NE(error_of([&] { r.load_operands(0); }).find("shape-only"), std::string::npos);
}

TEST(Trace, LayerSelection) {
  const LayerSelection s = parse_layers("0, 3-5,head", 32);
  EXPECT_TRUE(s.contains(0));
  EXPECT_FALSE(s.contains(1));
  EXPECT_TRUE(s.contains(4));
  EXPECT_TRUE(s.contains(-1));
  EXPECT_FALSE(parse_layers("2", 32).contains(-1));
  EXPECT_TRUE(parse_layers("all", 32).contains(31));
  EXPECT_NE(error_of([] { parse_layers("40", 32); }).find("out of range"), std::string::npos);
  EXPECT_NE(error_of([] { parse_layers("a-b", 32); }).find("not a layer index"), std::string::npos);
  EXPECT_NE(error_of([] { parse_layers("5-2", 32); }).find("empty"), std::string::npos);
  EXPECT_NE(error_of([] { parse_layers("", 32); }).find("no layer"), std::string::npos);
}

TEST(Trace, AttentionProbabilitiesAndCausalMask) {
  TraceOptions o = opts("fp16");
  o.layers = "1";
  o.sample_rows = 8;
  const TraceBuilder b(tiny(), prefill(40), o);
  const GemmOp* ctx = nullptr;
  for (size_t i : b.selected())
    if (b.workload().gemms[i].kind == "context") ctx = &b.workload().gemms[i];
  ASSERT_NE(ctx, nullptr);
  const GemmResult r = b.build(*ctx);
  const quant::Tensor p = quant::make_format(r.meta.x.format)->decode(r.x);
  ASSERT_EQ(p.rows(), 8);
  ASSERT_EQ(p.cols(), 40);
  for (int64_t i = 0; i < 8; ++i) {
    const int64_t pos = r.meta.x.sample.row(i);
    double sum = 0;
    for (int64_t j = 0; j < 40; ++j) {
      sum += p.row(i)[j];
      if (j > pos) {
        EXPECT_EQ(p.row(i)[j], 0.0f) << "causal mask at " << pos << "," << j;
      }
    }
    EXPECT_NEAR(sum, 1.0, 2e-3);  // FP16 rounding of the probabilities
  }
  EXPECT_EQ(r.meta.x.origin, "softmax");
  // Decode: one query over the cache, every key allowed, keys read from the KV cache.
  WorkloadParams d;
  d.phase = Phase::kDecode;
  d.batch = 3;
  d.context = 50;
  const TraceBuilder bd(tiny(), d, o);
  for (size_t i : bd.selected()) {
    const GemmOp& g = bd.workload().gemms[i];
    if (g.kind != "context") continue;
    const GemmResult rd = bd.build(g);
    EXPECT_EQ(rd.meta.w.source, OperandSource::kKvCache);
    EXPECT_EQ(rd.meta.x.sample.count, 1);
    // 51 keys, none masked (tiny probabilities may still round to 0 in FP16: the generated q
    // and k share outlier channels, so attention is peaked, as in real models).
    const quant::Tensor pd = quant::make_format(rd.meta.x.format)->decode(rd.x);
    ASSERT_EQ(pd.cols(), 51);
    double sum = 0;
    for (int64_t j = 0; j < 51; ++j) sum += pd.row(0)[j];
    EXPECT_NEAR(sum, 1.0, 2e-3);
  }
}

TEST(Trace, SamplingKeepsTheFirstTokenAndMoeExpertsGetTheirTokens) {
  const RowSample s = sample_rows(2048, 256);
  EXPECT_EQ(s.row(0), 0);
  EXPECT_EQ(s.row(1), 8);
  EXPECT_EQ(s.rows().back(), 2040);
  EXPECT_TRUE(sample_rows(10, 0).all());
  EXPECT_TRUE(sample_rows(10, 50).all());

  ModelConfig m = tiny();
  m.moe.num_experts = 4;
  m.moe.top_k = 2;
  TraceOptions o = opts("int8");
  o.layers = "0";
  const TraceBuilder b(m, prefill(16), o);
  int experts = 0;
  for (size_t i : b.selected()) {
    const GemmOp& g = b.workload().gemms[i];
    if (g.kind != "up") continue;
    ++experts;
    EXPECT_EQ(g.m, 16 * 2 / 4);
    const GemmResult r = b.build(g);
    EXPECT_EQ(r.x.rows, 8);
  }
  EXPECT_EQ(experts, 4);
}

TEST(Trace, ErrorsAreSmallForFp16AndLargerForFourBits) {
  TraceOptions o16 = opts("fp16"), o4 = opts("int4");
  o16.layers = o4.layers = "0";
  const TraceBuilder b16(tiny(), prefill(32), o16), b4(tiny(), prefill(32), o4);
  for (size_t i : b16.selected()) {
    const GemmOp& g = b16.workload().gemms[i];
    if (g.is_attention()) continue;
    const double q16 = b16.build(g).meta.output_error.qsnr_db;
    const double q4 = b4.build(g).meta.output_error.qsnr_db;
    EXPECT_GT(q16, 55.0) << g.name;
    EXPECT_LT(q4, 30.0) << g.name;
  }
}

// The layer-output error with the hardware's arithmetic (reference_dot on the decoded operands)
// agrees with the double GEMM of the dequantized operands up to FP32 accumulation rounding.
TEST(Trace, ExactHardwareErrorAgreesWithDequantizedGemm) {
  for (const char* fmt : {"int8", "olive4"}) {
    TraceOptions a = opts(fmt), h = opts(fmt);
    a.layers = h.layers = "0";
    h.exact_hw = true;
    const TraceBuilder ba(tiny(), prefill(32), a), bh(tiny(), prefill(32), h);
    for (size_t i : ba.selected()) {
      const GemmOp& g = ba.workload().gemms[i];
      const GemmResult ra = ba.build(g), rh = bh.build(g);
      EXPECT_EQ(ra.meta.error_method, "dequantized-double");
      EXPECT_EQ(rh.meta.error_method, "hardware-reference-dot");
      EXPECT_EQ(ra.x.elements, rh.x.elements);
      EXPECT_NEAR(rh.meta.output_error.qsnr_db, ra.meta.output_error.qsnr_db, 0.01)
          << fmt << " " << g.name;
    }
  }
}

TEST(Trace, RealTensorsThroughBindings) {
  TempDir tmp;
  // A weight as .safetensors (q/k/v separate, stacked by the binding) and an activation .npy.
  const ModelConfig m = tiny();
  auto ramp = [](int64_t rows, int64_t cols, float scale) {
    std::vector<float> v(static_cast<size_t>(rows * cols));
    for (size_t i = 0; i < v.size(); ++i) v[i] = scale * std::sin(0.37f * static_cast<float>(i));
    return quant::Tensor::matrix(rows, cols, v);
  };
  const quant::Tensor wq = ramp(64, 64, 0.1f), wk = ramp(32, 64, 0.2f), wv = ramp(32, 64, 0.3f);
  quant::write_safetensors(tmp.path + "/w.safetensors",
                           {{"q.weight", wq}, {"k.weight", wk}, {"v.weight", wv}});
  const quant::Tensor x = ramp(16, 64, 2.0f);
  quant::Tensor x3 = x;
  x3.shape = {1, 16, 64};  // a [batch, seq, hidden] dump
  quant::write_npy(tmp.path + "/x.npy", x3);
  write(tmp.path + "/bind.yaml", R"(tensors:
  - gemm: layers.{layer}.attn.qkv
    x: x.npy
    w: [w.safetensors:q.weight, w.safetensors:k.weight, w.safetensors:v.weight]
)");
  TraceOptions o = opts("int8");
  o.bindings = std::make_shared<TensorBindings>(TensorBindings::load(tmp.path + "/bind.yaml"));
  const TraceBuilder b(m, prefill(16), o);
  const GemmOp& qkv = b.workload().gemms[b.selected()[0]];
  ASSERT_EQ(qkv.name, "layers.0.attn.qkv");
  const GemmResult r = b.build(qkv);
  EXPECT_NE(r.meta.x.origin.find("x.npy"), std::string::npos);
  EXPECT_NE(r.meta.w.origin.find("k.weight"), std::string::npos);
  const auto f = quant::make_format(o.weight_format);
  std::vector<float> stacked = wq.data;
  stacked.insert(stacked.end(), wk.data.begin(), wk.data.end());
  stacked.insert(stacked.end(), wv.data.begin(), wv.data.end());
  const quant::EncodedTensor want = f->encode(quant::Tensor::matrix(128, 64, stacked));
  EXPECT_EQ(r.w.elements, want.elements);
  EXPECT_EQ(r.w.fp32, want.fp32);
  EXPECT_EQ(r.x.elements, quant::make_format(o.act_format)->encode(x).elements);
  // Unbound operands are generated.
  const GemmResult up = b.build(b.workload().gemms[b.selected()[5]]);
  EXPECT_EQ(up.meta.w.origin, "generated");

  // Shape errors name the file and the expected extent; bad YAML names the line.
  write(tmp.path + "/bad.yaml",
        "tensors:\n  - gemm: layers.0.mlp.down\n    w: w.safetensors:q.weight\n");
  o.bindings = std::make_shared<TensorBindings>(TensorBindings::load(tmp.path + "/bad.yaml"));
  const TraceBuilder bb(m, prefill(16), o);
  std::string e;
  for (size_t i : bb.selected()) {
    if (bb.workload().gemms[i].name == "layers.0.mlp.down") {
      e = error_of([&] { bb.build(bb.workload().gemms[i]); });
    }
  }
  EXPECT_NE(e.find("q.weight"), std::string::npos) << e;
  EXPECT_NE(e.find("96 columns"), std::string::npos) << e;
  write(tmp.path + "/typo.yaml", "tensors:\n  - gemm: lm_head\n    ww: a.npy\n");
  e = error_of([&] { TensorBindings::load(tmp.path + "/typo.yaml"); });
  EXPECT_NE(e.find("typo.yaml:3:"), std::string::npos) << e;
  EXPECT_NE(e.find("unknown key 'tensors[0].ww'"), std::string::npos) << e;
  EXPECT_EQ(split_tensor_source("a/b.safetensors:model.x:y").second, "model.x:y");
  // A pattern that matches no GEMM (a typo) is an error naming the entry, not a silent
  // fallback to generated tensors.
  write(tmp.path + "/nomatch.yaml",
        "tensors:\n  - gemm: layers.0.attn.qkv\n    x: x.npy\n  - gemm: layers.{layer}.mlp.dwn\n"
        "    w: w.safetensors:q.weight\n");
  o.bindings = std::make_shared<TensorBindings>(TensorBindings::load(tmp.path + "/nomatch.yaml"));
  e = error_of([&] { TraceBuilder(m, prefill(16), o); });
  EXPECT_NE(e.find("nomatch.yaml:4:"), std::string::npos) << e;
  EXPECT_NE(e.find("'layers.{layer}.mlp.dwn' matches no GEMM"), std::string::npos) << e;
  EXPECT_NE(e.find("layers.0.mlp.down"), std::string::npos) << e;  // the hint
}

}  // namespace
}  // namespace qarch::workloads
