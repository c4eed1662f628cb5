// OliVe 8-bit mode on four 4-bit PEs (Guo et al., OliVe, ISCA 2023, section 4; the split is
// quant/'s ovp8_split, checked against it by tests/rtl): a decoded 8-bit element <s, m> splits
// into a high part <s + 4, m >>> 4> (signed, [-8, 7]) and a low part <s, m & 15> (unsigned,
// [0, 15]); x * y = hi*hi + hi*lo + lo*hi + lo*lo, one ovp4_pe each. The four accumulators
// are summed when read (acc).
//
// Widths: with the paper's E4M3 outliers a shift reaches 19 (+4 for a high part), a product
// 46 bits, so ACC_W defaults to 64; with the authors' E2M5 outliers 32 bits would do.
module ovp8_pe #(
    parameter SHIFT_W = 5,  // per-operand shift of the decoded 8-bit element (E4M3: 0..19)
    parameter ACC_W   = 64
) (
    input  wire                    clk,
    input  wire                    in_valid,
    input  wire                    in_first,
    input  wire [     SHIFT_W-1:0] a_shift,
    input  wire [             7:0] a_mant,
    input  wire [     SHIFT_W-1:0] w_shift,
    input  wire [             7:0] w_mant,
    output wire signed [ACC_W-1:0] acc,
    // the split operands, exposed for the checks
    output wire [     SHIFT_W-1:0] a_hi_shift,
    output wire [             3:0] a_hi_mant,
    output wire [             3:0] a_lo_mant,
    output wire [     SHIFT_W-1:0] w_hi_shift,
    output wire [             3:0] w_hi_mant,
    output wire [             3:0] w_lo_mant
);
  localparam [SHIFT_W-1:0] FOUR = 4;
  assign a_hi_shift = a_shift + FOUR;
  assign a_hi_mant  = a_mant[7:4];
  assign a_lo_mant  = a_mant[3:0];
  assign w_hi_shift = w_shift + FOUR;
  assign w_hi_mant  = w_mant[7:4];
  assign w_lo_mant  = w_mant[3:0];

  wire signed [ACC_W-1:0] acc_hh, acc_hl, acc_lh, acc_ll;
  ovp4_pe #(
      .SHIFT_W(SHIFT_W),
      .ACC_W  (ACC_W)
  ) u_hh (
      .clk(clk),
      .in_valid(in_valid),
      .in_first(in_first),
      .a_shift(a_hi_shift),
      .a_mant(a_hi_mant),
      .a_uns(1'b0),
      .w_shift(w_hi_shift),
      .w_mant(w_hi_mant),
      .w_uns(1'b0),
      .acc(acc_hh)
  );
  ovp4_pe #(
      .SHIFT_W(SHIFT_W),
      .ACC_W  (ACC_W)
  ) u_hl (
      .clk(clk),
      .in_valid(in_valid),
      .in_first(in_first),
      .a_shift(a_hi_shift),
      .a_mant(a_hi_mant),
      .a_uns(1'b0),
      .w_shift(w_shift),
      .w_mant(w_lo_mant),
      .w_uns(1'b1),
      .acc(acc_hl)
  );
  ovp4_pe #(
      .SHIFT_W(SHIFT_W),
      .ACC_W  (ACC_W)
  ) u_lh (
      .clk(clk),
      .in_valid(in_valid),
      .in_first(in_first),
      .a_shift(a_shift),
      .a_mant(a_lo_mant),
      .a_uns(1'b1),
      .w_shift(w_hi_shift),
      .w_mant(w_hi_mant),
      .w_uns(1'b0),
      .acc(acc_lh)
  );
  ovp4_pe #(
      .SHIFT_W(SHIFT_W),
      .ACC_W  (ACC_W)
  ) u_ll (
      .clk(clk),
      .in_valid(in_valid),
      .in_first(in_first),
      .a_shift(a_shift),
      .a_mant(a_lo_mant),
      .a_uns(1'b1),
      .w_shift(w_shift),
      .w_mant(w_lo_mant),
      .w_uns(1'b1),
      .acc(acc_ll)
  );
  assign acc = acc_hh + acc_hl + acc_lh + acc_ll;
endmodule
