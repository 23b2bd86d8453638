// mmq_fp4 — W4A4 GEMM on Blackwell's block-scaled FP4 tensor cores (sm_120a / sm_121a:
// RTX 50xx, DGX Spark GB10). No tcgen05/TMEM on sm_12x: this is warp-level mma.sync.
//
//   Y[M,N] = X[M,K] * W[N,K]^T with W in NVFP4 (UE4M3 scale per 16 + FP32 tensor scale) or
//   MXFP4 (E8M0 scale per 32), X quantized on the fly to the same FP4 format
//   (ActPrecision::FP4, kernels/ref/ref.h): MXFP4 X as quantize_row(MXFP4, x); NVFP4 X with a
//   per-row FP32 scale s = amax/(6*448), quantize_row(NVFP4, x/s), and Y row scaled by s.
//
// Kernels (one LaunchRecord, backends/cuda/table.h):
//   quantize_act_fp4           one warp per row of X -> E2M1 codes + scale registers in the
//                              "fp4" tile layout of packing.h (+ the per-row s).
//   mmq_fp4_128x128_mma_sm120a the GEMM. Variants mmq_{nvfp4,mxfp4}_fp4_128x128_mma_sm120a.
//
// MMA: mma.sync.aligned.m16n8k64.row.col.kind::mxf4nvf4.block_scale.scale_vec::4X
//   .f32.e2m1.e2m1.f32.ue4m3 (NVFP4) and .kind::mxf4.block_scale.scale_vec::2X ... .ue8m0
//   (MXFP4) — PTX ISA 9.7.14.5.14 "mma" and 9.7.14.3 "Block Scaling for mma.sync"; the scale
//   registers are fed with selectors {byte-id 0, thread-id 0}: lane 4*(m%8) + m/8 carries
//   row m's four (two) scale bytes, lane 4*n carries column n's (mma_layouts.h).
// Tiling: block tile 128 (M) x 128 (N) x 128 (K); 8 warps as 2 (M) x 4 (N); warp tile
//   64 x 32 = 4 (m16) x 4 (n8) MMAs per k64 step, 2 steps per stage, FP32 accumulators in
//   registers (64 per lane). A and B fragments are single 32-bit shared-memory words because
//   both operands are stored in natural nibble order (element 2i = low nibble of byte i).
// Pipeline: kStages = 3 cp.async.cg stages of 22 KiB (10 KiB A + 10 KiB B codes with rows
//   padded 64 -> 80 B so the 8 rows a fragment load touches hit distinct banks, + 2 KiB
//   scales), 66 KiB dynamic shared memory (GB10: 99 KiB per SM -> 1 block/SM, 8 warps).
// Bound at pp512 (Llama-3-70B FFN up, M=512, N=28672, K=8192): 2MNK = 240.5 GFLOP. Grid is
//   (M tiles, N tiles) with M fastest, so the 4 blocks sharing a W tile run together and W
//   crosses DRAM once: W 132 MB + X F32 read twice (amax and quantize passes) 33.6 MB + X FP4
//   2.4 MB + Y F32 58.7 MB = 227 MB -> 1060 FLOP/B, below GB10's FP4 ridge (~490 TFLOPS /
//   273 GB/s = 1800 FLOP/B): bandwidth-bound at 0.83 ms (0.49 ms of MMA at peak). Expected
//   0.9-1.1 ms, i.e. 45-55% of the dense FP4 peak, the MMA issue being hidden behind the
//   weight stream (3-stage cp.async); cuda-sim's counters confirm the byte and MMA model
//   (backends/cuda/README.md). F32 in/out is what keeps it off the compute roof.
#pragma once
#include "kernels/cuda/common.cuh"
#include "kernels/cuda/packing.h"

