// The block-MAC PEs of the MX and BFP arrays: block_mac_pe with each format's widths. Operands
// arrive decoded (border decoders: fp_elem_decoder, bfp_elem_decoder); the scale codes arrive
// with the elements. EXP_OFFSET makes blk_exp equal quant's scale_exp[gx] + scale_exp[gw]:
//   MX:  scale_exp = (E - 127) + ulp_exp of the element (OCP MX v1.0 E8M0, bias 127)
//   BFP: scale_exp = (E - 127) - (p - 2)  (quant/src/bfp_formats.cpp, d-Matrix BFP[p])
// Block lengths up to BLOCK_MAX fit SUM_W exactly; quant's formats use 32 (MX), 16..128 (BFP).

// MXFP4: E2M1 elements (mant +-0..3, shift 0..2, ulp_exp -1), E8M0 scales; products <= 144, so
// 16 bits hold blocks up to 227 elements.
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
      .EXP_OFFSET(-256),
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

// MXINT8: two's-complement int8 elements with an implicit 2^-6 (OCP MX v1.0), E8M0 scales;
// |products| <= 2^14, so 24 bits hold blocks up to 511 elements.
module mxint8_pe #(
    parameter SUM_W = 24
) (
    input  wire                    clk,
    input  wire                    in_valid,
    input  wire                    in_first,
    input  wire                    in_last,
    input  wire [             7:0] a,
    input  wire [             7:0] w,
    input  wire [             7:0] a_scale,
    input  wire [             7:0] w_scale,
    output wire signed [SUM_W-1:0] acc,
    output wire                    blk_valid,
    output wire [             9:0] blk_exp,
    output wire                    blk_nan
);
  block_mac_pe #(
      .MANT_W(8),
      .SHIFT_W(1),
      .SUM_W(SUM_W),
      .EXP_OFFSET(-266),
      .NAN_SCALE(1)
  ) u (
      .clk(clk),
      .in_valid(in_valid),
      .in_first(in_first),
      .in_last(in_last),
      .a_mant(a),
      .a_shift(1'b0),
      .w_mant(w),
      .w_shift(1'b0),
      .a_scale(a_scale),
      .w_scale(w_scale),
      .acc(acc),
      .blk_valid(blk_valid),
      .blk_exp(blk_exp),
      .blk_nan(blk_nan)
  );
endmodule

// BFP[P] (P bits including the sign: BFP12/MSFP12 P = 4, BFP16/MSFP16 P = 8): integer
// mantissas aligned to the block's shared exponent, so a plain integer MAC plus one exponent
// add; |products| <= (2^(P-1) - 1)^2, SUM_W = 2P + 8 holds blocks up to 256 elements.
module bfp_pe #(
    parameter P     = 4,
    parameter SUM_W = 2 * P + 8
) (
    input  wire                    clk,
    input  wire                    in_valid,
    input  wire                    in_first,
    input  wire                    in_last,
    input  wire [           P-1:0] a_mant,   // two's complement (bfp_elem_decoder)
    input  wire [           P-1:0] w_mant,
    input  wire [             7:0] a_scale,  // E = e + 127
    input  wire [             7:0] w_scale,
    output wire signed [SUM_W-1:0] acc,
    output wire                    blk_valid,
    output wire [             9:0] blk_exp,
    output wire                    blk_nan
);
  block_mac_pe #(
      .MANT_W(P),
      .SHIFT_W(1),
      .SUM_W(SUM_W),
      .EXP_OFFSET(-254 - 2 * (P - 2)),
      .NAN_SCALE(0)
  ) u (
      .clk(clk),
      .in_valid(in_valid),
      .in_first(in_first),
      .in_last(in_last),
      .a_mant(a_mant),
      .a_shift(1'b0),
      .w_mant(w_mant),
      .w_shift(1'b0),
      .a_scale(a_scale),
      .w_scale(w_scale),
      .acc(acc),
      .blk_valid(blk_valid),
      .blk_exp(blk_exp),
      .blk_nan(blk_nan)
  );
endmodule
