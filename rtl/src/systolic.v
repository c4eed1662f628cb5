// Output-stationary systolic array (OliVe's dataflow, Guo et al., ISCA 2023, section 4.3):
// A operands enter on the left edge and move right, W operands enter on the top edge and move
// down, one PE hop per cycle; each PE accumulates its own output element. The valid/first
// control of a row travels with its A operands.
//
// Schedule (what tests/rtl checks cycle by cycle): the tops below register their edge inputs
// once (border decoder / input register), then skew row i by i cycles and column j by j
// cycles, so element k of a tile presented before edge t0 + k reaches PE(i, j) for edge
// t0 + k + 1 + i + j: after edge t, acc[i][j] holds the sum over the tile's
// k <= t - t0 - 1 - i - j.
// Accumulators are exposed in parallel (acc, PE(i, j) at index i * COLS + j) rather than
// shifted out, which the co-simulation needs and a real array would replace by a drain chain.

// N-cycle delay (N = 0: a wire). RESET = 1 clears the stages on rst (control bits).
module delay_line #(
    parameter W     = 1,
    parameter N     = 0,
    parameter RESET = 0
) (
    input  wire         clk,
    input  wire         rst,
    input  wire [W-1:0] d,
    output wire [W-1:0] q
);
  generate
    if (N == 0) begin : g_wire
      assign q = d;
      wire unused = clk ^ rst;
    end else if (N == 1) begin : g_one
      reg [W-1:0] stage;
      always @(posedge clk) stage <= (RESET != 0 && rst) ? {W{1'b0}} : d;
      assign q = stage;
    end else begin : g_regs
      reg [W*N-1:0] stages;
      always @(posedge clk) begin
        if (RESET != 0 && rst) stages <= {W * N{1'b0}};
        else stages <= {stages[W*N-W-1:0], d};
      end
      assign q = stages[W*N-1:W*N-W];
    end
  endgenerate
endmodule

// One PE with its forwarding registers. KIND 0: int8_mac (operand = int8); KIND 1: ovp4_pe
// (operand = {shift[2:0], mant[3:0]} from an OVP border decoder).
module systolic_cell #(
    parameter KIND  = 1,
    parameter OP_W  = 7,
    parameter ACC_W = 32
) (
    input  wire             clk,
    input  wire             rst,
    input  wire             v_in,
    input  wire             f_in,
    input  wire [ OP_W-1:0] a_in,
    input  wire [ OP_W-1:0] w_in,
    output reg              v_out,
    output reg              f_out,
    output reg  [ OP_W-1:0] a_out,
    output reg  [ OP_W-1:0] w_out,
    output wire [ACC_W-1:0] acc
);
  always @(posedge clk) begin
    v_out <= rst ? 1'b0 : v_in;
    f_out <= f_in;
    a_out <= a_in;
    w_out <= w_in;
  end
  generate
    if (KIND == 0) begin : g_int8
      int8_mac #(
          .ACC_W(ACC_W)
      ) u_pe (
          .clk(clk),
          .in_valid(v_in),
          .in_first(f_in),
          .a(a_in),
          .w(w_in),
          .acc(acc)
      );
    end else begin : g_ovp4
      ovp4_pe #(
          .SHIFT_W(3),
          .ACC_W  (ACC_W)
      ) u_pe (
          .clk(clk),
          .in_valid(v_in),
          .in_first(f_in),
          .a_shift(a_in[6:4]),
          .a_mant(a_in[3:0]),
          .a_uns(1'b0),
          .w_shift(w_in[6:4]),
          .w_mant(w_in[3:0]),
          .w_uns(1'b0),
          .acc(acc)
      );
    end
  endgenerate
endmodule

// ROWS x COLS grid of systolic_cells; edge inputs already skewed.
module systolic_array #(
    parameter ROWS  = 4,
    parameter COLS  = 4,
    parameter KIND  = 1,
    parameter OP_W  = 7,
    parameter ACC_W = 32
) (
    input  wire                        clk,
    input  wire                        rst,
    input  wire [            ROWS-1:0] row_valid,
    input  wire [            ROWS-1:0] row_first,
    input  wire [       ROWS*OP_W-1:0] a_in,
    input  wire [       COLS*OP_W-1:0] w_in,
    output wire [ROWS*COLS*ACC_W-1:0] acc
);
  /* verilator lint_off UNUSEDSIGNAL */
  // (the links leaving the right and bottom edges are unused)
  // Horizontal links: (i, j) enters PE(i, j) for j < COLS; j = COLS leaves the array.
  wire [ROWS*(COLS+1)*OP_W-1:0] a_h;
  wire [ROWS*(COLS+1)-1:0] v_h, f_h;
  // Vertical links: (i, j) enters PE(i, j) for i < ROWS.
  wire [(ROWS+1)*COLS*OP_W-1:0] w_v;
  /* verilator lint_on UNUSEDSIGNAL */
  genvar i, j;
  generate
    for (i = 0; i < ROWS; i = i + 1) begin : g_left
      assign a_h[(i*(COLS+1))*OP_W+:OP_W] = a_in[i*OP_W+:OP_W];
      assign v_h[i*(COLS+1)] = row_valid[i];
      assign f_h[i*(COLS+1)] = row_first[i];
    end
    for (j = 0; j < COLS; j = j + 1) begin : g_top
      assign w_v[j*OP_W+:OP_W] = w_in[j*OP_W+:OP_W];
    end
    for (i = 0; i < ROWS; i = i + 1) begin : g_row
      for (j = 0; j < COLS; j = j + 1) begin : g_col
        systolic_cell #(
            .KIND (KIND),
            .OP_W (OP_W),
            .ACC_W(ACC_W)
        ) u_cell (
            .clk(clk),
            .rst(rst),
            .v_in(v_h[i*(COLS+1)+j]),
            .f_in(f_h[i*(COLS+1)+j]),
            .a_in(a_h[(i*(COLS+1)+j)*OP_W+:OP_W]),
            .w_in(w_v[(i*COLS+j)*OP_W+:OP_W]),
            .v_out(v_h[i*(COLS+1)+j+1]),
            .f_out(f_h[i*(COLS+1)+j+1]),
            .a_out(a_h[(i*(COLS+1)+j+1)*OP_W+:OP_W]),
            .w_out(w_v[((i+1)*COLS+j)*OP_W+:OP_W]),
            .acc(acc[(i*COLS+j)*ACC_W+:ACC_W])
        );
      end
    end
  endgenerate
endmodule

// Left/top edge skew: lane n delayed by n cycles.
module skew #(
    parameter LANES = 4,
    parameter W     = 7,
    parameter RESET = 0
) (
    input  wire             clk,
    input  wire             rst,
    input  wire [LANES*W-1:0] d,
    output wire [LANES*W-1:0] q
);
  genvar n;
  generate
    for (n = 0; n < LANES; n = n + 1) begin : g_lane
      delay_line #(
          .W(W),
          .N(n),
          .RESET(RESET)
      ) u_d (
          .clk(clk),
          .rst(rst),
          .d(d[n*W+:W]),
          .q(q[n*W+:W])
      );
    end
  endgenerate
