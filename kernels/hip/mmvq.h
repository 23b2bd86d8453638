// mmvq — skinny GEMM / GEMV for token generation on RDNA 3/3.5: Y[M,N] = X[M,K] * W[N,K]^T
// with M <= 8, every weight format (F32, F16, BF16, Q8_0, Q4_0, MXFP4, NVFP4),
// ActPrecision::F32 (W dequantized to FP32 exactly as xk::dequantize_row, FP32 FMAs).
//
// Memory-bound by construction: every weight byte is read once, and nothing else is
// comparable in size (X is M*K values, staged in LDS once per workgroup and shared by the
// 32 rows the workgroup owns). No WMMA: at M <= 8 a 16x16 tile would waste >= half its rows,
// and the VALU has ~8x more FLOP/B headroom than the 256 GB/s bus needs.
//
// Tiling (gfx11 wave32):
//   workgroup  256 threads = 8 waves; each wave owns 4 output rows n (32 rows / workgroup), so
//              the X chunk staged in LDS is read from L2 once per 32 weight rows (at M=1 and
//              Q4_0 that is 4 B of X per 18 B of weights)
//   K loop     chunks of 512: X[0..M)[chunk] -> LDS as FP32 (8 x 512 x 4 B = 16 KB), then
//              lane l dequantizes 16-element run l of each of its rows (one GGUF block or half
//              of one) and does 16 * M FMAs against LDS; 4 x M accumulators per lane
//   reduce     wave butterfly (__shfl_xor), lane 0 stores Y[m][n]
//   occupancy  16 KB LDS -> 4 workgroups (32 waves) per 64 KB; VGPRs in the resource file
//
// Expected bound at tg (Llama-3-70B FFN down, N=8192, K=28672, Q4_0, M=1): 132 MB of weights,
// 2 FLOP per weight = 0.44 FLOP/B: bandwidth-bound. Weights are read with byte loads
// (GGUF blocks are only byte/2-byte aligned) which the memory pipeline coalesces per wave
// (a wave covers 32 consecutive runs = 16 blocks = 288 contiguous bytes per row);
// we expect 60-75 % of the 256 GB/s (the ~212 GB/s measured copy bandwidth is the ceiling).
#pragma once
#include <stdint.h>

#include "kernels/hip/weights.h"

namespace xk::hipk {

struct MmvqTile {
  static constexpr int kWaves = 8, kRowsPerWave = 4;  // 32 output rows per workgroup
  static constexpr int kRows = kWaves * kRowsPerWave;
  static constexpr int kThreads = 32 * kWaves;
  static constexpr int kMaxM = 8;     // M <= 8 (token generation)
  static constexpr int kChunk = 512;  // K elements staged per step = 32 runs
};

template <DType WF, DType XT>
__device__ __forceinline__ void mmvq_body(const uint8_t* W, int64_t w_row_bytes, float w_tensor_scale,
                                          const void* X, float* Y, int64_t M, int64_t N, int64_t K) {
  using T = MmvqTile;
  static_assert(T::kChunk == 16 * 32, "one 16-element run per lane per chunk");
  __shared__ float sx[T::kMaxM * T::kChunk];  // (kMaxM, kChunk) X chunk, FP32
  wmma::sim_poison_shared(sx);

  const int tid = threadIdx.x, lane = tid % 32, wave = tid / 32;
  const int64_t n_first = static_cast<int64_t>(blockIdx.x) * T::kRows + wave * T::kRowsPerWave;

  float acc[T::kRowsPerWave][T::kMaxM];
  for (int r = 0; r < T::kRowsPerWave; ++r)
    for (int m = 0; m < T::kMaxM; ++m) acc[r][m] = 0.0f;

  for (int64_t k0 = 0; k0 < K; k0 += T::kChunk) {
    const int64_t kn = K - k0 < T::kChunk ? K - k0 : T::kChunk;
    for (int i = tid; i < T::kMaxM * T::kChunk; i += T::kThreads) {
      const int m = i / T::kChunk, kk = i % T::kChunk;
      sx[i] = m < M && kk < kn ? load_x<XT>(X, m * K + k0 + kk) : 0.0f;
    }
    __syncthreads();
    const int64_t run_k = k0 + 16 * lane;  // this lane's run
    if (run_k < K) {
#pragma GCC unroll 4
      for (int r = 0; r < T::kRowsPerWave; ++r) {
        const int64_t n = n_first + r;
        if (n >= N) continue;
        float w[16];
        load_run_f32<WF>(W + n * w_row_bytes, run_k, K, w_tensor_scale, w);
        const float* xs = sx + 16 * lane;
#pragma GCC unroll 8
        for (int m = 0; m < T::kMaxM; ++m) {
          float s = 0.0f;
#pragma GCC unroll 16
          for (int j = 0; j < 16; ++j) s += w[j] * xs[m * T::kChunk + j];
          if (m < M) acc[r][m] += s;  // rows m >= M read zeros from LDS; kept branch-free
        }
      }
    }
    __syncthreads();
  }

#pragma GCC unroll 4
  for (int r = 0; r < T::kRowsPerWave; ++r)
#pragma GCC unroll 8
    for (int m = 0; m < T::kMaxM; ++m) {
      const float v = wave_sum(acc[r][m]);  // every lane takes part, even for unused rows
      const int64_t n = n_first + r;
      if (lane == 0 && m < M && n < N) st_global(Y + m * N + n, v);
    }
}

struct MmvqPlan {
  unsigned grid_x, threads;
};
inline MmvqPlan mmvq_plan(int64_t N) {
  return {static_cast<unsigned>((N + MmvqTile::kRows - 1) / MmvqTile::kRows),
          static_cast<unsigned>(MmvqTile::kThreads)};
}

}  // namespace xk::hipk

