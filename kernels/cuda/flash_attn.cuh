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

inline constexpr int kFaRows = 64;  // query rows per block (4 warps x 16)
inline constexpr int kFaKeys = 64;  // keys per shared-memory tile
inline constexpr int kFaThreads = 128;

struct FaParams {
  const void* q;  // [B, Hq, S, D] f32 (q_f16 = 0) or f16
  int q_f16;
  const uint16_t* k;  // [B, Hkv, T, D] f16
  const uint16_t* v;  // [B, Hkv, T, D] f16
  float* o;           // [B, Hq, S, D] f32, written when splits == 1
  float* part_o;      // [splits][B*Hq*S][D] unnormalised, splits > 1
  float* part_ml;     // [splits][B*Hq*S][2]: running max (log2 domain) and sum
  int B, Hq, Hkv, S, T;
  int causal, q_offset;
  int keys_per_split, splits;
  float scale_log2;  // softmax scale * log2(e)
};

// One online-softmax step of a row (log2 domain): the running max m takes in this tile's
// max. Returns alpha, the factor that rescales the row's running sum and O, and sets base,
// the exponent base of this tile's probabilities. A row that has seen only masked keys keeps
// max -inf: base 0 makes exp2(-inf - base) = 0 instead of NaN, and alpha 1 leaves its (zero)
// sums unscaled.
__device__ __forceinline__ float online_softmax_step(float& m, float tile_max, float& base) {
  const float m_new = fmaxf(m, tile_max);
  base = m_new == -INFINITY ? 0.0f : m_new;
  const float alpha = m_new == -INFINITY ? 1.0f : exp2f(m - m_new);
  m = m_new;
  return alpha;
}