endmodule

// OVP border unit: decodes one OVP byte (two 4-bit elements) and emits the elements on two
// consecutive cycles (even first). A byte may arrive every other cycle (pair_valid); the cycle
// after a byte emits its odd element.
module ovp4_border (
    input  wire       clk,
    input  wire       rst,
    input  wire [7:0] pair,
    input  wire       pair_valid,
    input  wire       pair_first,
    output reg        valid,
    output reg        first,
    output reg  [6:0] elem          // {shift[2:0], mant[3:0]}
);
  wire [2:0] se, so;
  wire [3:0] me, mo;
  ovp_decoder #(
      .BITS(4),
      .EBITS(2),
      .MBITS(1),
      .SHIFT_W(3)
  ) u_dec (
      .pair(pair),
      .shift_even(se),
      .mant_even(me),
      .shift_odd(so),
      .mant_odd(mo)
  );
  reg       hold_valid;
  reg [6:0] hold;
  always @(posedge clk) begin
    if (rst) begin
      valid <= 1'b0;
      hold_valid <= 1'b0;
    end else begin
      valid <= pair_valid | hold_valid;
      hold_valid <= pair_valid;
    end
    first <= pair_valid & pair_first;
    elem  <= pair_valid ? {se, me} : hold;
    if (pair_valid) hold <= {so, mo};
  end
endmodule

