// mmq_wmma_i8 — quantized GEMM Y[M,N] = X[M,K] * W[N,K]^T on RDNA 3/3.5 with
// v_wmma_i32_16x16x16_iu8 (RDNA3 ISA section 7.9, wave32), ActPrecision::Q8.
//
// Two kernels per call:
//   1. quantize_q8: each row of X to Q8_0 blocks exactly as kernels/ref/ref.h says
//      (d = amax/127, q = roundf(x * (1/d)), d kept as its FP16 value): one wave per block
//      of 32, lane = element, amax by a butterfly. Output: int8 Xq[M, K] + float xd[M, K/32].
//   2. mmq: weights stay in their GGUF blocks (4.5 / 8.5 / 4.25 / 4.5 bits per weight);
//      each K step expands them to int8 in LDS: Q4_0 -> q-8, Q8_0 -> q, MXFP4 and NVFP4 ->
//      2*e2m1, an exact integer in [-12, 12]. Per 16x16 tile and K step the int32 WMMA result
//      is scaled in FP32 by x_scale * w_scale (per 32; NVFP4 per 16) into FP32
//      accumulators; NVFP4's tensor scale multiplies the output once, as in the oracle.
//
// Tiling (gfx11: wave32, 64 KB LDS per workgroup, 1536 VGPRs per SIMD lane slot):
//   workgroup  256 threads = 8 waves as 2 (M) x 4 (N)      block tile 64 x 128, BK = 32
//   wave       32 x 32 = 2 x 2 WMMA tiles of 16 x 16        4 int8v + 4 float8 accumulators
//   LDS        A 64 x 48 B + B 128 x 48 B (rows padded 32 -> 48 bytes so the 16 lanes of a
//              fragment read, 16 bytes each, start on different banks) + scales
//              = 9.2 KB + 1.3 KB: LDS does not limit occupancy (6 workgroups fit 64 KB).
//   VGPRs      129-146 with the prefetch stage (build/.../hip_resource_usage_gfx1151.txt) -> 10-11
//              waves per SIMD out of 1536 VGPRs, so two to three workgroups share a SIMD pair and
//              hide each other's barriers.
//   pipeline   register prefetch: the global loads (and int8 expansion) of K step k+1 are issued
//              before the 8 WMMAs per wave of step k; stores to LDS after the closing barrier.
//
// Expected bound at pp512 (Llama-3-70B O projection, M=512, N=K=8192, Q4_0; figures from the
// hip-sim counters at N=K=1024 scaled by 64, tests/hip/sim_kernels_test.cpp, and
// backends/hip/README.md): 68.7 GOP = 8.39 M iu8 WMMAs; the loads issued total 923 MB (W tiles
// re-read once per 64-row M tile, each Q4_0 byte read by the two lanes that expand its two
// nibbles) -> 73 op/B at L2/L1; unique DRAM bytes ~80 MB (W 37.7, X 16.8, Y 16.8, int8 X
// round trip 8.9) -> 860 op/B, far right of the 8060S ridge 59.4 TOPS / 256 GB/s = 232 op/B:
// compute-bound, 1.16 ms at peak. With one LDS buffer (two barriers per step) and the FP32 rescale per
// K step (8 cvt + 8 FMA per lane per 2 WMMAs, on the same VALU that issues WMMA) we expect
// ~40 % of the 59.4 TOPS iu8 peak (~2.9 ms). Double-buffered LDS (one barrier per step) and
// BK = 64 are the next steps.
#pragma once
#include <stdint.h>

#include "kernels/hip/weights.h"

