// K-sorted block formats for the K cache (Trukhanov & Soloveychik, "Accurate Block
// Quantization in LLMs with Outliers", arXiv 2403.20137, 2024). The keys' outliers sit in a few
// channels (head_dim axis); a block format along head_dim then gives every block that holds an
// outlier channel a large shared exponent and flushes its other elements. Sorting the channels
// by magnitude puts the outlier channels in the same blocks and the quiet channels in others.
// The paper permutes the K projection's output channels (and W_q's rows alike, so q . k is
// unchanged) by their norm and stores the K cache in BFP12 with blocks of 32/64
// (../shared/specs/formats.md); transforms.h has that weight-side K-sort.
//
// This format applies it to one K tensor X [tokens, head_dim] (rows = tokens) on its own:
// - perm = the channels by descending L2 norm over the tensor's rows (ties: lower channel first;
//   transforms.h ksort_permutation, per head of head_dim channels when head_dim divides cols,
//   rope=interleaved|half moves RoPE pairs together as the weight-side K-sort must);
// - the permuted tensor X[:, perm] is encoded by the block format `base` (mxfp4, mxfp6_e2m3,
//   mxfp6_e3m2, mxfp8_e4m3, mxfp8_e5m2, mxint8 with block=, or bfp with block= and p=; default
//   blocks of 32 as in the paper, bfp p=4 = BFP12);
// - the permutation is stored once per tensor: indices = perm (cols x 32 bits), which
//   bits_per_element counts: 32 / rows bits per element on top of the base format's.
// Layout: the base format's elements and scales of X[:, perm], indices = perm.
//
// decode / DecodedTensor: the base format's decoded operand (in sorted order) is put back in
// channel order: element (r, perm[c]) takes sorted element (r, c), value mant * 2^E with E its
// shift plus its block's scale exponent. The un-permuted operand has scale groups of `block`
// consecutive channels (the block length the base format has, so the PE closes as many scale
// segments as on sorted data); a group's scale_exp is the smallest E of its non-zero elements,
// but no smaller than the group's largest E minus 39, and shift = E - scale_exp. An element whose
// E lies below that window (more than 2^39 below the group's largest step: never on real data)
// decodes to 0; decode() is defined as that operand's values, so both agree bit for bit and
// otherwise equal the base format's decode un-permuted.
// Traits: the base format's element, width and decoder kind (mx / bfp), group_cols = block. In a
// deployment the permutation is folded into W_q and W_k (the paper's point), so the attention
// GEMM runs on sorted keys and sorted queries on the unchanged MX / BFP PE and decoder; the
// un-permuted operand above is the same values seen in channel order.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "qarch/common/error.h"
#include "qarch/quant/transforms.h"
#include "registry.h"

namespace qarch::quant {
namespace {

constexpr int kWindow = 39;  // largest shift of an element within its group (as GOBO's fp32)

const char* rope_name(RopeLayout r) {
  return r == RopeLayout::kInterleaved ? "interleaved" : r == RopeLayout::kHalf ? "half" : "none";
}

class KsortFormat final : public Format {
 public:
  KsortFormat(std::string base, int64_t block, int p, int64_t head_dim, RopeLayout rope)
      : base_(std::move(base)), block_(block), p_(p), head_dim_(head_dim), rope_(rope) {
    inner_ = make_format(base_ == "bfp"
                             ? "bfp:block=" + std::to_string(block) + ":p=" + std::to_string(p)
                             : base_ + ":block=" + std::to_string(block));
  }

  std::string name() const override {
    FormatSpec s{"ksort",
                 {{"base", base_},
                  {"block", std::to_string(block_)},
                  {"head_dim", std::to_string(head_dim_)},
                  {"rope", rope_name(rope_)}}};
    if (base_ == "bfp") s.options["p"] = std::to_string(p_);
    return s.str();
  }

  FormatTraits traits() const override {
    FormatTraits t = inner_->traits();
    t.family = "ksort";
    t.group_cols = block_;
    t.encode_scope = EncodeScope::kTensor;  // the channel order comes from the whole tensor
    return t;
  }

  EncodedTensor encode(const float* x, int64_t rows, int64_t cols) const override {
    const int64_t n = rows * cols;
    require_finite(x, n, cols, name());
    const std::vector<int64_t> perm = permutation(x, rows, cols);
    std::vector<float> xp(static_cast<size_t>(n));
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t c = 0; c < cols; ++c)
        xp[static_cast<size_t>(r * cols + c)] = x[r * cols + perm[static_cast<size_t>(c)]];
    EncodedTensor e = inner_->encode(xp.data(), rows, cols);
    e.format = name();
    e.indices.assign(perm.begin(), perm.end());
    return e;
  }

