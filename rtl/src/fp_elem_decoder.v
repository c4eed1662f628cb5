// FP element decoder (the MX element decoder; also NVFP4's and AMXFP4's E2M1 elements and
// their E4M3 / E5M2 scales): a sign-exponent-mantissa code in, the exponent-integer pair
// <shift, mant> out, value = mant * 2^shift * 2^(emin - MBITS) (quant/'s fp_decode_pair,
// checked exhaustively against it by tests/rtl):
//   normal (exp field e > 0): mant = +-(2^MBITS + m), shift = e - 1
//   subnormal (e == 0):       mant = +-m,             shift = 0
// `special` flags NaN/Inf codes: SPECIALS = 0 none (E2M1, E2M3, E3M2), 1 = only S.1..1.1..1 is
// NaN (E4M3), 2 = the top exponent is Inf/NaN (E5M2). Facts: OCP MX v1.0 section 5.3, OCP OFP8.
module fp_elem_decoder #(
    parameter EBITS    = 2,
    parameter MBITS    = 1,
    parameter SPECIALS = 0
) (
    input  wire [EBITS+MBITS:0] code,
    output wire [    EBITS-1:0] shift,    // 0 .. 2^EBITS - 2
    output wire [    MBITS+1:0] mant,     // two's complement, |mant| < 2^(MBITS+1)
    output wire                 special
);
  wire [EBITS-1:0] e = code[EBITS+MBITS-1:MBITS];
  wire normal = |e;
  wire [MBITS+1:0] mag;
  generate
    if (MBITS > 0) begin : g_m
      assign mag = {1'b0, normal, code[MBITS-1:0]};
    end else begin : g_nom
      assign mag = {1'b0, normal};
    end
  endgenerate
  assign mant  = code[EBITS+MBITS] ? (~mag + 1'b1) : mag;
  assign shift = normal ? e - 1'b1 : {EBITS{1'b0}};
  generate
    if (SPECIALS == 1) begin : g_nan
      assign special = (&e) & (&code[MBITS-1:0]);
    end else if (SPECIALS == 2) begin : g_ieee
      assign special = &e;
    end else begin : g_none
      assign special = 1'b0;
    end
  endgenerate
endmodule
