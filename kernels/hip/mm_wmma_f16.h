// mm_wmma_f16 — GEMM Y[M,N] = X[M,K] * W[N,K]^T through v_wmma_f32_16x16x16_f16 (RDNA3 ISA
// section 7.9, wave32), ActPrecision::F16: X and the dequantized W are each rounded to FP16
// (RNE, kernels/ref/numerics.h f32_to_f16, the oracle's own conversion), products are exact
// and accumulate in FP32 inside the WMMA. Every weight format: F32/F16/BF16 rows, and
// Q4_0/Q8_0/MXFP4/NVFP4 dequantized in registers on the way to LDS ("dequantize-to-f16").
// It exists to measure what the f16 rate gives against the int8 path (mmq_wmma_i8.h): the
// same 59.4 TFLOPS peak on the 8060S, but twice the LDS bytes per element, a dequantize per
// weight, and no per-block rescale (the scale is folded into the f16 weight).
//
// Tiling (gfx11: wave32, 64 KB LDS per workgroup, 1536 VGPRs per SIMD lane slot):
//   workgroup  256 threads = 8 waves as 2 (M) x 4 (N)      block tile 64 x 128, BK = 32
//   wave       32 x 32 = 2 x 2 WMMA tiles of 16 x 16        4 float8 accumulators
//   LDS        A 64 x 40 halves + B 128 x 40 halves (rows padded 32 -> 40 halves = 80 B so
//              the 16 lanes of a fragment read start on distinct banks) = 15 KB
//   pipeline   single-stage: global -> registers (dequantize, round) -> LDS, barrier,
//              8 WMMAs per wave (2 K halves x 2 x 2 tiles), barrier.
//   tails      rows m >= M / n >= N load zeros and are not stored; k >= K loads zeros, so
//              any K works for the unblocked formats (F32/F16/BF16 weights).
//
// Expected bound at pp512 (Llama-3-70B O projection, M=512, N=K=8192, Q4_0 weights, F32 X;
// hip-sim counters at N=K=1024 scaled by 64): 68.7 GFLOP = 8.39 M f16 WMMAs; loads issued
// 1.68 GB (X is re-read and re-rounded once per 128-column N tile: 64 times) -> 41 FLOP/B at
// L2; unique DRAM bytes 71 MB -> 960 FLOP/B: compute-bound, 1.16 ms at peak. The per-element
// dequantize and f32->f16 rounding run on the VALU that also issues the WMMAs, so we expect
// ~30 % of the 59.4 TFLOPS f16 peak (~3.9 ms); converting X to f16 once in a pre-pass would
// halve the L2 traffic and take the X rounding out of the loop.
#pragma once
#include <stdint.h>

#include "kernels/hip/weights.h"

namespace xk::hipk {

struct MmF16Tile {
  static constexpr int kBM = 64, kBN = 128, kBK = 32;  // block tile (M, N, K)
  static constexpr int kWavesM = 2, kWavesN = 4;       // wave grid, each wave 32 x 32
  static constexpr int kThreads = 32 * kWavesM * kWavesN;
  static constexpr int kRowHalves = kBK + 8;  // padded LDS row (halves)
};

template <DType WF, DType XT>
__device__ __forceinline__ void mm_wmma_f16_body(const uint8_t* W, int64_t w_row_bytes, float w_tensor_scale,
                                                 const void* X, float* Y, int64_t M, int64_t N, int64_t K) {
  using T = MmF16Tile;
  static_assert(T::kThreads == 256, "the load mapping below assumes 256 threads");
  static_assert(T::kBM * T::kBK == 256 * 8, "A tile: 8 halves per thread");
  static_assert(T::kBN * 2 == 256, "B tile: one 16-element run per thread");

  __shared__ __attribute__((aligned(16))) uint16_t sA[T::kBM * T::kRowHalves];  // (BM, BK) f16 bits of X
  __shared__ __attribute__((aligned(16))) uint16_t sB[T::kBN * T::kRowHalves];  // (BN, BK) f16 bits of W
  wmma::sim_poison_shared(sA, sB);

  const int tid = threadIdx.x, lane = tid % 32, wave = tid / 32;
  const int wm = wave / T::kWavesN, wn = wave % T::kWavesN;
  const int64_t m0 = static_cast<int64_t>(blockIdx.y) * T::kBM;
  const int64_t n0 = static_cast<int64_t>(blockIdx.x) * T::kBN;

  xk::wmma::float8 acc[2][2];  // (i: M half, j: N half), C/D layout
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 2; ++j)
      for (int e = 0; e < 8; ++e) acc[i][j][e] = 0.0f;

