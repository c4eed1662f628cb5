// Border decoders of the block-format arrays. Checked exhaustively against quant/'s
// fp_decode_pair and the formats' decode_operand by tests/rtl.

// BFP element: P-bit sign-magnitude code (sign in bit P-1) -> two's complement; -0 -> 0
// (quant/src/bfp_formats.cpp: the encoder never emits -0, the decoder reads it as 0).
module bfp_elem_decoder #(
    parameter P = 4
) (
    input  wire [P-1:0] code,
    output wire [P-1:0] mant
);
  wire [P-1:0] mag = {1'b0, code[P-2:0]};
  assign mant = code[P-1] ? (~mag + 1'b1) : mag;
endmodule

// NVFP4 (formats.md "NVFP4"): an E2M1 element and its block's E4M3 scale, both decoded to
// exponent-integer pairs; the FP32 tensor scale is applied once per output, outside.
module nvfp4_decoder (
    input  wire [3:0] elem,
    input  wire [7:0] scale,
    output wire [1:0] elem_shift,
    output wire [2:0] elem_mant,
    output wire [3:0] scale_shift,
    output wire [4:0] scale_mant,
    output wire       scale_nan
);
  fp_elem_decoder #(
      .EBITS(2),
      .MBITS(1)
  ) u_e (
      .code(elem),
      .shift(elem_shift),
      .mant(elem_mant),
      .special()
  );
  fp_elem_decoder #(
      .EBITS(4),
      .MBITS(3),
      .SPECIALS(1)
  ) u_s (
      .code(scale),
      .shift(scale_shift),
      .mant(scale_mant),
      .special(scale_nan)
  );
endmodule

// AMXFP4 (formats.md "AMXFP4"): an E2M1 element and its block's two scales (for positive and
// for negative elements; E5M2 by default, the published AMXFP4-FP8, or E4M3 with SEBITS = 4,
// SMBITS = 3, SSPECIALS = 1). Outputs the element pair, whether it uses the negative scale
// (mant < 0, quant's sign_split rule) and the decoded scale it uses.
module amxfp4_decoder #(
    parameter SEBITS    = 5,
    parameter SMBITS    = 2,
    parameter SSPECIALS = 2
) (
    input  wire [              3:0] elem,
    input  wire [SEBITS+SMBITS:0] scale_pos,
    input  wire [SEBITS+SMBITS:0] scale_neg,
    output wire [              1:0] elem_shift,
    output wire [              2:0] elem_mant,
    output wire                     neg,
    output wire [       SEBITS-1:0] scale_shift,
    output wire [       SMBITS+1:0] scale_mant,
    output wire                     scale_special
);
  fp_elem_decoder #(
      .EBITS(2),
      .MBITS(1)
  ) u_e (
      .code(elem),
      .shift(elem_shift),
      .mant(elem_mant),
      .special()
  );
  assign neg = elem_mant[2];
  wire [SEBITS+SMBITS:0] scale = neg ? scale_neg : scale_pos;
  fp_elem_decoder #(
      .EBITS(SEBITS),
      .MBITS(SMBITS),
      .SPECIALS(SSPECIALS)
  ) u_s (
      .code(scale),
      .shift(scale_shift),
      .mant(scale_mant),
      .special(scale_special)
  );
endmodule
