// One fuzz iteration per reader, shared by the libFuzzer targets (fuzz_npy.cpp,
// fuzz_safetensors.cpp) and the always-built corpus replay test
// (tests/quant/tensor_io_fuzz_replay_test.cpp), so both exercise the same entry points.
//
// Contract under test: for ANY input bytes a reader either succeeds or throws qarch::Error.
// Only qarch::Error is caught here; anything else (std::bad_alloc, std::out_of_range, a
// nlohmann exception, a sanitizer report) escapes and is a finding. On success, stronger
// invariants are checked: the tensor is self-consistent, and writing it back and reading it
// again gives bit-identical data (and for safetensors, reading each tensor by name gives
// the same tensor as reading them all).
#pragma once

#include <cstdint>
#include <cstring>
#include <string>

#include "qarch/common/error.h"
#include "qarch/quant/tensor_io.h"

namespace qarch::fuzz {

/// Same shape and bit-identical data (NaN payloads included).
inline bool same_tensor(const quant::Tensor& a, const quant::Tensor& b) {
  return a.shape == b.shape && a.data.size() == b.data.size() &&
         (a.data.empty() ||
          std::memcmp(a.data.data(), b.data.data(), a.data.size() * sizeof(float)) == 0);
}

inline bool consistent(const quant::Tensor& t) {
  return quant::checked_numel(t.shape, "fuzz") == t.numel();
}

/// Runs the .npy reader (with and without int16-as-bf16) on one input. Returns "" or the
/// broken invariant.
inline std::string fuzz_npy_one(const uint8_t* data, size_t size) {
  for (const bool bf16 : {false, true}) {
    quant::NpyReadOptions options;
    options.int16_as_bf16 = bf16;
    options.max_elements = int64_t{1} << 24;
    quant::Tensor t;
    try {
      t = quant::read_npy_buffer(data, size, options);
    } catch (const Error&) {
      continue;
    }
    if (!consistent(t)) return "npy: tensor data does not match its shape";
    const std::vector<uint8_t> bytes = quant::encode_npy(t);
    const quant::Tensor back = quant::read_npy_buffer(bytes.data(), bytes.size());
    if (!same_tensor(t, back)) return "npy: write + read round trip changed the tensor";
  }
  return "";
}

/// Runs the .safetensors readers (index, all tensors, each tensor by name) on one input.
/// Returns "" or the broken invariant.
inline std::string fuzz_safetensors_one(const uint8_t* data, size_t size) {
  try {
    (void)quant::read_safetensors_index_buffer(data, size);
  } catch (const Error&) {
  }
  for (const bool skip : {false, true}) {
    quant::SafetensorsReadOptions options;
    options.skip_unsupported = skip;
    options.max_elements = int64_t{1} << 24;
    quant::SafetensorsContents c;
    try {
      c = quant::read_safetensors_buffer(data, size, options);
    } catch (const Error&) {
      continue;
    }
    for (const auto& nt : c.tensors) {
      if (!consistent(nt.tensor)) return "safetensors: tensor data does not match its shape";
      const quant::Tensor one = quant::read_safetensors_tensor_buffer(data, size, nt.name, options);
      if (!same_tensor(one, nt.tensor))
        return "safetensors: reading '" + nt.name + "' by name differs from reading all";
    }
    const std::vector<uint8_t> bytes = quant::encode_safetensors(c.tensors, c.metadata);
    const quant::SafetensorsContents back =
        quant::read_safetensors_buffer(bytes.data(), bytes.size());
    if (back.metadata != c.metadata) return "safetensors: round trip changed the metadata";
    if (back.tensors.size() != c.tensors.size()) return "safetensors: round trip lost tensors";
    for (size_t i = 0; i < c.tensors.size(); ++i) {
      if (back.tensors[i].name != c.tensors[i].name ||
          !same_tensor(back.tensors[i].tensor, c.tensors[i].tensor))
        return "safetensors: write + read round trip changed tensor '" + c.tensors[i].name + "'";
    }
  }
  return "";
}

}  // namespace qarch::fuzz