namespace xk::hipk {

// ---- 1. activation quantization --------------------------------------------------------

inline constexpr int kQuantWavesPerGroup = 8;  // 256 threads, one Q8_0 block per wave

template <DType XT>
__device__ __forceinline__ void quantize_q8_body(const void* X, int8_t* xq, float* xd, int64_t M, int64_t K) {
  const int64_t blocks_per_row = K / 32;
  const int64_t kb = static_cast<int64_t>(blockIdx.x) * kQuantWavesPerGroup + threadIdx.x / 32;
  const int64_t m = blockIdx.y;
  const int lane = static_cast<int>(threadIdx.x % 32);
  if (m >= M) return;
  // Whole waves leave together (kb is uniform per wave), so the shuffles below see all lanes.
  if (kb >= blocks_per_row) return;
  const int64_t k = kb * 32 + lane;
  const float x = load_x<XT>(X, m * K + k);
  // NaN policy (README "Contracts"): a block holding a NaN or an inf, or whose scale overflows
  // FP16 (amax > 65504 * 127), gets a NaN scale and zero codes. The wave max of 0 (finite) or
  // 1 (not) tells every lane. 1/d is only taken when d survives FP16 rounding: it is inf for
  // d < 1/FLT_MAX, and a zero d16 zeroes the block anyway.
  const float amax = wave_max(fabsf(x));
  const float d = amax / 127.0f;
  const float d16 = num::f16_to_f32(num::f32_to_f16(d));
  const bool finite = wave_max(__builtin_isfinite(x) ? 0.0f : 1.0f) == 0.0f && __builtin_isfinite(d16);
  const float id = finite && d16 != 0.0f ? 1.0f / d : 0.0f;
  st_global(xq + m * K + k, id != 0.0f ? static_cast<int8_t>(__builtin_roundf(x * id)) : int8_t{0});
  if (lane == 0) st_global(xd + m * blocks_per_row + kb, finite ? d16 : __builtin_nanf(""));
}

// Launch plan: grid (ceil(K/32 / 8), M), 256 threads.
struct QuantPlan {
  unsigned grid_x, grid_y, threads;
};
inline QuantPlan quantize_q8_plan(int64_t M, int64_t K) {
  const int64_t blocks = K / 32;
  return {static_cast<unsigned>((blocks + kQuantWavesPerGroup - 1) / kQuantWavesPerGroup),
          static_cast<unsigned>(M), 32u * kQuantWavesPerGroup};
}

// ---- 2. the int8 WMMA GEMM -------------------------------------------------------------

struct MmqTile {
  static constexpr int kBM = 64, kBN = 128, kBK = 32;  // block tile (M, N, K)
  static constexpr int kWavesM = 2, kWavesN = 4;       // wave grid, each wave 32 x 32
  static constexpr int kThreads = 32 * kWavesM * kWavesN;
  static constexpr int kRowBytes = kBK + 16;  // padded LDS row (bytes)
};

template <DType WF>
__device__ __forceinline__ void mmq_wmma_i8_body(const uint8_t* W, int64_t w_row_bytes, float w_tensor_scale,
                                                 const int8_t* xq, const float* xd, float* Y, int64_t M,
                                                 int64_t N, int64_t K) {
  using T = MmqTile;
  static_assert(T::kThreads == 256, "the load mapping below assumes 256 threads");
  static_assert(T::kBM * T::kBK == 256 * 8, "A tile: 8 bytes per thread");
  static_assert(T::kBN * 2 == 256, "B tile: one 16-element run per thread");
  // NVFP4 scales are per 16 elements, so each K half (one WMMA) gets its own scale.
  constexpr int kRunsPerScale = WF == DType::NVFP4 ? 1 : 2;

  __shared__ __attribute__((aligned(16))) int8_t sA[T::kBM * T::kRowBytes];  // (BM, BK) int8 X
  __shared__ __attribute__((aligned(16))) int8_t sB[T::kBN * T::kRowBytes];  // (BN, BK) int8 W
  __shared__ float sAd[T::kBM];                                              // (BM)    X scale of this K step
  __shared__ float sBd[T::kBN * 2];                                          // (BN, 2) W scale of each 16-run
  wmma::sim_poison_shared(sA, sB, sAd, sBd);

  const int tid = threadIdx.x, lane = tid % 32, wave = tid / 32;
  const int wm = wave / T::kWavesN, wn = wave % T::kWavesN;  // this wave's 32 x 32 sub-tile
  // wmma_layout::cd_16x16x16: all 8 D elements of a lane lie in one column.
  const int d_col = xk::wmma_layout::cd_16x16x16(lane, 0).col;
  const int64_t m0 = static_cast<int64_t>(blockIdx.y) * T::kBM;
  const int64_t n0 = static_cast<int64_t>(blockIdx.x) * T::kBN;
  const int64_t x_blocks = K / 32;

  xk::wmma::float8 acc[2][2];  // (i: M half, j: N half) FP32 accumulators, C/D layout
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 2; ++j)
      for (int e = 0; e < 8; ++e) acc[i][j][e] = 0.0f;

  // Load mapping. A: thread -> row tid/4, bytes 8*(tid%4) .. +8. B: thread -> row tid/2, run tid%2.
  const int a_row = tid / 4, a_col = 8 * (tid % 4);
  const int b_row = tid / 2, b_run = tid % 2;

