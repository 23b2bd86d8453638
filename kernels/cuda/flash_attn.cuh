// flash_attn — FlashAttention-2 forward on the f16 tensor cores (sm_80+), prefill and
// split-K decode, grouped-query heads, causal with q_offset, head dim 64 or 128, F16 K/V.
//
//   O[b,h,s,:] = softmax(scale * Q[b,h,s,:] K[b,kvh,:,:]^T [+ causal mask]) V[b,kvh,:,:],
//   kvh = h / (Hq/Hkv); query s (absolute position q_offset + s) sees keys j <= q_offset + s.
//
// Rows: the G = Hq/Hkv query heads sharing one KV head are stacked with the S queries into
//   G*S rows per (b, kvh) (row r -> head kvh*G + r/S, query r%S), so one K/V tile loaded
//   into shared memory serves the whole group (GQA reuse), and decode (S=1) still fills the
//   16 rows of an MMA with G heads instead of wasting 15 of them.
// Tiling: block = 4 warps = 64 rows; each warp owns 16 rows and loops over key tiles of
//   kKeys = 64: S = Q K^T as 8 (n8 key tiles) x D/16 MMAs mma.sync.m16n8k16.row.col.f32.f16
//   (PTX ISA 9.7.14.5.14), online softmax in FP32 on the accumulator fragments (row max/sum
//   over the 4 lanes of a quad with shuffles, exp2 with the scale folded into log2(e)), P
//   re-packed in registers as the A operand (the C layout of two n8 tiles IS the A layout of
//   one k16 step), O += P V with V fragments from ldmatrix.x4.trans. Q lives in registers
//   (D/16 x 4 words), K/V tiles in shared memory, rows padded by 16 B (bank-conflict-free
//   fragment loads and ldmatrix rows): 2 x 64 x (D+8) halves = 17/34 KiB.
// Kernels: flash_attn_64xD_mma_sm80<D> (prefill: one split, writes O; decode: splits along
//   the keys write unnormalised partial O with their running max and sum) and
//   flash_attn_combine (merges the splits). Variants attn_f16_f16_64x64_mma_sm80 (prefill)
//   and attn_f16_f16_64x64_splitk_mma_sm80 (S = 1 decode).
// Bound: pp512 prefill, Llama-3-70B (Hq 64, Hkv 8, D 128, S = T = 512, causal): 4*D per visible
//   pair = 64 * 131k pairs * 512 = 4.3 GFLOP per layer vs ~3 MB of Q/K/V/O -> ~1400 FLOP/B:
//   compute-bound; f16 mma with f32 accumulate on GB10 is ~1/4 of the FP4 rate (~120 TFLOPS
//   dense), and softmax (exp2, shuffles) plus causal waste take the usual FA2 share: expect
//   40-50% of the f16 MMA peak. Decode (S=1, T=4096) reads 2*T*D*2 B per KV head for 4*D*T*G
//   FLOP: ~G FLOP/B -> bandwidth-bound, expected 60-75% of 273 GB/s with enough splits.
#pragma once
#include "kernels/cuda/common.cuh"

