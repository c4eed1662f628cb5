// MX block quantizer: the online quantizer of the OCP MX formats (and of AMXFP4 with
// power-of-two scales). A stream of FP32 values in, per block one E8M0 shared scale and the
// element codes out, bit for bit quant/'s mx_formats.cpp (MxFormat::encode: mx_block,
// detail::shared_exp_bits, the E2M1 / FP / INT8 element policies of mx_kernels.h) and
// amxfp4_format.cpp (scale=pot); checked by tests/rtl/encoder_test.cpp.
//
// The rule (OCP MX v1.0 section 6.3, specs/formats.md):
//   shared_exp S = floor_log2(max_i |V_i|) - EMAX, clamped to [-127, 127]; an all-zero block
//   gets -127; floor_log2 from the FP32 exponent bits (subnormals by their leading one);
//   scale code = S + 127; P_i = round(V_i / 2^S) in the element type: round to nearest, ties to
//   even (round_away = 0, quant's round=even) or away from zero (round_away = 1, round=away),
//   saturating at the largest finite element, below half the smallest subnormal -> 0; the sign
//   bit kept even when the magnitude rounds to 0 (FP elements). V_i / 2^S is exact, so the
//   element is the exact rounding of the real quotient, which is what quant's FP32 arithmetic
//   computes (its quotient is exact too, or far below the rounding range).
//   A block holding a NaN or +-Inf: scale code 0xFF (the E8M0 NaN) and all element codes 0.
// Element types by parameter: FP (sign-magnitude, INT = 0) with MBITS mantissa bits, smallest
// normal exponent EMIN and largest finite magnitude code MAXCODE: E2M1 (1, 0, 7; MXFP4, the
// default), E4M3 (3, -6, 126), E5M2 (2, -14, 123), E3M2 (2, -2, 31), E2M3 (3, 0, 31). MXINT8
// (INT = 1): the element is round(V / 2^S * 64) clamped to +-127, i.e. a "float" that is always
// subnormal with quantum 2^-6: MBITS = 7, EMIN = 1, MAXCODE = 127, two's-complement code.
// EMAX (OCP's emax_elem) follows: (MAXCODE >> MBITS) - 1 + EMIN (2, 8, 15, 4, 2; MXINT8 0).
// SPLIT = 1 is AMXFP4 with power-of-two scales (quant's amxfp4:scale=pot): two shared
// exponents by the same rule, S+ over the elements > 0 and S- over the elements < 0, an element
// x > 0 rounds against S+, x <= 0 against S- (out_scale = S+ code, out_scale_neg = S- code; a
// NaN/Inf block sets both to 0xFF).
//
// Architecture: streaming, one element per cycle in and out, with a two-bank block buffer
// (ping-pong) because the scale depends on the whole block: while block b drains from one bank,
// block b + 1 fills the other. At the input each value is normalized (subnormals by a leading-one
// search) and kept compressed: sign, exponent (9 bits, zero as -256), the top MBITS fraction
// bits, the next (guard) bit and the OR of the rest (sticky): exactly what the rounding needs,
// MBITS + 12 bits instead of 32. The block maximum is the largest normalized exponent (9-bit
// compare per element). At the output the element exponent minus S selects the rounding
// position (normal or subnormal in the element type), and RNE / half-away rounding with
// saturation gives the code.
// Protocol: an input is accepted on an edge with in_valid & in_ready; in_last (or the BLOCK-th
// element) closes the block (blocks may be shorter than BLOCK: a row's last partial block).
// in_ready is low only while the bank to fill is still draining, which never happens when every
// block has the same length. Outputs: registered; out_valid for one element per cycle, with
// out_first / out_last marking the block and the block's scale code(s) beside every element.
// Latency: an element leaves L edges after it was accepted (L = its block's length; 32 for a
// full MX block), the scale with the block's first element. Throughput: 1 element / cycle.
// rst (synchronous) empties the buffer.
//
// Mutation hook for the regression's self-test: with QARCH_MUTANT_ROUNDING defined the
// ties-to-even rounding ignores the sticky bits (every value above a half rounds like a tie);
// tests/rtl must fail.
module mx_quantizer #(
    parameter BLOCK   = 32,  // buffer depth per bank = largest block
    parameter MBITS   = 1,
    parameter EMIN    = 0,
    parameter MAXCODE = 7,
    parameter CODE_W  = 4,   // element code width (1 + EBITS + MBITS; MXINT8 8)
    parameter INT     = 0,
    parameter SPLIT   = 0
) (
    input  wire              clk,
    input  wire              rst,
    input  wire              round_away,
    input  wire              in_valid,
    input  wire              in_last,
    input  wire [      31:0] in_data,
    output wire              in_ready,
    output reg               out_valid,
    output reg               out_first,
    output reg               out_last,
    output reg  [CODE_W-1:0] out_code,
    output reg  [       7:0] out_scale,
    output reg  [       7:0] out_scale_neg
);
  localparam integer EMAX = (MAXCODE >> MBITS) - 1 + EMIN;
  localparam integer IW = (BLOCK > 1) ? $clog2(BLOCK) : 1;  // element index width
  localparam integer EW = MBITS + 12;  // stored element: sign, exp 9, mant, guard, sticky
  localparam [31:0] LAST_IDX = BLOCK - 1;
  localparam [31:0] EMAX_C = EMAX;

  // ---- Input: normalize and compress.
  wire [EW-1:0] in_entry;
  wire in_special;
  mx_elem_compress #(
      .MBITS(MBITS)
  ) u_in (
      .data(in_data),
      .entry(in_entry),
      .special(in_special)
  );
  wire in_sign = in_entry[EW-1];
  wire [8:0] in_ev = in_entry[EW-2:EW-10];

  // ---- Buffer and control.
  reg [EW-1:0] mem[0:2*BLOCK-1];
  reg [1:0] full;
  // Per bank (bank b in bits [b*W +: W]; plain registers, not a memory): last element index, scale
  // codes.
  reg [2*IW-1:0] last_idx;
  reg [15:0] code_pos, code_neg;
  reg w_bank, r_bank;
  reg [IW-1:0] w_idx, r_idx;
  reg signed [8:0] max_pos, max_neg;  // largest exponent so far (-256: none)
  reg w_special;

  assign in_ready = ~full[w_bank];
  wire accept = in_valid & in_ready;
  wire closing = in_last | (w_idx == LAST_IDX[IW-1:0]);

  // Running maxima including the current element. Without SPLIT every element counts as "pos".
  wire signed [8:0] ev_s = in_ev;
  wire to_neg = (SPLIT != 0) & in_sign;
  wire signed [8:0] nx_pos = (!to_neg && ev_s > max_pos) ? ev_s : max_pos;
  wire signed [8:0] nx_neg = (to_neg && ev_s > max_neg) ? ev_s : max_neg;
  wire nx_special = w_special | in_special;

  // Scale code of a block whose largest exponent is m: clamp(m - EMAX, -127, 127) + 127.
  function [7:0] scale_code;
    input signed [8:0] m;
    input special;
    reg signed [10:0] s;
    begin
      s = {{2{m[8]}}, m} - EMAX_C[10:0];
      if (special) scale_code = 8'hff;
      else if (m == -9'sd256 || s < -11'sd127) scale_code = 8'd0;
      else if (s > 11'sd127) scale_code = 8'd254;
      else scale_code = s[7:0] + 8'd127;
    end
  endfunction

  always @(posedge clk) begin
    if (rst) begin
      w_bank <= 1'b0;
      w_idx <= {IW{1'b0}};
      max_pos <= -9'sd256;
      max_neg <= -9'sd256;
      w_special <= 1'b0;
    end else if (accept) begin
      mem[{w_bank, w_idx}] <= in_entry;
      if (closing) begin
        if (w_bank) begin
          last_idx[2*IW-1:IW] <= w_idx;
          code_pos[15:8] <= scale_code(nx_pos, nx_special);
          code_neg[15:8] <= scale_code(nx_neg, nx_special);
        end else begin
          last_idx[IW-1:0] <= w_idx;
          code_pos[7:0] <= scale_code(nx_pos, nx_special);
          code_neg[7:0] <= scale_code(nx_neg, nx_special);
        end
        w_bank <= ~w_bank;
        w_idx <= {IW{1'b0}};
        max_pos <= -9'sd256;
        max_neg <= -9'sd256;
        w_special <= 1'b0;
      end else begin
        w_idx <= w_idx + 1'b1;
        max_pos <= nx_pos;
        max_neg <= nx_neg;
        w_special <= nx_special;
      end
    end
  end

  // ---- Output: round the element at the read pointer against its block's scale.
  wire reading = full[r_bank];
  wire [EW-1:0] entry = mem[{r_bank, r_idx}];
  wire e_sign = entry[EW-1];
  wire e_zero = entry[EW-2:EW-10] == 9'h100;
  wire use_neg = (SPLIT != 0) & (e_sign | e_zero);  // x <= 0 uses S-
  wire [7:0] r_code_pos = r_bank ? code_pos[15:8] : code_pos[7:0];
  wire [7:0] r_code_neg = r_bank ? code_neg[15:8] : code_neg[7:0];
  wire [IW-1:0] r_last = r_bank ? last_idx[2*IW-1:IW] : last_idx[IW-1:0];
  wire [CODE_W-1:0] code;
  mx_elem_round #(
      .MBITS  (MBITS),
      .EMIN   (EMIN),
      .MAXCODE(MAXCODE),
      .CODE_W (CODE_W),
      .INT    (INT)
  ) u_out (
      .entry(entry),
      .scale(use_neg ? r_code_neg : r_code_pos),
      .round_away(round_away),
      .code(code)
  );

  always @(posedge clk) begin
    if (rst) begin
      full <= 2'b00;
      r_bank <= 1'b0;
      r_idx <= {IW{1'b0}};
      out_valid <= 1'b0;
    end else begin
      out_valid <= reading;
      if (reading) begin
        out_code <= code;
        out_first <= r_idx == {IW{1'b0}};
        out_last <= r_idx == r_last;
        out_scale <= r_code_pos;
        out_scale_neg <= (SPLIT != 0) ? r_code_neg : r_code_pos;
        if (r_idx == r_last) begin
          r_idx <= {IW{1'b0}};
          r_bank <= ~r_bank;
        end else begin
          r_idx <= r_idx + 1'b1;
        end
      end
      // A bank is full from its closing edge to the edge that reads its last element (never the
      // same bank: the writer needs it empty, the reader full).
      if (accept && closing) full[w_bank] <= 1'b1;
      if (reading && r_idx == r_last) full[r_bank] <= 1'b0;
    end
  end
endmodule

// Input stage of mx_quantizer: an FP32 value -> its compressed, normalized form
// {sign, e (9-bit two's complement, floor_log2|x|; -256 for a zero), the MBITS fraction bits
// after the leading one, the next (guard) bit, the OR of the rest (sticky)}: what rounding to an
// element with MBITS mantissa bits at any position at or above the guard needs. Subnormal inputs
// are normalized by a leading-one search. `special`: NaN or Inf.
module mx_elem_compress #(
    parameter MBITS = 1
) (
    input  wire [      31:0] data,
    output wire [MBITS+11:0] entry,
    output wire              special
);
  wire sign = data[31];
  wire [7:0] fexp = data[30:23];
  wire [22:0] frac = data[22:0];
  assign special = &fexp;
  wire zero = (fexp == 8'd0) & (frac == 23'd0);
  // Subnormal: leading one of the fraction at p, value 1.f' x 2^(p - 149).
  function [4:0] msb23;
    input [22:0] f;
    integer i;
    begin
      msb23 = 5'd0;
      for (i = 0; i < 23; i = i + 1) if (f[i]) msb23 = i[4:0];
    end
  endfunction
  wire [4:0] p = msb23(frac);
  wire [22:0] sub_norm = frac << (5'd22 - p);  // leading one at bit 22
  wire [22:0] frac_n = (fexp != 8'd0) ? frac : {sub_norm[21:0], 1'b0};
  wire [8:0] ev_norm = {1'b0, fexp} - 9'd127;
  wire [8:0] ev_sub = {4'd0, p} - 9'd149;
  wire [8:0] ev = zero ? 9'h100 : ((fexp != 8'd0) ? ev_norm : ev_sub);
  assign entry = {sign, ev, frac_n[22:23-MBITS], frac_n[22-MBITS], |frac_n[21-MBITS:0]};
  wire unused = sub_norm[22];
endmodule

// Output stage of mx_quantizer: a compressed element (mx_elem_compress) and its block's E8M0
// scale code -> the element code. e_y = e - S is the element's binade in the element type;
// below EMIN the significand shifts right (subnormal element). Round to nearest, ties to even
// (round_away = 0) or away from zero, on the kept bits, the guard bit and the sticky bit;
// saturate at MAXCODE; scale 0xFF (NaN block) -> 0. INT = 1: two's complement (MXINT8), else
// sign-magnitude with the sign kept for a zero magnitude.
module mx_elem_round #(
    parameter MBITS   = 1,
    parameter EMIN    = 0,
    parameter MAXCODE = 7,
    parameter CODE_W  = 4,
    parameter INT     = 0
) (
    input  wire [MBITS+11:0] entry,
    input  wire [       7:0] scale,
    input  wire              round_away,
    output wire [CODE_W-1:0] code
);
  localparam integer CW = MBITS + 3;  // {1, mant, guard, sticky}
  localparam [31:0] CW_C = CW;
  localparam [31:0] EMIN_C = EMIN;
  wire e_sign = entry[MBITS+11];
  wire [8:0] e_ev = entry[MBITS+10:MBITS+2];
  wire [CW-1:0] sigc = {1'b1, entry[MBITS+1:0]};
  // e_y = floor_log2(|V| / 2^S) = e - S; d = EMIN - e_y > 0: subnormal in the element type.
  wire signed [10:0] e_y = {{2{e_ev[8]}}, e_ev} - ({3'd0, scale} - 11'sd127);
  wire signed [11:0] d = EMIN_C[11:0] - {e_y[10], e_y};
  wire signed [11:0] cw12 = CW_C[11:0];
  wire normal = d <= 12'sd0;
  // Right shift of the significand beyond the normal position, capped where it is all gone.
  wire [4:0] dsh = normal ? 5'd0 : ((d >= cw12) ? CW_C[4:0] : d[4:0]);
  wire [2*CW-1:0] y = {sigc, {CW{1'b0}}} >> dsh;
  wire [MBITS:0] keep = y[2*CW-1:CW+2];
  wire half = y[CW+1];
  wire rest = |y[CW:0];
`ifdef QARCH_MUTANT_ROUNDING
  wire up = round_away ? half : half & keep[0];
  wire unused_rest = rest;
`else
  wire up = round_away ? half : half & (rest | keep[0]);
`endif
  // Code = (e_y - EMIN) << MBITS + keep + up (keep holds the hidden bit when normal); the
  // shared-exponent rule keeps e_y <= EMAX, so the exponent field fits.
  wire [11:0] efield = normal ? -d : 12'd0;
  wire [15:0] mag_full = ({4'd0, efield} << MBITS) + {{(15 - MBITS) {1'b0}}, keep} + {15'd0, up};
  wire [31:0] maxc = MAXCODE;
  wire [15:0] mag = (mag_full > maxc[15:0]) ? maxc[15:0] : mag_full;
  wire [CODE_W-1:0] code_fp = {e_sign, mag[CODE_W-2:0]};
  wire [CODE_W-1:0] code_int = e_sign ? (~mag[CODE_W-1:0] + 1'b1) : mag[CODE_W-1:0];
  assign code = (&scale) ? {CODE_W{1'b0}} : ((INT != 0) ? code_int : code_fp);
  wire unused = ^{mag[15:CODE_W], maxc[31:16], d[11:5]};
endmodule

// ---- The instances quant's formats use (harness and area flow).

// MXFP4: E2M1 elements (quant's mxfp4).
module mxfp4_quantizer #(
    parameter BLOCK = 32
) (
    input  wire        clk,
    input  wire        rst,
    input  wire        round_away,
    input  wire        in_valid,
    input  wire        in_last,
    input  wire [31:0] in_data,
    output wire        in_ready,
    output wire        out_valid,
    output wire        out_first,
    output wire        out_last,
    output wire [ 3:0] out_code,
    output wire [ 7:0] out_scale
);
  /* verilator lint_off PINCONNECTEMPTY */
  mx_quantizer #(
      .BLOCK(BLOCK),
      .MBITS(1),
      .EMIN(0),
      .MAXCODE(7),
      .CODE_W(4)
  ) u (
      .clk(clk),
      .rst(rst),
      .round_away(round_away),
      .in_valid(in_valid),
      .in_last(in_last),
      .in_data(in_data),
      .in_ready(in_ready),
      .out_valid(out_valid),
      .out_first(out_first),
      .out_last(out_last),
      .out_code(out_code),
      .out_scale(out_scale),
      .out_scale_neg()
  );
  /* verilator lint_on PINCONNECTEMPTY */
endmodule

// MXINT8: int8 elements x 2^-6, two's complement (quant's mxint8).
module mxint8_quantizer #(
    parameter BLOCK = 32
) (
    input  wire        clk,
    input  wire        rst,
    input  wire        round_away,
    input  wire        in_valid,
    input  wire        in_last,
    input  wire [31:0] in_data,
    output wire        in_ready,
    output wire        out_valid,
    output wire        out_first,
    output wire        out_last,
    output wire [ 7:0] out_code,
    output wire [ 7:0] out_scale
);
  /* verilator lint_off PINCONNECTEMPTY */
  mx_quantizer #(
      .BLOCK(BLOCK),
      .MBITS(7),
      .EMIN(1),
      .MAXCODE(127),
      .CODE_W(8),
      .INT(1)
  ) u (
      .clk(clk),
      .rst(rst),
      .round_away(round_away),
      .in_valid(in_valid),
      .in_last(in_last),
      .in_data(in_data),
      .in_ready(in_ready),
      .out_valid(out_valid),
      .out_first(out_first),
      .out_last(out_last),
      .out_code(out_code),
      .out_scale(out_scale),
      .out_scale_neg()
  );
  /* verilator lint_on PINCONNECTEMPTY */
endmodule

// AMXFP4 with power-of-two scales: E2M1 elements, S+ / S- per block (quant's amxfp4:scale=pot).
module amxfp4_pot_quantizer #(
    parameter BLOCK = 32
) (
    input  wire        clk,
    input  wire        rst,
    input  wire        round_away,
    input  wire        in_valid,
    input  wire        in_last,
    input  wire [31:0] in_data,
    output wire        in_ready,
    output wire        out_valid,
    output wire        out_first,
    output wire        out_last,
    output wire [ 3:0] out_code,
    output wire [       7:0] out_scale_neg,
    output wire [ 7:0] out_scale
);
  /* verilator lint_off PINCONNECTEMPTY */
  mx_quantizer #(
      .BLOCK(BLOCK),
      .MBITS(1),
      .EMIN(0),
      .MAXCODE(7),
      .CODE_W(4),
      .SPLIT(1)
  ) u (
      .clk(clk),
      .rst(rst),
      .round_away(round_away),
      .in_valid(in_valid),
      .in_last(in_last),
      .in_data(in_data),
      .in_ready(in_ready),
      .out_valid(out_valid),
      .out_first(out_first),
      .out_last(out_last),
      .out_code(out_code),
      .out_scale(out_scale),
      .out_scale_neg(out_scale_neg)
  );
  /* verilator lint_on PINCONNECTEMPTY */
endmodule

// MXFP8 with E4M3 elements (quant's mxfp8_e4m3).
module mxfp8_e4m3_quantizer #(
    parameter BLOCK = 32
) (
    input  wire        clk,
    input  wire        rst,
    input  wire        round_away,
    input  wire        in_valid,
    input  wire        in_last,
    input  wire [31:0] in_data,
    output wire        in_ready,
    output wire        out_valid,
    output wire        out_first,
    output wire        out_last,
    output wire [ 7:0] out_code,
    output wire [ 7:0] out_scale
);
  /* verilator lint_off PINCONNECTEMPTY */
  mx_quantizer #(
      .BLOCK(BLOCK),
      .MBITS(3),
      .EMIN(-6),
      .MAXCODE(126),
      .CODE_W(8)
  ) u (
      .clk(clk),
      .rst(rst),
      .round_away(round_away),
      .in_valid(in_valid),
      .in_last(in_last),
      .in_data(in_data),
      .in_ready(in_ready),
      .out_valid(out_valid),
      .out_first(out_first),
      .out_last(out_last),
      .out_code(out_code),
      .out_scale(out_scale),
      .out_scale_neg()
  );
  /* verilator lint_on PINCONNECTEMPTY */
endmodule