  const int a_row = tid / 4, a_col = 8 * (tid % 4);  // A: 8 halves per thread
  const int b_row = tid / 2, b_run = tid % 2;        // B: one 16-run per thread

  for (int64_t k0 = 0; k0 < K; k0 += T::kBK) {
    {  // global -> FP32 -> FP16 (RNE) -> LDS
      const int64_t m = m0 + a_row;
      uint16_t* adst = sA + a_row * T::kRowHalves + a_col;
      for (int j = 0; j < 8; ++j) {
        const int64_t k = k0 + a_col + j;
        adst[j] = m < M && k < K ? num::f32_to_f16(load_x<XT>(X, m * K + k)) : uint16_t{0};
      }
      const int64_t n = n0 + b_row;
      float v[16];
      if (n < N) {
        load_run_f32<WF>(W + n * w_row_bytes, k0 + 16 * b_run, K, w_tensor_scale, v);
      } else {
        for (int j = 0; j < 16; ++j) v[j] = 0.0f;
      }
      uint16_t* bdst = sB + b_row * T::kRowHalves + 16 * b_run;
      for (int j = 0; j < 16; ++j) bdst[j] = num::f32_to_f16(v[j]);
    }
    __syncthreads();

    // Fragments (kernels/hip/wmma_fragments.h): A rows are X rows, B columns are W rows
    // (B = W^T), both 16 consecutive K halves per lane.
    const auto f16 = [](uint16_t h) { return half_from_bits(h); };
    for (int run = 0; run < 2; ++run) {
      xk::wmma::half16 a[2], b[2];
      for (int i = 0; i < 2; ++i)
        xk::wmma::load_a_16x16x16(a[i], sA + (wm * 32 + 16 * i) * T::kRowHalves + 16 * run, T::kRowHalves,
                                  lane, f16);
      for (int j = 0; j < 2; ++j)
        xk::wmma::load_b_16x16x16(b[j], sB + (wn * 32 + 16 * j) * T::kRowHalves + 16 * run, T::kRowHalves,
                                  lane, f16);
      for (int i = 0; i < 2; ++i)
        for (int j = 0; j < 2; ++j) xk::wmma::wmma_f32_16x16x16_f16(acc[i][j], a[i], b[j], acc[i][j]);
    }
    __syncthreads();
  }

  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 2; ++j)
      xk::wmma::for_each_cd_16x16x16(lane, [&](int e, int row, int col) {
        const int64_t m = m0 + wm * 32 + 16 * i + row, n = n0 + wn * 32 + 16 * j + col;
        if (m < M && n < N) st_global(Y + m * N + n, acc[i][j][e]);
      });
}

}  // namespace xk::hipk

// Entry points: one per (weight format, activation dtype); names start with the variant name.
#define XK_HIP_MMF16_KERNEL(NAME, WF, XT)                                                                   \
  [[maybe_unused]] static __global__ void __launch_bounds__(256)                                            \
      NAME(const uint8_t* W, int64_t w_row_bytes, float w_tensor_scale, const void* X, float* Y, int64_t M, \
           int64_t N, int64_t K) {                                                                          \
    xk::hipk::mm_wmma_f16_body<WF, XT>(W, w_row_bytes, w_tensor_scale, X, Y, M, N, K);                      \
  }
