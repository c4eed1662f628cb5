// Harness top (for Verilator) for the INT8 MAC, the FP element decoders, the E2M1 product, the
// MX / BFP block-MAC PEs, the AMXFP4 PE and the NVFP4 / AMXFP4 / BFP decoders
// (tests/rtl/mac_test.cpp). Each clocked section has its own clock. Block PEs are fed from
// element codes through their border decoders, as in an array.
module mac_unit (
    // INT8 MAC
    input  wire        int8_clk,
    input  wire        int8_valid,
    input  wire        int8_first,
    input  wire [ 7:0] int8_a,
    input  wire [ 7:0] int8_w,
    output wire [31:0] int8_acc,

    // FP element decoders, one code (low bits used by the narrow types)
    input  wire [ 7:0] fp_code,
    output wire [ 1:0] e2m1_shift,
    output wire [ 2:0] e2m1_mant,
    output wire [ 1:0] e2m3_shift,
    output wire [ 4:0] e2m3_mant,
    output wire [ 2:0] e3m2_shift,
    output wire [ 3:0] e3m2_mant,
    output wire [ 3:0] e4m3_shift,
    output wire [ 4:0] e4m3_mant,
    output wire        e4m3_special,
    output wire [ 4:0] e5m2_shift,
    output wire [ 3:0] e5m2_mant,
    output wire        e5m2_special,

    // E2M1 x E2M1
    input  wire [ 3:0] mul_a,
    input  wire [ 3:0] mul_b,
    output wire [ 8:0] mul_prod,

    // MXFP4 (E2M1 codes through decoders)
    input  wire        mxfp4_clk,
    input  wire        mxfp4_valid,
    input  wire        mxfp4_first,
    input  wire        mxfp4_last,
    input  wire [ 3:0] mxfp4_a,
    input  wire [ 3:0] mxfp4_w,
    input  wire [ 7:0] mxfp4_a_scale,
    input  wire [ 7:0] mxfp4_w_scale,
    output wire [15:0] mxfp4_acc,
    output wire        mxfp4_blk_valid,
    output wire [ 9:0] mxfp4_blk_exp,
    output wire        mxfp4_blk_nan,

    // MXINT8
    input  wire        mxint8_clk,
    input  wire        mxint8_valid,
    input  wire        mxint8_first,
    input  wire        mxint8_last,
    input  wire [ 7:0] mxint8_a,
    input  wire [ 7:0] mxint8_w,
    input  wire [ 7:0] mxint8_a_scale,
    input  wire [ 7:0] mxint8_w_scale,
    output wire [23:0] mxint8_acc,
    output wire        mxint8_blk_valid,
    output wire [ 9:0] mxint8_blk_exp,
    output wire        mxint8_blk_nan,

    // BFP12 (P = 4) and BFP16 (P = 8), sign-magnitude codes through bfp_elem_decoder
    input  wire        bfp4_clk,
    input  wire        bfp4_valid,
    input  wire        bfp4_first,
    input  wire        bfp4_last,
    input  wire [ 3:0] bfp4_a,
    input  wire [ 3:0] bfp4_w,
    input  wire [ 7:0] bfp4_a_scale,
    input  wire [ 7:0] bfp4_w_scale,
    output wire [ 3:0] bfp4_a_dec,
    output wire [15:0] bfp4_acc,
    output wire        bfp4_blk_valid,
    output wire [ 9:0] bfp4_blk_exp,
    input  wire        bfp8_clk,
    input  wire        bfp8_valid,
    input  wire        bfp8_first,
    input  wire        bfp8_last,
    input  wire [ 7:0] bfp8_a,
    input  wire [ 7:0] bfp8_w,
    input  wire [ 7:0] bfp8_a_scale,
    input  wire [ 7:0] bfp8_w_scale,
    output wire [ 7:0] bfp8_a_dec,
    output wire [23:0] bfp8_acc,
    output wire        bfp8_blk_valid,
    output wire [ 9:0] bfp8_blk_exp,

    // AMXFP4 PE (E2M1 codes through decoders)
    input  wire        amx_clk,
    input  wire        amx_valid,
    input  wire        amx_first,
    input  wire        amx_last,
    input  wire [ 3:0] amx_a,
    input  wire [ 3:0] amx_w,
    output wire [15:0] amx_sum_pp,
    output wire [15:0] amx_sum_pn,
    output wire [15:0] amx_sum_np,
    output wire [15:0] amx_sum_nn,
    output wire        amx_blk_valid,

    // AMXFP4 decoders: E5M2 scales (ad5_*) and E4M3 scales (ad4_*)
    input  wire [ 3:0] ad_elem,
    input  wire [ 7:0] ad_scale_pos,
    input  wire [ 7:0] ad_scale_neg,
    output wire [ 1:0] ad_elem_shift,
    output wire [ 2:0] ad_elem_mant,
    output wire        ad_neg,
    output wire [ 4:0] ad5_scale_shift,
    output wire [ 3:0] ad5_scale_mant,
    output wire        ad5_scale_special,
    output wire [ 3:0] ad4_scale_shift,
    output wire [ 4:0] ad4_scale_mant,
    output wire        ad4_scale_special,

    // NVFP4 decoder
    input  wire [ 3:0] nv_elem,
    input  wire [ 7:0] nv_scale,
    output wire [ 1:0] nv_elem_shift,
    output wire [ 2:0] nv_elem_mant,
    output wire [ 3:0] nv_scale_shift,
    output wire [ 4:0] nv_scale_mant,
    output wire        nv_scale_nan
);
  /* verilator lint_off PINCONNECTEMPTY */
  int8_mac #(
      .ACC_W(32)
  ) u_int8 (
      .clk(int8_clk),
      .in_valid(int8_valid),
      .in_first(int8_first),
      .a(int8_a),
      .w(int8_w),
      .acc(int8_acc)
  );

  fp_elem_decoder #(
      .EBITS(2),
      .MBITS(1)
  ) u_e2m1 (
      .code(fp_code[3:0]),
      .shift(e2m1_shift),
      .mant(e2m1_mant),
      .special()
  );
  fp_elem_decoder #(
      .EBITS(2),
      .MBITS(3)
  ) u_e2m3 (
      .code(fp_code[5:0]),
      .shift(e2m3_shift),
      .mant(e2m3_mant),
      .special()
  );
  fp_elem_decoder #(
      .EBITS(3),
      .MBITS(2)
  ) u_e3m2 (
      .code(fp_code[5:0]),
      .shift(e3m2_shift),
      .mant(e3m2_mant),
      .special()
  );
  fp_elem_decoder #(
      .EBITS(4),
      .MBITS(3),
      .SPECIALS(1)
  ) u_e4m3 (
      .code(fp_code),
      .shift(e4m3_shift),
      .mant(e4m3_mant),
      .special(e4m3_special)
  );
  fp_elem_decoder #(
      .EBITS(5),
      .MBITS(2),
      .SPECIALS(2)
  ) u_e5m2 (
      .code(fp_code),
      .shift(e5m2_shift),
      .mant(e5m2_mant),
      .special(e5m2_special)
  );

  e2m1_mul u_mul (
      .a(mul_a),
      .b(mul_b),
      .prod(mul_prod)
  );

  // MXFP4
  wire [1:0] mx_as, mx_ws;
  wire [2:0] mx_am, mx_wm;
  fp_elem_decoder #(
      .EBITS(2),
      .MBITS(1)
  ) u_mx_da (
      .code(mxfp4_a),
      .shift(mx_as),
      .mant(mx_am),
      .special()
  );
  fp_elem_decoder #(
      .EBITS(2),
      .MBITS(1)
  ) u_mx_dw (
      .code(mxfp4_w),
      .shift(mx_ws),
      .mant(mx_wm),
      .special()
  );
  mxfp4_pe u_mxfp4 (
      .clk(mxfp4_clk),
      .in_valid(mxfp4_valid),
      .in_first(mxfp4_first),
      .in_last(mxfp4_last),
      .a_mant(mx_am),
      .a_shift(mx_as),
      .w_mant(mx_wm),
      .w_shift(mx_ws),
      .a_scale(mxfp4_a_scale),
      .w_scale(mxfp4_w_scale),
      .acc(mxfp4_acc),
      .blk_valid(mxfp4_blk_valid),
      .blk_exp(mxfp4_blk_exp),
      .blk_nan(mxfp4_blk_nan)
  );

  mxint8_pe u_mxint8 (
      .clk(mxint8_clk),
      .in_valid(mxint8_valid),
      .in_first(mxint8_first),
      .in_last(mxint8_last),
      .a(mxint8_a),
      .w(mxint8_w),
      .a_scale(mxint8_a_scale),
      .w_scale(mxint8_w_scale),
      .acc(mxint8_acc),
      .blk_valid(mxint8_blk_valid),
      .blk_exp(mxint8_blk_exp),
      .blk_nan(mxint8_blk_nan)
  );

  // BFP
  wire [3:0] b4_wd;
  wire [7:0] b8_wd;
  bfp_elem_decoder #(
      .P(4)
  ) u_b4_da (
      .code(bfp4_a),
      .mant(bfp4_a_dec)
  );
  bfp_elem_decoder #(
      .P(4)
  ) u_b4_dw (
      .code(bfp4_w),
      .mant(b4_wd)
  );
  bfp_pe #(
      .P(4)
  ) u_bfp4 (
      .clk(bfp4_clk),
      .in_valid(bfp4_valid),
      .in_first(bfp4_first),
      .in_last(bfp4_last),
      .a_mant(bfp4_a_dec),
      .w_mant(b4_wd),
      .a_scale(bfp4_a_scale),
      .w_scale(bfp4_w_scale),
      .acc(bfp4_acc),
      .blk_valid(bfp4_blk_valid),
      .blk_exp(bfp4_blk_exp),
      .blk_nan()
  );
  bfp_elem_decoder #(
      .P(8)
  ) u_b8_da (
      .code(bfp8_a),
      .mant(bfp8_a_dec)
  );
  bfp_elem_decoder #(
      .P(8)
  ) u_b8_dw (
      .code(bfp8_w),
      .mant(b8_wd)
  );
  bfp_pe #(
      .P(8)
  ) u_bfp8 (
      .clk(bfp8_clk),
      .in_valid(bfp8_valid),
      .in_first(bfp8_first),
      .in_last(bfp8_last),
      .a_mant(bfp8_a_dec),
      .w_mant(b8_wd),
      .a_scale(bfp8_a_scale),
      .w_scale(bfp8_w_scale),
      .acc(bfp8_acc),
      .blk_valid(bfp8_blk_valid),
      .blk_exp(bfp8_blk_exp),
      .blk_nan()
  );

  // AMXFP4 PE
  wire [1:0] amx_as, amx_ws;
  wire [2:0] amx_am, amx_wm;
  fp_elem_decoder #(
      .EBITS(2),
      .MBITS(1)
  ) u_amx_da (
      .code(amx_a),
      .shift(amx_as),
      .mant(amx_am),
      .special()
  );
  fp_elem_decoder #(
      .EBITS(2),
      .MBITS(1)
  ) u_amx_dw (
      .code(amx_w),
      .shift(amx_ws),
      .mant(amx_wm),
      .special()
  );
  amxfp4_pe u_amx (
      .clk(amx_clk),
      .in_valid(amx_valid),
      .in_first(amx_first),
      .in_last(amx_last),
      .a_mant(amx_am),
      .a_shift(amx_as),
      .w_mant(amx_wm),
      .w_shift(amx_ws),
      .sum_pp(amx_sum_pp),
      .sum_pn(amx_sum_pn),
      .sum_np(amx_sum_np),
      .sum_nn(amx_sum_nn),
      .blk_valid(amx_blk_valid)
  );

  // AMXFP4 decoders
  amxfp4_decoder #(
      .SEBITS(5),
      .SMBITS(2),
      .SSPECIALS(2)
  ) u_ad5 (
      .elem(ad_elem),
      .scale_pos(ad_scale_pos),
      .scale_neg(ad_scale_neg),
      .elem_shift(ad_elem_shift),
      .elem_mant(ad_elem_mant),
      .neg(ad_neg),
      .scale_shift(ad5_scale_shift),
      .scale_mant(ad5_scale_mant),
      .scale_special(ad5_scale_special)
  );
  amxfp4_decoder #(
      .SEBITS(4),
      .SMBITS(3),
      .SSPECIALS(1)
  ) u_ad4 (
      .elem(ad_elem),
      .scale_pos(ad_scale_pos),
      .scale_neg(ad_scale_neg),
      .elem_shift(),
      .elem_mant(),
      .neg(),
      .scale_shift(ad4_scale_shift),
      .scale_mant(ad4_scale_mant),
      .scale_special(ad4_scale_special)
  );

  nvfp4_decoder u_nv (
      .elem(nv_elem),
      .scale(nv_scale),
      .elem_shift(nv_elem_shift),
      .elem_mant(nv_elem_mant),
      .scale_shift(nv_scale_shift),
      .scale_mant(nv_scale_mant),
      .scale_nan(nv_scale_nan)
  );
  /* verilator lint_on PINCONNECTEMPTY */
endmodule
