// AMXFP4 PE (Lee et al., arXiv 2411.09909; formats.md "AMXFP4"): every block has a scale for
// its positive and one for its negative elements, so a block dot product keeps one exact
// integer partial sum per sign combination of the two operands, sum[sa][sw] (sa = the A
// element is negative), each multiplied by its scale pair after the block (outside this PE).
// Products are E2M1 exponent-integer products (ma * mw) << (sa + sw). A zero element (also
// the -0 code, mant 0) counts as positive, as quant's sign_split rule (mant < 0) does.
//
// Timing: on an edge with in_valid, the selected partial sum adds the product, the other three
// hold; with in_first all four restart (the selected one at the product, the others at 0).
// blk_valid <= in_valid & in_last marks the cycle after a block's last element.
module amxfp4_pe #(
    parameter SUM_W = 16
) (
    input  wire                   clk,
    input  wire                   in_valid,
    input  wire                   in_first,
    input  wire                   in_last,
    input  wire [            2:0] a_mant,
    input  wire [            1:0] a_shift,
    input  wire [            2:0] w_mant,
    input  wire [            1:0] w_shift,
    output reg signed [SUM_W-1:0] sum_pp,   // A >= 0, W >= 0
    output reg signed [SUM_W-1:0] sum_pn,   // A >= 0, W < 0
    output reg signed [SUM_W-1:0] sum_np,   // A < 0, W >= 0
    output reg signed [SUM_W-1:0] sum_nn,   // A < 0, W < 0
    output reg                    blk_valid
);
  wire signed [5:0] prod = $signed(a_mant) * $signed(w_mant);
  wire [2:0] sh = {1'b0, a_shift} + {1'b0, w_shift};
  wire signed [SUM_W-1:0] prod_ext = {{(SUM_W - 6) {prod[5]}}, prod};
  wire signed [SUM_W-1:0] term = prod_ext <<< sh;
  // One adder: the product goes into the partial sum its sign pair selects.
  wire [1:0] sel = {a_mant[2], w_mant[2]};
  wire [SUM_W-1:0] zero = {SUM_W{1'b0}};
  reg signed [SUM_W-1:0] cur;
  always @* begin
    case (sel)
      2'b00:   cur = sum_pp;
      2'b01:   cur = sum_pn;
      2'b10:   cur = sum_np;
      default: cur = sum_nn;
    endcase
  end
  wire signed [SUM_W-1:0] nxt = (in_first ? zero : cur) + term;

  always @(posedge clk) begin
    blk_valid <= in_valid & in_last;
    if (in_valid) begin
      sum_pp <= sel == 2'b00 ? nxt : (in_first ? zero : sum_pp);
      sum_pn <= sel == 2'b01 ? nxt : (in_first ? zero : sum_pn);
      sum_np <= sel == 2'b10 ? nxt : (in_first ? zero : sum_np);
      sum_nn <= sel == 2'b11 ? nxt : (in_first ? zero : sum_nn);
    end
  end
endmodule
