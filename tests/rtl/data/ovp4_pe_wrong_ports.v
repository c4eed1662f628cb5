// A drop-in for `qarch verify --unit ovp4_pe --rtl` with the wrong ports (no a_uns / w_uns):
// verify must refuse it with Verilator's error.
module ovp4_pe #(
    parameter SHIFT_W = 3,
    parameter ACC_W   = 32
) (
    input  wire                    clk,
    input  wire                    in_valid,
    input  wire                    in_first,
    input  wire [     SHIFT_W-1:0] a_shift,
    input  wire [             3:0] a_mant,
    input  wire [     SHIFT_W-1:0] w_shift,
    input  wire [             3:0] w_mant,
    output reg signed [ACC_W-1:0] acc
);
  always @(posedge clk) if (in_valid) acc <= acc + {{(ACC_W - 8) {1'b0}}, a_mant, w_mant} + {{(ACC_W - 6) {1'b0}}, a_shift, w_shift};
endmodule