namespace xk::cuda_kernels {
// Internal linkage: this header is compiled both by nvcc (backends/cuda) and by g++ for
// cuda-sim (backends/sim) into the same library; each translation unit keeps its own kernels.
namespace {

inline constexpr int kFp4TileM = 128;    // activation rows per block tile
inline constexpr int kFp4Stages = 3;     // cp.async pipeline depth
inline constexpr int kFp4Threads = 256;  // 8 warps, 2 (M) x 4 (N)
inline constexpr int kFp4RowBytes = 80;  // 64 B of codes (128 E2M1) + 16 B pad per smem row
inline constexpr int kFp4StageBytes = 2 * 128 * kFp4RowBytes + 2 * 128 * 8;  // codes + scales
inline constexpr int kFp4SmemBytes = kFp4Stages * kFp4StageBytes;

// One warp per X row (4 rows per 128-thread block). Lane i quantizes sub-blocks i, i+32, ...
// (16 elements for NVFP4, 32 for MXFP4) of the zero-padded row. codes/scales follow the
// "fp4" layout with 128-row tiles; row_scale[row] = s (1 for MXFP4 and for pad rows).
__global__ void __launch_bounds__(128)
    quantize_act_fp4(const void* x, int act_type, int nvfp4, uint8_t* codes, uint32_t* scales,
                     float* row_scale, int M, int K, int m_padded, int k_tiles) {
  const int lane = threadIdx.x & 31;
  const int row = blockIdx.x * 4 + (threadIdx.x >> 5);
  if (row >= m_padded) return;  // uniform per warp: the shuffles below see full warps
  const ActType at = static_cast<ActType>(act_type);
  const int64_t x_row = static_cast<int64_t>(row) * K;

  float amax = 0.0f;
  if (nvfp4 && row < M)
    for (int k = lane; k < K; k += 32) amax = fmaxf(amax, fabs_dev(load_act(x, x_row + k, at)));
  for (int off = 16; off > 0; off >>= 1) amax = fmaxf(amax, __shfl_xor_sync(0xffffffffu, amax, off));
  // Floored at the smallest normal float like the oracle, so x / s stays finite for rows of
  // subnormals (amax / 2688 would round to 0).
  const float s = nvfp4 && amax > 0.0f ? fmaxf(amax / (6.0f * 448.0f), 1.17549435e-38f) : 1.0f;
  if (lane == 0) ptx::st_global(row_scale + row, s);

  const int sub = nvfp4 ? 16 : 32;
  const int n_sub = k_tiles * kFp4BK / sub;
  const int64_t tile_row = (static_cast<int64_t>(row / kFp4TileM) * k_tiles) * kFp4TileM + row % kFp4TileM;
  for (int sb = lane; sb < n_sub; sb += 32) {
    const int k0 = sb * sub, kt = k0 / kFp4BK;
    const int64_t slot = tile_row + static_cast<int64_t>(kt) * kFp4TileM;  // (tile, k_tile, row)
    float v[32];
    for (int j = 0; j < sub; ++j) {
      const int k = k0 + j;
      v[j] = row < M && k < K ? (nvfp4 ? load_act(x, x_row + k, at) / s : load_act(x, x_row + k, at)) : 0.0f;
    }
    uint8_t* dst = codes + slot * (kFp4BK / 2) + (k0 % kFp4BK) / 2;
    auto* sc = reinterpret_cast<uint8_t*>(scales + slot * 2 + (k0 % kFp4BK) / 64);
    if (nvfp4) {
      uint8_t q[8];
      const uint8_t ue = quantize_nvfp4_sub(v, q);
      for (int i = 0; i < 8; ++i) ptx::st_global(dst + i, q[i]);
      ptx::st_global(sc + (k0 % 64) / 16, ue);
    } else {
      uint8_t q[16];
      const uint8_t e = quantize_mxfp4_block(v, q);
      for (int i = 0; i < 16; ++i) ptx::st_global(dst + i, q[i]);
      ptx::st_global(sc + (k0 % 64) / 32, e);
    }
  }
}

// kNvfp4: true = NVFP4 (ue4m3 x4 scales), false = MXFP4 (ue8m0 x2 scales, kind::mxf4).
template <bool kNvfp4>
__global__ void __launch_bounds__(kFp4Threads)
    mmq_fp4_128x128_mma_sm120a(const uint8_t* __restrict__ x_codes, const uint32_t* __restrict__ x_scales,
                               const float* __restrict__ x_row_scale, const uint8_t* __restrict__ w_codes,
                               const uint32_t* __restrict__ w_scales, float w_tensor_scale,
                               float* __restrict__ y, int M, int N, int k_tiles) {
  static_assert(kFp4TileM == 128 && kFp4TileN == 128 && kFp4BK == 128, "warp layout assumes 128 x 128 x 128");
  static_assert(kFp4Threads * 2 * 16 == 128 * kFp4BK / 2, "two 16-byte cp.async per thread fill one operand");
  static_assert(kFp4RowBytes % 16 == 0 && kFp4RowBytes >= kFp4BK / 2,
                "smem rows hold a code row, 16 B aligned");
  static_assert(kFp4SmemBytes <= 99 * 1024, "GB10 / sm_120 shared memory per block is 99 KiB");

  uint8_t* smem = ptx::dynamic_smem<uint8_t>();
  auto a_codes = [&](int s) { return smem + s * kFp4StageBytes; };                       // (128 rows, 80 B)
  auto b_codes = [&](int s) { return smem + s * kFp4StageBytes + 128 * kFp4RowBytes; };  // (128 cols, 80 B)
  auto a_scale = [&](int s) {
    return reinterpret_cast<uint32_t*>(smem + s * kFp4StageBytes + 256 * kFp4RowBytes);
  };
  auto b_scale = [&](int s) { return a_scale(s) + 256; };  // (128, 2 steps)

  const int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5;
  const int wm = warp >> 2, wn = warp & 3;  // warp tile origin: rows 64*wm, cols 32*wn
  // Scale selectors {byte-id 0, thread-id 0}: the row of an m16 tile / the column of an n8
  // tile whose scales this lane's register carries (mma_layouts.h, block scaling).
  const int sf_row = scale_a_row_fed(lane, 0), sf_col = scale_b_col_fed(lane, 0);
  const CdCoords cd = cd_m16n8_coords(lane);
  // M tiles vary fastest: the (M/128) blocks that share a W tile run side by side and read it
  // through L2, so W crosses DRAM once (12 W tiles x 590 KB in flight on 48 SMs at K=8192).
  const int m_tile = blockIdx.x, n_tile = blockIdx.y;

  auto load_stage = [&](int s, int kt) {
    const int64_t a_slot = (static_cast<int64_t>(m_tile) * k_tiles + kt) * 128;
    const int64_t b_slot = (static_cast<int64_t>(n_tile) * k_tiles + kt) * 128;
#pragma unroll
    for (int i = 0; i < 2; ++i) {
      const int c = tid + i * kFp4Threads;  // 16-byte chunk: row c/4, part c%4
      ptx::cp_async_16(a_codes(s) + (c >> 2) * kFp4RowBytes + (c & 3) * 16, x_codes + a_slot * 64 + c * 16);
      ptx::cp_async_16(b_codes(s) + (c >> 2) * kFp4RowBytes + (c & 3) * 16, w_codes + b_slot * 64 + c * 16);
    }
    if (tid < 64)
      ptx::cp_async_16(a_scale(s) + tid * 4, x_scales + a_slot * 2 + tid * 4);
    else if (tid < 128)
      ptx::cp_async_16(b_scale(s) + (tid - 64) * 4, w_scales + b_slot * 2 + (tid - 64) * 4);
  };

  float acc[4][4][4] = {};  // (m16 tile, n8 tile, C fragment)

#pragma unroll
  for (int s = 0; s < kFp4Stages - 1; ++s) {
    if (s < k_tiles) load_stage(s, s);
    ptx::cp_async_commit();
  }
  for (int kt = 0; kt < k_tiles; ++kt) {
    ptx::cp_async_wait<kFp4Stages - 2>();
    __syncthreads();
    if (kt + kFp4Stages - 1 < k_tiles) load_stage((kt + kFp4Stages - 1) % kFp4Stages, kt + kFp4Stages - 1);
    ptx::cp_async_commit();
    const int s = kt % kFp4Stages;
    const uint8_t* as = a_codes(s);
    const uint8_t* bs = b_codes(s);
#pragma unroll
    for (int step = 0; step < 2; ++step) {  // two m16n8k64 K steps per stage
      uint32_t a[4][4], sa[4];              // (m16 tile) A fragments at k 64*step, and their scale registers
#pragma unroll
      for (int i = 0; i < 4; ++i) {
        load_a_m16n8k64(a[i], as + (wm * 64 + i * 16) * kFp4RowBytes + 32 * step, kFp4RowBytes, lane);
        sa[i] = a_scale(s)[(wm * 64 + i * 16 + sf_row) * 2 + step];
      }
#pragma unroll
      for (int j = 0; j < 4; ++j) {
        const int col0 = wn * 32 + j * 8;  // first column of this n8 tile
        uint32_t b[2];
        load_b_m16n8k64(b, bs + col0 * kFp4RowBytes + 32 * step, kFp4RowBytes, lane);
        const uint32_t sb = b_scale(s)[(col0 + sf_col) * 2 + step];
#pragma unroll
        for (int i = 0; i < 4; ++i) {
          if constexpr (kNvfp4)
            ptx::mma_m16n8k64_nvf4_ue4m3_4x<0, 0, 0, 0>(acc[i][j], a[i], b, acc[i][j], sa[i], sb);
          else
            ptx::mma_m16n8k64_mxf4_kind_mxf4<0, 0, 0, 0>(acc[i][j], a[i], b, acc[i][j], sa[i], sb);
        }
      }
    }
  }
  ptx::cp_async_wait<0>();

  // Epilogue: per-row activation scale s (NVFP4) and the weight tensor scale, then Y.
#pragma unroll
  for (int i = 0; i < 4; ++i)
#pragma unroll
    for (int h = 0; h < 2; ++h) {  // C fragment element 2h + c: (cd.row[h], cd.col[c])
      const int row = m_tile * kFp4TileM + wm * 64 + i * 16 + cd.row[h];
      if (row >= M) continue;
      // In FP64 like the oracle: in FP32, s * tensor_scale underflows for rows near FLT_MIN and
      // acc * s overflows for rows near FLT_MAX. 16 multiplies per thread, off the main loop.
      const double rs =
          kNvfp4 ? static_cast<double>(ptx::ld_global(x_row_scale + row)) * w_tensor_scale : 1.0;
#pragma unroll
      for (int j = 0; j < 4; ++j)
#pragma unroll
        for (int c = 0; c < 2; ++c) {
          const int col = n_tile * kFp4TileN + wn * 32 + j * 8 + cd.col[c];
          if (col < N)
            ptx::st_global(y + static_cast<int64_t>(row) * N + col,
                           static_cast<float>(acc[i][j][2 * h + c] * rs));
        }
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

// Y = X W^T on the block-scaled FP4 MMA: X quantized to the weight's FP4 format in the "fp4"
// layout (128-row tiles), then 128x128 output tiles. Scratch: the X tiles, then (256-byte
// aligned) one FP32 row scale per padded row.
template <bool kNvfp4, Launcher L>
void run_mmq_fp4(L& l, const char* variant, const MatmulArgs& a, LaunchRecord& rec) {
  const int64_t M = a.M(), N = a.N(), K = a.K();
  const Fp4Layout wl = fp4_layout(N, K), xl = fp4_layout(M, K, kFp4TileM);
  const auto* wbase = static_cast<const uint8_t*>(l.ptr(packed_fp4(a.W)));
  const int64_t m_pad = xl.n_tiles * kFp4TileM;
  const size_t row_scale_at = (xl.total_bytes() + 255) / 256 * 256;
  Buffer xq = l.scratch(row_scale_at + static_cast<size_t>(m_pad) * sizeof(float));
  auto* xbase = static_cast<uint8_t*>(l.ptr(xq));
  auto* xscales = reinterpret_cast<uint32_t*>(xbase + xl.scales_offset());
  auto* xrow = reinterpret_cast<float*>(xbase + row_scale_at);
  l.launch(variant, quantize_act_fp4, dim3(static_cast<unsigned>(m_pad / 4)), dim3(128), 0, rec,
           l.ptr(a.X.buf), act_code(a.X.dtype), kNvfp4 ? 1 : 0, xbase, xscales, xrow, static_cast<int>(M),
           static_cast<int>(K), static_cast<int>(m_pad), static_cast<int>(xl.k_tiles));
  l.launch(variant, mmq_fp4_128x128_mma_sm120a<kNvfp4>,
           dim3(static_cast<unsigned>(xl.n_tiles), static_cast<unsigned>(wl.n_tiles)), dim3(kFp4Threads),
           static_cast<size_t>(kFp4SmemBytes), rec, static_cast<const uint8_t*>(xbase),
           static_cast<const uint32_t*>(xscales), static_cast<const float*>(xrow), wbase,
           reinterpret_cast<const uint32_t*>(wbase + wl.scales_offset()), a.W.tensor_scale,
           static_cast<float*>(l.ptr(a.Y.buf)), static_cast<int>(M), static_cast<int>(N),
           static_cast<int>(wl.k_tiles));
}

}  // namespace xk::cuda_kernels