  // decoded_value(d, r, c) of decode_operand(e): mant * 2^(shift + scale_exp) rounded once to
  // FP32. Fast path: the base format's decode (the same rounding of the same mant * 2^E, by the
  // Format invariant decode == decoded_value(decode_operand)) put back in channel order, which
  // is that value for every element the window keeps. The window drops an element only when
  // its E lies more than 39 below the largest E of its group; an element with a normal value v
  // has floor(log2|v|) - 23 <= E <= floor(log2|v|) (|mant| < 2^24), so a group whose non-zero
  // values all are normal and span at most 16 binades drops nothing. A zero value is the
  // operand's too (mant 0, or an underflow the window may drop: 0 either way), except -0,
  // which an underflowing negative mant gives and a dropped one would turn into +0. Any other
  // case (a -0, a subnormal, a wider span) takes the operand path for the whole tensor.
  void decode(const EncodedTensor& e, float* out) const override {
    check_permutation(e);
    const int64_t rows = e.rows, cols = e.cols;
    inner_->decode(inner_encoding(e), out);  // sorted order; un-permuted row by row below
    std::vector<float> sr(static_cast<size_t>(cols));
    bool fast = true;
    for (int64_t r = 0; r < rows && fast; ++r) {
      float* o = out + r * cols;
      std::copy(o, o + cols, sr.begin());
      for (int64_t c = 0; c < cols; ++c)
        o[e.indices[static_cast<size_t>(c)]] = sr[static_cast<size_t>(c)];
      for (int64_t c0 = 0; c0 < cols && fast; c0 += block_) {
        uint32_t lo = 0xff, hi = 0, neg_zero = 0;
        for (int64_t c = c0; c < std::min(cols, c0 + block_); ++c) {
          uint32_t u;
          std::memcpy(&u, o + c, 4);
          const uint32_t ex = (u >> 23) & 0xffu;
          neg_zero |= static_cast<uint32_t>(u == 0x80000000u);
          if ((u & 0x7fffffffu) == 0) continue;
          lo = std::min(lo, ex);
          hi = std::max(hi, ex);
        }
        fast = !neg_zero && lo >= 1 && (hi < lo || hi - lo <= 16);
      }
    }
    if (fast) return;
    const DecodedTensor d = decode_operand(e);
    const int64_t ngc = d.group_grid_cols();
    for (int64_t r = 0; r < rows; ++r) {
      for (int64_t c = 0; c < cols; ++c) {
        const size_t i = static_cast<size_t>(r * cols + c);
        const int32_t k = d.shift[i] + d.scale_exp[static_cast<size_t>(r * ngc + c / block_)];
        const uint64_t bits = static_cast<uint64_t>(k + 1023) << 52;
        double p;
        std::memcpy(&p, &bits, 8);
        out[i] = static_cast<float>(static_cast<double>(d.mant[i]) * p);
      }
    }
  }

  DecodedTensor decode_operand(const EncodedTensor& e) const override {
    check_permutation(e);
    const int64_t rows = e.rows, cols = e.cols;
    const DecodedTensor in = inner_->decode_operand(inner_encoding(e));
    if (in.sign_split || in.tensor_divisor != 1.0f || in.group_rows != 1) {
      throw Error("format '" + name() + "': base format's operand is not a plain block operand");
    }
    // Total exponent of every element, in channel order.
    std::vector<int32_t> mant(static_cast<size_t>(rows * cols), 0), ex(mant.size(), 0);
    for (int64_t r = 0; r < rows; ++r) {
      for (int64_t c = 0; c < cols; ++c) {
        const size_t i = static_cast<size_t>(r * cols + c);
        const int64_t g = in.group_index(r, c);
        if (in.scale_mul[static_cast<size_t>(g)] != 1.0f) {
          throw Error("format '" + name() + "': base block scale is not a power of two");
        }
        const size_t o = static_cast<size_t>(r * cols + e.indices[static_cast<size_t>(c)]);
        mant[o] = in.mant[i];
        ex[o] = in.shift[i] + in.scale_exp[static_cast<size_t>(g)];
      }
    }
    DecodedTensor d;
    d.resize(rows, cols, 1, block_);
    const int64_t ngc = d.group_grid_cols();
    for (int64_t r = 0; r < rows; ++r) {
      for (int64_t g = 0; g < ngc; ++g) {
        const int64_t c0 = g * block_, c1 = std::min(cols, c0 + block_);
        bool any = false;
        int32_t lo = 0, hi = 0;
        for (int64_t c = c0; c < c1; ++c) {
          const size_t i = static_cast<size_t>(r * cols + c);
          if (mant[i] == 0) continue;
          lo = any ? std::min(lo, ex[i]) : ex[i];
          hi = any ? std::max(hi, ex[i]) : ex[i];
          any = true;
        }
        lo = std::max(lo, hi - kWindow);
        d.scale_exp[static_cast<size_t>(r * ngc + g)] = lo;
        for (int64_t c = c0; c < c1; ++c) {
          const size_t i = static_cast<size_t>(r * cols + c);
          if (mant[i] == 0 || ex[i] < lo) continue;
          d.mant[i] = mant[i];
          d.shift[i] = static_cast<uint8_t>(ex[i] - lo);
        }
      }
    }
    return d;
  }