template <int D>
__global__ void __launch_bounds__(kFaThreads) flash_attn_64xD_mma_sm80(FaParams p) {
  static_assert(D == 64 || D == 128, "head dims 64 and 128 (D/16 k-steps, D/8 output tiles)");
  static_assert(kFaKeys == 64 && kFaRows == 4 * 16, "8 n8 key tiles per warp, 16 rows per warp");
  constexpr int kRow = D + 8;  // smem row stride in halves: +16 B keeps rows g and g+4 apart
  __shared__ __align__(16) uint16_t ks[kFaKeys * kRow];  // (64 keys, D) f16
  __shared__ __align__(16) uint16_t vs[kFaKeys * kRow];  // (64 keys, D) f16
  ptx::sim_poison_shared(ks, vs);

  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  const int group = p.Hq / p.Hkv, rows = group * p.S;
  const int b = blockIdx.y / p.Hkv, kvh = blockIdx.y % p.Hkv;
  const int row0 = blockIdx.x * kFaRows, warp_row0 = row0 + warp * 16;
  // Every C fragment (S and O) of this lane holds element q at (row cd.row[q / 2], column
  // cd.col[q % 2]) of its m16n8 tile: two rows, r[0] and r[1], with query indices sq[].
  const CdCoords cd = cd_m16n8_coords(lane);
  const int r[2] = {warp_row0 + cd.row[0], warp_row0 + cd.row[1]};
  const int sq[2] = {r[0] % p.S, r[1] % p.S};
  const bool warp_has_rows = warp_row0 < rows;
  auto global_row = [&](int row) {
    return (static_cast<int64_t>(b) * p.Hq + kvh * group + row / p.S) * p.S + row % p.S;
  };

  // Q fragments (mma_layout::a_m16n8k16) for the D/16 k-steps, rows past G*S are zero.
  uint32_t qf[D / 16][4];
#pragma unroll
  for (int kc = 0; kc < D / 16; ++kc)
#pragma unroll
    for (int i = 0; i < 4; ++i) {
      const ml::RowCol rc = ml::a_m16n8k16(lane, i, 0);  // half 1 is the next column
      const int row = warp_row0 + rc.row, d = kc * 16 + rc.col;
      float x0 = 0.0f, x1 = 0.0f;
      if (row < rows) {
        const int64_t at = global_row(row) * D + d;
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

  float o[D / 8][4] = {};                          // (n8 tile over D, C fragment)
  float m[2] = {-INFINITY, -INFINITY}, l[2] = {};  // (row r[h]) running max (log2) and sum

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

    // S = Q K^T for 16 rows x 64 keys: K rows are the B columns (n = key, k = d).
    float sc[8][4];  // (n8 key tile, C fragment)
#pragma unroll
    for (int j = 0; j < 8; ++j) {
      sc[j][0] = sc[j][1] = sc[j][2] = sc[j][3] = 0.0f;
#pragma unroll
      for (int kc = 0; kc < D / 16; ++kc) {
        uint32_t bk[2];
        load_b_m16n8k16(bk, &ks[8 * j * kRow + kc * 16], kRow, lane);
        ptx::mma_m16n8k16_f16_f32(sc[j], qf[kc], bk, sc[j]);
      }
    }
    // Scale, mask, running max of each of the lane's two rows.
    float mx[2] = {-INFINITY, -INFINITY};
#pragma unroll
    for (int j = 0; j < 8; ++j)
#pragma unroll
      for (int q = 0; q < 4; ++q) {
        const int key = kt + 8 * j + cd.col[q & 1];
        // sq[q >> 1] selected by value: indexing the array here costs ptxas 4 more registers.
        const int s = q < 2 ? sq[0] : sq[1];
        const bool masked = key >= k_end || (p.causal && key > p.q_offset + s);
        sc[j][q] = masked ? -INFINITY : sc[j][q] * p.scale_log2;
        mx[q >> 1] = fmaxf(mx[q >> 1], sc[j][q]);
      }
#pragma unroll
    for (int off = 1; off < 4; off <<= 1)  // the 4 lanes of a quad share a row
#pragma unroll
      for (int h = 0; h < 2; ++h) mx[h] = fmaxf(mx[h], __shfl_xor_sync(0xffffffffu, mx[h], off));
    float base[2], alpha[2];
#pragma unroll
    for (int h = 0; h < 2; ++h) {
      alpha[h] = online_softmax_step(m[h], mx[h], base[h]);
      l[h] *= alpha[h];
    }
#pragma unroll
    for (int dt = 0; dt < D / 8; ++dt)
#pragma unroll
      for (int q = 0; q < 4; ++q) o[dt][q] *= alpha[q >> 1];
    // P = exp2(S - base), summed per row and re-packed as A fragments of the 4 k16 steps over
    // the 64 keys (key tile j is half j % 2 of step j / 2).
    uint32_t pf[4][4];
#pragma unroll
    for (int j = 0; j < 8; ++j) {
      float pj[4];
#pragma unroll
      for (int q = 0; q < 4; ++q) pj[q] = exp2f(sc[j][q] - base[q >> 1]);
#pragma unroll
      for (int h = 0; h < 2; ++h) l[h] += pj[2 * h] + pj[2 * h + 1];
      cd_to_a_m16n8k16(pf[j / 2], j % 2, pj);
    }
    // O += P V: V rows are keys (k), D is n; one ldmatrix.x4.trans serves two n8 tiles.
#pragma unroll
    for (int kc = 0; kc < 4; ++kc)
#pragma unroll
      for (int dt = 0; dt < D / 8; dt += 2) {
        uint32_t b0[2], b1[2];
        ldmatrix_b_m16n8k16_x2_trans(b0, b1, &vs[kc * 16 * kRow + dt * 8], kRow, lane);
        ptx::mma_m16n8k16_f16_f32(o[dt], pf[kc], b0, o[dt]);
        ptx::mma_m16n8k16_f16_f32(o[dt + 1], pf[kc], b1, o[dt + 1]);
      }
  }

#pragma unroll
  for (int off = 1; off < 4; off <<= 1)
#pragma unroll
    for (int h = 0; h < 2; ++h) l[h] += __shfl_xor_sync(0xffffffffu, l[h], off);
#pragma unroll
  for (int h = 0; h < 2; ++h) {
    if (r[h] >= rows) continue;
    const int64_t gr = global_row(r[h]);
    if (p.splits == 1) {
      const float inv = l[h] > 0.0f ? 1.0f / l[h] : 0.0f;
#pragma unroll
      for (int dt = 0; dt < D / 8; ++dt)
#pragma unroll
        for (int c = 0; c < 2; ++c) ptx::st_global(p.o + gr * D + dt * 8 + cd.col[c], o[dt][2 * h + c] * inv);
    } else {
      const int64_t pr = static_cast<int64_t>(blockIdx.z) * p.B * p.Hq * p.S + gr;
#pragma unroll
      for (int dt = 0; dt < D / 8; ++dt)
#pragma unroll
        for (int c = 0; c < 2; ++c) ptx::st_global(p.part_o + pr * D + dt * 8 + cd.col[c], o[dt][2 * h + c]);
      if (cd.col[0] == 0) {  // one lane of the quad writes the row's max and sum
        ptx::st_global(p.part_ml + pr * 2, m[h]);
        ptx::st_global(p.part_ml + pr * 2 + 1, l[h]);
      }
    }
  }
}

// Merges the splits of one output element: O = sum_z 2^(m_z - M) o_z / sum_z 2^(m_z - M) l_z.
// One block per output row, one thread per head-dim element (no 64-bit divisions).
__global__ void __launch_bounds__(128)
    flash_attn_combine(const float* part_o, const float* part_ml, float* o, int64_t rows, int D, int splits) {
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
  const dim3 grid(static_cast<unsigned>(row_blocks), static_cast<unsigned>(heads),
                  static_cast<unsigned>(splits));
  if (a.D() == 64)
    l.launch(variant, flash_attn_64xD_mma_sm80<64>, grid, dim3(kFaThreads), 0, rec, p);
  else
    l.launch(variant, flash_attn_64xD_mma_sm80<128>, grid, dim3(kFaThreads), 0, rec, p);
  if (splits > 1)
    l.launch(variant, flash_attn_combine, dim3(static_cast<unsigned>(rows)),
             dim3(static_cast<unsigned>(a.D())), 0, rec, static_cast<const float*>(p.part_o),
             static_cast<const float*>(p.part_ml), p.o, rows, static_cast<int>(a.D()),
             static_cast<int>(splits));
}

}  // namespace xk::cuda_kernels
