// flash_attn — attention O = softmax(scale * Q K^T [+ causal mask]) V on RDNA 3/3.5.
// Q [B, Hq, S, D] f32/f16, K/V [B, Hkv, T, D] f16/f32, O [B, Hq, S, D] f32; GQA (query head h
// reads KV head h / (Hq/Hkv)); causal: query i (absolute q_offset + i) sees keys j <= q_offset + i.
//
// 1. fa2_prefill (FlashAttention-2 forward, Dao 2023), D = 64 or 128:
//    workgroup 128 threads = 4 waves, 64 query rows (16 per wave), KV steps of 32 keys.
//      S = Q K^T   v_wmma_f32_16x16x16_f16: A = Q (16 x D, in registers for the whole loop),
//                  B = K^T from LDS (lane = key, 16 consecutive d): D/16 x 2 WMMAs per step
//      softmax     FP32 online (running max m, running sum l per row, rescale alpha = e^(m_old - m));
//                  a C/D row lives in 16 lanes (rows 2e + lane/16), so row max = 4 xor-shuffles
//      O += P V    P rounded to f16 and passed through LDS to change from C/D layout to A layout
//                  (RDNA3 WMMA has no register path for that), V^T in LDS (lane = d, 16 keys)
//    LDS (D=128): K 32 x 136 + V^T 128 x 40 + P 4 x 16 x 40 halves = 24.5 KB -> 2 workgroups per
//    64 KB. VGPRs: Q fragments D/2 + O accumulators D/2 + S 16 -> ~170 at D=128 (8 waves/SIMD).
//    Causal: the KV loop stops at the last key any of the 64 rows may see (half the work at S=T).
//    Expected bound at pp512 (Llama-3-70B: Hq 64, Hkv 8, D 128, S = T = 512, causal; hip-sim
//    counters for one KV group x 8): 590 k f16 WMMAs = 4.83 GFLOP issued (4.30 useful; the diagonal
//    tiles are computed then masked), loads issued 109 MB; unique DRAM bytes 36 MB with F32 Q and O
//    (Q 16.8, O 16.8, K/V f16 2.1) -> 135 FLOP/B, left of the 232 FLOP/B ridge: at pp512 a layer's
//    attention is ~0.14 ms bandwidth-bound (F16 Q would make it 0.1 ms), ~1 % of the layer's GEMM
//    time. When compute-bound (long T), the exp/max/shuffle work shares the VALU with the WMMAs:
//    we expect ~35 % of 59.4 TFLOPS f16.
// 2. decode_splitk (S = 1): T split into chunks of 256 keys, one workgroup (128 threads) per
//    (chunk, q head): thread j scores key j (FP32 dot product over D), block max/sum, then thread d
//    accumulates sum_j p_j V[j][d]; a combine kernel merges the chunks' (m, l, o) per head.
//    No WMMA: with one query row a 16-row tile would be 15/16 empty. Memory-bound: K and V are
//    read once per q head (the Hq/Hkv heads of a group re-read them from L2/MALL).
#pragma once
#include <stdint.h>

#include "kernels/hip/weights.h"

