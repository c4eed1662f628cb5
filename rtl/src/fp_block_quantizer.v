// Block quantizers whose scales are FP8 numbers computed by FP32 arithmetic: NVFP4
// (nvfp4_quantizer) and AMXFP4 with E5M2 / E4M3 scales (amxfp4_fp8_quantizer). Bit for bit
// quant/'s nvfp4_format.cpp and amxfp4_format.cpp (checked by tests/rtl/encoder_test.cpp),
// whose definitions round at every FP32 step:
//   NVFP4:  s_b = E4M3(fl(fl(amax_b * S_enc) / 6)),  q_i = E2M1(fl(fl(|x_i| * S_enc) / s_b))
//   AMXFP4: s+ = Q(fl(max_i x_i / 6)), s- = Q(fl(|min_i x_i| / 6)) (Q = E5M2 or E4M3, a zero
//           scale becomes 1), q_i = E2M1(fl(|x_i| / s+-)) (s+ for x_i > 0, s- for x_i <= 0)
// so the units compute those FP32 values exactly as IEEE round-to-nearest-even would: an FP32
// multiplier (fp32_mul_pos) and a correctly rounded FP32 divider by a number with a short
// significand (fp32_div_small: 6 = 1.1b x 2^2, or an FP8 scale), then the element / scale
// rounding of mx_quantizer.v (mx_elem_compress + mx_elem_round at scale 2^0: the FP8 / E2M1
// rounding of an FP32 value, RNE or half-away, saturating). FP32 results below 2^-126 (FP32
// subnormals) are flushed to 0: every such value is far below half the smallest element or
// scale they are rounded to (2^-10 for E4M3 scales, 2^-17 for E5M2, 2^-2 x s for elements with
// s >= 2^-16), so the flush changes no code.
// NVFP4's per-tensor S_enc = 2688 / amax(tensor) needs the whole tensor: it is an input (one
// FP32 register per tensor, from the tensor's amax pass upstream), as quant stores it in fp32[0].
//
// Architecture as mx_quantizer: streaming, a two-bank block buffer, one element per cycle in
// and out, latency L (the block length) edges, blocks back to back; in_last closes short blocks.
// The buffer holds the FP32 product |x| * S_enc (NVFP4) or |x| (AMXFP4) and x's sign: 32 bits.
// The multiply (input stage) and the divide + round (output stage) are single-cycle
// combinational here; at a real clock each would be pipelined (adding latency, not changing
// throughput).
// NaN / Inf anywhere in a block: scale code(s) 0x7F (the FP8 NaN) and element codes 0 (quant).

