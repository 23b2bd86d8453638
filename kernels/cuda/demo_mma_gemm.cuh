// Demonstration tiled F16 GEMM on mma.sync m16n8k16 — the simulator's proof kernel for
// cuda-sim (issue 3), not a performance kernel (the tuned ones are mmq_* / flash_attn).
//
//   Y[M,N] (f32) = X[M,K] (f32 or f16, rounded to f16) * W[N,K]^T (f16), FP32 accumulation
//   = ActPrecision::F16 of kernels/ref/ref.h.
//
// Tiling: block 64(M) x 64(N) x 32(K), 128 threads = 4 warps in a 2x2 grid, each warp a
// 32x32 tile = 2 (m16) x 4 (n8) mma.sync.m16n8k16 per k16 step. X is staged through shared
// memory with converting loads, W with cp.async (16 B, zero-filled past K) when rows are
// 16-byte aligned (K % 8 == 0). Fragments come from ldmatrix (x4 for A, x2 for B) on rows
// padded to 40 halves (80 B: 16-byte aligned rows, a 4-bank shift per row avoids ldmatrix
// bank conflicts). Single-stage pipeline (load, barrier, compute, barrier): simple on
// purpose. On a GPU it would be bound by the un-overlapped loads, far from either roofline.
#pragma once
#include <cstdint>

#include "kernels/cuda/ptx.cuh"