#define XK_HIP_MMF16_FORMAT(WNAME, WF)                                                   \
  XK_HIP_MMF16_KERNEL(mm_##WNAME##_f16_64x128x32_wmmaf16_gfx11_xf32, WF, xk::DType::F32) \
  XK_HIP_MMF16_KERNEL(mm_##WNAME##_f16_64x128x32_wmmaf16_gfx11_xf16, WF, xk::DType::F16) \
  XK_HIP_MMF16_KERNEL(mm_##WNAME##_f16_64x128x32_wmmaf16_gfx11_xbf16, WF, xk::DType::BF16)
XK_HIP_MMF16_FORMAT(f32, xk::DType::F32)
XK_HIP_MMF16_FORMAT(f16, xk::DType::F16)
XK_HIP_MMF16_FORMAT(bf16, xk::DType::BF16)
XK_HIP_MMF16_FORMAT(q8_0, xk::DType::Q8_0)
XK_HIP_MMF16_FORMAT(q4_0, xk::DType::Q4_0)
XK_HIP_MMF16_FORMAT(mxfp4, xk::DType::MXFP4)
XK_HIP_MMF16_FORMAT(nvfp4, xk::DType::NVFP4)
#undef XK_HIP_MMF16_FORMAT
#undef XK_HIP_MMF16_KERNEL

// ==== launch section (host) ==================================================================
// Entry points, grid and scratch, written against the Launcher contract
// (backends/core/launcher.h): the same code launches on hip:N and on hip-sim.
#include "backends/core/launcher.h"
#include "xk/variant.h"

namespace xk::hipk {

using MmF16Kernel = void (*)(const uint8_t*, int64_t, float, const void*, float*, int64_t, int64_t, int64_t);
static const Entry<MmF16Kernel> kMmF16Entries[] = {
    XK_HIP_ENTRY(DType::F32, DType::F32, mm_f32_f16_64x128x32_wmmaf16_gfx11_xf32),
    XK_HIP_ENTRY(DType::F32, DType::F16, mm_f32_f16_64x128x32_wmmaf16_gfx11_xf16),
    XK_HIP_ENTRY(DType::F32, DType::BF16, mm_f32_f16_64x128x32_wmmaf16_gfx11_xbf16),
    XK_HIP_ENTRY(DType::F16, DType::F32, mm_f16_f16_64x128x32_wmmaf16_gfx11_xf32),
    XK_HIP_ENTRY(DType::F16, DType::F16, mm_f16_f16_64x128x32_wmmaf16_gfx11_xf16),
    XK_HIP_ENTRY(DType::F16, DType::BF16, mm_f16_f16_64x128x32_wmmaf16_gfx11_xbf16),
    XK_HIP_ENTRY(DType::BF16, DType::F32, mm_bf16_f16_64x128x32_wmmaf16_gfx11_xf32),
    XK_HIP_ENTRY(DType::BF16, DType::F16, mm_bf16_f16_64x128x32_wmmaf16_gfx11_xf16),
    XK_HIP_ENTRY(DType::BF16, DType::BF16, mm_bf16_f16_64x128x32_wmmaf16_gfx11_xbf16),
    XK_HIP_ENTRY(DType::Q8_0, DType::F32, mm_q8_0_f16_64x128x32_wmmaf16_gfx11_xf32),
    XK_HIP_ENTRY(DType::Q8_0, DType::F16, mm_q8_0_f16_64x128x32_wmmaf16_gfx11_xf16),
    XK_HIP_ENTRY(DType::Q8_0, DType::BF16, mm_q8_0_f16_64x128x32_wmmaf16_gfx11_xbf16),
    XK_HIP_ENTRY(DType::Q4_0, DType::F32, mm_q4_0_f16_64x128x32_wmmaf16_gfx11_xf32),
    XK_HIP_ENTRY(DType::Q4_0, DType::F16, mm_q4_0_f16_64x128x32_wmmaf16_gfx11_xf16),
    XK_HIP_ENTRY(DType::Q4_0, DType::BF16, mm_q4_0_f16_64x128x32_wmmaf16_gfx11_xbf16),
    XK_HIP_ENTRY(DType::MXFP4, DType::F32, mm_mxfp4_f16_64x128x32_wmmaf16_gfx11_xf32),
    XK_HIP_ENTRY(DType::MXFP4, DType::F16, mm_mxfp4_f16_64x128x32_wmmaf16_gfx11_xf16),
    XK_HIP_ENTRY(DType::MXFP4, DType::BF16, mm_mxfp4_f16_64x128x32_wmmaf16_gfx11_xbf16),
    XK_HIP_ENTRY(DType::NVFP4, DType::F32, mm_nvfp4_f16_64x128x32_wmmaf16_gfx11_xf32),
    XK_HIP_ENTRY(DType::NVFP4, DType::F16, mm_nvfp4_f16_64x128x32_wmmaf16_gfx11_xf16),
    XK_HIP_ENTRY(DType::NVFP4, DType::BF16, mm_nvfp4_f16_64x128x32_wmmaf16_gfx11_xbf16),
};

template <Launcher L>
void run_mm_wmma_f16(L& l, const char* variant, const MatmulArgs& a, LaunchRecord& rec) {
  // Grid (ceil(N/128), ceil(M/64)), 256 threads, static LDS only.
  launch_w_x(l, variant, pick(kMmF16Entries, a.W.dtype, a.X.dtype), tile_grid<MmF16Tile>(a.M(), a.N()),
             dim3(MmF16Tile::kThreads), a, rec);
}

}  // namespace xk::hipk
