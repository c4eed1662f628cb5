// OliVe outlier-victim pair (OVP) decoder: one pair of element codes in, two exponent-integer
// pairs <shift, mant> out (value mant << shift in units of the scale s).
//
// The bit layout is quant/'s (quant/include/qarch/quant/olive.h, checked exhaustively against
// qarch::quant::ovp_decode_pair / olive4_decode_byte by tests/rtl):
// - element 2k in the low BITS bits of `pair`, element 2k+1 in the high bits;
// - the identifier 2^(BITS-1) (1000b, 10000000b) marks the victim slot (decoded <0, 0>), and the
//   other slot then holds an "abfloat" outlier: sign, EBITS exponent, MBITS mantissa, decoded
//   <exp + BIAS, +-(2^MBITS + mant)>, BIAS = BITS - 1 - MBITS;
// - both slots the identifier: both victims; no identifier: two normal two's-complement ints.
// Instances: olive4 (4, 2, 1), olive8 with the paper's E4M3 outliers (8, 4, 3) and with the
// authors' E2M5 outliers (8, 2, 5). Facts: Guo et al., OliVe, ISCA 2023, sections 3-4.
module ovp_decoder #(
    parameter BITS    = 4,  // element width
    parameter EBITS   = 2,  // abfloat exponent bits
    parameter MBITS   = 1,  // abfloat mantissa bits (1 + EBITS + MBITS == BITS)
    parameter SHIFT_W = 3   // holds 2^EBITS - 1 + BIAS
) (
    input  wire [2*BITS-1:0]  pair,
    output wire [SHIFT_W-1:0] shift_even,
    output wire [   BITS-1:0] mant_even,   // two's complement
    output wire [SHIFT_W-1:0] shift_odd,
    output wire [   BITS-1:0] mant_odd
);
  wire [BITS-1:0] code_even = pair[BITS-1:0];
  wire [BITS-1:0] code_odd = pair[2*BITS-1:BITS];
  wire id_even = code_even == {1'b1, {(BITS - 1) {1'b0}}};
  wire id_odd = code_odd == {1'b1, {(BITS - 1) {1'b0}}};

  ovp_elem_decode #(
      .BITS(BITS),
      .EBITS(EBITS),
      .MBITS(MBITS),
      .SHIFT_W(SHIFT_W)
  ) u_even (
      .code(code_even),
      .victim(id_even),
      .outlier(id_odd),
      .shift(shift_even),
      .mant(mant_even)
  );
  ovp_elem_decode #(
      .BITS(BITS),
      .EBITS(EBITS),
      .MBITS(MBITS),
      .SHIFT_W(SHIFT_W)
  ) u_odd (
      .code(code_odd),
      .victim(id_odd),
      .outlier(id_even),
      .shift(shift_odd),
      .mant(mant_odd)
  );
endmodule

// One slot of a pair: victim -> <0, 0>; outlier (partner is the identifier) -> abfloat;
// otherwise the code itself as a two's-complement integer with shift 0.
module ovp_elem_decode #(
    parameter BITS    = 4,
    parameter EBITS   = 2,
    parameter MBITS   = 1,
    parameter SHIFT_W = 3
) (
    input  wire [   BITS-1:0] code,
    input  wire               victim,   // this slot holds the identifier
    input  wire               outlier,  // the partner slot holds the identifier
    output wire [SHIFT_W-1:0] shift,
    output wire [   BITS-1:0] mant
);
  wire [31:0] bias = BITS - 1 - MBITS;
  // abfloat magnitude (1.m, MBITS + 1 bits) and exponent, zero-extended to the output widths
  wire [BITS-1:0] mag = {{(BITS - MBITS - 1) {1'b0}}, 1'b1, code[MBITS-1:0]};
  wire [SHIFT_W-1:0] exp_field = {{(SHIFT_W - EBITS) {1'b0}}, code[BITS-2:MBITS]};
  wire [BITS-1:0] ab_mant = code[BITS-1] ? (~mag + 1'b1) : mag;
  wire [SHIFT_W-1:0] ab_shift = exp_field + bias[SHIFT_W-1:0];
  wire is_outlier = outlier & ~victim;
  wire unused_bias = ^bias;

  assign mant  = victim ? {BITS{1'b0}} : (is_outlier ? ab_mant : code);
  assign shift = is_outlier ? ab_shift : {SHIFT_W{1'b0}};
endmodule
