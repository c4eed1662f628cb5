// E2M1 x E2M1 product: two element decoders and an exponent-integer multiply. The result is an
// exact integer in units of 2^(2 * ulp_exp) = 1/4: (ma * mb) << (sa + sb), |.| <= 9 << 4 = 144.
module e2m1_mul (
    input  wire [3:0] a,
    input  wire [3:0] b,
    output wire [8:0] prod  // two's complement
);
  wire [1:0] sa, sb;
  wire [2:0] ma, mb;
  fp_elem_decoder #(
      .EBITS(2),
      .MBITS(1)
  ) u_a (
      .code(a),
      .shift(sa),
      .mant(ma),
      .special()
  );
  fp_elem_decoder #(
      .EBITS(2),
      .MBITS(1)
  ) u_b (
      .code(b),
      .shift(sb),
      .mant(mb),
      .special()
  );
  wire signed [5:0] p = $signed(ma) * $signed(mb);
  wire [2:0] s = {1'b0, sa} + {1'b0, sb};
  wire signed [8:0] p9 = {{3{p[5]}}, p};
  assign prod = p9 <<< s;
endmodule
