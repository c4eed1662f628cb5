// OliVe outlier-victim pair (OVP) encoder: the online quantizer of the OVP formats. Two scaled
// values in, one pair of element codes out (the inverse of ovp_decoder.v), bit for bit
// quant/'s ovp_encode_pair (quant/include/qarch/quant/olive.h, quant/src/olive_formats.cpp;
// checked by tests/rtl/encoder_test.cpp).
//
// Input: v = x / s as an FP32 number, the quotient quant's encode() computes (one correctly
// rounded FP32 division per element, `fabs(x) / s` with x's sign) and ovp_encode_pair takes.
// The codes are a function of that FP32 quotient, so the hardware input is the quotient: the
// division by the per-tensor (or per-channel) scale happens upstream (an FP32 divider shared by
// the array edge, or nothing when s is a power of two). An FP32 multiply by a reciprocal scale
// is NOT used: fl(x * fl(1/s)) differs from fl(x / s) in the last bit for some x, and a last-bit
// difference flips the code of a value at a grid boundary (e.g. 2.5 - 1 ulp vs 2.5), so that
// unit would not equal quant.
//
// Rounding (quant's OvpGrid::round_mag, in units of s, N = 2^(BITS-1) - 1):
//   |v| < N + 1/2                -> normal floor(|v| + 1/2)   (ties away from zero)
//   N + 1/2 <= |v| < (N + o)/2   -> normal N                  (o = smallest outlier magnitude)
//   |v| >= (N + o)/2             -> outlier: |v| rounded to the abfloat grid
//                                   (2^MBITS + m) << (e + BIAS), ties up, saturating at the
//                                   largest magnitude; never the unused code e = 0, m = 0.
// Both bounds are checked on T2 = floor(2|v|) (an integer, exact from the FP32 bits; no
// sticky bit is needed because every tie rounds up): |v| < N + 1/2 <=> T2 <= 2N, and
// |v| < (N + o)/2 <=> T2 < N + o (N + o is odd). The abfloat grid is a float with MBITS
// mantissa bits whose binades are e + BIAS + MBITS (the spacing does not change across a binade
// boundary), so the outlier code is the FP32 exponent rebased, the top MBITS fraction bits and
// the next bit as the round-up (ties up), carrying into the exponent.
// NaN encodes as 0 (quant: "NaN inputs ... encode as 0"); +-Inf saturates like a huge value.
// ties_up = 1 is quant's ties=up (the authors' kernel): on a negative value every tie goes to
// the smaller magnitude (toward +inf), except the tie between N and the smallest outlier, which
// still goes to the outlier; that needs the bits below T2 and below the round bit (sticky).
//
// Pair rule: no outlier -> two normal two's-complement codes; one outlier -> its abfloat code
// (sign in the top bit) and the identifier 2^(BITS-1) in the partner slot (the victim); two
// outliers -> keep the even element if victim_even (the authors' code) or if |v_odd| > |v_even|
// is false (the paper's "larger"; equal magnitudes keep the even one), compared on the FP32
// magnitudes before rounding, as quant does. `cls`: 0 normal-normal, 1 outlier-normal,
// 2 outlier-outlier (quant's OvpPairClass).
//
// Instances: olive4 (4, 2, 1); olive8 with the paper's E4M3 outliers (8, 4, 3) and with the
// authors' E2M5 outliers (8, 2, 5). BIAS = BITS - 1 - MBITS, as ovp_decoder.
//
// Timing: combinational encoder, one output register: on an edge with in_valid the pair's codes
// are registered (out_valid <= in_valid). Latency 1 cycle, throughput one pair (two elements)
// per cycle.
//
// Mutation hook for the regression's self-test: with QARCH_MUTANT_ROUNDING defined the outlier
// mantissa is truncated instead of rounded (the round-up bit is ignored); tests/rtl must fail.
module ovp_encoder #(
    parameter BITS  = 4,
    parameter EBITS = 2,
    parameter MBITS = 1
) (
    input  wire                clk,
    input  wire                in_valid,
    input  wire                victim_even,  // 0: keep the larger outlier (paper); 1: the even
    input  wire                ties_up,      // 0: ties away from zero; 1: quant's ties=up
    input  wire [        31:0] v_even,       // FP32 x / s of element 2k
    input  wire [        31:0] v_odd,        // FP32 x / s of element 2k + 1
    output reg                 out_valid,
    output reg  [2*BITS-1:0]   out_pair,     // element 2k in the low BITS bits
    output reg  [         1:0] out_cls
);
  wire [2*BITS-1:0] pair;
  wire [1:0] cls;
  ovp_encode_pair #(
      .BITS (BITS),
      .EBITS(EBITS),
      .MBITS(MBITS)
  ) u_enc (
      .victim_even(victim_even),
      .ties_up(ties_up),
      .v_even(v_even),
      .v_odd(v_odd),
      .pair(pair),
      .cls(cls)
  );
  always @(posedge clk) begin
    out_valid <= in_valid;
    if (in_valid) begin
      out_pair <= pair;
      out_cls  <= cls;
    end
  end
