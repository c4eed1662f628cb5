// A mutant drop-in for `qarch verify --unit ovp4_pe --rtl`: rtl/src/ovp4_pe.v with the outlier
// shift dropped (the product is accumulated unshifted), as QARCH_MUTANT_DROP_SHIFT builds it.
// Same ports and parameters as ovp4_pe; tests/rtl/verify_test.cpp requires verify to catch it.
module ovp4_pe #(
    parameter SHIFT_W = 3,
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
  wire signed [ACC_W-1:0] term = {{(ACC_W - 10) {prod[9]}}, prod};
  wire unused = ^{a_shift, w_shift};

  always @(posedge clk) begin
    if (in_valid) acc <= (in_first ? {ACC_W{1'b0}} : acc) + term;
  end
endmodule
