// The qarch command line, run in-process: exit codes, help, errors that name the problem,
// and the quant command's table and JSON on the built-in demo tensors.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <sstream>

#include "qarch/common/error.h"
#include "qarch/quant/format.h"
#include "qarch/quant/metrics.h"
#include "qarch/quant/tensor_io.h"
#include "qarch/sim/demo_tensors.h"

#include <cmath>
#include <fstream>
#include <iterator>
#include "cli_runner.h"
#include "qarch/sim/cli.h"
#include "qarch/sim/tensor_source.h"

namespace qarch::sim {
namespace {

using Result = testing::CliResult;
using testing::run_cli;

TEST(Cli, HelpAndVersion) {
  const Result r = run_cli({"--help"});
  EXPECT_EQ(r.code, 0);
  EXPECT_NE(r.out.find("quant"), std::string::npos);
  const Result none = run_cli({});  // no command: usage on stderr, exit 2
  EXPECT_EQ(none.code, 2);
  EXPECT_NE(none.err.find("no command given"), std::string::npos);
  EXPECT_NE(none.err.find("commands:"), std::string::npos);
  EXPECT_NE(run_cli({"--version"}).out.find("qarch "), std::string::npos);
  const Result q = run_cli({"quant", "--help"});
  EXPECT_EQ(q.code, 0);
  EXPECT_NE(q.out.find("--formats"), std::string::npos);
}

TEST(Cli, FormatsListsEveryMethodWithItsSourceInAlignedColumns) {
  const Result r = run_cli({"formats"});
  ASSERT_EQ(r.code, 0) << r.err;
  for (const auto& f : quant::list_formats()) {
    // The name starts a line and is followed by at least two spaces (no run-together columns).
    const size_t at = r.out.find("\n" + f.name + "  ");
    EXPECT_NE(at, std::string::npos) << f.name;
  }
  for (const char* m : {"ant4", "ant8", "adaptivfloat8", "MICRO 2022", "DAC 2020"})
    EXPECT_NE(r.out.find(m), std::string::npos) << m;
}

TEST(Cli, UnknownCommandAndOptionAreUsageErrors) {
  const Result r = run_cli({"frobnicate"});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("unknown command 'frobnicate'"), std::string::npos);
  const Result o = run_cli({"quant", "--formatz", "int8"});
  EXPECT_EQ(o.code, 2);
  EXPECT_NE(o.err.find("formatz"), std::string::npos) << o.err;
}

TEST(Cli, StrayPositionalArgumentIsAUsageError) {
  const Result r = run_cli({"quant", "int8"});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("int8"), std::string::npos) << r.err;
}

TEST(Cli, BadFormatSpecNamesTheOption) {
  const Result r = run_cli({"quant", "--formats", "e4m3:scale=sometimes"});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("option 'scale'"), std::string::npos) << r.err;
  const Result u = run_cli({"quant", "--formats", "e9m9"});
  EXPECT_EQ(u.code, 2);
  EXPECT_NE(u.err.find("unknown format 'e9m9'"), std::string::npos) << u.err;
}

