// One output element of a GEMM streamed through an accumulating PE, checked against quant/:
// the stream is row i of X against row j of W (both decoded by quant's formats); the PE
// restarts at every scale segment of reference_dot (a block of MX/BFP, the whole K for
// per-tensor / per-channel scales). After every edge the accumulator equals quant's exact
// running sum; at each segment's end the PE's integer equals quant's segment sum and
// check_block() may compare the block exponent. The integers the PE produced then go through
// quant's FP32 conversion (accumulate_segment, finish_dot), which must reproduce
// reference_dot bit for bit.
#pragma once

#include <cstring>

#include "rtl_harness.h"

namespace qarch::rtltest {

/// How a test drives one block-MAC PE of a harness top.
struct BlockPort {
  int acc_bits = 32;
  /// Set the inputs for element k (codes, scale codes, valid, first/last of its block).
  std::function<void(int64_t k, bool first, bool last)> drive;
  std::function<void()> clock;
  std::function<int64_t()> read_acc;
  /// Inputs of element k for a report.
  std::function<std::string(int64_t k)> describe;
  /// Optional, after a segment's last edge: compare block exponent / NaN flag; "" if equal.
  std::function<std::string(const quant::DotSegment&)> check_block;
};

/// Runs the check; `sums` receives the PE's integer per segment.
template <class M>
MaybeMismatch block_dot(Sim<M>& sim, const quant::DecodedTensor& dx, int64_t i,
                        const quant::DecodedTensor& dw, int64_t j, const BlockPort& port,
                        std::vector<int64_t>& sums) {
  const std::vector<quant::DotSegment> segs = quant::reference_dot_segments(dx, i, dw, j);
  const int64_t K = dx.cols;
  std::vector<uint8_t> first(static_cast<size_t>(K), 0), last(static_cast<size_t>(K), 0);
  std::vector<int64_t> seg_of(static_cast<size_t>(K), 0);
  for (size_t s = 0; s < segs.size(); ++s) {
    first[segs[s].k0] = 1;
    last[segs[s].k1 - 1] = 1;
    for (int64_t k = segs[s].k0; k < segs[s].k1; ++k) seg_of[k] = static_cast<int64_t>(s);
  }
  sums.assign(segs.size(), 0);
  MacStream s;
  s.count = K;
  s.acc_bits = port.acc_bits;
  s.first = [&](int64_t k) { return first[k] != 0; };
  s.last = [&](int64_t k) { return last[k] != 0; };
  s.drive = port.drive;
  s.clock = port.clock;
  s.read_acc = port.read_acc;
  s.product = [&](int64_t k) { return quant::reference_int_dot(dx, i, dw, j, k, k + 1).sum[0][0]; };
  s.tile_sum = [&](int64_t n0, int64_t n1) {
    return quant::reference_int_dot(dx, i, dw, j, n0, n1).sum[0][0];
  };
  s.describe = port.describe;
  s.extra = [&](int64_t k) -> std::string {
    if (!last[k]) return "";
    const quant::DotSegment& seg = segs[seg_of[k]];
    sums[seg_of[k]] = port.read_acc();
    if (static_cast<int64_t>(seg.dot.sum[0][0]) != sums[seg_of[k]]) {
      return "segment [" + std::to_string(seg.k0) + ", " + std::to_string(seg.k1) + "): RTL sum " +
             std::to_string(sums[seg_of[k]]) + ", quant " + to_string(seg.dot.sum[0][0]);
    }
    return port.check_block ? port.check_block(seg) : "";
  };
  return check_mac_stream(sim, s);
}

/// reference_dot's FP32 result recomputed from the PE's per-segment integers through quant's
/// conversion. Equal bits to reference_dot(dx, i, dw, j) iff the integers are right.
inline float fp32_from_sums(const quant::DecodedTensor& dx, int64_t i,
                            const quant::DecodedTensor& dw, int64_t j,
                            const std::vector<int64_t>& sums) {
  std::vector<quant::DotSegment> segs = quant::reference_dot_segments(dx, i, dw, j);
  float acc = 0.0f;
  for (size_t s = 0; s < segs.size(); ++s) {
    segs[s].dot.sum[0][0] = sums[s];
    acc = quant::accumulate_segment(acc, dx, dw, segs[s]);
  }
  return quant::finish_dot(acc, dx, dw);
}

/// Bitwise float equality (NaN payloads and -0 included).
inline bool same_bits(float a, float b) {
  return std::memcmp(&a, &b, sizeof a) == 0;
}

}  // namespace qarch::rtltest
