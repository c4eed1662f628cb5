// OliVe 4-bit processing element: exponent-integer multiply <a,b> x <c,d> = (b * d) << (a + c),
// accumulated in an ACC_W-bit two's-complement register (int32 by default; wraps on
// overflow). Guo et al., OliVe, ISCA 2023, section 4 (the OVP PE).
//
// Each operand is a 4-bit integer plus a `uns` flag: signed [-8, 7] normally, unsigned [0, 15]
// for the low nibble of an 8-bit operand in the 8-bit mode (ovp8_pe), as ANT/OliVe's
// 4-bit PEs fuse into 8-bit ones. So the multiplier is 5 x 5 bits signed.
//
// Timing: on a clock edge with in_valid, acc <= (in_first ? 0 : acc) + product; without
// in_valid acc holds. Operands are consumed in the cycle they are presented (no input register).
//
// Mutation hook for the regression's self-test (tests/rtl): with QARCH_MUTANT_DROP_SHIFT
// defined the product is not shifted (outliers lose their exponent); the regression must fail.
module ovp4_pe #(
    parameter SHIFT_W = 3,  // per-operand shift width (4-bit OVP: shifts 0..5)
    parameter ACC_W   = 32
) (
    input  wire                    clk,
    input  wire                    in_valid,
    input  wire                    in_first,
    input  wire [     SHIFT_W-1:0] a_shift,
    input  wire [             3:0] a_mant,
    input  wire                    a_uns,
    input  wire [     SHIFT_W-1:0] w_shift,
    input  wire [             3:0] w_mant,
    input  wire                    w_uns,
    output reg signed [ACC_W-1:0] acc
);
  wire signed [4:0] a5 = {a_mant[3] & ~a_uns, a_mant};
  wire signed [4:0] w5 = {w_mant[3] & ~w_uns, w_mant};
  wire signed [9:0] prod = a5 * w5;
  wire [SHIFT_W:0] sh = {1'b0, a_shift} + {1'b0, w_shift};
  wire signed [ACC_W-1:0] prod_ext = {{(ACC_W - 10) {prod[9]}}, prod};
`ifdef QARCH_MUTANT_DROP_SHIFT
  wire signed [ACC_W-1:0] term = prod_ext;
  wire unused_sh = ^sh;
`else
  wire signed [ACC_W-1:0] term = prod_ext <<< sh;
`endif

  always @(posedge clk) begin
    if (in_valid) acc <= (in_first ? {ACC_W{1'b0}} : acc) + term;
  end
endmodule
