// mmvq — GEMV / skinny-M quantized matmul for token generation (M <= 8), every block format.
//
//   Y[M,N] = X[M,K] * W[N,K]^T with X quantized to Q8_0 (ActPrecision::Q8, kernels/ref/ref.h)
//   by quantize_act_q8 (mmq_i8.cuh) into 8-row tiles, W in the repacked "i8" layout
//   (packing.h). Integer dot products with __dp4a (4 x int8 per instruction, sm_61+), block
//   scales in FP32, exactly the oracle's Q8 semantics (NVFP4: two scales per 32-block).
//
// Kernel: mmvq_8x64_dp4a_sm61<W>; variants mmvq_<w>_q8_8x64_dp4a_sm61.
// Tiling: one block per 64 weight rows (an i8 tile), 256 threads = 64 rows x 4 K-lanes; thread
//   (r, kq) walks K blocks kq, kq+4, ... of row r. One 32-element weight block is ONE 128-bit
//   load (two for Q8_0) and the 64 threads of a K-lane read 64 consecutive 16-byte chunks, so
//   every warp load is 512 contiguous bytes: weights stream at full width with no shared-memory
//   round trip. The small quantized X is staged per chunk of 32 K blocks in shared memory (read
//   once per block, not once per weight row); the 4 K-lane partial sums meet there at the end.
// Bound (tg128, Llama-3-70B, M=1, N=8192, K=8192, Q4_0): 2NK = 134 MFLOP over the repacked
//   N*K*0.625 B = 41.9 MB -> 3.2 FLOP/B: purely bandwidth-bound. Expected 75-85% of GB10's
//   273 GB/s (~0.19 ms per such matrix), the usual fraction a streaming kernel reaches on LPDDR5X.
#pragma once
#include "kernels/cuda/common.cuh"
#include "kernels/cuda/mmq_i8.cuh"
#include "kernels/cuda/packing.h"

namespace xk::cuda_kernels {
// Internal linkage: this header is compiled both by nvcc (backends/cuda) and by g++ for
// cuda-sim (backends/sim) into the same library; each translation unit keeps its own kernels.
namespace {

inline constexpr int kMmvqMaxM = 8;    // activation rows handled (the X tile height)
inline constexpr int kMmvqKLanes = 4;  // threads sharing one weight row along K
inline constexpr int kMmvqThreads = kI8TileN * kMmvqKLanes;
inline constexpr int kMmvqChunk = 32;  // K blocks of X staged in shared memory at a time (9 KiB)

// Sum over one 32-block of int(w) * int(x) as two halves (elements 0..15 and 16..31), so
// NVFP4 can scale the halves separately. w: 4 words of 4-bit codes (packing.h order) or 8
// words of int8; x: 8 words of int8.
template <I8Weights kW>
__device__ __forceinline__ void dot_block32(int (&half_sums)[2], const uint32_t* w, const uint32_t* x) {
  half_sums[0] = half_sums[1] = 0;
#pragma unroll
  for (int i = 0; i < 4; ++i) {
    uint32_t lo, hi;  // int8 x4 of elements 4i..4i+3 and 16+4i..16+4i+3
    if constexpr (kW == I8Weights::Q8_0) {
      lo = w[i];
      hi = w[4 + i];
    } else if constexpr (kW == I8Weights::Q4_0) {
      lo = q4_0_to_s8x4(w[i] & 0x0F0F0F0Fu);
      hi = q4_0_to_s8x4((w[i] >> 4) & 0x0F0F0F0Fu);
    } else {
      lo = e2m1_to_s8x4(w[i] & 0x0F0F0F0Fu);
      hi = e2m1_to_s8x4((w[i] >> 4) & 0x0F0F0F0Fu);
    }
    half_sums[0] = __dp4a(static_cast<int>(lo), static_cast<int>(x[i]), half_sums[0]);
    half_sums[1] = __dp4a(static_cast<int>(hi), static_cast<int>(x[4 + i]), half_sums[1]);
  }
}

template <I8Weights kW>
__global__ void __launch_bounds__(kMmvqThreads)
    mmvq_8x64_dp4a_sm61(const int8_t* __restrict__ x_codes, const float* __restrict__ x_scales,
                        const uint8_t* __restrict__ w_codes, const float* __restrict__ w_scales,
                        float* __restrict__ y, int M, int N, int k_blocks) {
  constexpr int kWBytes = i8_code_bytes(kW);
  constexpr int kG = i8_scales_per_block(kW);
  static_assert(kWBytes % 16 == 0, "a weight block row is whole 128-bit words");
  static_assert(kMmvqThreads == 256, "64 rows x 4 K-lanes");
  static_assert(kMmvqChunk % kMmvqKLanes == 0, "every K-lane gets the same share of a chunk");
  __shared__ __align__(16) int8_t sx[kMmvqChunk * kMmvqMaxM * 32];  // (chunk block, m, 32) int8
  __shared__ __align__(16) float sxs[kMmvqChunk * kMmvqMaxM];       // (chunk block, m) scale
  __shared__ float partial[kMmvqKLanes][kMmvqMaxM][kI8TileN];       // (K-lane, m, row)
  ptx::sim_poison_shared(sx, sxs, partial);

  const int r = threadIdx.x % kI8TileN, kq = threadIdx.x / kI8TileN;
  const int n_tile = blockIdx.x;
  float acc[kMmvqMaxM] = {};
  for (int kb0 = 0; kb0 < k_blocks; kb0 += kMmvqChunk) {
    // The quantized X of this chunk (8 rows x kMmvqChunk blocks, contiguous in the 8-row tile
    // layout) is read once per block into shared memory instead of once per weight row.
    const int nb = min(kMmvqChunk, k_blocks - kb0);
    __syncthreads();  // the previous chunk is consumed
    for (int c = threadIdx.x; c < nb * kMmvqMaxM * 2; c += kMmvqThreads)
      ptx::cp_async_16(sx + c * 16, x_codes + static_cast<int64_t>(kb0) * kMmvqMaxM * 32 + c * 16);
    for (int c = threadIdx.x; c < nb * kMmvqMaxM / 4; c += kMmvqThreads)
      ptx::cp_async_16(sxs + c * 4, x_scales + static_cast<int64_t>(kb0) * kMmvqMaxM + c * 4);
    ptx::cp_async_commit();
    ptx::cp_async_wait<0>();
    __syncthreads();
    for (int kc = kq; kc < nb; kc += kMmvqKLanes) {
      const int64_t slot = (static_cast<int64_t>(n_tile) * k_blocks + kb0 + kc) * kI8TileN + r;
      uint32_t w[kWBytes / 4];
#pragma unroll
      for (int v = 0; v < kWBytes / 16; ++v) {  // 128-bit loads, 64 rows = 1 KiB contiguous
        const U32x4 q = ptx::ld_global(reinterpret_cast<const U32x4*>(w_codes + slot * kWBytes) + v);
        w[4 * v + 0] = q.x;
        w[4 * v + 1] = q.y;
        w[4 * v + 2] = q.z;
        w[4 * v + 3] = q.w;
      }
      float ws[2];
      ws[0] = ptx::ld_global(w_scales + slot * kG);
      ws[1] = kG == 2 ? ptx::ld_global(w_scales + slot * kG + 1) : ws[0];
#pragma unroll
      for (int m = 0; m < kMmvqMaxM; ++m) {
        if (m >= M) break;
        const uint32_t* x = reinterpret_cast<const uint32_t*>(sx + (kc * kMmvqMaxM + m) * 32);
        int sums[2];
        dot_block32<kW>(sums, w, x);
        const float xs = sxs[kc * kMmvqMaxM + m];
        acc[m] += kG == 2 ? xs * (static_cast<float>(sums[0]) * ws[0] + static_cast<float>(sums[1]) * ws[1])
                          : xs * ws[0] * static_cast<float>(sums[0] + sums[1]);
      }
    }
  }
#pragma unroll
  for (int m = 0; m < kMmvqMaxM; ++m) partial[kq][m][r] = acc[m];
  __syncthreads();
  if (kq == 0) {
    const int n = n_tile * kI8TileN + r;
    for (int m = 0; m < M; ++m) {
      const float sum = partial[0][m][r] + partial[1][m][r] + partial[2][m][r] + partial[3][m][r];
      if (n < N) ptx::st_global(y + static_cast<int64_t>(m) * N + n, sum);
    }
  }
}

}  // namespace
}  // namespace xk::cuda_kernels

