#version 450
// flash_attn: O = softmax(scale * Q K^T [causal]) V, FlashAttention-2 forward (Dao 2023,
// "FlashAttention-2", Algorithm 1): K/V stream through shared memory in tiles of BC keys,
// each query row keeps a running max m, a running sum l and an unnormalised O in
// registers (online softmax, FP32), and O is divided by l once at the end.
//
// Work decomposition (grouped-query attention done right): a workgroup takes BR "rows" of
// one (batch, KV head). A row is (query s, query head g of the KV head's group of
// G = Hq/Hkv heads), row = s*G + g, so the G heads sharing a KV head share every K/V tile
// load: in decode (S = 1) a single workgroup serves the whole group.
//   * Threads: WG = BR * TPR; TPR = 4 threads per row. Score phase: thread (r, sub) scores
//     keys sub, sub+TPR, ... of the tile. P*V phase: it owns head dims sub*D/4 .. +D/4-1.
//   * Shared memory holds vec4s (16-byte accesses: 4x fewer load instructions than floats):
//     Q rows (BR, D/4) pre-scaled; K tile (BC, D/4+1) - the one-vec4 pad keeps the 4 threads
//     of a row, which read 4 different keys at the same d, on distinct banks; V tile
//     (BC, D/4); P (BR, BC+1).
//   * Split-K (decode): push constant `splits` > 1 gives each workgroup (z) a slice of the
//     keys; it writes (m, l, O unnormalised) to `part` and flash_attn_combine.comp merges.
// Tiles are specialization constants: D = 64 -> BR 16, BC 32; D = 128 -> BR 16, BC 16
// (fits the 32 KB shared memory every Vulkan device must offer; real GPUs with 48-64 KB can
// take BC = 32/64 - host table backends/vulkan/attn_variants.cpp).
// Compute-bound for prefill (4*S*T*D flops per head over (S+2T)*D loads per tile row);
// decode is bandwidth-bound on K/V, which is why split-K spreads T over more workgroups.
// KV_F16 / KV_F32 select the K/V storage type; Q is f32 or f16 (push constant).
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"

layout(constant_id = 0) const uint WG = 64;   // threads = BR * TPR
layout(constant_id = 1) const uint BR = 16;   // query rows per workgroup
layout(constant_id = 2) const uint BC = 32;   // keys per K/V tile
layout(constant_id = 3) const uint D = 64;    // head dimension (multiple of TPR)
layout(local_size_x_id = 0) in;

const uint TPR = 4;       // threads per row
const uint D4 = D / 4;    // head dim in vec4s (D is a multiple of 16: each thread owns DPT = D/4 dims)
#define NEG_INF uintBitsToFloat(0xFF800000u)  // -infinity (IEEE 754 bits)
const uint DPT = D / TPR; // head dims owned per thread

layout(std430, binding = 0) readonly buffer QBuf { uint q_words[]; };  // [B, Hq, S, D]
#ifdef KV_F16  // 8-byte (4 x f16) or 16-byte (4 x f32) loads
layout(std430, binding = 1) readonly buffer KBuf { uvec2 k_h4[]; };  // [B, Hkv, T, D]
layout(std430, binding = 2) readonly buffer VBuf { uvec2 v_h4[]; };  // [B, Hkv, T, D]
#else
layout(std430, binding = 1) readonly buffer KBuf { vec4 k_f4[]; };
layout(std430, binding = 2) readonly buffer VBuf { vec4 v_f4[]; };
#endif
layout(std430, binding = 3) writeonly buffer OBuf { float o[]; };      // [B, Hq, S, D]
layout(std430, binding = 4) writeonly buffer Part { float part[]; };   // [B*Hq*S][splits][D+2]

layout(push_constant) uniform Push {
  uint Hq, Hkv, S, T;
  uint q_offset;
  uint causal;
  float scale;
  uint q_dtype;         // DT_F32 or DT_F16
  uint splits;          // key slices (workgroups along z); 1 = write O directly
  uint keys_per_split;  // multiple of BC
} pc;

shared vec4 q_s[BR * D4];          // (BR, D/4)     Q rows times scale
shared vec4 k_s[BC * (D4 + 1)];    // (BC, D/4+1)   K tile, padded by one vec4
shared vec4 v_s[BC * D4];          // (BC, D/4)     V tile
shared float p_s[BR * (BC + 1)];   // (BR, BC+1)    scores, then probabilities

// Four consecutive K (which = 0) or V (1) elements from element e (a multiple of 4).
vec4 kv4_at(uint which, uint e) {
#ifdef KV_F16
  const uvec2 w = which == 0u ? k_h4[e / 4] : v_h4[e / 4];
  return vec4(unpackHalf2x16(w.x), unpackHalf2x16(w.y));
#else
  return which == 0u ? k_f4[e / 4] : v_f4[e / 4];
#endif
}

