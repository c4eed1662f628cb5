// Outlier-suppressing transforms for one linear layer Y = X W^T, X [M, K] (tokens x input
// channels), W [N, K] (output channels x input channels). Each transform changes what the
// quantizers see while leaving the FP32 product unchanged up to rounding:
//
//  - SmoothQuant smoothing (Xiao et al., ICML 2023, eq. 4): X' = X diag(s)^-1, W' = W diag(s),
//    s_j = max|X_j|^alpha / max|W_j|^(1-alpha): moves the activation outlier channels' range
//    into the weights.
//  - Hadamard rotation (QuaRot, Ashkboos et al. 2024; QuIP#, Tseng et al. 2024): X' = X D H,
//    W' = W D H with H an orthonormal Walsh-Hadamard matrix and D a seeded random +-1
//    diagonal; H D H^T D = I, so X' W'^T = X W^T. Spreads an outlier channel over all channels
//    of its block.
//  - Smoothing then rotation, composed as one fitted reduction-axis transform (AxisTransform).
//  - K-sort (Trukhanov & Soloveychik, arXiv 2403.20137): permutes the K projection's output
//    channels by norm, and W_q's rows alike, so q . k is unchanged and outlier channels of the
//    K cache share blocks.
//  - TransformPipeline: the text form for the CLI, "smooth:alpha=0.5,hadamard:seed=1".
//  - QLLM channel disassembly / assembly (Liu et al., ICLR 2024): splits outlier channels into
//    sub-channels (K grows) and optionally merges similar channels back (K restored); unlike
//    the maps above it changes K, so it is a ChannelPlan of its own (section 6), not a step of
//    AxisTransform or of a TransformPipeline.
//
// Every function takes tensors as 2-D views [rows(), cols()] (cols = K, the reduction axis),
// returns tensors of the input's shape, is deterministic (random signs come from a seeded
// SplitMix64 stream, identical on every platform) and throws qarch::Error for mismatched K,
// empty tensors and NaN/Inf inputs, naming the operand and the element.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "qarch/quant/tensor.h"

