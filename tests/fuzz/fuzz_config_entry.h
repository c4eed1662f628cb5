// One fuzz iteration per configuration reader, shared by the libFuzzer targets
// (fuzz_arch_yaml.cpp, fuzz_scalesim.cpp) and the always-built corpus replay test
// (tests/sim/config_fuzz_replay_test.cpp), so both exercise the same entry points.
//
// Contract under test: for ANY input text a reader either succeeds or throws qarch::Error.
// Only qarch::Error is caught here; anything else (YAML::Exception, std::out_of_range, a
// sanitizer report) escapes and is a finding. On success the canonical writers must round-trip:
// reading what arch_yaml / gemm_list_yaml wrote gives the same text again.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "qarch/common/error.h"
#include "qarch/explore/arch_config.h"
#include "qarch/sim/scalesim.h"
#include "qarch/workloads/gemm_list.h"

namespace qarch::fuzz {

/// "" if arch_yaml(a) reads back to the same canonical text.
inline std::string arch_round_trip(const explore::ArchSpec& a) {
  const std::string text = explore::arch_yaml(a);
  explore::ArchSpec b;
  try {
    b = explore::parse_arch(text, "canonical.yaml");
  } catch (const Error& e) {
    return std::string("arch_yaml output does not read back: ") + e.what() + "\n" + text;
  }
  if (explore::arch_yaml(b) != text)
    return "arch_yaml -> parse_arch -> arch_yaml changed:\n" + text;
  return "";
}

inline std::string gemm_round_trip(const workloads::GemmList& l) {
  const std::string text = workloads::gemm_list_yaml(l);
  workloads::GemmList b;
  try {
    b = workloads::parse_gemm_list(text, "canonical.yaml");
  } catch (const Error& e) {
    return std::string("gemm_list_yaml output does not read back: ") + e.what() + "\n" + text;
  }
  if (workloads::gemm_list_yaml(b) != text) return "gemm list round trip changed:\n" + text;
  return "";
}

/// Architecture YAML (plain, and with overrides: a fixed one and the input's first line as
/// "key=value") and GEMM list YAML on one input. Returns "" or the broken invariant.
inline std::string fuzz_arch_yaml_one(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  std::vector<std::vector<explore::Override>> sets = {{}, {{"dram.bandwidth_gb_per_s", "32"}}};
  const size_t nl = text.find('\n');
  const std::string first = text.substr(0, nl == std::string::npos ? text.size() : nl);
  const size_t eq = first.find('=');
  if (eq != std::string::npos) sets.push_back({{first.substr(0, eq), first.substr(eq + 1)}});
  for (const auto& ov : sets) {
    explore::ArchSpec a;
    try {
      a = explore::parse_arch(text, "fuzz.yaml", ov);
    } catch (const Error&) {
      continue;
    }
    const std::string p = arch_round_trip(a);
    if (!p.empty()) return p;
  }
  try {
    const workloads::GemmList l = workloads::parse_gemm_list(text, "fuzz.yaml");
    return gemm_round_trip(l);
  } catch (const Error&) {
  }
  return "";
}

/// SCALE-Sim config and topology readers (all three topology kinds) on one input, and the
/// conversions of whatever they accept. Returns "" or the broken invariant.
inline std::string fuzz_scalesim_one(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    const sim::ScaleSimConfig c = sim::parse_scalesim_config(text, "fuzz.cfg");
    const std::string p = arch_round_trip(sim::scalesim_arch(c, "int8", ""));
    if (!p.empty()) return p;
  } catch (const Error&) {
  }
  for (const auto kind :
       {sim::TopologyKind::kAuto, sim::TopologyKind::kConv, sim::TopologyKind::kGemm}) {
    try {
      const sim::ScaleSimTopology t = sim::parse_scalesim_topology(text, "fuzz.csv", kind);
      for (const auto& l : t.layers) {
        if (l.m < 1 || l.n < 1 || l.k < 1 || l.batch < 1) return "topology: a non-positive GEMM";
      }
      const std::string p = gemm_round_trip(sim::scalesim_gemms(t, "fuzz"));
      if (!p.empty()) return p;
    } catch (const Error&) {
    }
  }
  return "";
}

}  // namespace qarch::fuzz
