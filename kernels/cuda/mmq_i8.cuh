// mmq_i8 — quantized GEMM on the int8 tensor cores, sm_80 and newer (A100/RTX 30xx, H100,
// RTX 40xx, Blackwell incl. GB10 sm_121a).
//
//   Y[M,N] = X[M,K] * W[N,K]^T, W in Q4_0 / Q8_0 / MXFP4 / NVFP4, X quantized on the fly to
//   Q8_0 blocks of 32 (ActPrecision::Q8, kernels/ref/ref.h). Every weight format enters the
//   MMA as exact small integers: Q4_0 q-8, Q8_0 q, E2M1 codes as 2*e2m1 in [-12, 12]
//   (ggml kvalues_mxfp4). Per 32-block: one int32 MMA result, then FP32
//   acc += int * x_scale[row] * w_scale[col] (NVFP4: per 16, two MMAs with half of B zeroed).
//
// Kernels (launched into one LaunchRecord by backends/cuda/table.h):
//   quantize_act_q8       X (f32/f16/bf16) -> int8 codes + FP32 scales in the i8 tile layout
//                         of packing.h (rows padded to the tile, pad rows are zero).
//   mmq_i8_64x64_mma_sm80 the GEMM. Names: variant mmq_<w>_q8_64x64_mma_sm80 -> this kernel.
//
// Tiling: block tile 64 (M) x 64 (N) x 32 (K, one Q8_0 block); 4 warps as 2 x 2, warp tile
//   32 x 32 = 2 (m16) x 4 (n8) MMAs of mma.sync.aligned.m16n8k32.row.col.s32.s8.s8.s32
//   (PTX ISA 9.7.14.5.14) per K block. Pipeline: kStages = 4 shared-memory stages filled by
//   cp.async.cg 16-byte copies (PTX ISA 9.7.9.25); each stage is one contiguous run of the
//   repacked weights and of the quantized activations, so copies are fully coalesced.
//   Shared memory: 4 x (64x48 B X + 64x16 or 64x48 B W + scales) = 18-26 KiB static.
// Bound at pp512 (Llama-3-70B, M=512, N=K=8192, Q4_0): 2MNK = 68.7 G int8 OP against W
//   0.625 B/elt repacked (42 MB) + X F32 16.8 MB + X int8 4.7 MB + Y F32 16.8 MB = 80 MB ->
//   ~860 OP/B, at GB10's int8 ridge (~250 TOPS / 273 GB/s = ~920 OP/B); grid (M tiles, N tiles)
//   with M fastest so W crosses DRAM once. The nibble expansion and the FP32 scale FMAs per
//   IMMA are ALU work beside the tensor core: expect 45-60% of the int8 MMA peak
//   (~110-150 TOPS on GB10, ggml's MMQ class).
#pragma once
#include "kernels/cuda/common.cuh"
#include "kernels/cuda/packing.h"

