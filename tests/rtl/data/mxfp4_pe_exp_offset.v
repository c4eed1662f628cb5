// A mutant drop-in for `qarch verify --unit mxfp4_pe --rtl`: block_pes.v's mxfp4_pe with the
// block exponent's offset off by one (EXP_OFFSET -255 instead of -256: a wrong scale bias), so
// every block exponent is one too large.
module mxfp4_pe #(
    parameter SUM_W = 16
) (
    input  wire                    clk,
    input  wire                    in_valid,
    input  wire                    in_first,
    input  wire                    in_last,
    input  wire [             2:0] a_mant,
    input  wire [             1:0] a_shift,
    input  wire [             2:0] w_mant,
    input  wire [             1:0] w_shift,
    input  wire [             7:0] a_scale,
    input  wire [             7:0] w_scale,
    output wire signed [SUM_W-1:0] acc,
    output wire                    blk_valid,
    output wire [             9:0] blk_exp,
    output wire                    blk_nan
);
  block_mac_pe #(
      .MANT_W(3),
      .SHIFT_W(2),
      .SUM_W(SUM_W),
      .EXP_OFFSET(-255),
      .NAN_SCALE(1)
  ) u (
      .clk(clk),
      .in_valid(in_valid),
      .in_first(in_first),
      .in_last(in_last),
      .a_mant(a_mant),
      .a_shift(a_shift),
      .w_mant(w_mant),
      .w_shift(w_shift),
      .a_scale(a_scale),
      .w_scale(w_scale),
      .acc(acc),
      .blk_valid(blk_valid),
      .blk_exp(blk_exp),
      .blk_nan(blk_nan)
  );
endmodule
