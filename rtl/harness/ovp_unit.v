// Harness top (for Verilator) for the OliVe blocks (tests/rtl/ovp_test.cpp). Each section has
// its own clock so a test drives only the logic it checks. Also verilated with
// QARCH_MUTANT_DROP_SHIFT (the mutant ovp4_pe) under the same port names, so one C++ check runs
// on both.
//
// ovp4: two OVP pair decoders (A and W bytes) feed one ovp4_pe; ovp4_sel picks the even (0)
//       or odd (1) element of each pair for the PE. The A decoder's outputs are exposed.
// ovp8: olive8 pair decoders for both outlier types (ovp8_type 0 = E4M3, the paper's;
//       1 = E2M5, the authors' code) feed one ovp8_pe (four 4-bit PEs); ovp8_sel as above.
module ovp_unit (
    input  wire        ovp4_clk,
    input  wire        ovp4_valid,
    input  wire        ovp4_first,
    input  wire        ovp4_sel,
    input  wire [ 7:0] ovp4_a_pair,
    input  wire [ 7:0] ovp4_w_pair,
    output wire [ 2:0] ovp4_dec_shift_even,
    output wire [ 3:0] ovp4_dec_mant_even,
    output wire [ 2:0] ovp4_dec_shift_odd,
    output wire [ 3:0] ovp4_dec_mant_odd,
    output wire [31:0] ovp4_acc,

    input  wire        ovp8_clk,
    input  wire        ovp8_valid,
    input  wire        ovp8_first,
    input  wire        ovp8_sel,
    input  wire        ovp8_type,
    input  wire [15:0] ovp8_a_pair,
    input  wire [15:0] ovp8_w_pair,
    output wire [ 4:0] ovp8_dec_shift_even,
    output wire [ 7:0] ovp8_dec_mant_even,
    output wire [ 4:0] ovp8_dec_shift_odd,
    output wire [ 7:0] ovp8_dec_mant_odd,
    output wire [ 4:0] ovp8_a_hi_shift,
    output wire [ 3:0] ovp8_a_hi_mant,
    output wire [ 3:0] ovp8_a_lo_mant,
    output wire [63:0] ovp8_acc
);
  // ---- 4-bit
  wire [2:0] w4_se, w4_so;
  wire [3:0] w4_me, w4_mo;
  ovp_decoder #(
      .BITS(4),
      .EBITS(2),
      .MBITS(1),
      .SHIFT_W(3)
  ) u_dec4_a (
      .pair(ovp4_a_pair),
      .shift_even(ovp4_dec_shift_even),
      .mant_even(ovp4_dec_mant_even),
      .shift_odd(ovp4_dec_shift_odd),
      .mant_odd(ovp4_dec_mant_odd)
  );
  ovp_decoder #(
      .BITS(4),
      .EBITS(2),
      .MBITS(1),
      .SHIFT_W(3)
  ) u_dec4_w (
      .pair(ovp4_w_pair),
      .shift_even(w4_se),
      .mant_even(w4_me),
      .shift_odd(w4_so),
      .mant_odd(w4_mo)
  );
  ovp4_pe #(
      .SHIFT_W(3),
      .ACC_W  (32)
  ) u_pe4 (
      .clk(ovp4_clk),
      .in_valid(ovp4_valid),
      .in_first(ovp4_first),
      .a_shift(ovp4_sel ? ovp4_dec_shift_odd : ovp4_dec_shift_even),
      .a_mant(ovp4_sel ? ovp4_dec_mant_odd : ovp4_dec_mant_even),
      .a_uns(1'b0),
      .w_shift(ovp4_sel ? w4_so : w4_se),
      .w_mant(ovp4_sel ? w4_mo : w4_me),
      .w_uns(1'b0),
      .acc(ovp4_acc)
  );

  // ---- 8-bit
  wire [4:0] a8a_se, a8a_so, w8a_se, w8a_so;  // E4M3 outliers
  wire [7:0] a8a_me, a8a_mo, w8a_me, w8a_mo;
  wire [2:0] a8b_se, a8b_so, w8b_se, w8b_so;  // E2M5 outliers
  wire [7:0] a8b_me, a8b_mo, w8b_me, w8b_mo;
  ovp_decoder #(
      .BITS(8),
      .EBITS(4),
      .MBITS(3),
      .SHIFT_W(5)
  ) u_dec8a_a (
      .pair(ovp8_a_pair),
      .shift_even(a8a_se),
      .mant_even(a8a_me),
      .shift_odd(a8a_so),
      .mant_odd(a8a_mo)
  );
  ovp_decoder #(
      .BITS(8),
      .EBITS(4),
      .MBITS(3),
      .SHIFT_W(5)
  ) u_dec8a_w (
      .pair(ovp8_w_pair),
      .shift_even(w8a_se),
      .mant_even(w8a_me),
      .shift_odd(w8a_so),
      .mant_odd(w8a_mo)
  );
  ovp_decoder #(
      .BITS(8),
      .EBITS(2),
      .MBITS(5),
      .SHIFT_W(3)
  ) u_dec8b_a (
      .pair(ovp8_a_pair),
      .shift_even(a8b_se),
      .mant_even(a8b_me),
      .shift_odd(a8b_so),
      .mant_odd(a8b_mo)
  );
  ovp_decoder #(
      .BITS(8),
      .EBITS(2),
      .MBITS(5),
      .SHIFT_W(3)
  ) u_dec8b_w (
      .pair(ovp8_w_pair),
      .shift_even(w8b_se),
      .mant_even(w8b_me),
      .shift_odd(w8b_so),
      .mant_odd(w8b_mo)
  );
  assign ovp8_dec_shift_even = ovp8_type ? {2'b0, a8b_se} : a8a_se;
  assign ovp8_dec_mant_even  = ovp8_type ? a8b_me : a8a_me;
  assign ovp8_dec_shift_odd  = ovp8_type ? {2'b0, a8b_so} : a8a_so;
  assign ovp8_dec_mant_odd   = ovp8_type ? a8b_mo : a8a_mo;
  wire [4:0] w8_se = ovp8_type ? {2'b0, w8b_se} : w8a_se;
  wire [4:0] w8_so = ovp8_type ? {2'b0, w8b_so} : w8a_so;
  wire [7:0] w8_me = ovp8_type ? w8b_me : w8a_me;
  wire [7:0] w8_mo = ovp8_type ? w8b_mo : w8a_mo;
  /* verilator lint_off PINCONNECTEMPTY */
  ovp8_pe #(
      .SHIFT_W(5),
      .ACC_W  (64)
  ) u_pe8 (
      .clk(ovp8_clk),
      .in_valid(ovp8_valid),
      .in_first(ovp8_first),
      .a_shift(ovp8_sel ? ovp8_dec_shift_odd : ovp8_dec_shift_even),
      .a_mant(ovp8_sel ? ovp8_dec_mant_odd : ovp8_dec_mant_even),
      .w_shift(ovp8_sel ? w8_so : w8_se),
      .w_mant(ovp8_sel ? w8_mo : w8_me),
      .acc(ovp8_acc),
      .a_hi_shift(ovp8_a_hi_shift),
      .a_hi_mant(ovp8_a_hi_mant),
      .a_lo_mant(ovp8_a_lo_mant),
      .w_hi_shift(),
      .w_hi_mant(),
      .w_lo_mant()
  );
  /* verilator lint_on PINCONNECTEMPTY */
endmodule