TEST(Cli, QuantDemoTableHasOneRowPerFormat) {
  const Result r = run_cli({"quant", "--formats", "e4m3:scale=tensor,fp16"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("demo activations: [256, 1024]"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("e4m3:overflow=sat:round=even:scale=tensor"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("fp16:overflow=sat:round=even:scale=none"), std::string::npos) << r.out;
}

TEST(Cli, QuantJsonIsParseableAndOrdered) {
  const Result r = run_cli({"quant", "--formats", "fp16,e2m1:scale=row", "--json"});
  ASSERT_EQ(r.code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  ASSERT_EQ(j["formats"].size(), 2u);
  // FP16 keeps far more of the signal than row-scaled FP4; both have a layer-output error.
  const double q16 = j["formats"][0]["qsnr_db"], q4 = j["formats"][1]["qsnr_db"];
  EXPECT_GT(q16, 60.0);
  EXPECT_LT(q4, 30.0);
  EXPECT_GT(q16, q4);
  EXPECT_TRUE(j["formats"][1].contains("layer_output"));
  EXPECT_EQ(j["input"]["stats"]["rows"], 256);
  // The demo's planted outlier channels are found.
  const auto ch = j["input"]["stats"]["outlier_channels"].get<std::vector<int64_t>>();
  EXPECT_NE(std::find(ch.begin(), ch.end(), 777), ch.end());
  EXPECT_NE(std::find(ch.begin(), ch.end(), 200), ch.end());
}

TEST(Cli, HadamardTransformRaisesFp4QsnrOnTheDemo) {
  const auto plain =
      nlohmann::json::parse(run_cli({"quant", "--formats", "e2m1:scale=row", "--json"}).out);
  const Result r =
      run_cli({"quant", "--formats", "e2m1:scale=row", "--transform", "hadamard:seed=3", "--json"});
  ASSERT_EQ(r.code, 0) << r.err;
  const auto rot = nlohmann::json::parse(r.out);
  EXPECT_EQ(rot["transform"], "hadamard:max_block=0:seed=3:signs=true");
  // Rotation spreads the outlier channels: the layer output error must drop by several dB.
  const double before = plain["formats"][0]["layer_output"]["qsnr_db"];
  const double after = rot["formats"][0]["layer_output"]["qsnr_db"];
  EXPECT_GT(after, before + 3.0) << before << " -> " << after;
  const Result bad = run_cli({"quant", "--transform", "rotate"});
  EXPECT_EQ(bad.code, 2);
  EXPECT_NE(bad.err.find("unknown transform 'rotate'"), std::string::npos) << bad.err;
}

TEST(Cli, WeightWithoutInputIsAnError) {
  const Result r = run_cli({"quant", "--weight", "w.npy"});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("--weight needs --input"), std::string::npos);
}

TEST(Cli, FormatsListsTheCatalogue) {
  const Result r = run_cli({"formats"});
  ASSERT_EQ(r.code, 0);
  EXPECT_NE(r.out.find("e2m1"), std::string::npos);
  const auto j = nlohmann::json::parse(run_cli({"formats", "--json"}).out);
  EXPECT_GE(j.size(), 7u);
}

std::string temp_path(const std::string& name) {
  return ::testing::TempDir() + "/" + name;
}

TEST(CliFiles, NpyInputAndWeightGiveTheSameNumbersAsTheLibrary) {
  const quant::Tensor x = demo_activations(64, 128, 5), w = demo_weights(32, 128, 5);
  quant::write_npy(temp_path("x.npy"), x);
  quant::write_npy(temp_path("w.npy"), w);
  const Result r = run_cli({"quant", "--input", temp_path("x.npy"), "--weight", temp_path("w.npy"),
                            "--formats", "int8:per=row", "--json"});
  ASSERT_EQ(r.code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  const auto f = quant::make_format("int8:per=row");
  const quant::ErrorMetrics m = quant::compare(x, f->quantize(x));
  EXPECT_DOUBLE_EQ(j["formats"][0]["qsnr_db"].get<double>(), m.qsnr_db);
  EXPECT_EQ(j["input"]["stats"]["cols"], 128);
}

TEST(CliFiles, SafetensorsNameSelectsTheTensorAndAxisTransposes) {
  const quant::Tensor a({2, 3}, {1, 2, 3, 4, 5, 6});
  const quant::Tensor b({3}, {7, 8, 9});
  quant::write_safetensors(temp_path("m.safetensors"), {{"layer.0:a", a}, {"b", b}});
  const std::string path = temp_path("m.safetensors");
  const Result r = run_cli(
      {"quant", "--input", path + ":layer.0:a", "--axis", "0", "--formats", "fp16", "--json"});
  ASSERT_EQ(r.code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["input"]["stats"]["rows"], 3);  // axis 0 became the reduction axis
  EXPECT_EQ(j["input"]["stats"]["cols"], 2);
  // Two tensors and no name: the error lists what is there.
  const Result n = run_cli({"quant", "--input", path, "--formats", "fp16"});
  EXPECT_EQ(n.code, 2);
  EXPECT_NE(n.err.find("layer.0:a"), std::string::npos) << n.err;
  const Result missing = run_cli({"quant", "--input", path + ":nope"});
  EXPECT_EQ(missing.code, 2);
  EXPECT_NE(missing.err.find("nope"), std::string::npos) << missing.err;
}

TEST(CliFiles, MalformedMissingAndNonFiniteFilesAreCleanErrors) {
  const std::string bad = temp_path("bad.npy");
  std::ofstream(bad, std::ios::binary) << "\x93NUMPY\x01\x00garbage";
  const Result r = run_cli({"quant", "--input", bad});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("bad.npy"), std::string::npos) << r.err;
  const Result m = run_cli({"quant", "--input", temp_path("does-not-exist.npy")});
  EXPECT_EQ(m.code, 2);
  EXPECT_NE(m.err.find("does-not-exist.npy"), std::string::npos) << m.err;
  quant::write_npy(temp_path("nan.npy"), quant::Tensor({2, 2}, {1, NAN, 3, INFINITY}));
  const Result n = run_cli({"quant", "--input", temp_path("nan.npy")});
  EXPECT_EQ(n.code, 2);
  EXPECT_NE(n.err.find("1 NaN and 1 Inf"), std::string::npos) << n.err;
  // A weight whose K differs from the input's.
  quant::write_npy(temp_path("k3.npy"), quant::Tensor({2, 3}, {1, 2, 3, 4, 5, 6}));
  quant::write_npy(temp_path("k2.npy"), quant::Tensor({2, 2}, {1, 2, 3, 4}));
  const Result k =
      run_cli({"quant", "--input", temp_path("k3.npy"), "--weight", temp_path("k2.npy")});
  EXPECT_EQ(k.code, 2);
  EXPECT_NE(k.err.find("K = 2"), std::string::npos) << k.err;
  // A tensor with no elements has nothing to measure (it used to print "QSNR inf").
  quant::write_npy(temp_path("empty.npy"), quant::Tensor({0, 8}, {}));
  const Result z = run_cli({"quant", "--input", temp_path("empty.npy"), "--formats", "int8"});
  EXPECT_EQ(z.code, 2);
  EXPECT_NE(z.err.find("has no elements"), std::string::npos) << z.err;
  // A 16-bit integer .npy: the hint names the command-line flag.
  std::string hdr = "{'descr': '<i2', 'fortran_order': False, 'shape': (2,), }";
  hdr.append(128 - 10 - hdr.size() - 1, ' ');  // magic + header a multiple of 64
  hdr += '\n';
  std::ofstream(temp_path("i2.npy"), std::ios::binary)
      << std::string("\x93NUMPY\x01\x00", 8) << static_cast<char>(hdr.size() & 0xff)
      << static_cast<char>(hdr.size() >> 8) << hdr << std::string("\x01\x00\x02\x00", 4);
  const Result i2 = run_cli({"quant", "--input", temp_path("i2.npy"), "--formats", "int8"});
  EXPECT_EQ(i2.code, 2);
  EXPECT_NE(i2.err.find("--int16-as-bf16"), std::string::npos) << i2.err;
  EXPECT_EQ(
      run_cli({"quant", "--input", temp_path("i2.npy"), "--formats", "int8", "--int16-as-bf16"})
          .code,
      0);
}

TEST(CliFiles, DequantOutWritesEachFormatsTensorInTheInputsShape) {
  // [K=6, N=4] with the reduction axis first (--axis 0): the file comes back as [6, 4].
  std::vector<float> v(24);
  for (size_t i = 0; i < v.size(); ++i) v[i] = std::sin(0.7f * static_cast<float>(i)) * 3.0f;
  quant::write_npy(temp_path("kxn.npy"), quant::Tensor({6, 4}, v));
  const std::string dir = temp_path("deq");
  const Result r = run_cli({"quant", "--input", temp_path("kxn.npy"), "--axis", "0", "--formats",
                            "int4,mxfp4:block=2", "--dequant-out", dir});
  ASSERT_EQ(r.code, 0) << r.err;
  for (const char* name : {"int4", "mxfp4_block=2"}) {
    const quant::Tensor t = quant::read_npy(dir + "/" + name + ".npy");
    EXPECT_EQ(t.shape, (std::vector<int64_t>{6, 4})) << name;
    // Element (k, n) is the format's quantization of row n of the transpose, column k.
    std::vector<float> xt(24);
    for (int k = 0; k < 6; ++k)
      for (int n = 0; n < 4; ++n)
        xt[static_cast<size_t>(n * 6 + k)] = v[static_cast<size_t>(k * 4 + n)];
    const std::string spec = std::string(name) == "int4" ? "int4" : "mxfp4:block=2";
    std::vector<float> q(24);
    quant::make_format(spec)->quantize(xt.data(), 4, 6, q.data());
    for (int k = 0; k < 6; ++k)
      for (int n = 0; n < 4; ++n)
        EXPECT_EQ(t.data[static_cast<size_t>(k * 4 + n)], q[static_cast<size_t>(n * 6 + k)])
            << name << " (" << k << ", " << n << ")";
  }
  // Not with --transform (the tensors would be in the rotated space), not without --input.
  const Result t = run_cli({"quant", "--input", temp_path("kxn.npy"), "--weight",
                            temp_path("kxn.npy"), "--transform", "hadamard", "--dequant-out", dir});
  EXPECT_EQ(t.code, 2);
  EXPECT_NE(t.err.find("--dequant-out with --transform"), std::string::npos) << t.err;
  EXPECT_EQ(run_cli({"quant", "--dequant-out", dir}).code, 2);
}

TEST(CliFiles, AnExactResultIsMarkedInfNeverNull) {
  // Values that FP16 holds exactly: the fp16 cast is lossless, QSNR is +inf.
  quant::write_npy(temp_path("exact.npy"),
                   quant::Tensor({2, 4}, {1, 2, 0.5f, -3, 4, 0.25f, 8, -1}));
  const Result r =
      run_cli({"quant", "--input", temp_path("exact.npy"), "--formats", "fp16", "--json"});
  ASSERT_EQ(r.code, 0) << r.err;
  const nlohmann::json j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["formats"][0]["qsnr_db"], "inf") << r.out;
  EXPECT_EQ(r.out.find("null"), std::string::npos) << r.out;
}

TEST(CliFiles, CodesOutWritesTheStoredForm) {
  std::vector<float> v(2 * 64);
  for (size_t i = 0; i < v.size(); ++i) v[i] = std::cos(0.3f * static_cast<float>(i)) * 5.0f;
  quant::write_npy(temp_path("c.npy"), quant::Tensor({2, 64}, v));
  const std::string dir = temp_path("codes");
  const Result r =
      run_cli({"quant", "--input", temp_path("c.npy"), "--formats", "mxfp4", "--codes-out", dir});
  ASSERT_EQ(r.code, 0) << r.err;
  const quant::EncodedTensor e = quant::make_format("mxfp4")->encode(v.data(), 2, 64);
  // The .npy payload (after the v1 header) is the packed bytes exactly.
  auto payload = [](const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::string b((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const size_t hlen = static_cast<unsigned char>(b[8]) | (static_cast<unsigned char>(b[9]) << 8);
    return b.substr(10 + hlen);
  };
  EXPECT_EQ(payload(dir + "/mxfp4.elements.npy"),
            std::string(e.elements.begin(), e.elements.end()));
  EXPECT_EQ(payload(dir + "/mxfp4.scales.npy"), std::string(e.scales.begin(), e.scales.end()));
  std::ifstream jf(dir + "/mxfp4.json");
  const std::string j((std::istreambuf_iterator<char>(jf)), std::istreambuf_iterator<char>());
  EXPECT_NE(j.find("\"format\": \"mxfp4:block=32:round=even\""), std::string::npos) << j;
  EXPECT_NE(j.find("\"storage_bits\": " + std::to_string(e.storage_bits())), std::string::npos)
      << j;
}

TEST(TensorSource, MoveAxisLast) {
  // [2, 3] with axis 0 -> [3, 2] transposed.
  const quant::Tensor t({2, 3}, {1, 2, 3, 4, 5, 6});
  const quant::Tensor m = move_axis_last(t, 0, "--axis");
  EXPECT_EQ(m.shape, (std::vector<int64_t>{3, 2}));
  EXPECT_EQ(m.data, (std::vector<float>{1, 4, 2, 5, 3, 6}));
  // [2, 2, 2] axis 1 -> [2, 2, 2] with the middle axis last.
  const quant::Tensor c({2, 2, 2}, {0, 1, 2, 3, 4, 5, 6, 7});
  EXPECT_EQ(move_axis_last(c, 1, "a").data, (std::vector<float>{0, 2, 1, 3, 4, 6, 5, 7}));
  EXPECT_EQ(move_axis_last(c, -1, "a").data, c.data);
  EXPECT_THROW(move_axis_last(c, 3, "a"), Error);
  EXPECT_THROW(move_axis_last(c, -4, "a"), Error);
  // move_last_axis_back undoes it for every axis of a [2, 3, 4] tensor.
  std::vector<float> v(24);
  for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<float>(i);
  const quant::Tensor d({2, 3, 4}, v);
  for (int axis : {0, 1, 2, -1}) {
    const quant::Tensor back = move_last_axis_back(move_axis_last(d, axis, "a"), d.shape, axis);
    EXPECT_EQ(back.shape, d.shape) << axis;
    EXPECT_EQ(back.data, d.data) << axis;
  }
}

}  // namespace
}  // namespace qarch::sim

namespace qarch::sim {
namespace {

// qarch map prints the chosen loop nest, the traffic against its bounds, the simulated result,
// the runners-up and the trade-off front; bad arguments are usage errors that name the option.
TEST(CliMap, PrintsTheLoopNestTrafficAndTradeOff) {
  const testing::CliResult r =
      testing::run_cli({"map", "--arch", "int8", "--m", "512", "--n", "1024", "--k", "768"});
  ASSERT_EQ(r.code, 0) << r.err;
  for (const char* want : {"mapping  os ", "for ", "spatial 32 x 32", "x compulsory", "lower bound",
                           "cycles simulated", "runners-up", "latency vs DRAM traffic"})
    EXPECT_NE(r.out.find(want), std::string::npos) << want << "\n" << r.out;
  // Another objective may choose another mapping, but never one with less of what it minimises.
  const testing::CliResult lat = testing::run_cli({"map", "--arch", "int8", "--m", "512", "--n",
                                                   "1024", "--k", "768", "--objective", "latency"});
  ASSERT_EQ(lat.code, 0) << lat.err;
  EXPECT_NE(lat.out.find("objective latency"), std::string::npos);
}

TEST(CliMap, BadArgumentsAreErrors) {
  EXPECT_EQ(testing::run_cli({"map", "--m", "1", "--n", "1", "--k", "1"}).code, 2);  // no --arch
  const testing::CliResult z =
      testing::run_cli({"map", "--arch", "int8", "--m", "0", "--n", "8", "--k", "8"});
  EXPECT_EQ(z.code, 2);
  EXPECT_NE(z.err.find("--m"), std::string::npos) << z.err;
  const testing::CliResult o = testing::run_cli(
      {"map", "--arch", "int8", "--m", "8", "--n", "8", "--k", "8", "--objective", "speed"});
  EXPECT_EQ(o.code, 2);
  EXPECT_NE(o.err.find("unknown objective 'speed'"), std::string::npos) << o.err;
  const testing::CliResult h =
      testing::run_cli({"map", "--arch", "int8", "--m", "99999999999", "--n", "8", "--k", "8"});
  EXPECT_EQ(h.code, 2);
  EXPECT_NE(h.err.find("larger than 2^24"), std::string::npos) << h.err;
}

}  // namespace
}  // namespace qarch::sim