  // One K step of this thread's share of the tiles, held in registers between the global
  // loads and the LDS stores so that step k+1's loads are in flight during step k's WMMAs.
  struct Stage {
    int32_t a[2];   // 8 bytes of X row a_row
    float a_scale;  // X scale of row tid (threads < BM)
    int8_t b[16];   // W run b_run of row b_row, expanded to int8
    float b_scale;  // its scale
  };
  auto load_stage = [&](int64_t k0, Stage& st) {
    const int64_t m = m0 + a_row;
    st.a[0] = st.a[1] = 0;
    if (m < M) {
      const int32_t* src = reinterpret_cast<const int32_t*>(xq + m * K + k0 + a_col);
      st.a[0] = ld_global(src);
      st.a[1] = ld_global(src + 1);
    }
    st.a_scale = tid < T::kBM && m0 + tid < M ? ld_global(xd + (m0 + tid) * x_blocks + k0 / 32) : 0.0f;
    const int64_t n = n0 + b_row;
    st.b_scale = 0.0f;
    if (n < N) {
      st.b_scale = load_run_i8<WF>(W + n * w_row_bytes, k0 + 16 * b_run, st.b);
    } else {
      for (int j = 0; j < 16; ++j) st.b[j] = 0;
    }
  };
  auto store_stage = [&](const Stage& st) {
    int32_t* adst = reinterpret_cast<int32_t*>(sA + a_row * T::kRowBytes + a_col);
    adst[0] = st.a[0];
    adst[1] = st.a[1];
    if (tid < T::kBM) sAd[tid] = st.a_scale;
    int8_t* bdst = sB + b_row * T::kRowBytes + 16 * b_run;
    for (int j = 0; j < 16; ++j) bdst[j] = st.b[j];
    sBd[b_row * 2 + b_run] = st.b_scale;
  };

  Stage stage;
  if (K > 0) load_stage(0, stage);
  for (int64_t k0 = 0; k0 < K; k0 += T::kBK) {
    store_stage(stage);
    __syncthreads();
    if (k0 + T::kBK < K) load_stage(k0 + T::kBK, stage);  // prefetch: overlaps the WMMAs below

    // Fragments (kernels/hip/wmma_fragments.h): A rows are X rows, B columns are W rows, both
    // 16 consecutive K bytes per lane.
    xk::wmma::int8v part[2][2];
    for (int i = 0; i < 2; ++i)
      for (int j = 0; j < 2; ++j)
        for (int e = 0; e < 8; ++e) part[i][j][e] = 0;
    for (int run = 0; run < 2; ++run) {
      xk::wmma::int4v a[2], b[2];
      for (int i = 0; i < 2; ++i)
        xk::wmma::load_a_16x16x16_iu8(a[i], sA + (wm * 32 + 16 * i) * T::kRowBytes + 16 * run, T::kRowBytes,
                                      lane);
      for (int j = 0; j < 2; ++j)
        xk::wmma::load_b_16x16x16_iu8(b[j], sB + (wn * 32 + 16 * j) * T::kRowBytes + 16 * run, T::kRowBytes,
                                      lane);
      for (int i = 0; i < 2; ++i)
        for (int j = 0; j < 2; ++j)
          xk::wmma::wmma_i32_16x16x16_iu8(part[i][j], true, a[i], true, b[j], part[i][j], false);
      if (run + 1 < kRunsPerScale) continue;
      // Rescale each D element by its row's X scale and its column's W scale.
      for (int i = 0; i < 2; ++i)
        for (int j = 0; j < 2; ++j) {
          const float wd = sBd[(wn * 32 + 16 * j + d_col) * 2 + (kRunsPerScale == 1 ? run : 0)];
          xk::wmma::for_each_cd_16x16x16(lane, [&](int e, int row, int) {
            const float s = sAd[wm * 32 + 16 * i + row] * wd;
            acc[i][j][e] += static_cast<float>(part[i][j][e]) * s;
            part[i][j][e] = 0;
          });
        }
    }
    __syncthreads();
  }

  const float out_scale = WF == DType::NVFP4 ? w_tensor_scale : 1.0f;
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 2; ++j)
      xk::wmma::for_each_cd_16x16x16(lane, [&](int e, int row, int col) {
        const int64_t m = m0 + wm * 32 + 16 * i + row, n = n0 + wn * 32 + 16 * j + col;
        if (m < M && n < N) st_global(Y + m * N + n, acc[i][j][e] * out_scale);
      });
}

}  // namespace xk::hipk

// The __global__ entry points carry the variant names (rocprofv3 --kernel-include-regex).
// In every kernel header they are static (a test may include the header beside libxk's own
// instantiation without defining them twice) and [[maybe_unused]] (it may launch only a few).
// Q8 activation quantizer (shared by the four mmq variants), one per activation dtype.
[[maybe_unused]] static __global__ void __launch_bounds__(256)
    mmq_actq8_xf32_gfx11(const void* X, int8_t* xq, float* xd, int64_t M, int64_t K) {
  xk::hipk::quantize_q8_body<xk::DType::F32>(X, xq, xd, M, K);
}
[[maybe_unused]] static __global__ void __launch_bounds__(256)
    mmq_actq8_xf16_gfx11(const void* X, int8_t* xq, float* xd, int64_t M, int64_t K) {
  xk::hipk::quantize_q8_body<xk::DType::F16>(X, xq, xd, M, K);
}
[[maybe_unused]] static __global__ void __launch_bounds__(256)
    mmq_actq8_xbf16_gfx11(const void* X, int8_t* xq, float* xd, int64_t M, int64_t K) {
  xk::hipk::quantize_q8_body<xk::DType::BF16>(X, xq, xd, M, K);
}