namespace xk::cuda_kernels {
// Internal linkage: this header is compiled both by nvcc (backends/cuda) and by g++ for
// cuda-sim (backends/sim) into the same library; each translation unit keeps its own kernels.
namespace {

inline constexpr int kFaRows = 64;     // query rows per block (4 warps x 16)
inline constexpr int kFaKeys = 64;     // keys per shared-memory tile
inline constexpr int kFaThreads = 128;

struct FaParams {
  const void* q;            // [B, Hq, S, D] f32 (q_f16 = 0) or f16
  int q_f16;
  const uint16_t* k;        // [B, Hkv, T, D] f16
  const uint16_t* v;        // [B, Hkv, T, D] f16
  float* o;                 // [B, Hq, S, D] f32, written when splits == 1
  float* part_o;            // [splits][B*Hq*S][D] unnormalised, splits > 1
  float* part_ml;           // [splits][B*Hq*S][2]: running max (log2 domain) and sum
  int B, Hq, Hkv, S, T;
  int causal, q_offset;
  int keys_per_split, splits;
  float scale_log2;         // softmax scale * log2(e)
};

template <int D>
__global__ void __launch_bounds__(kFaThreads) flash_attn_64xD_mma_sm80(FaParams p) {
  static_assert(D == 64 || D == 128, "head dims 64 and 128 (D/16 k-steps, D/8 output tiles)");
  static_assert(kFaKeys == 64 && kFaRows == 4 * 16, "8 n8 key tiles per warp, 16 rows per warp");
  constexpr int kRow = D + 8;  // smem row stride in halves: +16 B keeps rows g and g+4 apart
  __shared__ __align__(16) uint16_t ks[kFaKeys * kRow];  // (64 keys, D) f16
  __shared__ __align__(16) uint16_t vs[kFaKeys * kRow];  // (64 keys, D) f16

  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  const int g = lane >> 2, t = lane & 3;
  const int group = p.Hq / p.Hkv, rows = group * p.S;
  const int b = blockIdx.y / p.Hkv, kvh = blockIdx.y % p.Hkv;
  const int row0 = blockIdx.x * kFaRows;
  const int r_lo = row0 + warp * 16 + g, r_hi = r_lo + 8;  // the two rows this lane holds
  const int s_lo = r_lo % p.S, s_hi = r_hi % p.S;
  const bool warp_has_rows = row0 + warp * 16 < rows;
  auto global_row = [&](int r) { return (static_cast<int64_t>(b) * p.Hq + kvh * group + r / p.S) * p.S + r % p.S; };

  // Q fragments (mma_layout::a_m16n8k16) for the D/16 k-steps, rows past G*S are zero.
  uint32_t qf[D / 16][4];
#pragma unroll
  for (int kc = 0; kc < D / 16; ++kc)
#pragma unroll
    for (int i = 0; i < 4; ++i) {
      const int r = (i & 1) ? r_hi : r_lo, d = kc * 16 + 2 * t + 8 * (i >> 1);
      float x0 = 0.0f, x1 = 0.0f;
      if (r < rows) {
        const int64_t at = global_row(r) * D + d;
        x0 = load_act(p.q, at, p.q_f16 ? ActType::F16 : ActType::F32);
        x1 = load_act(p.q, at + 1, p.q_f16 ? ActType::F16 : ActType::F32);
      }
      qf[kc][i] = ptx::pack_f16x2(x0, x1);
    }

  // Key range of this block: its split, cut at the last key any of its rows may see.
  const int k_begin = blockIdx.z * p.keys_per_split;
  int k_end = min(p.T, k_begin + p.keys_per_split);
  if (p.causal) {
    const int last = min(row0 + kFaRows, rows) - 1;
    const int s_max = (last / p.S != row0 / p.S) ? p.S - 1 : last % p.S;
    k_end = min(k_end, p.q_offset + s_max + 1);
  }
  const int64_t kv_base = (static_cast<int64_t>(b) * p.Hkv + kvh) * p.T * D;

  float o[D / 8][4] = {};               // (n8 tile over D, C fragment)
  float m_lo = -INFINITY, m_hi = -INFINITY, l_lo = 0.0f, l_hi = 0.0f;

  for (int kt = k_begin; kt < k_end; kt += kFaKeys) {
    __syncthreads();  // the previous tile is consumed by every warp
    for (int c = threadIdx.x; c < kFaKeys * D / 8; c += kFaThreads) {  // 16-byte chunks
      const int key = c / (D / 8), part = c % (D / 8);
      const bool in = kt + key < k_end;
      const int64_t src = kv_base + static_cast<int64_t>(in ? kt + key : k_begin) * D + part * 8;
      ptx::cp_async_16_zfill(&ks[key * kRow + part * 8], p.k + src, in ? 16 : 0);
      ptx::cp_async_16_zfill(&vs[key * kRow + part * 8], p.v + src, in ? 16 : 0);
    }
    ptx::cp_async_commit();
    ptx::cp_async_wait<0>();
    __syncthreads();
    // A warp whose 16 rows are all padding (decode: G < 64 rows) only helps load the tiles.
    // The condition is uniform over the warp, so every collective below stays warp-complete.
    if (!warp_has_rows) continue;

    // S = Q K^T for 16 rows x 64 keys (mma_layout::b_m16n8k16: key g, d 2t + 8i).
    float sc[8][4];
#pragma unroll
    for (int j = 0; j < 8; ++j) {
      sc[j][0] = sc[j][1] = sc[j][2] = sc[j][3] = 0.0f;
      const uint16_t* krow = &ks[(8 * j + g) * kRow];
#pragma unroll
      for (int kc = 0; kc < D / 16; ++kc) {
        const uint32_t bk[2] = {*reinterpret_cast<const uint32_t*>(krow + kc * 16 + 2 * t),
                                *reinterpret_cast<const uint32_t*>(krow + kc * 16 + 8 + 2 * t)};
        ptx::mma_m16n8k16_f16_f32(sc[j], qf[kc], bk, sc[j]);
      }
    }
    // Scale, mask, running max (mma_layout::cd_m16n8: c[q] is row lo for q < 2, key 2t + (q&1)).
    float mx_lo = -INFINITY, mx_hi = -INFINITY;
#pragma unroll
    for (int j = 0; j < 8; ++j)
#pragma unroll
      for (int q = 0; q < 4; ++q) {
        const int key = kt + 8 * j + 2 * t + (q & 1);
        const int s = q < 2 ? s_lo : s_hi;
        const bool masked = key >= k_end || (p.causal && key > p.q_offset + s);
        sc[j][q] = masked ? -INFINITY : sc[j][q] * p.scale_log2;
        if (q < 2) mx_lo = fmaxf(mx_lo, sc[j][q]);
        else mx_hi = fmaxf(mx_hi, sc[j][q]);
      }
#pragma unroll
    for (int off = 1; off < 4; off <<= 1) {  // the 4 lanes of a quad share a row
      mx_lo = fmaxf(mx_lo, __shfl_xor_sync(0xffffffffu, mx_lo, off));
      mx_hi = fmaxf(mx_hi, __shfl_xor_sync(0xffffffffu, mx_hi, off));
    }
    const float mn_lo = fmaxf(m_lo, mx_lo), mn_hi = fmaxf(m_hi, mx_hi);
    // A row that has seen only masked keys keeps max -inf: use 0 as the exponent base so
    // exp2(-inf - base) = 0 instead of NaN, and leave its (zero) sums unscaled.
    const float base_lo = mn_lo == -INFINITY ? 0.0f : mn_lo, base_hi = mn_hi == -INFINITY ? 0.0f : mn_hi;
    const float alpha_lo = mn_lo == -INFINITY ? 1.0f : exp2f(m_lo - mn_lo);
    const float alpha_hi = mn_hi == -INFINITY ? 1.0f : exp2f(m_hi - mn_hi);
    m_lo = mn_lo;
    m_hi = mn_hi;
    l_lo *= alpha_lo;
    l_hi *= alpha_hi;
#pragma unroll
    for (int dt = 0; dt < D / 8; ++dt) {
      o[dt][0] *= alpha_lo;
      o[dt][1] *= alpha_lo;
      o[dt][2] *= alpha_hi;
      o[dt][3] *= alpha_hi;
    }
    uint32_t pf[4][4];  // P as A fragments of 4 k16 steps over the 64 keys
#pragma unroll
    for (int j = 0; j < 8; ++j) {
      const float p0 = exp2f(sc[j][0] - base_lo), p1 = exp2f(sc[j][1] - base_lo);
      const float p2 = exp2f(sc[j][2] - base_hi), p3 = exp2f(sc[j][3] - base_hi);
      l_lo += p0 + p1;
      l_hi += p2 + p3;
      pf[j / 2][(j & 1) * 2 + 0] = ptx::pack_f16x2(p0, p1);  // a0 / a2: row lo, keys 2t (+8)
      pf[j / 2][(j & 1) * 2 + 1] = ptx::pack_f16x2(p2, p3);  // a1 / a3: row hi
    }
    // O += P V: ldmatrix.x4.trans gives b[0], b[1] of two adjacent n8 tiles over D.
    const int mat = lane >> 3, mrow = lane & 7;
#pragma unroll
    for (int kc = 0; kc < 4; ++kc)
#pragma unroll
      for (int dt = 0; dt < D / 8; dt += 2) {
        uint32_t vb[4];
        ptx::ldmatrix_x4_trans(vb, &vs[(kc * 16 + mrow + 8 * (mat & 1)) * kRow + dt * 8 + 8 * (mat >> 1)]);
        const uint32_t b0[2] = {vb[0], vb[1]}, b1[2] = {vb[2], vb[3]};
        ptx::mma_m16n8k16_f16_f32(o[dt], pf[kc], b0, o[dt]);
        ptx::mma_m16n8k16_f16_f32(o[dt + 1], pf[kc], b1, o[dt + 1]);
      }
  }

#pragma unroll
  for (int off = 1; off < 4; off <<= 1) {
    l_lo += __shfl_xor_sync(0xffffffffu, l_lo, off);
    l_hi += __shfl_xor_sync(0xffffffffu, l_hi, off);
  }
#pragma unroll
  for (int h = 0; h < 2; ++h) {
    const int r = h ? r_hi : r_lo;
    if (r >= rows) continue;
    const int64_t gr = global_row(r);
    const float l = h ? l_hi : l_lo, m = h ? m_hi : m_lo;
    if (p.splits == 1) {
      const float inv = l > 0.0f ? 1.0f / l : 0.0f;
#pragma unroll
      for (int dt = 0; dt < D / 8; ++dt)
#pragma unroll
        for (int c = 0; c < 2; ++c) ptx::st_global(p.o + gr * D + dt * 8 + 2 * t + c, o[dt][2 * h + c] * inv);
    } else {
      const int64_t pr = static_cast<int64_t>(blockIdx.z) * p.B * p.Hq * p.S + gr;
#pragma unroll
      for (int dt = 0; dt < D / 8; ++dt)
#pragma unroll
        for (int c = 0; c < 2; ++c) ptx::st_global(p.part_o + pr * D + dt * 8 + 2 * t + c, o[dt][2 * h + c]);
      if (t == 0) {
        ptx::st_global(p.part_ml + pr * 2, m);
        ptx::st_global(p.part_ml + pr * 2 + 1, l);
      }
    }
  }
}

// Merges the splits of one output element: O = sum_z 2^(m_z - M) o_z / sum_z 2^(m_z - M) l_z.
// One block per output row, one thread per head-dim element (no 64-bit divisions).
__global__ void __launch_bounds__(128) flash_attn_combine(const float* part_o, const float* part_ml, float* o,
                                                          int64_t rows, int D, int splits) {
  const int64_t r = blockIdx.x;
  const int d = threadIdx.x;
  if (d >= D) return;
  float mmax = -INFINITY;
  for (int z = 0; z < splits; ++z) mmax = fmaxf(mmax, ptx::ld_global(part_ml + (z * rows + r) * 2));
  float num = 0.0f, den = 0.0f;
  for (int z = 0; z < splits; ++z) {
    const float m = ptx::ld_global(part_ml + (z * rows + r) * 2);
    if (m == -INFINITY) continue;  // this split saw no visible key for the row
    const float w = exp2f(m - mmax);
    num += w * ptx::ld_global(part_o + (z * rows + r) * D + d);
    den += w * ptx::ld_global(part_ml + (z * rows + r) * 2 + 1);
  }
  ptx::st_global(o + r * D + d, den > 0.0f ? num / den : 0.0f);
}

}  // namespace
}  // namespace xk::cuda_kernels

