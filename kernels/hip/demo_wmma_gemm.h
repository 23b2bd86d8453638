// Demonstration tiled F16 GEMM on RDNA3 WMMA (v_wmma_f32_16x16x16_f16, wave32) — the
// simulator's proof kernel for hip-sim (issue 3), not a performance kernel (the tuned
// ones are mm_wmma_f16 / mmq_wmma_i8).
//
//   Y[M,N] (f32) = X[M,K] (f32 or f16, rounded to f16) * W[N,K]^T (f16), FP32 accumulation
//   = ActPrecision::F16 of kernels/ref/ref.h.
//
// Tiling: block 64(M) x 64(N) x 32(K), 128 threads = 4 waves of 32 in a 2x2 grid, each
// wave a 32x32 tile = 2 x 2 WMMA 16x16x16 per k16 step. Both operands are staged through
// LDS as f16 rows padded to 40 halves; fragments are read straight from LDS in the
// layout of wmma_layouts.h (A: lane -> row lane%16, 16 consecutive k; B: lane -> column
// lane%16, 16 consecutive k = one W row), lanes 16-31 replicating lanes 0-15. LDS use
// 10 KiB per workgroup. Single-stage pipeline, far from either roofline by design.
#pragma once
#include <cstdint>

#include "kernels/hip/wmma.h"

namespace xk::hip_demo {

constexpr int kTileM = 64, kTileN = 64, kTileK = 32;  // block tile (BLK_M, BLK_N, BLK_K)
constexpr int kRowHalves = kTileK + 8;                // padded LDS row (halves)
constexpr int kThreads = 128;                         // 4 waves, 2 x 2 over the block tile

struct LaunchPlan {
  unsigned grid_x, grid_y, threads;
};
inline LaunchPlan plan(int64_t M, int64_t N) {
  return {unsigned((N + kTileN - 1) / kTileN), unsigned((M + kTileM - 1) / kTileM), unsigned(kThreads)};
}

__device__ __forceinline__ _Float16 to_half(float x) { return static_cast<_Float16>(x); }
__device__ __forceinline__ _Float16 to_half(_Float16 x) { return x; }

// XT = float (f32 activations) or _Float16.
template <class XT>
__global__ void __launch_bounds__(kThreads)
    mm_f16_f16_64x64_wmma_demo_gfx11(const _Float16* __restrict__ W, const XT* __restrict__ X,
                                     float* __restrict__ Y, int64_t M, int64_t N, int64_t K) {
  static_assert(kThreads == 4 * 32, "2 x 2 waves of 32x32");
  __shared__ __attribute__((aligned(16))) _Float16 xs[kTileM * kRowHalves];  // (BLK_M, BLK_K) f16
  __shared__ __attribute__((aligned(16))) _Float16 ws[kTileN * kRowHalves];  // (BLK_N, BLK_K) f16

  const int tid = threadIdx.x, lane = tid % 32, wave = tid / 32;
  const int64_t m_block = int64_t(blockIdx.y) * kTileM, n_block = int64_t(blockIdx.x) * kTileN;
  const int wave_m = (wave / 2) * 32, wave_n = (wave % 2) * 32;

  xk::wmma::float8 acc[2][2];  // (m16 tiles, n16 tiles): 8 floats per lane each
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 2; ++j)
      for (int e = 0; e < 8; ++e) acc[i][j][e] = 0.0f;

  for (int64_t k0 = 0; k0 < K; k0 += kTileK) {
    // 64 x 32 elements per operand, 16 per thread, zero outside [M|N, K).
    for (int j = 0; j < kTileM * kTileK / kThreads; ++j) {
      const int idx = tid + kThreads * j, row = idx / kTileK, col = idx % kTileK;
      const int64_t m = m_block + row, n = n_block + row, k = k0 + col;
      xs[row * kRowHalves + col] = m < M && k < K ? to_half(xk::wmma::ld_global(X + m * K + k)) : _Float16(0);
      ws[row * kRowHalves + col] = n < N && k < K ? xk::wmma::ld_global(W + n * K + k) : _Float16(0);
    }
    __syncthreads();

    for (int kk = 0; kk < kTileK; kk += 16) {
      xk::wmma::half16 a[2], b[2];
      for (int t = 0; t < 2; ++t)
        for (int e = 0; e < 16; ++e) {
          const auto ra = xk::wmma_layout::a_16x16x16(lane, e), rb = xk::wmma_layout::b_16x16x16(lane, e);
          a[t][e] = xs[(wave_m + 16 * t + ra.row) * kRowHalves + kk + ra.col];
          b[t][e] = ws[(wave_n + 16 * t + rb.col) * kRowHalves + kk + rb.row];
        }
      for (int i = 0; i < 2; ++i)
        for (int j = 0; j < 2; ++j) xk::wmma::wmma_f32_16x16x16_f16(acc[i][j], a[i], b[j], acc[i][j]);
    }
    __syncthreads();
  }

  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 2; ++j)
      for (int e = 0; e < 8; ++e) {
        const auto rc = xk::wmma_layout::cd_16x16x16(lane, e);
        const int64_t m = m_block + wave_m + 16 * i + rc.row, n = n_block + wave_n + 16 * j + rc.col;
        if (m < M && n < N) xk::wmma::st_global(Y + m * N + n, acc[i][j][e]);
      }
}

}  // namespace xk::hip_demo