namespace xk::cuda_kernels {
// Internal linkage: this header is compiled both by nvcc (backends/cuda) and by g++ for
// cuda-sim (backends/sim) into the same library; each translation unit keeps its own kernels.
namespace {

// How a weight format's codes become int8 (template parameter of the GEMM and GEMV).
enum class I8Weights : int {
  Q4_0 = 0,    // 4-bit q, value q - 8, one scale per 32
  Q8_0 = 1,    // int8 as stored, one scale per 32
  E2M1 = 2,    // MXFP4: 4-bit E2M1 code, value 2*e2m1, one scale per 32
  E2M1x16 = 3  // NVFP4: as E2M1 but one scale per 16
};
__device__ __forceinline__ constexpr int i8_code_bytes(I8Weights w) { return w == I8Weights::Q8_0 ? 32 : 16; }
__device__ __forceinline__ constexpr int i8_scales_per_block(I8Weights w) {
  return w == I8Weights::E2M1x16 ? 2 : 1;
}

// B fragment of m16n8k32 (b[0]: k 0..15, b[1]: k 16..31 of a 32-block) from this lane's
// column's codes: int8 as stored (Q8_0), or 4-bit codes in the "i8 nibble" packing of
// packing.h expanded to int8.
template <I8Weights kW>
__device__ __forceinline__ void i8_b_fragment(uint32_t (&b)[2], const uint8_t* tile, int col_bytes,
                                              int lane) {
  if constexpr (kW == I8Weights::Q8_0) {
    load_b_m16n8k32(b, tile, col_bytes, lane);
  } else if constexpr (kW == I8Weights::Q4_0) {
    load_b_m16n8k32_nibbles(b, tile, col_bytes, lane, [](uint32_t nib) { return q4_0_to_s8x4(nib); });
  } else {
    load_b_m16n8k32_nibbles(b, tile, col_bytes, lane, [](uint32_t nib) { return e2m1_to_s8x4(nib); });
  }
}

// One thread per (row, 32-block): Q8_0 of X, written to the tile layout with `tile_rows`
// rows per tile: codes [tile][k_block][tile_rows][32] int8, scales [tile][k_block][tile_rows].
__global__ void __launch_bounds__(128)
    quantize_act_q8(const void* x, int act_type, int8_t* codes, float* scales, int M, int K, int tile_rows,
                    int m_padded) {
  const int k_blocks = K / 32;
  const int64_t item = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (item >= static_cast<int64_t>(m_padded) * k_blocks) return;
  const int row = static_cast<int>(item / k_blocks), kb = static_cast<int>(item % k_blocks);
  float v[32];
  for (int j = 0; j < 32; ++j)
    v[j] = row < M ? load_act(x, static_cast<int64_t>(row) * K + kb * 32 + j, static_cast<ActType>(act_type))
                   : 0.0f;
  int8_t q[32];
  const float d = quantize_q8_block(v, q);
  const int64_t slot = (static_cast<int64_t>(row / tile_rows) * k_blocks + kb) * tile_rows + row % tile_rows;
  for (int j = 0; j < 32; j += 4) {
    const uint32_t w = (uint32_t(uint8_t(q[j]))) | (uint32_t(uint8_t(q[j + 1])) << 8) |
                       (uint32_t(uint8_t(q[j + 2])) << 16) | (uint32_t(uint8_t(q[j + 3])) << 24);
    ptx::st_global(reinterpret_cast<uint32_t*>(codes + slot * 32 + j), w);
  }
  ptx::st_global(scales + slot, d);
}

inline constexpr int kI8TileM = 64;     // activation rows per block tile
inline constexpr int kI8Stages = 4;     // cp.async pipeline depth
inline constexpr int kI8Threads = 128;  // 4 warps, 2 (M) x 2 (N)

template <I8Weights kW>
__global__ void __launch_bounds__(kI8Threads)
    mmq_i8_64x64_mma_sm80(const int8_t* __restrict__ x_codes, const float* __restrict__ x_scales,
                          const uint8_t* __restrict__ w_codes, const float* __restrict__ w_scales,
                          float* __restrict__ y, int M, int N, int k_blocks) {
  constexpr int kWBytes = i8_code_bytes(kW);      // 16 or 32 code bytes per row per block
  constexpr int kWRow = kWBytes == 16 ? 16 : 48;  // smem row stride: 16 B rows are already
                                                  // conflict-free (8 rows x 4 words = 32 banks)
  constexpr int kXRow = 48;                       // 32 B + 16 B pad: rows g, g+4 on other banks
  constexpr int kG = i8_scales_per_block(kW);
  static_assert(kI8TileM == 64 && kI8TileN == 64, "warp layout below assumes a 64 x 64 block tile");
  static_assert(kI8Threads * 16 == kI8TileM * 32, "one 16-byte cp.async per thread fills the X tile");
  static_assert(kXRow % 16 == 0 && kWRow % 16 == 0, "cp.async destinations must be 16-byte aligned");

  __shared__ __align__(16) uint8_t sx[kI8Stages][kI8TileM * kXRow];  // (64 rows, 32 k) int8
  __shared__ __align__(16) uint8_t sw[kI8Stages][kI8TileN * kWRow];  // (64 cols, 32 k) codes
  __shared__ __align__(16) float sxs[kI8Stages][kI8TileM];           // (64 rows) x scale
  __shared__ __align__(16) float sws[kI8Stages][kI8TileN * kG];      // (64 cols, G) w scale
  ptx::sim_poison_shared(sx, sw, sxs, sws);

  const int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5;
  const int wm = warp >> 1, wn = warp & 1;    // warp tile origin: rows 32*wm, cols 32*wn
  const CdCoords cd = cd_m16n8_coords(lane);  // C rows / columns of this lane in an m16n8 tile
  // M tiles vary fastest: the blocks sharing one W tile run side by side and hit it in L2,
  // so W (the big operand) crosses DRAM once.
  const int m_tile = blockIdx.x, n_tile = blockIdx.y;

  // Stage loader: block `kb` of this block's X tile and W tile into stage `s`.
  auto load_stage = [&](int s, int kb) {
    const int64_t x_slot = (static_cast<int64_t>(m_tile) * k_blocks + kb) * kI8TileM;
    const int64_t w_slot = (static_cast<int64_t>(n_tile) * k_blocks + kb) * kI8TileN;
    ptx::cp_async_16(&sx[s][(tid >> 1) * kXRow + (tid & 1) * 16], x_codes + x_slot * 32 + tid * 16);
    if constexpr (kWBytes == 16) {
      if (tid < 64) ptx::cp_async_16(&sw[s][tid * kWRow], w_codes + w_slot * 16 + tid * 16);
    } else {
      ptx::cp_async_16(&sw[s][(tid >> 1) * kWRow + (tid & 1) * 16], w_codes + w_slot * 32 + tid * 16);
    }
    if (tid < 16)
      ptx::cp_async_16(&sxs[s][tid * 4], x_scales + x_slot + tid * 4);
    else if (tid < 16 + 16 * kG)
      ptx::cp_async_16(&sws[s][(tid - 16) * 4], w_scales + w_slot * kG + (tid - 16) * 4);
  };

  float acc[2][4][4] = {};  // (m16 tile, n8 tile, C fragment)

#pragma unroll
  for (int s = 0; s < kI8Stages - 1; ++s) {
    if (s < k_blocks) load_stage(s, s);
    ptx::cp_async_commit();  // empty groups keep the wait count uniform
  }
  for (int kb = 0; kb < k_blocks; ++kb) {
    ptx::cp_async_wait<kI8Stages - 2>();
    __syncthreads();  // stage kb visible to all; stage (kb-1) % kStages free for refill
    if (kb + kI8Stages - 1 < k_blocks) load_stage((kb + kI8Stages - 1) % kI8Stages, kb + kI8Stages - 1);
    ptx::cp_async_commit();
    const int s = kb % kI8Stages;

    uint32_t a[2][4];  // (m16 tile) A fragments
#pragma unroll
    for (int i = 0; i < 2; ++i) load_a_m16n8k32(a[i], &sx[s][(wm * 32 + i * 16) * kXRow], kXRow, lane);
#pragma unroll
    for (int j = 0; j < 4; ++j) {
      uint32_t b[2];
      i8_b_fragment<kW>(b, &sw[s][(wn * 32 + j * 8) * kWRow], kWRow, lane);
      // Weight scales of this lane's two C columns.
      const int c0 = wn * 32 + j * 8 + cd.col[0], c1 = wn * 32 + j * 8 + cd.col[1];
#pragma unroll
      for (int i = 0; i < 2; ++i) {
        const float xs0 = sxs[s][wm * 32 + i * 16 + cd.row[0]], xs8 = sxs[s][wm * 32 + i * 16 + cd.row[1]];
        const int32_t zero[4] = {0, 0, 0, 0};
#pragma unroll
        for (int half = 0; half < kG; ++half) {
          int32_t c[4];
          if constexpr (kG == 1) {
            ptx::mma_m16n8k32_s8_s32(c, a[i], b, zero);
          } else {  // NVFP4: k 0..15 live in b[0], k 16..31 in b[1] (one scale each)
            const uint32_t bh[2] = {half == 0 ? b[0] : 0u, half == 0 ? 0u : b[1]};
            ptx::mma_m16n8k32_s8_s32(c, a[i], bh, zero);
          }
          const float ws0 = sws[s][c0 * kG + half], ws1 = sws[s][c1 * kG + half];
          acc[i][j][0] += static_cast<float>(c[0]) * (xs0 * ws0);
          acc[i][j][1] += static_cast<float>(c[1]) * (xs0 * ws1);
          acc[i][j][2] += static_cast<float>(c[2]) * (xs8 * ws0);
          acc[i][j][3] += static_cast<float>(c[3]) * (xs8 * ws1);
        }
      }
    }
  }
  ptx::cp_async_wait<0>();

  // Epilogue: C fragment element q at (cd.row[q / 2], cd.col[q % 2]) straight to Y, rows/cols
  // past M/N dropped.
#pragma unroll
  for (int i = 0; i < 2; ++i)
#pragma unroll
    for (int j = 0; j < 4; ++j)
#pragma unroll
      for (int q = 0; q < 4; ++q) {
        const int row = m_tile * kI8TileM + wm * 32 + i * 16 + cd.row[q >> 1];
        const int col = n_tile * kI8TileN + wn * 32 + j * 8 + cd.col[q & 1];
        if (row < M && col < N) ptx::st_global(y + static_cast<int64_t>(row) * N + col, acc[i][j][q]);
      }
}

}  // namespace
}  // namespace xk::cuda_kernels