// ==== launch section (host) ==================================================================
// Grid (query-row blocks of 64, B*Hkv, key splits). split_keys spreads the keys over enough
// blocks to fill the GPU (decode), each writing partials [splits][rows][D] and (m, l) pairs
// that flash_attn_combine merges; scratch holds them.
#include <algorithm>

#include "backends/core/launcher.h"
#include "xk/variant.h"

namespace xk::cuda_kernels {

template <Launcher L>
void run_flash_attn(L& l, const char* variant, const AttentionArgs& a, LaunchRecord& rec, bool split_keys) {
  const auto cdiv = [](int64_t x, int64_t y) { return (x + y - 1) / y; };
  FaParams p{};
  p.q = l.ptr(a.Q.buf);
  p.q_f16 = a.Q.dtype == DType::F16;
  p.k = static_cast<const uint16_t*>(l.ptr(a.K.buf));
  p.v = static_cast<const uint16_t*>(l.ptr(a.V.buf));
  p.o = static_cast<float*>(l.ptr(a.O.buf));
  p.B = static_cast<int>(a.B());
  p.Hq = static_cast<int>(a.Hq());
  p.Hkv = static_cast<int>(a.Hkv());
  p.S = static_cast<int>(a.S());
  p.T = static_cast<int>(a.T());
  p.causal = a.causal;
  p.q_offset = static_cast<int>(a.q_offset);
  p.scale_log2 = a.scale * 1.4426950408889634f;
  const int64_t row_blocks = cdiv((a.Hq() / a.Hkv()) * a.S(), kFaRows), heads = a.B() * a.Hkv();
  const int64_t key_tiles = cdiv(a.T(), kFaKeys);
  int64_t splits = 1;
  if (split_keys) {  // ~2 blocks per SM, each at least one key tile
    const int64_t want = 2 * std::max(l.info().compute_units, 1);
    splits = std::clamp<int64_t>(cdiv(want, row_blocks * heads), 1, std::max<int64_t>(key_tiles, 1));
  }
  const int64_t keys_per_split = cdiv(key_tiles, splits) * kFaKeys;
  splits = std::max<int64_t>(cdiv(a.T(), keys_per_split), 1);
  p.keys_per_split = static_cast<int>(keys_per_split);
  p.splits = static_cast<int>(splits);
  const int64_t rows = a.B() * a.Hq() * a.S();
  Buffer part;
  if (splits > 1) {
    part = l.scratch(static_cast<size_t>(splits * rows) * (a.D() + 2) * sizeof(float));
    p.part_o = static_cast<float*>(l.ptr(part));
    p.part_ml = p.part_o + splits * rows * a.D();
  }
  const dim3 grid(static_cast<unsigned>(row_blocks), static_cast<unsigned>(heads), static_cast<unsigned>(splits));
  if (a.D() == 64) l.launch(variant, flash_attn_64xD_mma_sm80<64>, grid, dim3(kFaThreads), 0, rec, p);
  else l.launch(variant, flash_attn_64xD_mma_sm80<128>, grid, dim3(kFaThreads), 0, rec, p);
  if (splits > 1)
    l.launch(variant, flash_attn_combine, dim3(static_cast<unsigned>(rows)), dim3(static_cast<unsigned>(a.D())), 0, rec,
             static_cast<const float*>(p.part_o), static_cast<const float*>(p.part_ml), p.o, rows,
             static_cast<int>(a.D()), static_cast<int>(splits));
}

}  // namespace xk::cuda_kernels
