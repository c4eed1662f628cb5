// `qarch verify --unit ovp4_encoder`: the olive4 OVP pair encoder (rtl/src/ovp_encoder.v, the
// online quantizer): two FP32 values x / s in, one OVP byte and its pair class out, registered.
// A drop-in ovp_encoder (--rtl) must have its ports and the parameters BITS, EBITS, MBITS.
module verify_ovp4_encoder (
    input  wire        clk,
    input  wire        valid,
    input  wire        victim_even,
    input  wire        ties_up,
    input  wire [31:0] v_even,
    input  wire [31:0] v_odd,
    output wire        out_valid,
    output wire [ 7:0] pair,
    output wire [ 1:0] cls
);
  ovp_encoder #(
      .BITS (4),
      .EBITS(2),
      .MBITS(1)
  ) u_enc (
      .clk(clk),
      .in_valid(valid),
      .victim_even(victim_even),
      .ties_up(ties_up),
      .v_even(v_even),
      .v_odd(v_odd),
      .out_valid(out_valid),
      .out_pair(pair),
      .out_cls(cls)
  );
endmodule
