// `qarch verify --unit int8_mac`: one int8_mac (rtl/src/int8_mac.v) with an int32 accumulator.
// A drop-in int8_mac (--rtl) must have its ports and the parameter ACC_W.
module verify_int8_mac (
    input  wire        clk,
    input  wire        valid,
    input  wire        first,
    input  wire [ 7:0] a,
    input  wire [ 7:0] w,
    output wire [31:0] acc
);
  int8_mac #(
      .ACC_W(32)
  ) u_pe (
      .clk(clk),
      .in_valid(valid),
      .in_first(first),
      .a(a),
      .w(w),
      .acc(acc)
  );
endmodule