namespace qarch::quant {

class Format;

// ---------------------------------------------------------------------------------------------
// Validation

/// Throws qarch::Error unless t is non-empty and finite ("smooth: X element 5 (row 0, col 5) is
/// NaN"). `what` names the caller, `operand` the tensor.
void check_operand(const Tensor& t, const std::string& what, const std::string& operand);

/// check_operand on both and, in addition, X.cols() == W.cols() (the shared K).
void check_linear_pair(const Tensor& x, const Tensor& w, const std::string& what);

// ---------------------------------------------------------------------------------------------
// 1. SmoothQuant smoothing

/// Options of SmoothQuant smoothing.
struct SmoothOptions {
  /// Migration strength in [0, 1]: 0 leaves X alone (s = 1 / max|W_j|), 1 moves all of X's
  /// range into W (s = max|X_j|). The paper uses 0.5 for most models (section 4).
  double alpha = 0.5;
  /// Lower bound applied to every channel maximum max|X_j| and max|W_j| before the formula, so
  /// an all-zero channel (of X or of W) gives a finite, positive s_j instead of 0/0, x/0 or
  /// 0^negative. Must be > 0. A zero channel's s only rescales zeros or multiplies against
  /// zeros, so its value does not change Y. Default 1e-5, the clamp of the SmoothQuant
  /// authors' release.
  double floor = 1e-5;
  /// Round every s_j to the nearest power of two (nearest in log2: 2^e with e = round(log2
  /// s_j); log2 ties cannot occur). The division by s then is an exponent subtraction (a shift
  /// in fixed point) and X', W' are exact rescalings of X, W (barring FP32 under/overflow), so
  /// Y is unchanged bit for bit under exact accumulation. Costs a little smoothing precision.
  bool pow2 = false;
};

/// max |t[r, j]| over rows r, per column j (length t.cols()). Throws qarch::Error on NaN/Inf
/// or an empty tensor (`operand` names it).
std::vector<float> column_absmax(const Tensor& t, const std::string& operand = "tensor");

/// SmoothQuant's s from per-channel maxima (e.g. max|X_j| from calibration data): s_j =
/// max(ax_j, floor)^alpha / max(aw_j, floor)^(1 - alpha), computed in double and rounded to
/// FP32, then to a power of two if opts.pow2. Throws qarch::Error on bad options, length
/// mismatch, negative/NaN maxima or an s_j that does not fit FP32.
std::vector<float> smoothing_scales(const std::vector<float>& x_absmax,
                                    const std::vector<float>& w_absmax,
                                    const SmoothOptions& opts = {});

/// x <- x diag(s)^-1 (each x[r, j] / s_j, one FP32 division) and w <- w diag(s) (one FP32
/// multiplication), in place. Throws qarch::Error on length mismatch, s_j not finite and > 0,
/// or a result that overflows FP32.
void apply_smoothing(Tensor& x, Tensor& w, const std::vector<float>& s);

/// Result of smooth(): the smoothed pair and the per-channel factors.
struct SmoothResult {
  Tensor x;              ///< X diag(s)^-1
  Tensor w;              ///< W diag(s)
  std::vector<float> s;  ///< s_j, length K
};

/// SmoothQuant eq. 4 with the maxima taken from x and w themselves.
SmoothResult smooth(const Tensor& x, const Tensor& w, const SmoothOptions& opts = {});

// ---------------------------------------------------------------------------------------------
// 2. Walsh-Hadamard rotation

/// Size of the Hadamard blocks for reduction length k: the largest power of two dividing k,
/// capped at max_block (0 = no cap; else a power of two). K = 4096 -> 4096; K = 11008 = 256 *
/// 43 -> 256; odd K -> 1 (the rotation degenerates to the sign flips). A power-of-two K gets
/// one full-length rotation; any other K a block-diagonal one, which spreads an outlier only
/// over its own block (QuaRot instead uses a Kronecker product with a stored Hadamard matrix
/// of the odd size; not implemented). Throws qarch::Error for k < 1 or a bad max_block.
int64_t hadamard_block_size(int64_t k, int64_t max_block = 0);

/// In-place orthonormal fast Walsh-Hadamard transform of v[0, n): v <- H_n v with H_n the
/// Sylvester-ordered Hadamard matrix (H_1 = [1], H_2n = [[H_n, H_n], [H_n, -H_n]]) scaled by
/// 1/sqrt(n), so H_n is symmetric and orthogonal (H_n H_n = I). O(n log n), butterflies in
/// radix-2 stage order (so the result is bit-identical to the textbook stage-by-stage loop
/// followed by one multiplication by the FP32 value of 1/sqrt(n)). n must be a power of two.
void fwht(float* v, int64_t n);

/// Options of the Hadamard rotation.
struct HadamardOptions {
  /// Multiply by a random +-1 diagonal D before H (QuaRot's randomized Hadamard): H alone maps
  /// some inputs (e.g. constant vectors) to spikes; D H is a random orthogonal matrix.
  bool random_signs = true;
  /// Seed of D: sign_j is the top bit of the j-th output of SplitMix64 seeded with `seed`.
  uint64_t seed = 0;
  /// Largest Hadamard block (a power of two; 0 = as large as K allows), see
  /// hadamard_block_size(). Smaller blocks mix less but cost less in hardware.
  int64_t max_block = 0;
};

/// A fixed rotation Q = D Hbd of the reduction axis of length k (Hbd block-diagonal with
/// orthonormal Hadamard blocks). Q is orthogonal, so rotating both X and W by Q keeps X W^T.
class HadamardRotation {
 public:
  /// The identity on an empty axis (k = 0); only useful as a placeholder.
  HadamardRotation() = default;
  /// Throws qarch::Error for k < 1 or a bad opts.max_block.
  HadamardRotation(int64_t k, const HadamardOptions& opts = {});

  int64_t k() const { return k_; }
  int64_t block() const { return block_; }
  const HadamardOptions& options() const { return opts_; }
  /// Diagonal of D (+-1 per channel), empty without random signs.
  const std::vector<float>& signs() const { return signs_; }

  /// Every row r of data[rows * k] <- r Q = r D Hbd (Hbd is symmetric, so this is the FWHT of
  /// the sign-flipped row, block by block).
  void rotate_rows(float* data, int64_t rows) const;
  /// Every row r <- r Q^T = r Hbd D (the inverse of rotate_rows).
  void unrotate_rows(float* data, int64_t rows) const;
  /// Tensor versions: throw qarch::Error unless t.cols() == k() and t is non-empty and finite
  /// (the raw-pointer versions above check nothing: the fast path).
  void rotate(Tensor& t) const;
  void unrotate(Tensor& t) const;
  /// Q as a dense [k, k] matrix (row i = e_i Q), for tests and small k.
  Tensor matrix() const;