// ==== launch section (host) ==================================================================
// Grid, scratch and packing for the kernels above, written against the Launcher contract
// (backends/core/launcher.h): the same code launches them on cuda:N and on cuda-sim.
#include "backends/core/launcher.h"
#include "xk/variant.h"

namespace xk::cuda_kernels {

static_assert(int(ActType::F32) == int(DType::F32) && int(ActType::F16) == int(DType::F16) &&
                  int(ActType::BF16) == int(DType::BF16),
              "act_code() hands the quantizers DType values: ActType must keep them");

// Y = X W^T: X quantized to int8 blocks of 32 (64-row padded tiles), then the GEMM over
// 64x64 output tiles. Scratch: codes [m_pad][K] int8, then (256-byte aligned) scales [m_pad][K/32].
template <I8Weights kW, Launcher L>
void run_mmq_i8(L& l, const char* variant, const MatmulArgs& a, LaunchRecord& rec) {
  const int64_t M = a.M(), N = a.N(), K = a.K();
  const I8Layout wl = i8_layout(a.W.dtype, N, K);
  const auto* wbase = static_cast<const uint8_t*>(l.ptr(packed_i8(a.W)));
  const int64_t m_tiles = ceil_div(M, kI8TileM), m_pad = m_tiles * kI8TileM, k_blocks = K / 32;
  const size_t codes_bytes = static_cast<size_t>(m_pad * K), scales_at = (codes_bytes + 255) / 256 * 256;
  Buffer xq = l.scratch(scales_at + static_cast<size_t>(m_pad * k_blocks) * sizeof(float));
  auto* xcodes = static_cast<int8_t*>(l.ptr(xq));
  auto* xscales = reinterpret_cast<float*>(static_cast<uint8_t*>(l.ptr(xq)) + scales_at);
  l.launch(variant, quantize_act_q8, dim3(static_cast<unsigned>(ceil_div(m_pad * k_blocks, 128))), dim3(128),
           0, rec, l.ptr(a.X.buf), act_code(a.X.dtype), xcodes, xscales, static_cast<int>(M),
           static_cast<int>(K), kI8TileM, static_cast<int>(m_pad));
  l.launch(variant, mmq_i8_64x64_mma_sm80<kW>,
           dim3(static_cast<unsigned>(m_tiles), static_cast<unsigned>(wl.n_tiles)), dim3(kI8Threads), 0, rec,
           xcodes, xscales, wbase, reinterpret_cast<const float*>(wbase + wl.scales_offset()),
           static_cast<float*>(l.ptr(a.Y.buf)), static_cast<int>(M), static_cast<int>(N),
           static_cast<int>(k_blocks));
}

}  // namespace xk::cuda_kernels