// ==== launch section (host) ==================================================================
// X rows quantized into one 8-row Q8 tile, then one block per 64 weight rows.
namespace xk::cuda_kernels {

template <I8Weights kW, Launcher L>
void run_mmvq(L& l, const char* variant, const MatmulArgs& a, LaunchRecord& rec) {
  const int64_t M = a.M(), N = a.N(), K = a.K(), k_blocks = K / 32;
  const I8Layout wl = i8_layout(a.W.dtype, N, K);
  const auto* wbase = static_cast<const uint8_t*>(l.ptr(packed_i8(a.W)));
  constexpr int64_t rows = kMmvqMaxM;
  const size_t scales_at = (static_cast<size_t>(rows * K) + 255) / 256 * 256;
  Buffer xq = l.scratch(scales_at + static_cast<size_t>(rows * k_blocks) * sizeof(float));
  auto* xcodes = static_cast<int8_t*>(l.ptr(xq));
  auto* xscales = reinterpret_cast<float*>(static_cast<uint8_t*>(l.ptr(xq)) + scales_at);
  l.launch(variant, quantize_act_q8, dim3(static_cast<unsigned>(ceil_div(rows * k_blocks, 128))), dim3(128),
           0, rec, l.ptr(a.X.buf), act_code(a.X.dtype), xcodes, xscales, static_cast<int>(M),
           static_cast<int>(K), static_cast<int>(rows), static_cast<int>(rows));
  l.launch(variant, mmvq_8x64_dp4a_sm61<kW>, dim3(static_cast<unsigned>(wl.n_tiles)), dim3(kMmvqThreads), 0,
           rec, static_cast<const int8_t*>(xcodes), static_cast<const float*>(xscales), wbase,
           reinterpret_cast<const float*>(wbase + wl.scales_offset()), static_cast<float*>(l.ptr(a.Y.buf)),
           static_cast<int>(M), static_cast<int>(N), static_cast<int>(k_blocks));
}

}  // namespace xk::cuda_kernels