 private:
  void check(const Tensor& t) const;
  int64_t k_ = 0;
  int64_t block_ = 1;
  HadamardOptions opts_;
  std::vector<float> signs_;
};

/// Result of hadamard_rotate().
struct RotateResult {
  Tensor x;  ///< X Q
  Tensor w;  ///< W Q
  HadamardRotation rotation;
};

/// X' = X Q, W' = W Q with Q = HadamardRotation(K, opts).
RotateResult hadamard_rotate(const Tensor& x, const Tensor& w, const HadamardOptions& opts = {});

// ---------------------------------------------------------------------------------------------
// 3. Composition: a fitted transform of the reduction axis

/// A sequence of invertible reduction-axis maps T = T_1 T_2 ... fitted to one layer: X -> X T
/// and W -> W T^-T, so (X T)(W T^-T)^T = X W^T. Smoothing steps have T_i = diag(s)^-1 (W gets
/// diag(s)); rotation steps T_i = Q (orthogonal, W gets Q too). Keep it to transform further
/// activations of the same layer (calibrate once, apply at inference) or to undo.
class AxisTransform {
 public:
  /// One step: smoothing factors s, or a rotation.
  struct Step {
    enum class Kind { kSmooth, kRotate };
    Kind kind = Kind::kSmooth;
    std::vector<float> s;       ///< kSmooth: the factors s_j
    HadamardRotation rotation;  ///< kRotate
  };

  /// Appends a step; throws qarch::Error if its length differs from the previous steps'.
  void add_smoothing(std::vector<float> s);
  void add_rotation(HadamardRotation rotation);

  const std::vector<Step>& steps() const { return steps_; }
  /// Length of the reduction axis (0 while empty).
  int64_t k() const { return k_; }

  /// x <- x T, step by step. Throws qarch::Error unless x.cols() == k() (any k if empty).
  void apply_x(Tensor& x) const;
  /// w <- w T^-T.
  void apply_w(Tensor& w) const;
  /// The inverses: x <- x T^-1, w <- w T^T (round-trip exact up to FP32 rounding; exact for
  /// power-of-two smoothing without rotation).
  void undo_x(Tensor& x) const;
  void undo_w(Tensor& w) const;