namespace xk::cuda_demo {

constexpr int kTileM = 64, kTileN = 64, kTileK = 32;  // block tile (BLK_M, BLK_N, BLK_K)
constexpr int kRowHalves = kTileK + 8;                // padded smem row (halves)
constexpr int kThreads = 128;                         // 4 warps, 2 x 2 over the block tile

struct LaunchPlan {
  unsigned grid_x, grid_y, threads;
};
inline LaunchPlan plan(int64_t M, int64_t N) {
  return {unsigned((N + kTileN - 1) / kTileN), unsigned((M + kTileM - 1) / kTileM), unsigned(kThreads)};
}

// Two consecutive activations (k, k+1) of row m as an f16x2 word, zero outside [M, K).
__device__ __forceinline__ uint32_t load_x_pair(const float* X, int64_t m, int64_t k, int64_t M, int64_t K) {
  const bool row = m < M;
  const float lo = row && k < K ? xk::ptx::ld_global(X + m * K + k) : 0.0f;
  const float hi = row && k + 1 < K ? xk::ptx::ld_global(X + m * K + k + 1) : 0.0f;
  return xk::ptx::pack_f16x2(lo, hi);
}
__device__ __forceinline__ uint32_t load_x_pair(const uint16_t* X, int64_t m, int64_t k, int64_t M, int64_t K) {
  const bool row = m < M;
  const uint32_t lo = row && k < K ? xk::ptx::ld_global(X + m * K + k) : 0u;
  const uint32_t hi = row && k + 1 < K ? xk::ptx::ld_global(X + m * K + k + 1) : 0u;
  return lo | (hi << 16);
}

// XT = float (f32 activations) or uint16_t (f16 bits).
template <class XT>
__global__ void __launch_bounds__(kThreads)
    mm_f16_f16_64x64_mma16816_demo_sm80(const uint16_t* __restrict__ W, const XT* __restrict__ X,
                                        float* __restrict__ Y, int64_t M, int64_t N, int64_t K) {
  static_assert(kThreads == 4 * 32, "2 x 2 warps of 32x32");
  static_assert(kRowHalves * 2 % 16 == 0, "ldmatrix and cp.async need 16-byte aligned rows");
  __shared__ __align__(16) uint16_t xs[kTileM * kRowHalves];  // (BLK_M, BLK_K) f16, padded rows
  __shared__ __align__(16) uint16_t ws[kTileN * kRowHalves];  // (BLK_N, BLK_K) f16, padded rows

  const int tid = threadIdx.x, lane = tid % 32, warp = tid / 32;
  const int64_t m_block = int64_t(blockIdx.y) * kTileM, n_block = int64_t(blockIdx.x) * kTileN;
  const int warp_m = (warp / 2) * 32, warp_n = (warp % 2) * 32;  // warp tile origin in the block
  const bool w_async = K % 8 == 0;

  float acc[2][4][4] = {};  // (m16 tiles, n8 tiles, mma C registers)

  for (int64_t k0 = 0; k0 < K; k0 += kTileK) {
    // X tile: 64 rows x 16 f16 pairs = 1024 pairs, 8 per thread.
    for (int j = 0; j < kTileM * kTileK / 2 / kThreads; ++j) {
      const int idx = tid + kThreads * j, row = idx / (kTileK / 2), pair = idx % (kTileK / 2);
      *reinterpret_cast<uint32_t*>(&xs[row * kRowHalves + 2 * pair]) = load_x_pair(X, m_block + row, k0 + 2 * pair, M, K);
    }
    // W tile: 64 rows x 4 chunks of 8 halves = 256 chunks, 2 per thread.
    for (int j = 0; j < kTileN * kTileK / 8 / kThreads; ++j) {
      const int idx = tid + kThreads * j, row = idx / (kTileK / 8), chunk = (idx % (kTileK / 8)) * 8;
      const int64_t n = n_block + row, k = k0 + chunk;
      uint16_t* dst = &ws[row * kRowHalves + chunk];
      if (w_async) {
        const int64_t left = n < N ? K - k : 0;
        const int bytes = left >= 8 ? 16 : (left > 0 ? int(left) * 2 : 0);
        xk::ptx::cp_async_16_zfill(dst, bytes ? W + n * K + k : W, bytes);
      } else {
        for (int e = 0; e < 8; ++e) dst[e] = n < N && k + e < K ? xk::ptx::ld_global(W + n * K + k + e) : uint16_t(0);
      }
    }
    xk::ptx::cp_async_commit();
    xk::ptx::cp_async_wait<0>();
    __syncthreads();

    for (int kk = 0; kk < kTileK; kk += 16) {
      uint32_t a[2][4], b[4][2];
      for (int mt = 0; mt < 2; ++mt) {
        // ldmatrix.x4: lanes 8i..8i+7 address matrix i = (rows +8 if i odd, k +8 if i >= 2).
        const int row = warp_m + mt * 16 + lane % 8 + ((lane / 8) % 2) * 8, col = kk + (lane / 16) * 8;
        xk::ptx::ldmatrix_x4(a[mt], &xs[row * kRowHalves + col]);
      }
      for (int nt = 0; nt < 4; ++nt) {
        // ldmatrix.x2 on W rows: matrix 0 = k 0..7 (b0), matrix 1 = k 8..15 (b1).
        const int row = warp_n + nt * 8 + lane % 8, col = kk + ((lane / 8) % 2) * 8;
        xk::ptx::ldmatrix_x2(b[nt], &ws[row * kRowHalves + col]);
      }
      for (int mt = 0; mt < 2; ++mt)
        for (int nt = 0; nt < 4; ++nt) xk::ptx::mma_m16n8k16_f16_f32(acc[mt][nt], a[mt], b[nt], acc[mt][nt]);
    }
    __syncthreads();
  }

  // Epilogue: C register i of lane holds (row g + 8*(i/2), col 2t + i%2), mma_layouts.h.
  for (int mt = 0; mt < 2; ++mt)
    for (int nt = 0; nt < 4; ++nt)
      for (int i = 0; i < 4; ++i) {
        const auto rc = xk::mma_layout::cd_m16n8(lane, i);
        const int64_t m = m_block + warp_m + mt * 16 + rc.row, n = n_block + warp_n + nt * 8 + rc.col;
        if (m < M && n < N) xk::ptx::st_global(Y + m * N + n, acc[mt][nt][i]);
      }
}

}  // namespace xk::cuda_demo
