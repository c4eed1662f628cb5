// Block-MAC PE: the datapath of MX (MXFP4, MXINT8), BFP and NVFP4 arrays. Exponent-integer
// element products (ma * mw) << (sa + sw) are summed exactly in an integer register over one
// scale block; at the block's last element the two scale codes are added into the block
// exponent (OCP MX v1.0: the dot of two blocks is X_A * X_B * sum P_A,i P_B,i; BFP: an
// integer MAC plus one shared-exponent add). The FP32 accumulation across blocks is outside
// this PE (quant's reference converts each block sum to FP32; see tests/rtl).
//
// Timing: on an edge with in_valid, acc <= (in_first ? 0 : acc) + product, and if in_last the
// block is complete: blk_valid <= 1 for one cycle, acc then holds the block sum, blk_exp <=
// a_scale + w_scale + EXP_OFFSET, blk_nan <= a scale code is 0xFF (MX NaN, if NAN_SCALE).
// EXP_OFFSET folds the scale biases and the elements' ulp exponents in, so blk_exp equals
// quant's DecodedTensor scale_exp[gx] + scale_exp[gw].
module block_mac_pe #(
    parameter                    MANT_W     = 3,     // element mantissa (two's complement)
    parameter                    SHIFT_W    = 2,     // element shift
    parameter                    SUM_W      = 16,    // block sum
    parameter                    SCALE_W    = 8,     // scale code (E8M0 / BFP shared exponent)
    parameter                    EXP_W      = 10,    // block exponent (two's complement)
    parameter                    EXP_OFFSET = -256,   // integer
    parameter                    NAN_SCALE  = 1
) (
    input  wire                  clk,
    input  wire                  in_valid,
    input  wire                  in_first,
    input  wire                  in_last,
    input  wire [    MANT_W-1:0] a_mant,
    input  wire [   SHIFT_W-1:0] a_shift,
    input  wire [    MANT_W-1:0] w_mant,
    input  wire [   SHIFT_W-1:0] w_shift,
    input  wire [   SCALE_W-1:0] a_scale,
    input  wire [   SCALE_W-1:0] w_scale,
    output reg signed [SUM_W-1:0] acc,
    output reg                   blk_valid,
    output reg  [     EXP_W-1:0] blk_exp,
    output reg                   blk_nan
);
  localparam PROD_W = 2 * MANT_W;
  wire signed [PROD_W-1:0] prod = $signed(a_mant) * $signed(w_mant);
  wire [SHIFT_W:0] sh = {1'b0, a_shift} + {1'b0, w_shift};
  wire signed [SUM_W-1:0] prod_ext = {{(SUM_W - PROD_W) {prod[PROD_W-1]}}, prod};
  wire signed [SUM_W-1:0] term = prod_ext <<< sh;
  wire [31:0] offset = EXP_OFFSET;
  wire unused_offset = ^offset;
  wire [EXP_W-1:0] exp_sum = {{(EXP_W - SCALE_W) {1'b0}}, a_scale} +
      {{(EXP_W - SCALE_W) {1'b0}}, w_scale} + offset[EXP_W-1:0];
  wire nan = (NAN_SCALE != 0) && ((&a_scale) || (&w_scale));

  always @(posedge clk) begin
    blk_valid <= in_valid & in_last;
    if (in_valid) acc <= (in_first ? {SUM_W{1'b0}} : acc) + term;
    if (in_valid & in_last) begin
      blk_exp <= exp_sum;
      blk_nan <= nan;
    end
  end
endmodule