// 4-bit OliVe systolic core: ROWS + COLS border decoders (decoders only on the edges, as in
// OliVe) feeding a ROWS x COLS array of ovp4_pe. Inputs: one OVP byte per row and per column
// every other cycle (pair_valid), in_first with a tile's first byte.
module ovp4_array_top #(
    parameter ROWS  = 4,
    parameter COLS  = 4,
    parameter ACC_W = 32
) (
    input  wire                        clk,
    input  wire                        rst,
    input  wire                        pair_valid,
    input  wire                        pair_first,
    input  wire [          ROWS*8-1:0] a_pairs,
    input  wire [          COLS*8-1:0] w_pairs,
    output wire [ROWS*COLS*ACC_W-1:0] acc
);
  wire [ROWS*9-1:0] a_edge, a_skew;  // {valid, first, elem} per row
  wire [COLS*7-1:0] w_edge, w_skew;
  genvar n;
  generate
    for (n = 0; n < ROWS; n = n + 1) begin : g_a
      ovp4_border u_b (
          .clk(clk),
          .rst(rst),
          .pair(a_pairs[n*8+:8]),
          .pair_valid(pair_valid),
          .pair_first(pair_first),
          .valid(a_edge[n*9+8]),
          .first(a_edge[n*9+7]),
          .elem(a_edge[n*9+:7])
      );
    end
    for (n = 0; n < COLS; n = n + 1) begin : g_w
      /* verilator lint_off PINCONNECTEMPTY */
      ovp4_border u_b (
          .clk(clk),
          .rst(rst),
          .pair(w_pairs[n*8+:8]),
          .pair_valid(pair_valid),
          .pair_first(1'b0),
          .valid(),
          .first(),
          .elem(w_edge[n*7+:7])
      );
      /* verilator lint_on PINCONNECTEMPTY */
    end
  endgenerate
  skew #(
      .LANES(ROWS),
      .W(9),
      .RESET(1)
  ) u_sa (
      .clk(clk),
      .rst(rst),
      .d(a_edge),
      .q(a_skew)
  );
  skew #(
      .LANES(COLS),
      .W(7)
  ) u_sw (
      .clk(clk),
      .rst(rst),
      .d(w_edge),
      .q(w_skew)
  );
  wire [ROWS-1:0] rv, rf;
  wire [ROWS*7-1:0] ra;
  generate
    for (n = 0; n < ROWS; n = n + 1) begin : g_split
      assign rv[n] = a_skew[n*9+8];
      assign rf[n] = a_skew[n*9+7];
      assign ra[n*7+:7] = a_skew[n*9+:7];
    end
  endgenerate
  systolic_array #(
      .ROWS (ROWS),
      .COLS (COLS),
      .KIND (1),
      .OP_W (7),
      .ACC_W(ACC_W)
  ) u_arr (
      .clk(clk),
      .rst(rst),
      .row_valid(rv),
      .row_first(rf),
      .a_in(ra),
      .w_in(w_skew),
      .acc(acc)
  );
endmodule

// INT8 systolic core with the same schedule: an input register per edge lane instead of the
// OVP border decoders; one int8 element per row and column per cycle.
module int8_array_top #(
    parameter ROWS  = 4,
    parameter COLS  = 4,
    parameter ACC_W = 32
) (
    input  wire                        clk,
    input  wire                        rst,
    input  wire                        in_valid,
    input  wire                        in_first,
    input  wire [          ROWS*8-1:0] a,
    input  wire [          COLS*8-1:0] w,
    output wire [ROWS*COLS*ACC_W-1:0] acc
);
  reg [ROWS*10-1:0] a_edge;  // {valid, first, a} per row
  reg [COLS*8-1:0] w_edge;
  wire [ROWS*10-1:0] a_skew;
  wire [COLS*8-1:0] w_skew;
  integer r;
  always @(posedge clk) begin
    for (r = 0; r < ROWS; r = r + 1) begin
      a_edge[r*10+9] <= rst ? 1'b0 : in_valid;
      a_edge[r*10+8] <= in_first;
      a_edge[r*10+:8] <= a[r*8+:8];
    end
    w_edge <= w;
  end
  skew #(
      .LANES(ROWS),
      .W(10),
      .RESET(1)
  ) u_sa (
      .clk(clk),
      .rst(rst),
      .d(a_edge),
      .q(a_skew)
  );
  skew #(
      .LANES(COLS),
      .W(8)
  ) u_sw (
      .clk(clk),
      .rst(rst),
      .d(w_edge),
      .q(w_skew)
  );
  wire [ROWS-1:0] rv, rf;
  wire [ROWS*8-1:0] ra;
  genvar n;
  generate
    for (n = 0; n < ROWS; n = n + 1) begin : g_split
      assign rv[n] = a_skew[n*10+9];
      assign rf[n] = a_skew[n*10+8];
      assign ra[n*8+:8] = a_skew[n*10+:8];
    end
  endgenerate
  systolic_array #(
      .ROWS (ROWS),
      .COLS (COLS),
      .KIND (0),
      .OP_W (8),
      .ACC_W(ACC_W)
  ) u_arr (
      .clk(clk),
      .rst(rst),
      .row_valid(rv),
      .row_first(rf),
      .a_in(ra),
      .w_in(w_skew),
      .acc(acc)
  );
endmodule