namespace xk::hipk {

struct Fa2Tile {
  static constexpr int kWaves = 4, kThreads = 32 * kWaves;
  static constexpr int kBQ = 16 * kWaves;  // query rows per workgroup
  static constexpr int kBKV = 32;          // keys per step
  static constexpr int kPad = 8;           // halves of padding per LDS row (bank spread)
};

// Element `i` of a Q/K/V tensor as FP16 bits (F16 stored as is, F32 rounded RNE).
template <DType T>
__device__ inline uint16_t load_f16_bits(const void* p, int64_t i) {
  if constexpr (T == DType::F16)
    return ld_global(static_cast<const uint16_t*>(p) + i);
  else
    return num::f32_to_f16(ld_global(static_cast<const float*>(p) + i));
}
template <DType T>
__device__ inline float load_f32(const void* p, int64_t i) {
  if constexpr (T == DType::F16)
    return num::f16_to_f32(ld_global(static_cast<const uint16_t*>(p) + i));
  else
    return ld_global(static_cast<const float*>(p) + i);
}

struct AttnParams {
  const void* Q;
  const void* K;
  const void* V;
  float* O;
  int64_t B, Hq, Hkv, S, T;
  float scale;
  int causal;
  int64_t q_offset;
};

// One online-softmax step of a row (natural-log domain): the running max m takes in this
// tile's max. Returns alpha = e^(m_old - base), the factor that rescales the row's running
// sum and O, and sets base, the exponent base of this tile's probabilities. A row with no
// visible key yet keeps m = -inf; base 0 then gives e^-inf = 0 instead of NaN.
__device__ inline float online_softmax_step(float& m, float tile_max, float& base) {
  const float m_new = fmaxf(m, tile_max);
  base = m_new == -__builtin_inff() ? 0.0f : m_new;
  const float alpha = expf(m - base);
  m = m_new;
  return alpha;
}

template <int D, DType QT, DType KVT>
__device__ __forceinline__ void fa2_prefill_body(const AttnParams& p) {
  using F = Fa2Tile;
  static_assert(D % 16 == 0 && D <= 128, "D/16 WMMA K-steps; D <= 128 keeps Q and O in registers");
  constexpr int kDC = D / 16;                                                     // 16-wide d chunks
  __shared__ __attribute__((aligned(16))) uint16_t sK[F::kBKV * (D + F::kPad)];   // (BKV, D)
  __shared__ __attribute__((aligned(16))) uint16_t sVt[D * (F::kBKV + F::kPad)];  // (D, BKV)
  __shared__
      __attribute__((aligned(16))) uint16_t sP[F::kWaves * 16 * (F::kBKV + F::kPad)];  // per wave (16, BKV)
  wmma::sim_poison_shared(sK, sVt, sP);

  const int tid = threadIdx.x, lane = tid % 32, wave = tid / 32;
  const auto f16 = [](uint16_t h) { return half_from_bits(h); };
  const int64_t b = blockIdx.z, h = blockIdx.y, hkv = h / (p.Hq / p.Hkv);
  const int64_t q0 = static_cast<int64_t>(blockIdx.x) * F::kBQ;  // first query row of the workgroup
  const int64_t qw = q0 + 16 * wave;                             // first query row of this wave
  const int64_t q_base = (b * p.Hq + h) * p.S * D;
  const int64_t kv_base = (b * p.Hkv + hkv) * p.T * D;
  uint16_t* const sP_wave = sP + wave * 16 * (F::kBKV + F::kPad);  // (16, BKV) P of this wave

  // Q fragments (A layout, wmma_layout::a_16x16x16): rows are queries qw.., columns d = 16c..
  xk::wmma::half16 qf[kDC];
#pragma GCC unroll 16
  for (int c = 0; c < kDC; ++c)
#pragma GCC unroll 16
    for (int e = 0; e < 16; ++e) {
      const xk::wmma_layout::RowCol rc = xk::wmma_layout::a_16x16x16(lane, e);
      const int64_t q = qw + rc.row;
      qf[c][e] =
          half_from_bits(q < p.S ? load_f16_bits<QT>(p.Q, q_base + q * D + 16 * c + rc.col) : uint16_t{0});
    }

  xk::wmma::float8 o[kDC];  // (16 rows, D) accumulator, C/D layout
#pragma GCC unroll 16
  for (int c = 0; c < kDC; ++c)
#pragma GCC unroll 16
    for (int e = 0; e < 8; ++e) o[c][e] = 0.0f;
  float m_run[8],
      l_run[8];  // per D element e (row cd_16x16x16(lane, e).row): running max, this lane's partial sum
#pragma GCC unroll 16
  for (int e = 0; e < 8; ++e) m_run[e] = -__builtin_inff(), l_run[e] = 0.0f;

  // Keys past the last one any row of the workgroup may see are skipped (uniform bound).
  int64_t kv_end = p.T;
  if (p.causal && p.q_offset + q0 + F::kBQ < kv_end) kv_end = p.q_offset + q0 + F::kBQ;

  for (int64_t j0 = 0; j0 < kv_end; j0 += F::kBKV) {
    for (int i = tid; i < F::kBKV * D; i += F::kThreads) {  // K and V^T tiles, coalesced reads
      const int key = i / D, d = i % D;
      const bool in = j0 + key < p.T;
      sK[key * (D + F::kPad) + d] = in ? load_f16_bits<KVT>(p.K, kv_base + (j0 + key) * D + d) : uint16_t{0};
      sVt[d * (F::kBKV + F::kPad) + key] =
          in ? load_f16_bits<KVT>(p.V, kv_base + (j0 + key) * D + d) : uint16_t{0};
    }
    __syncthreads();

    // S = Q K^T for keys j0 + 16t + (0..15): the B columns are the K rows (n = key, k = d).
    xk::wmma::float8 s[2];
#pragma GCC unroll 16
    for (int t = 0; t < 2; ++t) {
#pragma GCC unroll 16
      for (int e = 0; e < 8; ++e) s[t][e] = 0.0f;
#pragma GCC unroll 16
      for (int c = 0; c < kDC; ++c) {
        xk::wmma::half16 kf;
        xk::wmma::load_b_16x16x16(kf, sK + 16 * t * (D + F::kPad) + 16 * c, D + F::kPad, lane, f16);
        xk::wmma::wmma_f32_16x16x16_f16(s[t], qf[c], kf, s[t]);
      }
    }

    // Online softmax on the rows of this lane's S elements (C/D layout); element e of s[t] is
    // (row rc.row, key 16t + rc.col).
    float alpha[8];
#pragma GCC unroll 16
    for (int e = 0; e < 8; ++e) {
      const xk::wmma_layout::RowCol rc = xk::wmma_layout::cd_16x16x16(lane, e);
      const int64_t q = qw + rc.row;
      float v[2];
#pragma GCC unroll 16
      for (int t = 0; t < 2; ++t) {
        const int64_t key = j0 + 16 * t + rc.col;
        const bool visible = key < p.T && (!p.causal || key <= p.q_offset + q);
        v[t] = visible ? s[t][e] * p.scale : -__builtin_inff();
      }
      float m_use;
      alpha[e] = online_softmax_step(m_run[e], half_wave_max(fmaxf(v[0], v[1])), m_use);
      float psum = 0.0f;
#pragma GCC unroll 16
      for (int t = 0; t < 2; ++t) {
        const float pv = expf(v[t] - m_use);
        const uint16_t ph = num::f32_to_f16(pv);
        psum += num::f16_to_f32(ph);  // l sums the same rounded P the PV product uses
        sP_wave[rc.row * (F::kBKV + F::kPad) + 16 * t + rc.col] = ph;
      }
      l_run[e] = l_run[e] * alpha[e] + psum;
    }
#pragma GCC unroll 16
    for (int c = 0; c < kDC; ++c)
#pragma GCC unroll 16
      for (int e = 0; e < 8; ++e) o[c][e] *= alpha[e];
    __syncthreads();  // P written by all lanes of the wave before any lane reads its row

    // O += P V: A = P (rows of this wave, k = keys 16kc..), B columns = V^T rows (n = d).
    xk::wmma::half16 pf[2];
#pragma GCC unroll 16
    for (int kc = 0; kc < 2; ++kc)
      xk::wmma::load_a_16x16x16(pf[kc], sP_wave + 16 * kc, F::kBKV + F::kPad, lane, f16);
#pragma GCC unroll 16
    for (int c = 0; c < kDC; ++c)
#pragma GCC unroll 16
      for (int kc = 0; kc < 2; ++kc) {
        xk::wmma::half16 vf;
        xk::wmma::load_b_16x16x16(vf, sVt + 16 * c * (F::kBKV + F::kPad) + 16 * kc, F::kBKV + F::kPad, lane,
                                  f16);
        xk::wmma::wmma_f32_16x16x16_f16(o[c], pf[kc], vf, o[c]);
      }
    __syncthreads();  // K, V^T and P are overwritten by the next step
  }

#pragma GCC unroll 16
  for (int e = 0; e < 8; ++e) {
    const float l = half_wave_sum(l_run[e]);
    const xk::wmma_layout::RowCol rc = xk::wmma_layout::cd_16x16x16(lane, e);
    const int64_t q = qw + rc.row;
    if (q >= p.S) continue;
    const float inv = l > 0.0f ? 1.0f / l : 0.0f;
#pragma GCC unroll 16
    for (int c = 0; c < kDC; ++c) st_global(p.O + q_base + q * D + 16 * c + rc.col, o[c][e] * inv);
  }
}

// ---- decode (S = 1), split over T ------------------------------------------------------

struct DecodeTile {
  static constexpr int kThreads = 128, kWaves = kThreads / 32;
  static constexpr int kChunk = 256;  // keys per workgroup
};

// Partial results per (b, h, chunk): m, l and o[D] (o not yet divided by l).
template <int D, DType QT, DType KVT>
__device__ __forceinline__ void decode_chunk_body(const AttnParams& p, float* part_m, float* part_l,
                                                  float* part_o, int64_t chunks) {
  using F = DecodeTile;
  __shared__ float sq[D];            // (D) query row, FP32
  __shared__ float ss[F::kChunk];    // (kChunk) scores, then probabilities
  __shared__ float sred[F::kWaves];  // per-wave partial max / sum
  wmma::sim_poison_shared(sq, ss, sred);

  const int tid = threadIdx.x, lane = tid % 32, wave = tid / 32;
  const int64_t chunk = blockIdx.x, h = blockIdx.y, b = blockIdx.z, hkv = h / (p.Hq / p.Hkv);
  const int64_t kv_base = (b * p.Hkv + hkv) * p.T * D;
  const int64_t j0 = chunk * F::kChunk;
  const int64_t visible_end = p.causal && p.q_offset + 1 < p.T ? p.q_offset + 1 : p.T;

  for (int d = tid; d < D; d += F::kThreads) sq[d] = load_f32<QT>(p.Q, (b * p.Hq + h) * D + d);
  __syncthreads();

  float local_max = -__builtin_inff();
  for (int i = tid; i < F::kChunk; i += F::kThreads) {
    const int64_t key = j0 + i;
    float sc = -__builtin_inff();
    if (key < visible_end) {
      float dot = 0.0f;
      for (int d = 0; d < D; ++d) dot += sq[d] * load_f32<KVT>(p.K, kv_base + key * D + d);
      sc = dot * p.scale;
    }
    ss[i] = sc;
    local_max = fmaxf(local_max, sc);
  }
  local_max = wave_max(local_max);
  if (lane == 0) sred[wave] = local_max;
  __syncthreads();
  float m = sred[0];
  for (int w = 1; w < F::kWaves; ++w) m = fmaxf(m, sred[w]);
  const float m_use = m == -__builtin_inff() ? 0.0f : m;
  __syncthreads();  // sred is reused for the sum

  float local_sum = 0.0f;
  for (int i = tid; i < F::kChunk; i += F::kThreads) {
    const float pv = expf(ss[i] - m_use);
    ss[i] = pv;
    local_sum += pv;
  }
  local_sum = wave_sum(local_sum);
  if (lane == 0) sred[wave] = local_sum;
  __syncthreads();
  float l = 0.0f;
  for (int w = 0; w < F::kWaves; ++w) l += sred[w];

  const int64_t part = (b * p.Hq + h) * chunks + chunk;
  int64_t n_keys = visible_end - j0;
  if (n_keys > F::kChunk) n_keys = F::kChunk;
  for (int d = tid; d < D; d += F::kThreads) {
    float acc = 0.0f;
    for (int64_t i = 0; i < n_keys; ++i) acc += ss[i] * load_f32<KVT>(p.V, kv_base + (j0 + i) * D + d);
    st_global(part_o + part * D + d, acc);
  }
  if (tid == 0) {
    st_global(part_m + part, m);
    st_global(part_l + part, l);
  }
}

// Merges the chunks of one (b, h): O = sum_c e^(m_c - M) o_c / sum_c e^(m_c - M) l_c.
template <int D>
__device__ __forceinline__ void decode_combine_body(const AttnParams& p, const float* part_m,
                                                    const float* part_l, const float* part_o,
                                                    int64_t chunks) {
  const int64_t h = blockIdx.x, b = blockIdx.y;
  const int64_t base = (b * p.Hq + h) * chunks;
  float M = -__builtin_inff();
  for (int64_t c = 0; c < chunks; ++c) M = fmaxf(M, ld_global(part_m + base + c));
  const float m_use = M == -__builtin_inff() ? 0.0f : M;
  for (int d = threadIdx.x; d < D; d += blockDim.x) {
    float o = 0.0f, l = 0.0f;
    for (int64_t c = 0; c < chunks; ++c) {
      const float w = expf(ld_global(part_m + base + c) - m_use);
      o += w * ld_global(part_o + (base + c) * D + d);
      l += w * ld_global(part_l + base + c);
    }
    // 0 only when no key was visible (l == 0): a NaN l (a NaN score) stays NaN (NaN policy).
    st_global(p.O + (b * p.Hq + h) * D + d, l == 0.0f ? 0.0f : o / l);
  }
}

}  // namespace xk::hipk

