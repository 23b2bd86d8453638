// Tile, wave and expert-padding factors of ggml's tiled GEMMs: what fraction of the work a
// kernel's blocks occupy is useful, for dense GEMMs and for MoE expert GEMMs (MUL_MAT_ID) as
// ggml runs them. Shared by the calibration (dividing measured rates) and the runtime model
// (multiplying fitted efficiencies).
#pragma once

#include "paths.h"

namespace xk::gap {

// Useful work / work the tiles and waves occupy, for an M x N output in tile_m x tile_n
// blocks over `units` SMs/CUs: (M N / padded tiles) * (tiles / (waves * units)). A
// stream-K path (paths.h) passes units = 1: padding only.
double wave_factor(double m_tokens, double n_rows, int tile_m, int tile_n, double units);
// MUL_MAT_ID as ggml runs its tiled expert GEMMs. ggml-cuda passes the whole batch's token
// count as the column bound of the expert GEMM (ggml-cuda/mmq.cu, ggml_cuda_mul_mat_q: for
// `ids`, mmq_args.ncols_max = ne12), so mul_mat_q_case picks the token tile mmq_x for the
// batch, not for one expert's share, and an expert that receives c tokens runs ceil(c / mmq_x)
// full-width tiles (the same holds for HIP, which compiles the same sources, and for Vulkan's
// mul_mm shader with MUL_MAT_ID, whose tile size is chosen from the batch's token count).
// Since September 2026 ggml-cuda picks it for one expert's average share on RDNA3.0 and
// RDNA3.5 instead (paths.h, InstrPath::expert_width_tile: the tile_for argument below).
// Tokens are assumed routed uniformly and independently (c ~ Binomial(tokens, used/experts),
// as test-backend-ops' random ids are); a real router's imbalance changes the padding, which
// is not modelled.
struct ExpertTiles {
  double tile = 0;       // the token tile (mmq_x) chosen for the whole batch
  double col_tiles = 0;  // expected token tiles summed over all experts
  double pad = 1;        // useful token columns / columns the tiles occupy
};
// tile_for: the token count the tile is chosen for; 0 for the batch (`tokens`), as above.
ExpertTiles expert_tiles(double tokens, double used, double experts, int tile_m, double tile_for = 0);
// Useful work / occupied work of one MUL_MAT_ID over n_rows weight rows (tile_n per block),
// token padding per expert included, over `units` SMs/CUs (1 for a stream-K path).
double moe_wave_factor(double tokens, double used, double experts, double n_rows, int tile_m, int tile_n,
                       double units);
// A MUL_MAT_ID of `tokens` tokens, each routed to `used` of `experts` experts, over n_rows
// weight rows on `path` with `units` SMs/CUs: x, the token count its efficiency is read at,
// and wave, its useful / occupied work. Up to 8 tokens (vector kernels): the expert batch,
// no tiles. BLAS paths ("float"): one GEMM per expert over its own rows, x the expert batch.
// Tiled paths: full tiles of the batch's token tile (expert_tiles), x that tile. The
// per-expert loop (InstrPath::per_expert): each expert's GEMM tiled for its own tokens and
// launched alone, x the mean token tile; it adds 2 launches per expert hit (activation
// conversion and GEMM) and 4 per MUL_MAT_ID (the two synchronous id copies, gather, scatter).
// The per-expert loop's launches per MUL_MAT_ID besides its experts' own.
constexpr double kExpertLoopFixedLaunches = 4;
struct ExpertGemm {
  double x = 0, wave = 1;
  double launches = 1;  // kernel launches of one MUL_MAT_ID
  double hit = 0;       // per-expert loop: experts with tokens in the range
  double share = 1;     // per-expert loop: their part of the token-expert pairs
};
ExpertGemm expert_gemm(double tokens, double used, double experts, double n_rows, const InstrPath& path,
                       double units);
// The per-expert loop over the experts that get c_min <= c < c_max tokens: ggml picks each
// expert's path from its own c (MMQ below 64 tokens, BLAS above on the pre-matrix-MMQ paths),
// so a caller prices the two ranges on their two paths. Launches: 2 per expert in the range.
ExpertGemm expert_loop_gemm(double tokens, double used, double experts, double n_rows, const InstrPath& path,
                            double units, double c_min, double c_max);
// ggml runs up to 8 tokens with its vector kernels (mmvq / mmvf), which have no token
// tiles: no wave factor applies to them.
bool gemv_rows(double tokens);

}  // namespace xk::gap