void main() {
  const uint tid = gl_LocalInvocationID.x;
  const uint r = tid / TPR, sub = tid % TPR;
  const uint G = pc.Hq / pc.Hkv;
  const uint rows = pc.S * G;
  const uint bh = gl_WorkGroupID.y;  // b * Hkv + hkv
  const uint b = bh / pc.Hkv, hkv = bh % pc.Hkv;
  const uint row0 = gl_WorkGroupID.x * BR;
  const uint row = row0 + r;
  const bool valid = row < rows;
  const uint s = valid ? row / G : 0u;
  const uint hq = hkv * G + (valid ? row % G : 0u);
  const uint q_base = ((b * pc.Hq + hq) * pc.S + s) * D;  // also O's row
  const uint kv_base = bh * pc.T * D;

  // Keys this workgroup visits: its split's slice, cut at the last row's causal limit.
  uint k_begin = gl_WorkGroupID.z * pc.keys_per_split;
  uint k_end = min(pc.T, k_begin + pc.keys_per_split);
  const uint last_s = min(rows, row0 + BR) - 1u;
  if (pc.causal != 0u) k_end = min(k_end, pc.q_offset + last_s / G + 1u);
  const uint my_limit = pc.causal != 0u ? pc.q_offset + s + 1u : pc.T;  // keys < my_limit

  for (uint i = tid; i < BR * D4; i += WG) {
    const uint rr = i / D4, d = (i % D4) * 4, rw = row0 + rr;
    vec4 v = vec4(0.0);
    if (rw < rows) {
      const uint e = ((b * pc.Hq + hkv * G + rw % G) * pc.S + rw / G) * D + d;
      for (uint c = 0; c < 4; ++c)
        v[c] = load_act(pc.q_dtype, e + c, q_words[act_word_index(pc.q_dtype, e + c)]) * pc.scale;
    }
    q_s[i] = v;
  }

  float m_run = NEG_INF;  // running max (-inf: nothing seen yet)
  float l_run = 0.0;         // running sum of exp(score - m_run)
  vec4 acc[DPT / 4];         // unnormalised O, dims sub*DPT .. sub*DPT + DPT-1
  for (uint i = 0; i < DPT / 4; ++i) acc[i] = vec4(0.0);

  for (uint kt = k_begin; kt < k_end; kt += BC) {
    barrier();  // previous tile's K, V, P are no longer read (and Q is staged)
    for (uint i = tid; i < BC * D4; i += WG) {
      const uint j = i / D4, d4 = i % D4, key = kt + j;
      vec4 kv = vec4(0.0), vv = vec4(0.0);
      if (key < k_end) {
        kv = kv4_at(0u, kv_base + key * D + 4 * d4);
        vv = kv4_at(1u, kv_base + key * D + 4 * d4);
      }
      k_s[j * (D4 + 1) + d4] = kv;
      v_s[j * D4 + d4] = vv;
    }
    barrier();
    for (uint c = 0; c < BC / TPR; ++c) {
      const uint j = sub + TPR * c, key = kt + j;
      float sc = NEG_INF;
      if (valid && key < k_end && key < my_limit) {
        sc = 0.0;
        for (uint d4 = 0; d4 < D4; ++d4) sc += dot(q_s[r * D4 + d4], k_s[j * (D4 + 1) + d4]);
      }
      p_s[r * (BC + 1) + j] = sc;
    }
    barrier();
    float m_tile = NEG_INF;
    for (uint j = 0; j < BC; ++j) m_tile = max(m_tile, p_s[r * (BC + 1) + j]);
    const float m_new = max(m_run, m_tile);
    if (m_new != NEG_INF) {  // else every key so far is masked for this row: nothing to add
      const float alpha = exp(m_run - m_new);  // 0 when m_run = -inf
      l_run *= alpha;
      for (uint i = 0; i < DPT / 4; ++i) acc[i] *= alpha;
      for (uint j = 0; j < BC; ++j) {
        const float p = exp(p_s[r * (BC + 1) + j] - m_new);  // masked: exp(-inf) = 0
        l_run += p;
        for (uint i = 0; i < DPT / 4; ++i) acc[i] = fma(vec4(p), v_s[j * D4 + sub * (DPT / 4) + i], acc[i]);
      }
      m_run = m_new;
    }
  }

  if (!valid) return;
  if (pc.splits == 1u) {
    const float inv = 1.0 / l_run;
    for (uint i = 0; i < DPT / 4; ++i)
      for (uint c = 0; c < 4; ++c) o[q_base + sub * DPT + 4 * i + c] = acc[i][c] * inv;
  } else {
    const uint pbase = ((q_base / D) * pc.splits + gl_WorkGroupID.z) * (D + 2);
    if (sub == 0u) {
      part[pbase] = m_run;
      part[pbase + 1] = l_run;
    }
    for (uint i = 0; i < DPT / 4; ++i)
      for (uint c = 0; c < 4; ++c) part[pbase + 2 + sub * DPT + 4 * i + c] = acc[i][c];
  }
}