// Entry points: names start with the variant name, then D and the Q / KV dtypes.
#define XK_HIP_FA2_KERNEL(D, QN, QT, KVN, KVT)                                                   \
  [[maybe_unused]] static __global__ void __launch_bounds__(128)                                 \
      attn_fa2_64x32_wmmaf16_gfx11_d##D##_q##QN##_kv##KVN(xk::hipk::AttnParams p) {              \
    xk::hipk::fa2_prefill_body<D, QT, KVT>(p);                                                   \
  }                                                                                              \
  [[maybe_unused]] static __global__ void __launch_bounds__(128)                                 \
      attn_decode_splitk256_valu_gfx11_d##D##_q##QN##_kv##KVN(                                   \
          xk::hipk::AttnParams p, float* part_m, float* part_l, float* part_o, int64_t chunks) { \
    xk::hipk::decode_chunk_body<D, QT, KVT>(p, part_m, part_l, part_o, chunks);                  \
  }
#define XK_HIP_FA2_D(D)                                                                          \
  XK_HIP_FA2_KERNEL(D, f32, xk::DType::F32, f16, xk::DType::F16)                                 \
  XK_HIP_FA2_KERNEL(D, f16, xk::DType::F16, f16, xk::DType::F16)                                 \
  XK_HIP_FA2_KERNEL(D, f32, xk::DType::F32, f32, xk::DType::F32)                                 \
  XK_HIP_FA2_KERNEL(D, f16, xk::DType::F16, f32, xk::DType::F32)                                 \
  [[maybe_unused]] static __global__ void __launch_bounds__(128)                                 \
      attn_decode_splitk256_valu_gfx11_combine_d##D(xk::hipk::AttnParams p, const float* part_m, \
                                                    const float* part_l, const float* part_o,    \
                                                    int64_t chunks) {                            \
    xk::hipk::decode_combine_body<D>(p, part_m, part_l, part_o, chunks);                         \
  }