 private:
  // Throws unless e is of this format and its indices are a permutation of its channels.
  void check_permutation(const EncodedTensor& e) const {
    check_encoded(e);
    const int64_t cols = e.cols;
    std::vector<uint8_t> seen(static_cast<size_t>(cols), 0);
    bool ok = e.indices.size() == static_cast<size_t>(cols);
    for (size_t c = 0; ok && c < e.indices.size(); ++c) {
      ok = e.indices[c] < static_cast<uint64_t>(cols) && !seen[e.indices[c]];
      if (ok) seen[e.indices[c]] = 1;
    }
    if (!ok) {
      throw Error("encoded '" + name() + "': indices must be a permutation of the " +
                  std::to_string(cols) + " channels");
    }
  }

  // e's buffers as the base format's encoding (without the permutation).
  EncodedTensor inner_encoding(const EncodedTensor& e) const {
    EncodedTensor ie;
    ie.format = inner_->name();
    ie.rows = e.rows;
    ie.cols = e.cols;
    ie.elements = e.elements;
    ie.scales = e.scales;
    ie.fp32 = e.fp32;
    return ie;
  }

  std::vector<int64_t> permutation(const float* x, int64_t rows, int64_t cols) const {
    if (cols == 0) return {};
    const int64_t hd = head_dim_ == 0 ? cols : head_dim_;
    if (cols % hd != 0) {
      throw Error("format '" + name() + "': head_dim=" + std::to_string(hd) +
                  " does not divide the " + std::to_string(cols) + " channels");
    }
    std::vector<double> norms(static_cast<size_t>(cols), 0.0);
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t c = 0; c < cols; ++c) {
        const double v = x[r * cols + c];
        norms[static_cast<size_t>(c)] += v * v;
      }
    for (double& v : norms) v = std::sqrt(v);
    KSortOptions o;
    o.head_dim = hd;
    o.rope = rope_;
    o.descending = true;
    return ksort_permutation(norms, o);
  }

  std::string base_;
  int64_t block_;
  int p_;
  int64_t head_dim_;
  RopeLayout rope_;
  std::unique_ptr<Format> inner_;
};

const std::vector<std::string>& bases() {
  static const std::vector<std::string> b = {"mxfp4",      "mxfp6_e2m3", "mxfp6_e3m2", "mxfp8_e4m3",
                                             "mxfp8_e5m2", "mxint8",     "bfp"};
  return b;
}

std::unique_ptr<Format> make_ksort(const std::string& fixed_base, FormatOptions& o) {
  std::string base = fixed_base;
  if (base.empty()) {
    base = o.get_choice("base", "mxfp4", bases());
  } else if (o.spec().options.count("base")) {
    throw Error("format '" + o.spec().name + "' fixes base=" + fixed_base +
                "; write ksort:base=NAME for another block format");
  }
  const int64_t block = o.get_int("block", 32, 2, 1024);
  const int p = base == "bfp" ? static_cast<int>(o.get_int("p", 4, 3, 16)) : 0;
  const int64_t head_dim = o.get_int("head_dim", 0, 0, int64_t{1} << 20);
  const std::string rope = o.get_choice("rope", "none", {"none", "interleaved", "half"});
  o.finish();
  const RopeLayout rl = rope == "interleaved" ? RopeLayout::kInterleaved
                        : rope == "half"      ? RopeLayout::kHalf
                                              : RopeLayout::kNone;
  return std::make_unique<KsortFormat>(base, block, p, head_dim, rl);
}

}  // namespace

namespace detail {
void register_ksort_formats(Registry& r) {
  r.push_back({{"ksort",
                "base=mxfp4|mxfp6_e2m3|mxfp6_e3m2|mxfp8_e4m3|mxfp8_e5m2|mxint8|bfp block=32 "
                "p=4 (bfp) head_dim=0 (all) rope=none|interleaved|half",
                "K-sorted K cache: channels sorted by L2 norm (permutation stored per tensor), "
                "then MX or BFP blocks along the sorted channels (Trukhanov & Soloveychik, "
                "arXiv 2403.20137)"},
               [](FormatOptions& o) { return make_ksort("", o); }});
  r.push_back({{"ksort_mxfp4", "block=32 head_dim=0 rope=none",
                "K-sorted MXFP4 K cache (ksort:base=mxfp4)"},
               [](FormatOptions& o) { return make_ksort("mxfp4", o); }});
  r.push_back({{"ksort_bfp", "block=32 p=4 head_dim=0 rope=none",
                "K-sorted BFP K cache, BFP12 blocks of 32 by default (ksort:base=bfp)"},
               [](FormatOptions& o) { return make_ksort("bfp", o); }});
}
}  // namespace detail

}  // namespace qarch::quant