 private:
  void check(const Tensor& t, const char* what) const;
  std::vector<Step> steps_;
  int64_t k_ = 0;
};

/// A transformed pair with the transform that produced it.
struct TransformedPair {
  Tensor x;
  Tensor w;
  AxisTransform transform;
};

/// Smoothing (fitted to x and w) followed by the Hadamard rotation: X' = X diag(s)^-1 Q,
/// W' = W diag(s) Q. Smoothing first moves the outlier range into W, the rotation then spreads
/// what is left across channels in both operands.
TransformedPair smooth_rotate(const Tensor& x, const Tensor& w, const SmoothOptions& smooth = {},
                              const HadamardOptions& rotate = {});

// ---------------------------------------------------------------------------------------------
// 4. K-sort

/// How RoPE pairs the channels of a head: permuting channels must keep each rotary pair
/// together (and the caller must permute the RoPE frequency table by the returned pair order).
enum class RopeLayout {
  kNone,         ///< no RoPE: channels move individually
  kInterleaved,  ///< pairs (2i, 2i+1) (Meta's LLaMA reference code)
  kHalf,         ///< pairs (i, i + head_dim/2) (Hugging Face "rotate_half")
};

/// Options of K-sort.
struct KSortOptions {
  int64_t head_dim = 128;  ///< channels per head; heads are sliced, so sort within each head
  RopeLayout rope = RopeLayout::kNone;
  bool descending = true;  ///< largest norm first (ties: lower index first)
};

/// The K-sort permutation from per-channel norms (length n_kv_heads * head_dim): new channel c
/// is old channel perm[c], every head's range [h*d, (h+1)*d) is sorted on its own. With RoPE,
/// pairs move together, ordered by the pair's norm sqrt(n_a^2 + n_b^2) (RoPE rotates within a
/// pair, so that norm survives it). Throws qarch::Error on bad head_dim / lengths / NaN.
std::vector<int64_t> ksort_permutation(const std::vector<double>& channel_norms,
                                       const KSortOptions& opts = {});

/// L2 norm of every row of t (in double).
std::vector<double> row_norms(const Tensor& t);
/// L2 norm of every column of t (in double).
std::vector<double> column_norms(const Tensor& t);

/// out row i = t row perm[i]. Throws qarch::Error unless perm is a permutation of t.rows().
Tensor permute_rows(const Tensor& t, const std::vector<int64_t>& perm);

/// Result of ksort().
struct KSortResult {
  Tensor wq;                    ///< W_q with each query head's rows permuted like its KV head's
  Tensor wk;                    ///< W_k rows permuted: row c = old row perm[c]
  std::vector<int64_t> perm;    ///< over W_k's rows (the K cache's channels)
  std::vector<int64_t> perm_q;  ///< over W_q's rows
};

/// K-sort of one attention layer: W_q [n_q_heads * d, hidden], W_k [n_kv_heads * d, hidden]
/// (n_q_heads a multiple of n_kv_heads: grouped-query attention, query head i reads KV head
/// i / (n_q_heads / n_kv_heads)). Norms are W_k's row norms (data-free, as in the paper), or,
/// with calib_x [tokens, hidden], the column norms of the calibration keys K = X W_k^T.
/// (X W_q'^T)(X W_k'^T)^T per head equals the unpermuted scores (same products, other order).
/// Apply perm to b_k / perm_q to b_q if the projections have biases.
KSortResult ksort(const Tensor& wq, const Tensor& wk, const KSortOptions& opts = {},
                  const Tensor* calib_x = nullptr);

// ---------------------------------------------------------------------------------------------
// 5. Text pipelines

/// One entry of the transform catalogue.
struct TransformInfo {
  std::string name;         ///< step name ("smooth")
  std::string options;      ///< option summary
  std::string description;  ///< one line, with its source
};
/// Every step a pipeline knows.
std::vector<TransformInfo> list_transforms();

/// A sequence of reduction-axis transforms parsed from text: steps separated by ',', each
/// "name:key=value:..." like a format spec, e.g. "smooth:alpha=0.5,hadamard:seed=1"; "none"
/// (alone) is the empty pipeline. Unknown names or options -> qarch::Error listing the known
/// ones. Immutable once parsed.
class TransformPipeline {
 public:
  /// The empty pipeline (run() returns the inputs unchanged).
  TransformPipeline() = default;
  static TransformPipeline parse(const std::string& text);
  /// Canonical text with every option's value; parse(str()) gives the same pipeline.
  std::string str() const;
  bool empty() const { return steps_.empty(); }

  /// Fits the data-dependent steps to (x, w) in order and transforms both. Validates like
  /// check_linear_pair.
  TransformedPair run(const Tensor& x, const Tensor& w) const;

