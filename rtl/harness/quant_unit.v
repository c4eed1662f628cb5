// Harness top (for Verilator) for the online quantizers (tests/rtl/encoder_test.cpp). Each
// section has its own clock so a test drives only the logic it checks. Also verilated with
// QARCH_MUTANT_ROUNDING (both quantizers with a broken rounding) under the same port names, so
// one C++ check runs on both.
//
// ovp4:   the olive4 OVP pair encoder (two FP32 x / s in, one byte out).
// ovp8:   olive8 pair encoders for both outlier types (ovp8_type 0 = E4M3, the paper's; 1 = E2M5,
//         the authors' code), same inputs, outputs selected by ovp8_type.
// mxfp4:  MX block quantizer, E2M1 elements (MXFP4), buffer for blocks up to 32 (blocks of
//         the instances below: 32 too).
// mxint8: MX block quantizer, int8 elements (MXINT8).
// amx:    AMXFP4 with power-of-two scales (two shared exponents per block, by sign).
// nv:     NVFP4 quantizer (E4M3 block scales, blocks up to 16, per-tensor FP32 nv_s_enc).
// amx8:   AMXFP4 with FP8 scales, amx8_type 0 = E5M2 (the default), 1 = E4M3; same inputs.
// mxfp:   MX block quantizers for the MXFP8 / MXFP6 elements, same inputs, outputs selected by
//         mxfp_type: 0 E4M3 (mxfp8_e4m3_quantizer), 1 E5M2, 2 E3M2, 3 E2M3 (mx_quantizer with
//         the element parameters).
module quant_unit (
    input  wire        ovp4_clk,
    input  wire        ovp4_valid,
    input  wire        ovp4_victim_even,
    input  wire        ovp4_ties_up,
    input  wire [31:0] ovp4_v_even,
    input  wire [31:0] ovp4_v_odd,
    output wire        ovp4_out_valid,
    output wire [ 7:0] ovp4_pair,
    output wire [ 1:0] ovp4_cls,

    input  wire        ovp8_clk,
    input  wire        ovp8_valid,
    input  wire        ovp8_victim_even,
    input  wire        ovp8_ties_up,
    input  wire        ovp8_type,
    input  wire [31:0] ovp8_v_even,
    input  wire [31:0] ovp8_v_odd,
    output wire        ovp8_out_valid,
    output wire [15:0] ovp8_pair,
    output wire [ 1:0] ovp8_cls,

    input  wire        mxfp4_clk,
    input  wire        mxfp4_rst,
    input  wire        mxfp4_away,
    input  wire        mxfp4_valid,
    input  wire        mxfp4_last,
    input  wire [31:0] mxfp4_data,
    output wire        mxfp4_ready,
    output wire        mxfp4_out_valid,
    output wire        mxfp4_out_first,
    output wire        mxfp4_out_last,
    output wire [ 3:0] mxfp4_code,
    output wire [ 7:0] mxfp4_scale,

    input  wire        mxint8_clk,
    input  wire        mxint8_rst,
    input  wire        mxint8_away,
    input  wire        mxint8_valid,
    input  wire        mxint8_last,
    input  wire [31:0] mxint8_data,
    output wire        mxint8_ready,
    output wire        mxint8_out_valid,
    output wire        mxint8_out_first,
    output wire        mxint8_out_last,
    output wire [ 7:0] mxint8_code,
    output wire [ 7:0] mxint8_scale,

    input  wire        amx_clk,
    input  wire        amx_rst,
    input  wire        amx_away,
    input  wire        amx_valid,
    input  wire        amx_last,
    input  wire [31:0] amx_data,
    output wire        amx_ready,
    output wire        amx_out_valid,
    output wire        amx_out_first,
    output wire        amx_out_last,
    output wire [ 3:0] amx_code,
    output wire [ 7:0] amx_scale_pos,
    output wire [ 7:0] amx_scale_neg,

    input  wire        mxfp_clk,
    input  wire        mxfp_rst,
    input  wire        mxfp_away,
    input  wire [ 1:0] mxfp_type,
    input  wire        mxfp_valid,
    input  wire        mxfp_last,
    input  wire [31:0] mxfp_data,
    output wire        mxfp_ready,
    output wire        mxfp_out_valid,
    output wire        mxfp_out_first,
    output wire        mxfp_out_last,
    output wire [ 7:0] mxfp_code,
    output wire [ 7:0] mxfp_scale,

    input  wire        nv_clk,
    input  wire        nv_rst,
    input  wire        nv_away,
    input  wire [31:0] nv_s_enc,
    input  wire        nv_valid,
    input  wire        nv_last,
    input  wire [31:0] nv_data,
    output wire        nv_ready,
    output wire        nv_out_valid,
    output wire        nv_out_first,
    output wire        nv_out_last,
    output wire [ 3:0] nv_code,
    output wire [ 7:0] nv_scale,

    input  wire        amx8_clk,
    input  wire        amx8_rst,
    input  wire        amx8_away,
    input  wire        amx8_type,
    input  wire        amx8_valid,
    input  wire        amx8_last,
    input  wire [31:0] amx8_data,
    output wire        amx8_ready,
    output wire        amx8_out_valid,
    output wire        amx8_out_first,
    output wire        amx8_out_last,
    output wire [ 3:0] amx8_code,
    output wire [ 7:0] amx8_scale_pos,
    output wire [ 7:0] amx8_scale_neg
);
  /* verilator lint_off PINCONNECTEMPTY */
  // ---- OVP encoders
  ovp_encoder #(
      .BITS (4),
      .EBITS(2),
      .MBITS(1)
  ) u_ovp4 (
      .clk(ovp4_clk),
      .in_valid(ovp4_valid),
      .victim_even(ovp4_victim_even),
      .ties_up(ovp4_ties_up),
      .v_even(ovp4_v_even),
      .v_odd(ovp4_v_odd),
      .out_valid(ovp4_out_valid),
      .out_pair(ovp4_pair),
      .out_cls(ovp4_cls)
  );

  wire v8a, v8b;
  wire [15:0] p8a, p8b;
  wire [1:0] c8a, c8b;
  ovp_encoder #(
      .BITS (8),
      .EBITS(4),
      .MBITS(3)
  ) u_ovp8a (
      .clk(ovp8_clk),
      .in_valid(ovp8_valid),
      .victim_even(ovp8_victim_even),
      .ties_up(ovp8_ties_up),
      .v_even(ovp8_v_even),
      .v_odd(ovp8_v_odd),
      .out_valid(v8a),
      .out_pair(p8a),
      .out_cls(c8a)
  );
  ovp_encoder #(
      .BITS (8),
      .EBITS(2),
      .MBITS(5)
  ) u_ovp8b (
      .clk(ovp8_clk),
      .in_valid(ovp8_valid),
      .victim_even(ovp8_victim_even),
      .ties_up(ovp8_ties_up),
      .v_even(ovp8_v_even),
      .v_odd(ovp8_v_odd),
      .out_valid(v8b),
      .out_pair(p8b),
      .out_cls(c8b)
  );
  assign ovp8_out_valid = ovp8_type ? v8b : v8a;
  assign ovp8_pair = ovp8_type ? p8b : p8a;
  assign ovp8_cls = ovp8_type ? c8b : c8a;

  // ---- MX block quantizers
  mxfp4_quantizer #(
      .BLOCK(32)
  ) u_mxfp4 (
      .clk(mxfp4_clk),
      .rst(mxfp4_rst),
      .round_away(mxfp4_away),
      .in_valid(mxfp4_valid),
      .in_last(mxfp4_last),
      .in_data(mxfp4_data),
      .in_ready(mxfp4_ready),
      .out_valid(mxfp4_out_valid),
      .out_first(mxfp4_out_first),
      .out_last(mxfp4_out_last),
      .out_code(mxfp4_code),
      .out_scale(mxfp4_scale)
  );

  mxint8_quantizer #(
      .BLOCK(32)
  ) u_mxint8 (
      .clk(mxint8_clk),
      .rst(mxint8_rst),
      .round_away(mxint8_away),
      .in_valid(mxint8_valid),
      .in_last(mxint8_last),
      .in_data(mxint8_data),
      .in_ready(mxint8_ready),
      .out_valid(mxint8_out_valid),
      .out_first(mxint8_out_first),
      .out_last(mxint8_out_last),
      .out_code(mxint8_code),
      .out_scale(mxint8_scale)
  );

  amxfp4_pot_quantizer #(
      .BLOCK(32)
  ) u_amx (
      .clk(amx_clk),
      .rst(amx_rst),
      .round_away(amx_away),
      .in_valid(amx_valid),
      .in_last(amx_last),
      .in_data(amx_data),
      .in_ready(amx_ready),
      .out_valid(amx_out_valid),
      .out_first(amx_out_first),
      .out_last(amx_out_last),
      .out_code(amx_code),
      .out_scale(amx_scale_pos),
      .out_scale_neg(amx_scale_neg)
  );

  // MXFP8 / MXFP6: four instances on one input stream.
  wire [3:0] f_ready, f_valid, f_first, f_last;
  wire [7:0] f_code[0:3];
  wire [7:0] f_scale[0:3];
  wire [5:0] c_e3m2, c_e2m3;
  mxfp8_e4m3_quantizer #(
      .BLOCK(32)
  ) u_e4m3 (
      .clk(mxfp_clk),
      .rst(mxfp_rst),
      .round_away(mxfp_away),
      .in_valid(mxfp_valid),
      .in_last(mxfp_last),
      .in_data(mxfp_data),
      .in_ready(f_ready[0]),
      .out_valid(f_valid[0]),
      .out_first(f_first[0]),
      .out_last(f_last[0]),
      .out_code(f_code[0]),
      .out_scale(f_scale[0])
  );
  mx_quantizer #(
      .BLOCK  (32),
      .MBITS  (2),
      .EMIN   (-14),
      .MAXCODE(123),
      .CODE_W (8)
  ) u_e5m2 (
      .clk(mxfp_clk),
      .rst(mxfp_rst),
      .round_away(mxfp_away),
      .in_valid(mxfp_valid),
      .in_last(mxfp_last),
      .in_data(mxfp_data),
      .in_ready(f_ready[1]),
      .out_valid(f_valid[1]),
      .out_first(f_first[1]),
      .out_last(f_last[1]),
      .out_code(f_code[1]),
      .out_scale(f_scale[1]),
      .out_scale_neg()
  );
  mx_quantizer #(
      .BLOCK  (32),
      .MBITS  (2),
      .EMIN   (-2),
      .MAXCODE(31),
      .CODE_W (6)
  ) u_e3m2 (
      .clk(mxfp_clk),
      .rst(mxfp_rst),
      .round_away(mxfp_away),
      .in_valid(mxfp_valid),
      .in_last(mxfp_last),
      .in_data(mxfp_data),
      .in_ready(f_ready[2]),
      .out_valid(f_valid[2]),
      .out_first(f_first[2]),
      .out_last(f_last[2]),
      .out_code(c_e3m2),
      .out_scale(f_scale[2]),
      .out_scale_neg()
  );
  mx_quantizer #(
      .BLOCK  (32),
      .MBITS  (3),
      .EMIN   (0),
      .MAXCODE(31),
      .CODE_W (6)
  ) u_e2m3 (
      .clk(mxfp_clk),
      .rst(mxfp_rst),
      .round_away(mxfp_away),
      .in_valid(mxfp_valid),
      .in_last(mxfp_last),
      .in_data(mxfp_data),
      .in_ready(f_ready[3]),
      .out_valid(f_valid[3]),
      .out_first(f_first[3]),
      .out_last(f_last[3]),
      .out_code(c_e2m3),
      .out_scale(f_scale[3]),
      .out_scale_neg()
  );
  assign f_code[2] = {2'b00, c_e3m2};
  assign f_code[3] = {2'b00, c_e2m3};
  assign mxfp_ready = f_ready[mxfp_type];
  assign mxfp_out_valid = f_valid[mxfp_type];
  assign mxfp_out_first = f_first[mxfp_type];
  assign mxfp_out_last = f_last[mxfp_type];
  assign mxfp_code = f_code[mxfp_type];
  assign mxfp_scale = f_scale[mxfp_type];

  // ---- FP8-scaled block quantizers
  nvfp4_quantizer #(
      .BLOCK(16)
  ) u_nv (
      .clk(nv_clk),
      .rst(nv_rst),
      .round_away(nv_away),
      .s_enc(nv_s_enc),
      .in_valid(nv_valid),
      .in_last(nv_last),
      .in_data(nv_data),
      .in_ready(nv_ready),
      .out_valid(nv_out_valid),
      .out_first(nv_out_first),
      .out_last(nv_out_last),
      .out_code(nv_code),
      .out_scale(nv_scale)
  );

  wire [1:0] a8_ready, a8_valid, a8_first, a8_last;
  wire [3:0] a8_code[0:1];
  wire [7:0] a8_sp[0:1];
  wire [7:0] a8_sn[0:1];
  amxfp4_fp8_quantizer #(
      .BLOCK(32)
  ) u_amx_e5m2 (
      .clk(amx8_clk),
      .rst(amx8_rst),
      .round_away(amx8_away),
      .in_valid(amx8_valid),
      .in_last(amx8_last),
      .in_data(amx8_data),
      .in_ready(a8_ready[0]),
      .out_valid(a8_valid[0]),
      .out_first(a8_first[0]),
      .out_last(a8_last[0]),
      .out_code(a8_code[0]),
      .out_scale_pos(a8_sp[0]),
      .out_scale_neg(a8_sn[0])
  );
  amxfp4_fp8_quantizer #(
      .BLOCK(32),
      .SEB  (4),
      .SMB  (3),
      .SBIAS(7),
      .SEMIN(-6),
      .SMAX (126),
      .ONE  (56)
  ) u_amx_e4m3 (
      .clk(amx8_clk),
      .rst(amx8_rst),
      .round_away(amx8_away),
      .in_valid(amx8_valid),
      .in_last(amx8_last),
      .in_data(amx8_data),
      .in_ready(a8_ready[1]),
      .out_valid(a8_valid[1]),
      .out_first(a8_first[1]),
      .out_last(a8_last[1]),
      .out_code(a8_code[1]),
      .out_scale_pos(a8_sp[1]),
      .out_scale_neg(a8_sn[1])
  );
  assign amx8_ready = a8_ready[amx8_type];
  assign amx8_out_valid = a8_valid[amx8_type];
  assign amx8_out_first = a8_first[amx8_type];
  assign amx8_out_last = a8_last[amx8_type];
  assign amx8_code = a8_code[amx8_type];
  assign amx8_scale_pos = a8_sp[amx8_type];
  assign amx8_scale_neg = a8_sn[amx8_type];
  /* verilator lint_on PINCONNECTEMPTY */
endmodule
