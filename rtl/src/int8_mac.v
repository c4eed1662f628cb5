// INT8 MAC: signed 8 x 8 product accumulated in an ACC_W-bit register (int32; wraps).
// On a clock edge with in_valid: acc <= (in_first ? 0 : acc) + a * w.
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
  wire signed [15:0] prod = a * w;
  wire signed [ACC_W-1:0] term = {{(ACC_W - 16) {prod[15]}}, prod};
  always @(posedge clk) begin
    if (in_valid) acc <= (in_first ? {ACC_W{1'b0}} : acc) + term;
  end
endmodule
