// `qarch verify --unit ovp4_pe`: two olive4 OVP pair decoders (A and W bytes) feed one ovp4_pe;
// sel picks the even (0) or odd (1) element of each pair. A drop-in ovp4_pe (--rtl) must have
// ovp4_pe's ports (rtl/src/ovp4_pe.v) and parameters SHIFT_W, ACC_W.
module verify_ovp4_pe (
    input  wire        clk,
    input  wire        valid,
    input  wire        first,
    input  wire        sel,
    input  wire [ 7:0] a_pair,
    input  wire [ 7:0] w_pair,
    output wire [31:0] acc
);
  wire [2:0] a_se, a_so, w_se, w_so;
  wire [3:0] a_me, a_mo, w_me, w_mo;
  ovp_decoder #(
      .BITS(4),
      .EBITS(2),
      .MBITS(1),
      .SHIFT_W(3)
  ) u_dec_a (
      .pair(a_pair),
      .shift_even(a_se),
      .mant_even(a_me),
      .shift_odd(a_so),
      .mant_odd(a_mo)
  );
  ovp_decoder #(
      .BITS(4),
      .EBITS(2),
      .MBITS(1),
      .SHIFT_W(3)
  ) u_dec_w (
      .pair(w_pair),
      .shift_even(w_se),
      .mant_even(w_me),
      .shift_odd(w_so),
      .mant_odd(w_mo)
  );
  ovp4_pe #(
      .SHIFT_W(3),
      .ACC_W  (32)
  ) u_pe (
      .clk(clk),
      .in_valid(valid),
      .in_first(first),
      .a_shift(sel ? a_so : a_se),
      .a_mant(sel ? a_mo : a_me),
      .a_uns(1'b0),
      .w_shift(sel ? w_so : w_se),
      .w_mant(sel ? w_mo : w_me),
      .w_uns(1'b0),
      .acc(acc)
  );
endmodule
