// The common strict YAML reader (common/include/qarch/common/yaml.h). common/'s tests live
// beside quant's (number_text_test.cpp): quant is the lowest library with a test binary.
#include "qarch/common/yaml.h"

#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <vector>

#include "qarch/common/error.h"

namespace qarch::yaml {
namespace {

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

Map map_of(const std::string& text, KeyStyle style = KeyStyle::kQuoted) {
  return Map(parse(text, "f.yaml"), std::make_shared<const Source>("f.yaml", style));
}

TEST(Yaml, EditDistanceCountsATranspositionAsOneTypo) {
  EXPECT_EQ(edit_distance("rows", "rows"), 0u);
  EXPECT_EQ(edit_distance("rows", "rwos"), 1u);       // one swap
  EXPECT_EQ(edit_distance("kitten", "sitting"), 3u);  // 2 substitutions + 1 insertion
  EXPECT_EQ(edit_distance("", "abc"), 3u);
  EXPECT_EQ(edit_distance("abc", ""), 3u);
  EXPECT_EQ(edit_distance("ca", "abc"), 3u);  // optimal string alignment, not Damerau: 3, not 2
  const std::vector<std::string> known = {"rows", "cols", "dataflow", "pipelined_folds"};
  EXPECT_EQ(closest_match("rwos", known), "rows");
  EXPECT_EQ(closest_match("dataflw", known), "dataflow");
  EXPECT_EQ(closest_match("colour", known), "");  // 3 edits from cols: limit is 4 / 3 = 1
  EXPECT_EQ(closest_match("x", {}), "");
}

TEST(Yaml, QuotedReadsBackEveryAsciiByteAndUtf8) {
  // Every one-byte string of the 7-bit code space, and each byte between two letters.
  for (int b = 0; b < 0x80; ++b) {
    for (const std::string& s :
         {std::string(1, static_cast<char>(b)), "a" + std::string(1, static_cast<char>(b)) + "z"}) {
      const YAML::Node n = parse("v: " + quoted(s) + "\n", "q.yaml");
      ASSERT_EQ(n["v"].as<std::string>(), s) << "byte " << b;
    }
  }
  for (const std::string s :
       {"", "int8:bits=4", "a\"b\\c", "µs — 量化", "tab\there", "null", "1e3"}) {
    EXPECT_EQ(parse("v: " + quoted(s) + "\n", "q.yaml")["v"].as<std::string>(), s) << s;
  }
  EXPECT_EQ(quoted("a\"b\n"), "\"a\\\"b\\x0a\"");
}

TEST(Yaml, SyntaxErrorsAndUnreadableFilesNameTheFile) {
  EXPECT_EQ(
      error_of([] { parse("a: [1\n", "s.yaml"); }).rfind("s.yaml:2:1: YAML syntax error: ", 0), 0u);
  EXPECT_EQ(error_of([] { read_text_file("/nonexistent/x.yaml", "the widget file"); }),
            "/nonexistent/x.yaml: cannot open the widget file for reading");
}

TEST(Yaml, TypedGettersCheckTypeAndInclusiveRange) {
  Map m = map_of(
      "lo: 1\nhi: 64\nhex: 0x10\nflt: 1.5\nstr: abc\nyes: true\nlist: [1, 2]\nnan: .nan\n"
      "inf: .inf\nmap: {a: 1}\n");
  EXPECT_EQ(m.get_int("lo", 1, 64), 1);  // both ends are inside
  EXPECT_EQ(m.get_int("hi", 1, 64), 64);
  EXPECT_EQ(m.get_int("hex", 0, 100), 16);
  EXPECT_EQ(m.get_double("flt", 1.5, 1.5), 1.5);
  EXPECT_EQ(m.get_string("str"), "abc");
  EXPECT_TRUE(m.get_bool("yes"));
  EXPECT_EQ(m.get_int("absent", 7, 0, 10), 7);
  EXPECT_EQ(m.get_double("absent", 0.25, 0, 1), 0.25);
  EXPECT_EQ(m.get_string("absent", "d"), "d");
  EXPECT_EQ(m.get_int_list("list", {}, 0, 2), (std::vector<int64_t>{1, 2}));

  EXPECT_EQ(error_of([&] { m.get_int("hi", 1, 63); }),
            "f.yaml:2:5: key 'hi': value 64 is out of range [1, 63]");
  EXPECT_EQ(error_of([&] { m.get_int("lo", 2, 63); }),
            "f.yaml:1:5: key 'lo': value 1 is out of range [2, 63]");
  EXPECT_EQ(error_of([&] { m.get_int("lo", 2, kNoLimit); }),
            "f.yaml:1:5: key 'lo': must be >= 2, got 1");
  EXPECT_EQ(error_of([&] { m.get_int("flt", 0, 9); }),
            "f.yaml:4:6: key 'flt': expected an integer, got '1.5'");
  EXPECT_EQ(error_of([&] { m.get_int("yes", 0, 9); }),
            "f.yaml:6:6: key 'yes': expected an integer, got 'true'");
  EXPECT_EQ(error_of([&] { m.get_double("nan", 0, 1); }),
            "f.yaml:8:6: key 'nan': expected a finite number, got '.nan'");
  EXPECT_EQ(error_of([&] { m.get_double("inf", 0, 1); }),
            "f.yaml:9:6: key 'inf': expected a finite number, got '.inf'");
  EXPECT_EQ(error_of([&] { m.get_double("flt", 0, 1); }),
            "f.yaml:4:6: key 'flt': value 1.5 is out of range [0, 1]");
  EXPECT_EQ(error_of([&] { m.get_positive("lo", 1, 0.5); }),
            "f.yaml:1:5: key 'lo': value 1 is out of range (0, 0.5]");
  EXPECT_EQ(error_of([&] { m.get_bool("str"); }),
            "f.yaml:5:6: key 'str': expected true or false, got 'abc'");
  EXPECT_EQ(error_of([&] { m.get_string("list"); }),
            "f.yaml:7:7: key 'list': expected a string, got a list");
  EXPECT_EQ(error_of([&] { m.get_string("map"); }),
            "f.yaml:10:6: key 'map': expected a string, got a mapping");
  EXPECT_EQ(error_of([&] {
              m.get_choice("str", "x", {"x", "y"});
            }),
            "f.yaml:5:6: key 'str': unknown value 'abc' (allowed: x, y)");
  EXPECT_EQ(error_of([&] { m.get_int_list("list", {}, 0, 1); }),
            "f.yaml:7:11: key 'list[1]': value 2 is out of range [0, 1]");
  EXPECT_EQ(error_of([&] { m.get_int("missing", 0, 1); }),
            "f.yaml:1:1: missing required key 'missing'");
  EXPECT_EQ(error_of([&] {
              m.get_range("list", {0, 0}, 0, 1);
            }),
            "f.yaml:7:7: key 'list': [1, 2] must satisfy 0 <= min <= max <= 1");
}

TEST(Yaml, AKeyWithNoValueIsAnErrorNotTheDefault) {
  Map m = map_of("rows:\nsection:\n");
  EXPECT_FALSE(m.has("rows"));
  EXPECT_TRUE(m.present("rows"));
  // yaml-cpp marks an empty value where the next token starts.
  EXPECT_EQ(error_of([&] { m.get_int("rows", 4, 1, 8); }),
            "f.yaml:2:1: key 'rows': expected an integer, got nothing");
  EXPECT_EQ(error_of([&] { m.get_string("rows", "d"); }),
            "f.yaml:2:1: key 'rows': expected a string, got nothing");
  // An empty section reads as an empty mapping.
  Map s = m.get_map("section");
  EXPECT_EQ(s.get_int("x", 3, 0, 9), 3);
  s.finish();
}

TEST(Yaml, UnknownKeysSuggestTheClosestKnownKey) {
  Map m = map_of("num_layers: 2\nnum_layer: 3\n");
  m.declare({"hidden_size"});
  m.get_int("num_layers", 1, 9);
  EXPECT_EQ(error_of([&] { m.finish(); }),
            "f.yaml:2:1: unknown key 'num_layer' (did you mean 'num_layers'?); known keys here: "
            "hidden_size, num_layers");
  Map far = map_of("colour: red\n");
  far.declare({"rows", "cols"});
  EXPECT_EQ(error_of([&] { far.finish(); }),
            "f.yaml:1:1: unknown key 'colour'; known keys here: rows, cols");
  Map none = map_of("a: 1\n");
  EXPECT_EQ(error_of([&] { none.finish(); }), "f.yaml:1:1: unknown key 'a'");
  Map all = map_of("a: 1\nb: 2\n");
  all.accept_all();
  all.finish();  // no throw
  // Nested maps carry their key path.
  Map top = map_of("moe:\n  topk: 2\n");
  Map moe = top.get_map("moe");
  moe.get_int("top_k", 2, 1, 8);
  EXPECT_EQ(error_of([&] { moe.finish(); }),
            "f.yaml:2:3: unknown key 'moe.topk' (did you mean 'top_k'?); known keys here: top_k");
}

TEST(Yaml, RepeatedAndNonScalarKeysAreRejected) {
  EXPECT_EQ(error_of([] { map_of("a: 1\nb: 2\na: 3\n"); }),
            "f.yaml:3:1: key 'a': duplicate key (given twice in this mapping)");
  EXPECT_EQ(error_of([] {
              Map m = map_of("s: {x: 1, x: 2}\n");
              m.get_map("s");
            }),
            "f.yaml:1:11: key 's.x': duplicate key (given twice in this mapping)");
  EXPECT_EQ(error_of([] { map_of("? [a, b]\n: 1\n"); }),
            "f.yaml:1:3: the document: keys must be plain names, got a list");
  EXPECT_EQ(error_of([] { map_of("- a\n"); }),
            "f.yaml:1:1: the document: expected a mapping (key: value lines), got a list");
  EXPECT_EQ(error_of([] {
              Map m = map_of("s: 5\n");
              m.get_map("s");
            }),
            "f.yaml:1:4: key 's': expected a mapping (key: value lines), got '5'");
}

TEST(Yaml, BareStyleAndOverridesNameTheirPlace) {
  YAML::Node root = parse("array: {rows: 0}\n", "a.yaml");
  auto src = std::make_shared<Source>("a.yaml", KeyStyle::kBare);
  YAML::Node cols = YAML::Load("-1");
  root["array"]["cols"] = cols;
  src->add_override(root["array"]["cols"], "array.cols=-1");
  Map top(root, src);
  Map array = top.get_map("array");
  EXPECT_EQ(error_of([&] { array.get_int("rows", 1, 8); }),
            "a.yaml:1:15: array.rows: value 0 is out of range [1, 8]");
  EXPECT_EQ(error_of([&] { array.get_int("cols", 1, 8); }),
            "a.yaml: override 'array.cols=-1': array.cols: value -1 is out of range [1, 8]");
  EXPECT_EQ(error_of([&] { array.get_int("banks", 1, 8); }),
            "a.yaml:1:8: array.banks: missing required key");
  array.declare({"rows", "cols", "banks"});
  Map typo(parse("array: {rwos: 2}\n", "a.yaml"), src);
  Map a2 = typo.get_map("array");
  a2.declare({"rows", "cols"});
  EXPECT_EQ(error_of([&] { a2.finish(); }),
            "a.yaml:1:9: array.rwos: unknown key (did you mean 'rows'?); known keys here: rows, "
            "cols");
  EXPECT_EQ(error_of([] { map_of("- a\n", KeyStyle::kBare); }),
            "f.yaml:1:1: (document): expected a mapping (key: value lines), got a list");
}

TEST(Yaml, LongValuesAreCutInMessages) {
  const std::string longer(60, 'x');
  Map m = map_of("v: " + longer + "\n");
  EXPECT_EQ(error_of([&] { m.get_int("v", 0, 1); }),
            "f.yaml:1:4: key 'v': expected an integer, got '" + std::string(37, 'x') + "...'");
}

}  // namespace
}  // namespace qarch::yaml