endmodule

// The combinational pair encoder (see ovp_encoder).
module ovp_encode_pair #(
    parameter BITS  = 4,
    parameter EBITS = 2,
    parameter MBITS = 1
) (
    input  wire              victim_even,
    input  wire              ties_up,
    input  wire [      31:0] v_even,
    input  wire [      31:0] v_odd,
    output wire [2*BITS-1:0] pair,
    output wire [       1:0] cls
);
  wire o_even, o_odd;
  wire [BITS-1:0] n_even, n_odd, a_even, a_odd;
  ovp_round_elem #(
      .BITS (BITS),
      .EBITS(EBITS),
      .MBITS(MBITS)
  ) u_even (
      .v(v_even),
      .tie_down(ties_up & v_even[31]),
      .outlier(o_even),
      .normal_code(n_even),
      .outlier_code(a_even)
  );
  ovp_round_elem #(
      .BITS (BITS),
      .EBITS(EBITS),
      .MBITS(MBITS)
  ) u_odd (
      .v(v_odd),
      .tie_down(ties_up & v_odd[31]),
      .outlier(o_odd),
      .normal_code(n_odd),
      .outlier_code(a_odd)
  );
  localparam [BITS-1:0] ID = {1'b1, {(BITS - 1) {1'b0}}};
  // Both outliers: the odd element survives only if it is strictly larger (and not victim_even).
  // Non-negative FP32 numbers order like their bit patterns; NaN is never an outlier.
  wire odd_larger = v_odd[30:0] > v_even[30:0];
  wire keep_even = (o_even & o_odd) ? (victim_even | ~odd_larger) : o_even;
  wire any = o_even | o_odd;
  assign pair = !any ? {n_odd, n_even} : (keep_even ? {ID, a_even} : {a_odd, ID});
  assign cls = (o_even & o_odd) ? 2'd2 : (any ? 2'd1 : 2'd0);
endmodule