#define XK_HIP_MMVQ_KERNEL(NAME, WF, XT)                                                                    \
  [[maybe_unused]] static __global__ void __launch_bounds__(256)                                            \
      NAME(const uint8_t* W, int64_t w_row_bytes, float w_tensor_scale, const void* X, float* Y, int64_t M, \
           int64_t N, int64_t K) {                                                                          \
    xk::hipk::mmvq_body<WF, XT>(W, w_row_bytes, w_tensor_scale, X, Y, M, N, K);                             \
  }
#define XK_HIP_MMVQ_FORMAT(WNAME, WF)                                               \
  XK_HIP_MMVQ_KERNEL(mmvq_##WNAME##_f32_32rows_valu_gfx11_xf32, WF, xk::DType::F32) \
  XK_HIP_MMVQ_KERNEL(mmvq_##WNAME##_f32_32rows_valu_gfx11_xf16, WF, xk::DType::F16) \
  XK_HIP_MMVQ_KERNEL(mmvq_##WNAME##_f32_32rows_valu_gfx11_xbf16, WF, xk::DType::BF16)
XK_HIP_MMVQ_FORMAT(f32, xk::DType::F32)
XK_HIP_MMVQ_FORMAT(f16, xk::DType::F16)
XK_HIP_MMVQ_FORMAT(bf16, xk::DType::BF16)
XK_HIP_MMVQ_FORMAT(q8_0, xk::DType::Q8_0)
XK_HIP_MMVQ_FORMAT(q4_0, xk::DType::Q4_0)
XK_HIP_MMVQ_FORMAT(mxfp4, xk::DType::MXFP4)
XK_HIP_MMVQ_FORMAT(nvfp4, xk::DType::NVFP4)
#undef XK_HIP_MMVQ_FORMAT
#undef XK_HIP_MMVQ_KERNEL

// ==== launch section (host) ==================================================================
// Entry points, grid and scratch, written against the Launcher contract
// (backends/core/launcher.h): the same code launches on hip:N and on hip-sim.
#include "backends/core/launcher.h"
#include "xk/variant.h"

namespace xk::hipk {

using MmvqKernel = void (*)(const uint8_t*, int64_t, float, const void*, float*, int64_t, int64_t, int64_t);
static const Entry<MmvqKernel> kMmvqEntries[] = {
    XK_HIP_ENTRY(DType::F32, DType::F32, mmvq_f32_f32_32rows_valu_gfx11_xf32),
    XK_HIP_ENTRY(DType::F32, DType::F16, mmvq_f32_f32_32rows_valu_gfx11_xf16),
    XK_HIP_ENTRY(DType::F32, DType::BF16, mmvq_f32_f32_32rows_valu_gfx11_xbf16),
    XK_HIP_ENTRY(DType::F16, DType::F32, mmvq_f16_f32_32rows_valu_gfx11_xf32),
    XK_HIP_ENTRY(DType::F16, DType::F16, mmvq_f16_f32_32rows_valu_gfx11_xf16),
    XK_HIP_ENTRY(DType::F16, DType::BF16, mmvq_f16_f32_32rows_valu_gfx11_xbf16),
    XK_HIP_ENTRY(DType::BF16, DType::F32, mmvq_bf16_f32_32rows_valu_gfx11_xf32),
    XK_HIP_ENTRY(DType::BF16, DType::F16, mmvq_bf16_f32_32rows_valu_gfx11_xf16),
    XK_HIP_ENTRY(DType::BF16, DType::BF16, mmvq_bf16_f32_32rows_valu_gfx11_xbf16),
    XK_HIP_ENTRY(DType::Q8_0, DType::F32, mmvq_q8_0_f32_32rows_valu_gfx11_xf32),
    XK_HIP_ENTRY(DType::Q8_0, DType::F16, mmvq_q8_0_f32_32rows_valu_gfx11_xf16),
    XK_HIP_ENTRY(DType::Q8_0, DType::BF16, mmvq_q8_0_f32_32rows_valu_gfx11_xbf16),
    XK_HIP_ENTRY(DType::Q4_0, DType::F32, mmvq_q4_0_f32_32rows_valu_gfx11_xf32),
    XK_HIP_ENTRY(DType::Q4_0, DType::F16, mmvq_q4_0_f32_32rows_valu_gfx11_xf16),
    XK_HIP_ENTRY(DType::Q4_0, DType::BF16, mmvq_q4_0_f32_32rows_valu_gfx11_xbf16),
    XK_HIP_ENTRY(DType::MXFP4, DType::F32, mmvq_mxfp4_f32_32rows_valu_gfx11_xf32),
    XK_HIP_ENTRY(DType::MXFP4, DType::F16, mmvq_mxfp4_f32_32rows_valu_gfx11_xf16),
    XK_HIP_ENTRY(DType::MXFP4, DType::BF16, mmvq_mxfp4_f32_32rows_valu_gfx11_xbf16),
    XK_HIP_ENTRY(DType::NVFP4, DType::F32, mmvq_nvfp4_f32_32rows_valu_gfx11_xf32),
    XK_HIP_ENTRY(DType::NVFP4, DType::F16, mmvq_nvfp4_f32_32rows_valu_gfx11_xf16),
    XK_HIP_ENTRY(DType::NVFP4, DType::BF16, mmvq_nvfp4_f32_32rows_valu_gfx11_xbf16),
};

template <Launcher L>
void run_mmvq(L& l, const char* variant, const MatmulArgs& a, LaunchRecord& rec) {
  const auto plan = mmvq_plan(a.N());
  launch_w_x(l, variant, pick(kMmvqEntries, a.W.dtype, a.X.dtype), dim3(plan.grid_x), dim3(plan.threads), a,
             rec);
}

}  // namespace xk::hipk