// FP32 product of two non-negative finite numbers, round to nearest even; a may be subnormal,
// b must be normal (or a is 0). Results below 2^-126 flush to 0; above the FP32 range -> Inf.
module fp32_mul_pos (
    input  wire [30:0] a,
    input  wire [30:0] b,
    output wire [30:0] p
);
  function [4:0] msb23;
    input [22:0] f;
    integer i;
    begin
      msb23 = 5'd0;
      for (i = 0; i < 23; i = i + 1) if (f[i]) msb23 = i[4:0];
    end
  endfunction
  wire [7:0] ea = a[30:23];
  wire [7:0] eb = b[30:23];
  wire a_zero = a == 31'd0;
  wire [4:0] pa = msb23(a[22:0]);
  wire [23:0] sub = {1'b0, a[22:0]} << (5'd23 - pa);  // leading one at bit 23
  wire [23:0] sig_a = (ea != 8'd0) ? {1'b1, a[22:0]} : sub;
  // Biased exponents with an offset of 256 (unsigned): a normal a: ea; a subnormal one: pa - 22.
  wire [10:0] ea_off = (ea != 8'd0) ? {3'd0, ea} + 11'd256 : {6'd0, pa} + 11'd234;
  wire [47:0] prod = sig_a * {1'b1, b[22:0]};
  wire hi = prod[47];
  wire [23:0] s0 = hi ? prod[47:24] : prod[46:23];
  wire g = hi ? prod[23] : prod[22];
  wire st = hi ? (|prod[22:0]) : (|prod[21:0]);
  wire [24:0] s1 = {1'b0, s0} + {24'd0, g & (st | s0[0])};
  // Biased result exponent + 383: ea + eb - 127 + (product >= 2) + (rounding carry).
  wire [10:0] e = ea_off + {3'd0, eb} + {10'd0, hi} + {10'd0, s1[24]};
  wire tiny = a_zero | (e < 11'd384);
  wire huge = e >= 11'd638;
  wire [10:0] eb_res = e - 11'd383;
  assign p = tiny ? 31'd0 : (huge ? {8'hff, 23'd0} : {eb_res[7:0], s1[24] ? 23'd0 : s1[22:0]});
  wire unused = ^{sub[23], eb_res[10:8], s1[23]};
endmodule

// q = fl(a / d), round to nearest even, for a non-negative FP32 a and a divisor d = sig_d x
// 2^(ed_off - 32 - (DW - 1)) with a normalized DW-bit significand (sig_d[DW-1] = 1). A subnormal
// or zero a gives 0, results below 2^-126 flush to 0, above the FP32 range Inf. Long division of
// the significands by restoring steps (DW + 1-bit remainder), two bits beyond the 24 kept, the
// remainder as the sticky bit.
module fp32_div_small #(
    parameter DW = 4
) (
    input  wire [  30:0] a,
    input  wire [DW-1:0] sig_d,
    input  wire [   5:0] ed_off,  // divisor exponent + 32 (-32 .. 31)
    output wire [  30:0] q
);
  localparam integer NW = 24 + DW + 2;  // dividend width: sig_a << (DW + 2)
  function [NW:0] divide;  // {remainder != 0, quotient}
    input [NW-1:0] n;
    input [DW-1:0] dv;
    reg [DW:0] r;
    reg [NW-1:0] qq;
    integer i;
    begin
      r  = {(DW + 1) {1'b0}};
      qq = {NW{1'b0}};
      for (i = NW - 1; i >= 0; i = i - 1) begin
        r = {r[DW-1:0], n[i]};
        if (r >= {1'b0, dv}) begin
          r = r - {1'b0, dv};
          qq[i] = 1'b1;
        end
      end
      divide = {|r, qq};
    end
  endfunction
  wire [7:0] ea = a[30:23];
  wire [NW:0] dq = divide({1'b1, a[22:0], {(DW + 2) {1'b0}}}, sig_d);
  // The quotient lies in [2^25, 2^27): 24 bits, guard, sticky from its top one.
  wire top = dq[26];
  wire [23:0] s0 = top ? dq[26:3] : dq[25:2];
  wire g = top ? dq[2] : dq[1];
  wire st = dq[NW] | (top ? (|dq[1:0]) : dq[0]);
  wire [24:0] s1 = {1'b0, s0} + {24'd0, g & (st | s0[0])};
  // Biased result exponent + 32: ea - ed + (top ? 0 : -1) + carry.
  wire [9:0] e = {2'd0, ea} + 10'd64 - {4'd0, ed_off} - {9'd0, ~top} + {9'd0, s1[24]};
  wire tiny = (ea == 8'd0) | (e < 10'd33);
  wire huge = e >= 10'd287;
  wire [9:0] eb_res = e - 10'd32;
  assign q = tiny ? 31'd0 : (huge ? {8'hff, 23'd0} : {eb_res[7:0], s1[24] ? 23'd0 : s1[22:0]});
  wire unused = ^{dq[NW-1:27], eb_res[9:8], s1[23]};
endmodule

// An FP8 scale code (sign 0) -> the divisor of fp32_div_small: normalized (MB + 1)-bit
// significand and exponent + 32 (subnormal codes normalized).
module fp8_scale_divisor #(
    parameter EB   = 4,
    parameter MB   = 3,
    parameter BIAS = 7
) (
    input  wire [EB+MB-1:0] code,
    output wire [     MB:0] sig_d,
    output wire [      5:0] ed_off
);
  localparam [31:0] MB_C = MB;
  localparam [31:0] BIAS_C = BIAS;
  wire [EB-1:0] ef = code[EB+MB-1:MB];
  wire [MB-1:0] m = code[MB-1:0];
  // Subnormal: value m x 2^(1 - BIAS - MB); leading one of m at pm.
  function [3:0] msb;
    input [MB-1:0] f;
    integer i;
    begin
      msb = 4'd0;
      for (i = 0; i < MB; i = i + 1) if (f[i]) msb = i[3:0];
    end
  endfunction
  wire [3:0] pm = msb(m);
  wire [MB:0] sub = {1'b0, m} << (MB_C[3:0] - pm);
  assign sig_d = (ef != 0) ? {1'b1, m} : sub;
  wire [7:0] e_norm = {{(8 - EB) {1'b0}}, ef} - BIAS_C[7:0] + 8'd32;
  wire [7:0] e_sub = {4'd0, pm} + (8'd33 - BIAS_C[7:0] - MB_C[7:0]);
  wire [7:0] e_sel = (ef != 0) ? e_norm : e_sub;
  assign ed_off = e_sel[5:0];
  wire unused = ^e_sel[7:6];
endmodule

// E2M1 element of fl(w / s) (w >= 0 in FP32, s an FP8 scale), with sign `sign`.
module e2m1_of_quotient #(
    parameter SEB   = 4,
    parameter SMB   = 3,
    parameter SBIAS = 7
) (
    input  wire [        30:0] w,
    input  wire                sign,
    input  wire [SEB+SMB-1:0]  scale,
    input  wire                round_away,
    output wire [         3:0] code
);
  wire [SMB:0] sig_d;
  wire [5:0] ed_off;
  fp8_scale_divisor #(
      .EB  (SEB),
      .MB  (SMB),
      .BIAS(SBIAS)
  ) u_d (
      .code(scale),
      .sig_d(sig_d),
      .ed_off(ed_off)
  );
  wire [30:0] q;
  fp32_div_small #(
      .DW(SMB + 1)
  ) u_div (
      .a(w),
      .sig_d(sig_d),
      .ed_off(ed_off),
      .q(q)
  );
  wire [12:0] entry;
  wire unused_special;
  mx_elem_compress #(
      .MBITS(1)
  ) u_c (
      .data({sign, q}),
      .entry(entry),
      .special(unused_special)
  );
  mx_elem_round #(
      .MBITS  (1),
      .EMIN   (0),
      .MAXCODE(7),
      .CODE_W (4)
  ) u_r (
      .entry(entry),
      .scale(8'd127),
      .round_away(round_away),
      .code(code)
  );
endmodule

// The FP8 code of fl(m / 6) (m >= 0 in FP32): RNE or half-away, saturating (E4M3: SMAX = 126,
// SEMIN = -6; E5M2: 123, -14).
module fp8_of_sixth #(
    parameter SMB   = 3,
    parameter SEMIN = -6,
    parameter SMAX  = 126,
    parameter SW    = 8
) (
    input  wire [  30:0] m,
    input  wire          round_away,
    output wire [SW-1:0] code
);
  wire [30:0] q;
  fp32_div_small #(
      .DW(2)
  ) u_div (
      .a(m),
      .sig_d(2'b11),  // 6 = 1.1b x 2^2
      .ed_off(6'd34),
      .q(q)
  );
  wire [SMB+11:0] entry;
  wire unused_special;
  mx_elem_compress #(
      .MBITS(SMB)
  ) u_c (
      .data({1'b0, q}),
      .entry(entry),
      .special(unused_special)
  );
  mx_elem_round #(
      .MBITS  (SMB),
      .EMIN   (SEMIN),
      .MAXCODE(SMAX),
      .CODE_W (SW)
  ) u_r (
      .entry(entry),
      .scale(8'd127),
      .round_away(round_away),
      .code(code)
  );
endmodule

// NVFP4 (quant's nvfp4): E2M1 elements, one E4M3 scale per block (16 by default), per-tensor
// FP32 s_enc input (held for the tensor). See the file comment.
module nvfp4_quantizer #(
    parameter BLOCK = 16
) (
    input  wire        clk,
    input  wire        rst,
    input  wire        round_away,
    input  wire [31:0] s_enc,
    input  wire        in_valid,
    input  wire        in_last,
    input  wire [31:0] in_data,
    output wire        in_ready,
    output reg         out_valid,
    output reg         out_first,
    output reg         out_last,
    output reg  [ 3:0] out_code,
    output reg  [ 7:0] out_scale
);
  localparam integer IW = (BLOCK > 1) ? $clog2(BLOCK) : 1;
  localparam [31:0] LAST_IDX = BLOCK - 1;
  // ---- Input: w = fl(|x| * S_enc), kept with x's sign; running max of w; NaN/Inf flag.
  wire [30:0] w_in;
  fp32_mul_pos u_mul (
      .a(in_data[30:0]),
      .b(s_enc[30:0]),
      .p(w_in)
  );
  wire in_special = &in_data[30:23];
  reg [31:0] mem[0:2*BLOCK-1];
  reg [1:0] full;
  reg [2*IW-1:0] last_idx;
  reg [15:0] scode;  // E4M3 scale code per bank
  reg w_bank, r_bank;
  reg [IW-1:0] w_idx, r_idx;
  reg [30:0] wmax;
  reg w_special;
  assign in_ready = ~full[w_bank];
  wire accept = in_valid & in_ready;
  wire closing = in_last | (w_idx == LAST_IDX[IW-1:0]);
  wire [30:0] nx_max = (w_in > wmax) ? w_in : wmax;
  wire nx_special = w_special | in_special;
  // Block scale: E4M3(fl(max w / 6)), the E4M3 NaN 0x7F for a NaN/Inf block.
  wire [7:0] sb;
  fp8_of_sixth #(
      .SMB  (3),
      .SEMIN(-6),
      .SMAX (126),
      .SW   (8)
  ) u_sb (
      .m(nx_max),
      .round_away(round_away),
      .code(sb)
  );
  wire [7:0] sb_code = nx_special ? 8'h7f : sb;
  always @(posedge clk) begin
    if (rst) begin
      w_bank <= 1'b0;
      w_idx <= {IW{1'b0}};
      wmax <= 31'd0;
      w_special <= 1'b0;
    end else if (accept) begin
      mem[{w_bank, w_idx}] <= {in_data[31], w_in};
      if (closing) begin
        if (w_bank) begin
          last_idx[2*IW-1:IW] <= w_idx;
          scode[15:8] <= sb_code;
        end else begin
          last_idx[IW-1:0] <= w_idx;
          scode[7:0] <= sb_code;
        end
        w_bank <= ~w_bank;
        w_idx <= {IW{1'b0}};
        wmax <= 31'd0;
        w_special <= 1'b0;
      end else begin
        w_idx <= w_idx + 1'b1;
        wmax <= nx_max;
        w_special <= nx_special;
      end
    end
  end
  // ---- Output: E2M1(fl(w / s_b)); scale 0 or NaN -> code 0.
  wire reading = full[r_bank];
  wire [31:0] entry = mem[{r_bank, r_idx}];
  wire [7:0] r_scode = r_bank ? scode[15:8] : scode[7:0];
  wire [IW-1:0] r_last = r_bank ? last_idx[2*IW-1:IW] : last_idx[IW-1:0];
  wire [3:0] q_code;
  e2m1_of_quotient #(
      .SEB  (4),
      .SMB  (3),
      .SBIAS(7)
  ) u_q (
      .w(entry[30:0]),
      .sign(entry[31]),
      .scale(r_scode[6:0]),
      .round_away(round_away),
      .code(q_code)
  );
  wire blk_zero = (r_scode == 8'd0) | (r_scode == 8'h7f);
  always @(posedge clk) begin
    if (rst) begin
      full <= 2'b00;
      r_bank <= 1'b0;
      r_idx <= {IW{1'b0}};
      out_valid <= 1'b0;
    end else begin
      out_valid <= reading;
      if (reading) begin
        out_code <= blk_zero ? 4'd0 : q_code;
        out_first <= r_idx == {IW{1'b0}};
        out_last <= r_idx == r_last;
        out_scale <= r_scode;
        if (r_idx == r_last) begin
          r_idx <= {IW{1'b0}};
          r_bank <= ~r_bank;
        end else begin
          r_idx <= r_idx + 1'b1;
        end
      end
      if (accept && closing) full[w_bank] <= 1'b1;
      if (reading && r_idx == r_last) full[r_bank] <= 1'b0;
    end
  end
  wire unused = ^{s_enc[31], r_scode[7]};
endmodule

// AMXFP4 with FP8 scales (quant's amxfp4:scale=e5m2, the default "AMXFP4-FP8", or e4m3 with
// SEB = 4, SMB = 3, SBIAS = 7, SEMIN = -6, SMAX = 126, ONE = 56): per block s+ from the largest
// element > 0 and s- from the largest |element| < 0, each Q(fl(m / 6)) with a zero scale
// replaced by 1.0 (code ONE); each element E2M1(fl(|x| / s)) with s+ for x > 0, s- for x <= 0.
module amxfp4_fp8_quantizer #(
    parameter BLOCK = 32,
    parameter SEB   = 5,
    parameter SMB   = 2,
    parameter SBIAS = 15,
    parameter SEMIN = -14,
    parameter SMAX  = 123,
    parameter ONE   = 60     // 0x3c: E5M2 1.0 (E4M3: 56 = 0x38)
) (
    input  wire       clk,
    input  wire       rst,
    input  wire       round_away,
    input  wire       in_valid,
    input  wire       in_last,
    input  wire [31:0] in_data,
    output wire       in_ready,
    output reg        out_valid,
    output reg        out_first,
    output reg        out_last,
    output reg  [3:0] out_code,
    output reg  [7:0] out_scale_pos,
    output reg  [7:0] out_scale_neg
);
  localparam integer IW = (BLOCK > 1) ? $clog2(BLOCK) : 1;
  localparam [31:0] LAST_IDX = BLOCK - 1;
  localparam [31:0] ONE_32 = ONE;
  localparam [7:0] ONE_C = ONE_32[7:0];
  wire in_special = &in_data[30:23];
  wire in_neg = in_data[31] & (|in_data[30:0]);  // x < 0
  reg [31:0] mem[0:2*BLOCK-1];
  reg [1:0] full;
  reg [2*IW-1:0] last_idx;
  reg [15:0] sp, sn;  // scale codes per bank
  reg w_bank, r_bank;
  reg [IW-1:0] w_idx, r_idx;
  reg [30:0] pmax, nmax;
  reg w_special;
  assign in_ready = ~full[w_bank];
  wire accept = in_valid & in_ready;
  wire closing = in_last | (w_idx == LAST_IDX[IW-1:0]);
  wire [30:0] nx_p = (!in_neg && in_data[30:0] > pmax) ? in_data[30:0] : pmax;
  wire [30:0] nx_n = (in_neg && in_data[30:0] > nmax) ? in_data[30:0] : nmax;
  wire nx_special = w_special | in_special;
  wire [7:0] cp, cn;
  fp8_of_sixth #(
      .SMB  (SMB),
      .SEMIN(SEMIN),
      .SMAX (SMAX),
      .SW   (8)
  ) u_sp (
      .m(nx_p),
      .round_away(round_away),
      .code(cp)
  );
  fp8_of_sixth #(
      .SMB  (SMB),
      .SEMIN(SEMIN),
      .SMAX (SMAX),
      .SW   (8)
  ) u_sn (
      .m(nx_n),
      .round_away(round_away),
      .code(cn)
  );
  wire [7:0] cp_c = nx_special ? 8'h7f : ((cp == 8'd0) ? ONE_C : cp);
  wire [7:0] cn_c = nx_special ? 8'h7f : ((cn == 8'd0) ? ONE_C : cn);
  always @(posedge clk) begin
    if (rst) begin
      w_bank <= 1'b0;
      w_idx <= {IW{1'b0}};
      pmax <= 31'd0;
      nmax <= 31'd0;
      w_special <= 1'b0;
    end else if (accept) begin
      mem[{w_bank, w_idx}] <= in_data;
      if (closing) begin
        if (w_bank) begin
          last_idx[2*IW-1:IW] <= w_idx;
          sp[15:8] <= cp_c;
          sn[15:8] <= cn_c;
        end else begin
          last_idx[IW-1:0] <= w_idx;
          sp[7:0] <= cp_c;
          sn[7:0] <= cn_c;
        end
        w_bank <= ~w_bank;
        w_idx <= {IW{1'b0}};
        pmax <= 31'd0;
        nmax <= 31'd0;
        w_special <= 1'b0;
      end else begin
        w_idx <= w_idx + 1'b1;
        pmax <= nx_p;
        nmax <= nx_n;
        w_special <= nx_special;
      end
    end
  end
  wire reading = full[r_bank];
  wire [31:0] entry = mem[{r_bank, r_idx}];
  wire [7:0] r_sp = r_bank ? sp[15:8] : sp[7:0];
  wire [7:0] r_sn = r_bank ? sn[15:8] : sn[7:0];
  wire [IW-1:0] r_last = r_bank ? last_idx[2*IW-1:IW] : last_idx[IW-1:0];
  wire e_pos = ~entry[31] & (|entry[30:0]);  // x > 0 uses s+
  wire [7:0] sel = e_pos ? r_sp : r_sn;
  wire [3:0] q_code;
  e2m1_of_quotient #(
      .SEB  (SEB),
      .SMB  (SMB),
      .SBIAS(SBIAS)
  ) u_q (
      .w(entry[30:0]),
      .sign(entry[31]),
      .scale(sel[SEB+SMB-1:0]),
      .round_away(round_away),
      .code(q_code)
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
        out_code <= (r_sp == 8'h7f) ? 4'd0 : q_code;
        out_first <= r_idx == {IW{1'b0}};
        out_last <= r_idx == r_last;
        out_scale_pos <= r_sp;
        out_scale_neg <= r_sn;
        if (r_idx == r_last) begin
          r_idx <= {IW{1'b0}};
          r_bank <= ~r_bank;
        end else begin
          r_idx <= r_idx + 1'b1;
        end
      end
      if (accept && closing) full[w_bank] <= 1'b1;
      if (reading && r_idx == r_last) full[r_bank] <= 1'b0;
    end
  end
  wire unused = ^sel[7:SEB+SMB];
endmodule