// One element: rounds |v| on the combined grid (ties to the larger magnitude, or to the smaller
// with tie_down, except at the normal / outlier boundary); returns both the normal code (two's
// complement, valid when !outlier) and the abfloat code (sign in the top bit, valid when
// outlier).
module ovp_round_elem #(
    parameter BITS  = 4,
    parameter EBITS = 2,
    parameter MBITS = 1
) (
    input  wire [    31:0] v,
    input  wire            tie_down,
    output wire            outlier,
    output wire [BITS-1:0] normal_code,
    output wire [BITS-1:0] outlier_code
);
  localparam integer N = (1 << (BITS - 1)) - 1;  // largest normal
  localparam integer BIAS = BITS - 1 - MBITS;
  localparam integer OMIN = ((1 << MBITS) + 1) << BIAS;  // smallest outlier magnitude used
  localparam integer OSUM = N + OMIN;  // 2 x the outlier threshold (odd)
  localparam integer TW = BITS + 2;  // width of T2 (saturating); 2^TW > OSUM
  localparam integer EMAXC = (1 << EBITS) - 1;  // largest abfloat exponent field
  localparam [31:0] SAT_EXP = 126 + TW;  // FP32 exponent field from which 2|v| >= 2^TW
  localparam [31:0] TWO_N = 2 * N;
  localparam [31:0] OSUM_C = OSUM;
  localparam [31:0] N_C = N;
  localparam [31:0] EOFF = 126 + BITS;  // FP32 exponent field of 2^(BITS-1), minus 1
  localparam [31:0] EMAX_C = EMAXC;

  wire sign = v[31];
  wire [7:0] fexp = v[30:23];
  wire [22:0] frac = v[22:0];
  wire is_nan = (&fexp) & (|frac);

  // T2 = floor(2|v|) = sig * 2^(fexp - 149), saturated to 2^TW - 1; 0 for |v| < 1/2 and NaN.
  wire [23:0] sig = {|fexp, frac};
  wire [4:0] rsh = 5'd21 - fexp[4:0];  // 149 - fexp mod 32, used for fexp in [126, 125 + TW]
  wire [23:0] t2_full = sig >> rsh;
  wire t2_frac = |(sig & ~(24'hffffff << rsh));  // 2|v| is not an integer
  wire t2_sat = fexp >= SAT_EXP[7:0];
  wire t2_zero = (fexp < 8'd126) | is_nan;
  wire [TW-1:0] t2 = t2_zero ? {TW{1'b0}} : (t2_sat ? {TW{1'b1}} : t2_full[TW-1:0]);
  wire unused_t2 = ^t2_full[23:TW];

  // Normal: floor(|v| + 1/2) = (T2 + 1) >> 1 below N + 1/2, else N; with tie_down an exact
  // half (T2 odd, 2|v| an integer) rounds down.
  wire in_normal = t2 <= TWO_N[TW-1:0];
  wire tie_n = tie_down & t2[0] & ~t2_frac;
  wire [TW:0] r_half = (({1'b0, t2} + 1'b1) >> 1) - {{TW{1'b0}}, tie_n};
  wire [BITS-1:0] mag_n = in_normal ? r_half[BITS-1:0] : N_C[BITS-1:0];
  wire unused_r = ^r_half[TW:BITS];
  assign outlier = t2 >= OSUM_C[TW-1:0];
  assign normal_code = sign ? (~mag_n + 1'b1) : mag_n;

  // Outlier: abfloat exponent e = floor_log2|v| - (BITS - 1) (>= 0 for an outlier), mantissa the
  // top MBITS fraction bits, rounded up by the next bit (ties up; with tie_down only if a lower
  // bit is set).
  wire [8:0] e0 = {1'b0, fexp} - EOFF[8:0];
`ifdef QARCH_MUTANT_ROUNDING
  wire rnd = 1'b0;
  wire unused_rnd = ^frac[22-MBITS:0];
`else
  wire rnd = frac[22-MBITS] & (~tie_down | (|frac[21-MBITS:0]));
`endif
  wire [MBITS:0] m1 = {1'b0, frac[22:23-MBITS]} + {{MBITS{1'b0}}, rnd};
  wire [8:0] e1 = e0 + {8'd0, m1[MBITS]};
  wire [MBITS-1:0] m = m1[MBITS-1:0];  // 0 after a carry into the exponent
  wire sat = e1 > EMAX_C[8:0];
  wire [BITS-2:0] code_r = sat ? {(BITS - 1) {1'b1}} : {e1[EBITS-1:0], m};
  // The code exp 0 / mant 0 (worth 2^(BITS-1)) is never used: |v| >= (N + o)/2 rounds to o.
  wire [BITS-2:0] code_m = (code_r == {(BITS - 1) {1'b0}}) ? {{(BITS - 2) {1'b0}}, 1'b1} : code_r;
  assign outlier_code = {sign, code_m};
endmodule