#define XK_HIP_MMQ_KERNEL(NAME, FMT)                                                                       \
  [[maybe_unused]] static __global__ void __launch_bounds__(256)                                           \
      NAME(const uint8_t* W, int64_t w_row_bytes, float w_tensor_scale, const int8_t* xq, const float* xd, \
           float* Y, int64_t M, int64_t N, int64_t K) {                                                    \
    xk::hipk::mmq_wmma_i8_body<FMT>(W, w_row_bytes, w_tensor_scale, xq, xd, Y, M, N, K);                   \
  }
XK_HIP_MMQ_KERNEL(mmq_q4_0_q8_64x128x32_wmmai8_gfx11, xk::DType::Q4_0)
XK_HIP_MMQ_KERNEL(mmq_q8_0_q8_64x128x32_wmmai8_gfx11, xk::DType::Q8_0)
XK_HIP_MMQ_KERNEL(mmq_mxfp4_q8_64x128x32_wmmai8_gfx11, xk::DType::MXFP4)
XK_HIP_MMQ_KERNEL(mmq_nvfp4_q8_64x128x32_wmmai8_gfx11, xk::DType::NVFP4)
#undef XK_HIP_MMQ_KERNEL

// ==== launch section (host) ==================================================================
// Entry points, grid and scratch, written against the Launcher contract
// (backends/core/launcher.h): the same code launches on hip:N and on hip-sim.
#include "backends/core/launcher.h"
#include "xk/variant.h"

namespace xk::hipk {

using QuantQ8Kernel = void (*)(const void*, int8_t*, float*, int64_t, int64_t);
using MmqKernel = void (*)(const uint8_t*, int64_t, float, const int8_t*, const float*, float*, int64_t,
                           int64_t, int64_t);
static const Entry<QuantQ8Kernel> kQuantQ8Entries[] = {
    XK_HIP_ENTRY(DType::F32, DType::F32, mmq_actq8_xf32_gfx11),
    XK_HIP_ENTRY(DType::F32, DType::F16, mmq_actq8_xf16_gfx11),
    XK_HIP_ENTRY(DType::F32, DType::BF16, mmq_actq8_xbf16_gfx11),
};
static const Entry<MmqKernel> kMmqEntries[] = {
    XK_HIP_ENTRY(DType::Q4_0, DType::F32, mmq_q4_0_q8_64x128x32_wmmai8_gfx11),
    XK_HIP_ENTRY(DType::Q8_0, DType::F32, mmq_q8_0_q8_64x128x32_wmmai8_gfx11),
    XK_HIP_ENTRY(DType::MXFP4, DType::F32, mmq_mxfp4_q8_64x128x32_wmmai8_gfx11),
    XK_HIP_ENTRY(DType::NVFP4, DType::F32, mmq_nvfp4_q8_64x128x32_wmmai8_gfx11),
};

// X quantized once per call to int8 [M, K] + FP32 scales [M, K/32] (scratch), then the GEMM.
template <Launcher L>
void run_mmq_wmma_i8(L& l, const char* variant, const MatmulArgs& a, LaunchRecord& rec) {
  const int64_t M = a.M(), N = a.N(), K = a.K();
  Buffer xq = l.scratch(static_cast<size_t>(M * K));
  Buffer xd = l.scratch(static_cast<size_t>(M * (K / 32)) * sizeof(float));
  auto* xq_p = static_cast<int8_t*>(l.ptr(xq));
  auto* xd_p = static_cast<float*>(l.ptr(xd));
  const auto qp = quantize_q8_plan(M, K);
  if (qp.grid_x && qp.grid_y)
    l.launch(variant, pick(kQuantQ8Entries, DType::F32, a.X.dtype), dim3(qp.grid_x, qp.grid_y),
             dim3(qp.threads), 0, rec, static_cast<const void*>(l.ptr(a.X.buf)), xq_p, xd_p, M, K);
  // Grid (ceil(N/128), ceil(M/64)), 256 threads, static LDS only.
  l.launch(variant, pick(kMmqEntries, a.W.dtype, DType::F32), tile_grid<MmqTile>(M, N),
           dim3(MmqTile::kThreads), 0, rec, static_cast<const uint8_t*>(l.ptr(a.W.buf)),
           static_cast<int64_t>(row_bytes(a.W.dtype, K)), a.W.tensor_scale, static_cast<const int8_t*>(xq_p),
           static_cast<const float*>(xd_p), static_cast<float*>(l.ptr(a.Y.buf)), M, N, K);
}

}  // namespace xk::hipk