XK_HIP_FA2_D(64)
XK_HIP_FA2_D(128)
#undef XK_HIP_FA2_D
#undef XK_HIP_FA2_KERNEL

// ==== launch section (host) ==================================================================
// Entry points, grid and scratch, written against the Launcher contract
// (backends/core/launcher.h): the same code launches on hip:N and on hip-sim.
#include "backends/core/launcher.h"
#include "xk/variant.h"

namespace xk::hipk {

using Fa2Kernel = void (*)(AttnParams);
using DecodeKernel = void (*)(AttnParams, float*, float*, float*, int64_t);
using CombineKernel = void (*)(AttnParams, const float*, const float*, const float*, int64_t);
// Entries by (KV dtype, Q dtype); the first four are D = 64, the last four D = 128.
static const Entry<Fa2Kernel> kFa2Entries[] = {
    XK_HIP_ENTRY(DType::F16, DType::F32, attn_fa2_64x32_wmmaf16_gfx11_d64_qf32_kvf16),
    XK_HIP_ENTRY(DType::F32, DType::F32, attn_fa2_64x32_wmmaf16_gfx11_d64_qf32_kvf32),
    XK_HIP_ENTRY(DType::F16, DType::F16, attn_fa2_64x32_wmmaf16_gfx11_d64_qf16_kvf16),
    XK_HIP_ENTRY(DType::F32, DType::F16, attn_fa2_64x32_wmmaf16_gfx11_d64_qf16_kvf32),
    XK_HIP_ENTRY(DType::F16, DType::F32, attn_fa2_64x32_wmmaf16_gfx11_d128_qf32_kvf16),
    XK_HIP_ENTRY(DType::F32, DType::F32, attn_fa2_64x32_wmmaf16_gfx11_d128_qf32_kvf32),
    XK_HIP_ENTRY(DType::F16, DType::F16, attn_fa2_64x32_wmmaf16_gfx11_d128_qf16_kvf16),
    XK_HIP_ENTRY(DType::F32, DType::F16, attn_fa2_64x32_wmmaf16_gfx11_d128_qf16_kvf32),
};
static const Entry<DecodeKernel> kDecodeEntries[] = {
    XK_HIP_ENTRY(DType::F16, DType::F32, attn_decode_splitk256_valu_gfx11_d64_qf32_kvf16),
    XK_HIP_ENTRY(DType::F32, DType::F32, attn_decode_splitk256_valu_gfx11_d64_qf32_kvf32),
    XK_HIP_ENTRY(DType::F16, DType::F16, attn_decode_splitk256_valu_gfx11_d64_qf16_kvf16),
    XK_HIP_ENTRY(DType::F32, DType::F16, attn_decode_splitk256_valu_gfx11_d64_qf16_kvf32),
    XK_HIP_ENTRY(DType::F16, DType::F32, attn_decode_splitk256_valu_gfx11_d128_qf32_kvf16),
    XK_HIP_ENTRY(DType::F32, DType::F32, attn_decode_splitk256_valu_gfx11_d128_qf32_kvf32),
    XK_HIP_ENTRY(DType::F16, DType::F16, attn_decode_splitk256_valu_gfx11_d128_qf16_kvf16),
    XK_HIP_ENTRY(DType::F32, DType::F16, attn_decode_splitk256_valu_gfx11_d128_qf16_kvf32),
};
static const Entry<CombineKernel> kCombineEntries[] = {
    XK_HIP_ENTRY(DType::F32, DType::F32, attn_decode_splitk256_valu_gfx11_combine_d64),
    XK_HIP_ENTRY(DType::F32, DType::F32, attn_decode_splitk256_valu_gfx11_combine_d128),
};

template <class Fn, size_t N>
Fn pick_attn(const Entry<Fn> (&table)[N], const AttentionArgs& a) {
  const Entry<Fn>* half = a.D() == 64 ? table : table + N / 2;
  for (size_t i = 0; i < N / 2; ++i)
    if (half[i].w == a.K.dtype && half[i].x == a.Q.dtype) return half[i].fn;
  return nullptr;
}

inline AttnParams attn_params(const AttentionArgs& a, const void* q, const void* k, const void* v, float* o) {
  return {q, k, v, o, a.B(), a.Hq(), a.Hkv(), a.S(), a.T(), a.scale, a.causal ? 1 : 0, a.q_offset};
}

// FA2 prefill: grid (query tiles of 64, Hq, B).
template <Launcher L>
void run_fa2(L& l, const char* variant, const AttentionArgs& a, LaunchRecord& rec) {
  const auto p =
      attn_params(a, l.ptr(a.Q.buf), l.ptr(a.K.buf), l.ptr(a.V.buf), static_cast<float*>(l.ptr(a.O.buf)));
  const unsigned q_tiles = static_cast<unsigned>((a.S() + Fa2Tile::kBQ - 1) / Fa2Tile::kBQ);
  l.launch(variant, pick_attn(kFa2Entries, a),
           dim3(q_tiles, static_cast<unsigned>(a.Hq()), static_cast<unsigned>(a.B())),
           dim3(Fa2Tile::kThreads), 0, rec, p);
}

// Split-K decode: grid (chunks of 256 visible keys, Hq, B), partial (m, l, o) per chunk in
// scratch, then one combine workgroup per (b, h).
template <Launcher L>
void run_decode(L& l, const char* variant, const AttentionArgs& a, LaunchRecord& rec) {
  const auto p =
      attn_params(a, l.ptr(a.Q.buf), l.ptr(a.K.buf), l.ptr(a.V.buf), static_cast<float*>(l.ptr(a.O.buf)));
  const int64_t visible = a.causal && a.q_offset + 1 < a.T() ? a.q_offset + 1 : a.T();
  const int64_t chunks = (visible + DecodeTile::kChunk - 1) / DecodeTile::kChunk;
  const int64_t heads = a.B() * a.Hq();
  Buffer m = l.scratch(static_cast<size_t>(heads * chunks) * sizeof(float));
  Buffer s = l.scratch(static_cast<size_t>(heads * chunks) * sizeof(float));
  Buffer o = l.scratch(static_cast<size_t>(heads * chunks * a.D()) * sizeof(float));
  auto* mp = static_cast<float*>(l.ptr(m));
  auto* sp = static_cast<float*>(l.ptr(s));
  auto* op = static_cast<float*>(l.ptr(o));
  l.launch(variant, pick_attn(kDecodeEntries, a),
           dim3(static_cast<unsigned>(chunks), static_cast<unsigned>(a.Hq()), static_cast<unsigned>(a.B())),
           dim3(DecodeTile::kThreads), 0, rec, p, mp, sp, op, chunks);
  l.launch(variant, kCombineEntries[a.D() == 64 ? 0 : 1].fn,
           dim3(static_cast<unsigned>(a.Hq()), static_cast<unsigned>(a.B())), dim3(128), 0, rec, p,
           static_cast<const float*>(mp), static_cast<const float*>(sp), static_cast<const float*>(op),
           chunks);
}

}  // namespace xk::hipk
