// Internal: the format catalogue. Each format family's source file defines one
// register_*_formats() function that appends its factories; registry.cpp calls them all.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "qarch/common/error.h"
#include "qarch/quant/format.h"

namespace qarch::quant::detail {

/// Builds a format from its (already parsed) options; must call opts.finish().
using FormatMaker = std::function<std::unique_ptr<Format>(FormatOptions& opts)>;

struct FormatFactory {
  FormatInfo info;
  FormatMaker make;
};
using Registry = std::vector<FormatFactory>;

/// The bit width of a family that has width aliases (ant4 / ant8, adaptivfloat4..8): an alias
/// fixes it (alias_bits != 0) and then rejects a "bits" option; the family name reads
/// bits=def in [lo, hi].
inline int width_option(FormatOptions& o, int alias_bits, const std::string& family, int def,
                        int lo, int hi) {
  if (alias_bits == 0) return static_cast<int>(o.get_int("bits", def, lo, hi));
  if (o.spec().options.count("bits")) {
    throw Error("format '" + o.spec().name + "' fixes bits=" + std::to_string(alias_bits) +
                "; write " + family + ":bits=N for another width");
  }
  return alias_bits;
}

/// One row of pack_codes' layout: cols codes (masked to `bits`) into packed_row_bytes(cols,
/// bits) bytes at `row` (every byte written); unpack_row is its inverse. Formats encode and
/// decode row by row through them, so no tensor-sized code vector is allocated.
void pack_row(const uint32_t* codes, int64_t cols, int bits, uint8_t* row);
void unpack_row(const uint8_t* row, int64_t cols, int bits, uint32_t* codes);
/// Throws unpack_codes' error unless `packed` holds rows x cols codes of `bits` bits.
void check_packed_size(const std::vector<uint8_t>& packed, int64_t rows, int64_t cols, int bits);

/// The `count` largest |x[i]| of x[0..n) (ties: the lower index first), as ascending indices.
std::vector<uint32_t> largest_magnitudes(const float* x, int64_t n, int64_t count);
/// ceil(fraction * n) (1e-9 tolerance on the product), in [0, n].
int64_t share_count(double fraction, int64_t n);
/// keep_format.cpp: wraps `inner` with the generic keep= option read from `o` (the spec's
/// "keep" option only); keep=0 (or no option) returns inner itself.
std::unique_ptr<Format> with_keep(std::unique_ptr<Format> inner, FormatOptions& o);

void register_fp_formats(Registry& r);       // fp_formats.cpp: plain FP element casts
void register_olive_formats(Registry& r);    // olive_formats.cpp: OliVe OVP olive4/olive8
void register_gobo_formats(Registry& r);     // gobo_format.cpp: GOBO weight dictionary
void register_olaccel_formats(Registry& r);  // olaccel_format.cpp: OLAccel dense+sparse

// int_formats.cpp: INT2..INT8 (symmetric/asymmetric, tensor/row/col/group scales, MSE clip).
void register_int_formats(Registry& r);
// bfp_formats.cpp: block floating point BFP / MSFP and shared microexponents MX4/MX6/MX9.
void register_bfp_formats(Registry& r);
// mx_formats.cpp: OCP MX v1.0 MXFP8 (E4M3/E5M2), MXFP6 (E3M2/E2M3), MXFP4, MXINT8.
void register_mx_formats(Registry& r);
void register_nvfp4_formats(Registry& r);   // nvfp4_format.cpp: NVIDIA NVFP4
void register_amxfp4_formats(Registry& r);  // amxfp4_format.cpp: asymmetric MXFP4 (Lee et al.)
void register_ant_formats(Registry& r);     // ant_format.cpp: ANT int/flint/pot (Guo et al.)
// adaptivfloat_format.cpp: AdaptivFloat, per-tensor exponent bias (Tambe et al.).
void register_adaptivfloat_formats(Registry& r);
// dgq_format.cpp: dual-grained INT4 with 8-bit group scales (Zhang et al.).
void register_dgq_formats(Registry& r);
// squeezellm_format.cpp: SqueezeLLM per-row k-means LUT + sparse FP16 (Kim et al.).
void register_squeezellm_formats(Registry& r);
// KV-cache formats (issue 13): gear_format.cpp (GEAR, Kang et al.), rotatekv_format.cpp
// (RotateKV-style Hadamard-rotated keys), ksort_format.cpp (K-sorted MX/BFP keys, Trukhanov &
// Soloveychik).
void register_gear_formats(Registry& r);
void register_rotatekv_formats(Registry& r);
void register_ksort_formats(Registry& r);
// qllm_format.cpp: QLLM channel disassembly / assembly on a base format (Liu et al.).
void register_qllm_formats(Registry& r);

}  // namespace qarch::quant::detail
