// Harness top (for Verilator) for the systolic cores (tests/rtl/array_test.cpp): the OliVe
// 4-bit core (border OVP decoders + ovp4_pe array) and the INT8 core, each ROWS x COLS, own
// clocks.
module array_unit #(
    parameter ROWS = 4,
    parameter COLS = 4
) (
    input  wire                   ovp_clk,
    input  wire                   ovp_rst,
    input  wire                   ovp_pair_valid,
    input  wire                   ovp_pair_first,
    input  wire [     ROWS*8-1:0] ovp_a_pairs,
    input  wire [     COLS*8-1:0] ovp_w_pairs,
    output wire [ROWS*COLS*32-1:0] ovp_acc,

    input  wire                   int8_clk,
    input  wire                   int8_rst,
    input  wire                   int8_valid,
    input  wire                   int8_first,
    input  wire [     ROWS*8-1:0] int8_a,
    input  wire [     COLS*8-1:0] int8_w,
    output wire [ROWS*COLS*32-1:0] int8_acc
);
  ovp4_array_top #(
      .ROWS (ROWS),
      .COLS (COLS),
      .ACC_W(32)
  ) u_ovp (
      .clk(ovp_clk),
      .rst(ovp_rst),
      .pair_valid(ovp_pair_valid),
      .pair_first(ovp_pair_first),
      .a_pairs(ovp_a_pairs),
      .w_pairs(ovp_w_pairs),
      .acc(ovp_acc)
  );
  int8_array_top #(
      .ROWS (ROWS),
      .COLS (COLS),
      .ACC_W(32)
  ) u_int8 (
      .clk(int8_clk),
      .rst(int8_rst),
      .in_valid(int8_valid),
      .in_first(int8_first),
      .a(int8_a),
      .w(int8_w),
      .acc(int8_acc)
  );
endmodule
