// `qarch verify --unit mxfp4_pe`: two E2M1 element decoders (fp_elem_decoder) feed one
// mxfp4_pe (rtl/src/block_pes.v) with the blocks' E8M0 scale codes. A drop-in mxfp4_pe (--rtl)
// must have its ports and the parameter SUM_W.
module verify_mxfp4_pe (
    input  wire        clk,
    input  wire        valid,
    input  wire        first,
    input  wire        last,
    input  wire [ 3:0] a,
    input  wire [ 3:0] w,
    input  wire [ 7:0] a_scale,
    input  wire [ 7:0] w_scale,
    output wire [15:0] acc,
    output wire        blk_valid,
    output wire [ 9:0] blk_exp,
    output wire        blk_nan
);
  wire [1:0] as, ws;
  wire [2:0] am, wm;
  /* verilator lint_off PINCONNECTEMPTY */
  fp_elem_decoder #(
      .EBITS(2),
      .MBITS(1)
  ) u_da (
      .code(a),
      .shift(as),
      .mant(am),
      .special()
  );
  fp_elem_decoder #(
      .EBITS(2),
      .MBITS(1)
  ) u_dw (
      .code(w),
      .shift(ws),
      .mant(wm),
      .special()
  );
  /* verilator lint_on PINCONNECTEMPTY */
  mxfp4_pe #(
      .SUM_W(16)
  ) u_pe (
      .clk(clk),
      .in_valid(valid),
      .in_first(first),
      .in_last(last),
      .a_mant(am),
      .a_shift(as),
      .w_mant(wm),
      .w_shift(ws),
      .a_scale(a_scale),
      .w_scale(w_scale),
      .acc(acc),
      .blk_valid(blk_valid),
      .blk_exp(blk_exp),
      .blk_nan(blk_nan)
  );
endmodule
