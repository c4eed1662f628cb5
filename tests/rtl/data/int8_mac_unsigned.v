// A mutant drop-in for `qarch verify --unit int8_mac --rtl`: the product is taken unsigned (a
// sign-handling bug), so every product with a negative operand is wrong.
module int8_mac #(
    parameter ACC_W = 32
) (
    input  wire                    clk,
    input  wire                    in_valid,
    input  wire                    in_first,
    input  wire signed [      7:0] a,
    input  wire signed [      7:0] w,
    output reg signed  [ACC_W-1:0] acc
);
  wire [15:0] prod = $unsigned(a) * $unsigned(w);
  wire signed [ACC_W-1:0] term = {{(ACC_W - 16) {1'b0}}, prod};
  always @(posedge clk) begin
    if (in_valid) acc <= (in_first ? {ACC_W{1'b0}} : acc) + term;
  end
endmodule