 private:
  struct StepSpec {
    AxisTransform::Step::Kind kind;
    SmoothOptions smooth;
    HadamardOptions hadamard;
  };
  std::vector<StepSpec> steps_;
};

// ---------------------------------------------------------------------------------------------
// 6. QLLM channel disassembly and assembly (Liu et al., "QLLM: Accurate and Efficient
//    Low-Bitwidth Quantization for Large Language Models", ICLR 2024, section 4.1)
//
// Facts from the paper: for X [tokens, K] and a linear layer with weight rows W_j (here W is
// [N, K], so W_j is column j of W), channel j whose max |x_j| = m_j exceeds a threshold theta is
// disassembled into T_j = ceil(m_j / theta) sub-channels, each carrying x_j / T_j, and W_j is
// replicated T_j times: X' W'^T = X W^T in real arithmetic, K grows by sum (T_j - 1). Channel
// assembly then merges pairs of similar channels (activation x_a + x_b, weight (W_a + W_b) / 2)
// to bring K back; x_a W_a + x_b W_b - (x_a + x_b)(W_a + W_b)/2 = (x_a - x_b)(W_a - W_b)/2, so
// merging a pair costs exactly that rank-one error. The authors' release picks theta from a
// channel budget: the smallest threshold whose extra channels stay within ratio * K
// (`channel_ratio`). The paper's low-rank tuning (trained) is out of scope.
//
// qarch's rules where the paper leaves room (they are options or stated here):
//  - ratio (default 0.05): the budget E = floor(ratio * K) extra channels is always used in
//    full: greedily, the channel with the largest current sub-channel max m_j / T_j gets one
//    more sub-channel (ties: the lower channel index), E times. The result is the smallest
//    theta = max_j m_j / T_j reachable with E extra channels, and K' = K + E exactly, a
//    function of K alone (models time that shape without seeing data). theta > 0 instead fixes
//    the threshold (T_j = ceil(m_j / theta), K' depends on the data).
//  - pow2: round every T_j > 1 up to a power of two (x_j / T_j is then exact in FP32 barring
//    underflow, and the sub-channels sum back to x_j exactly); with ratio the budget is then
//    spent in power-of-two steps and K' = K + E only when they fit (K' <= K + E).
//  - assembly (documented greedy pairing, not the paper's bipartite matching): candidates are
//    the channels that were not split; they are sorted by their L2 norm over the rows
//    (ascending, ties: lower index); each adjacent pair in that order is priced with the exact
//    merge error ||x_a - x_b|| * ||W_a - W_b|| / 2 (Frobenius norm of the rank-one error over
//    the given rows; without W: ||x_a - x_b||); pairs are taken cheapest first (ties: earlier
//    position) while both members are free, until as many merges as extra channels; if the
//    adjacent pairs run out, the remaining free candidates are paired in sorted order. K' = K.
//
// Output channel order: the input channels in order, a split channel replaced by its T_j
// sub-channels, a merged pair by one channel at the position of its lower index.

/// Options of QLLM disassembly / assembly.
struct QllmOptions {
  double ratio = 0.05;    ///< extra-channel budget as a share of K, in [0, 0.25]
  double theta = 0.0;     ///< > 0: a fixed threshold instead of the budget rule
  bool pow2 = false;      ///< T_j rounded up to powers of two
  bool assemble = false;  ///< merge as many channel pairs as were added (K restored)
};

/// Where each channel of the transformed axis comes from.
struct ChannelPlan {
  int64_t k_in = 0;
  /// Per output channel: source channel a, and b = -1 (a sub-channel: x_a / parts[a], weight
  /// W_a) or the second channel of a merged pair (x_a + x_b, weight (W_a + W_b) / 2), a < b.
  std::vector<int64_t> a, b;
  std::vector<int64_t> parts;  ///< per input channel: T_j (1 unsplit or merged)
  double theta = 0;            ///< largest sub-channel max, max_j m_j / T_j
  int64_t extra = 0;           ///< sum (T_j - 1)
  int64_t merged = 0;          ///< merged pairs
  int64_t k_out() const { return static_cast<int64_t>(a.size()); }
};

/// floor(ratio * k) (1e-9 tolerance on the product). Throws for ratio outside [0, 0.25].
int64_t qllm_budget(int64_t k, double ratio);
/// K' for the budget rule: k + qllm_budget(k, ratio), or k with assembly (theta = 0, no pow2).
int64_t qllm_reduction_length(int64_t k, const QllmOptions& opts);

/// The disassembly part from per-channel maxima m_j (>= 0, finite); no assembly.
ChannelPlan qllm_disassembly_plan(const std::vector<float>& absmax, const QllmOptions& opts);
/// The whole plan for X (its column maxima) and, for the assembly cost, the weight W [N, K]
/// (may be null: activation-only cost). Throws qarch::Error for bad options, empty / non-finite
/// tensors or mismatched K.
ChannelPlan qllm_plan(const Tensor& x, const QllmOptions& opts, const Tensor* w = nullptr);

/// X' [rows, K']: sub-channels x_a / parts[a] (one FP32 division), merged x_a + x_b.
Tensor qllm_apply_x(const Tensor& x, const ChannelPlan& plan);
/// W' [N, K']: sub-channels W_a (copies), merged (W_a + W_b) * 0.5f.
Tensor qllm_apply_w(const Tensor& w, const ChannelPlan& plan);
/// The original-space view of an X' [rows, K']: x_j = the sum of its sub-channels (in order,
/// FP32), a merged pair's value s gives x_a = x_b = s * 0.5f, so fold(X') W^T = X' W'^T in real
/// arithmetic. fold(apply_x(X)) == X exactly when every T_j is a power of two and nothing merged.
Tensor qllm_fold_x(const Tensor& xp, const ChannelPlan& plan);

/// Result of qllm().
struct QllmResult {
  Tensor x;  ///< X'
  Tensor w;  ///< W'
  ChannelPlan plan;
};
/// Plans on (x, w) and transforms both.
QllmResult qllm(const Tensor& x, const Tensor& w, const QllmOptions& opts = {});

/// If f is a `qllm` format: its options and the base format's canonical spec (what encodes X'
/// and what the PE multiplies), true; otherwise false.
bool qllm_format_parts(const Format& f, QllmOptions* opts, std::string* base);

}  // namespace qarch::quant
