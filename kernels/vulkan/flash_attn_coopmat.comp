#version 450
// flash_attn_coopmat: O = softmax(scale * Q K^T [causal]) V, FlashAttention-2 forward
// (Dao 2023, Algorithm 1) with both products on cooperative-matrix units
// (VK_KHR_cooperative_matrix): FP16 x FP16 with FP32 accumulation, Q (pre-scaled) and P
// rounded to FP16 - the precision the harness's attention tolerance is derived for.
//
//   workgroup = one subgroup (SG lanes) owning BR = TM rows of one (batch, KV head); a row
//   is (query s, query head g of the G heads sharing the KV head), row = s*G + g, so a
//   decode step's G heads share every K/V tile (as flash_attn.comp);
//   per tile of BC = 16 keys:  S (BR x BC) = Q (BR x D) K^T: BC/TN fragments, D/TK steps;
//                              online softmax on S in shared memory (one lane per row);
//                              PV (BR x D) = P (BR x BC) V (BC x D): D/TN fragments, BC/TK steps;
//                              O = O * alpha + PV in shared memory (FP32), element-wise;
//   TM x TN x TK is a shape the device reports (spec constants 1-3, attn_variants.cpp).
// The fragments go through shared memory rather than staying in registers because a
// cooperative matrix's lane -> element layout is opaque: rescaling O per row needs the rows.
// Compute-bound for prefill; decode (S = 1) fills BR only when G >= BR.
// KV_F16 / KV_F32 select the K/V storage type; Q is f32 or f16 (push constant).
#extension GL_GOOGLE_include_directive : require
#extension GL_KHR_cooperative_matrix : require
#extension GL_KHR_memory_scope_semantics : require
#extension GL_EXT_shader_explicit_arithmetic_types_float16 : require
#include "common.glsl"

layout(constant_id = 0) const uint SG = 32;  // lanes = threads per workgroup
layout(constant_id = 1) const uint TM = 16;  // fragment rows = BR
layout(constant_id = 2) const uint TN = 16;  // fragment columns; divides BC and D
layout(constant_id = 3) const uint TK = 16;  // fragment depth; divides BC and D
layout(constant_id = 4) const uint D = 128;  // head dimension, <= MAX_D
layout(local_size_x_id = 0) in;

const uint BC = 16u;      // keys per tile
const uint MAX_BR = 16u;  // largest TM the host selects
const uint MAX_D = 128u;
#define NEG_INF uintBitsToFloat(0xFF800000u)
#ifdef KV_F16
const uint KV_DT = DT_F16;
#else
const uint KV_DT = DT_F32;
#endif

layout(std430, binding = 0) readonly buffer QBuf { uint q_words[]; };  // [B, Hq, S, D]
layout(std430, binding = 1) readonly buffer KBuf { uint k_words[]; };  // [B, Hkv, T, D]
layout(std430, binding = 2) readonly buffer VBuf { uint v_words[]; };  // [B, Hkv, T, D]
layout(std430, binding = 3) writeonly buffer OBuf { float o[]; };      // [B, Hq, S, D]
layout(std430, binding = 4) writeonly buffer Part { float part[]; };   // unused: no split-K here

layout(push_constant) uniform Push {  // flash_attn.comp's, so the host shares one struct
  uint Hq, Hkv, S, T;
  uint q_offset;
  uint causal;
  float scale;
  uint q_dtype;
  uint splits;
  uint keys_per_split;
} pc;

shared float16_t q_s[MAX_BR * MAX_D];  // (BR, D) row-major: A of Q K^T
shared float16_t k_s[BC * MAX_D];      // (BC, D) row-major = K^T (D x BC) column-major
shared float16_t v_s[BC * MAX_D];      // (BC, D) row-major: B of P V
shared float s_s[MAX_BR * BC];         // (BR, BC) scores
shared float16_t p_s[MAX_BR * BC];     // (BR, BC) probabilities: A of P V
shared float pv_s[MAX_BR * MAX_D];     // (BR, D) this tile's P V
shared float o_s[MAX_BR * MAX_D];      // (BR, D) unnormalised O
shared float alpha_s[MAX_BR];          // per row: exp(m_old - m_new)
shared float l_s[MAX_BR];              // per row: running sum

void main() {
  const uint tid = gl_LocalInvocationID.x;
  const uint BR = TM;
  const uint G = pc.Hq / pc.Hkv;
  const uint rows = pc.S * G;
  const uint bh = gl_WorkGroupID.y;  // b * Hkv + hkv
  const uint b = bh / pc.Hkv, hkv = bh % pc.Hkv;
  const uint row0 = gl_WorkGroupID.x * BR;
  const uint kv_base = bh * pc.T * D;
  const uint last_s = (min(rows, row0 + BR) - 1u) / G;
  const uint k_end = pc.causal != 0u ? min(pc.T, pc.q_offset + last_s + 1u) : pc.T;

  for (uint i = tid; i < BR * D; i += SG) {
    const uint rw = row0 + i / D, d = i % D;
    float v = 0.0;
    if (rw < rows) {
      const uint e = ((b * pc.Hq + hkv * G + rw % G) * pc.S + rw / G) * D + d;
      v = load_act(pc.q_dtype, e, q_words[act_word_index(pc.q_dtype, e)]) * pc.scale;
    }
    q_s[i] = float16_t(round_f16(v));
    o_s[i] = 0.0;
  }
  // Row state lives with lane r (r < BR); the running max never leaves its register.
  float m_run = NEG_INF;
  if (tid < BR) l_s[tid] = 0.0;

  for (uint kt = 0u; kt < k_end; kt += BC) {
    barrier();  // the previous tile's K, V, P, PV are no longer read
    for (uint i = tid; i < BC * D; i += SG) {
      const uint key = kt + i / D, e = kv_base + key * D + i % D;
      float kv = 0.0, vv = 0.0;
      if (key < k_end) {
        kv = load_act(KV_DT, e, k_words[act_word_index(KV_DT, e)]);
        vv = load_act(KV_DT, e, v_words[act_word_index(KV_DT, e)]);
      }
      k_s[i] = float16_t(round_f16(kv));
      v_s[i] = float16_t(round_f16(vv));
    }
    barrier();
    for (uint j = 0u; j < BC; j += TN) {
      coopmat<float, gl_ScopeSubgroup, TM, TN, gl_MatrixUseAccumulator> s =
          coopmat<float, gl_ScopeSubgroup, TM, TN, gl_MatrixUseAccumulator>(0.0);
      for (uint kk = 0u; kk < D; kk += TK) {
        coopmat<float16_t, gl_ScopeSubgroup, TM, TK, gl_MatrixUseA> qa;
        coopmat<float16_t, gl_ScopeSubgroup, TK, TN, gl_MatrixUseB> kb;
        coopMatLoad(qa, q_s, kk, D, gl_CooperativeMatrixLayoutRowMajor);
        coopMatLoad(kb, k_s, j * D + kk, D, gl_CooperativeMatrixLayoutColumnMajor);
        s = coopMatMulAdd(qa, kb, s);
      }
      coopMatStore(s, s_s, j, BC, gl_CooperativeMatrixLayoutRowMajor);
    }
    barrier();
    if (tid < BR) {
      const uint r = tid, rw = row0 + r;
      const uint limit = rw >= rows ? 0u : pc.causal != 0u ? pc.q_offset + rw / G + 1u : pc.T;  // keys < limit
      float m_tile = NEG_INF;
      for (uint j = 0u; j < BC; ++j) {
        const float sc = kt + j < min(limit, k_end) ? s_s[r * BC + j] : NEG_INF;
        s_s[r * BC + j] = sc;
        m_tile = max(m_tile, sc);
      }
      const float m_new = max(m_run, m_tile);
      // Every key so far masked: nothing to add, O and l stay 0 (alpha 1 keeps them so).
      const float alpha = m_new == NEG_INF ? 1.0 : exp(m_run - m_new);
      float sum = 0.0;
      for (uint j = 0u; j < BC; ++j) {
        const float p = m_new == NEG_INF ? 0.0 : exp(s_s[r * BC + j] - m_new);
        const float16_t ph = float16_t(round_f16(p));
        p_s[r * BC + j] = ph;
        sum += float(ph);  // l sums the FP16 weights P V uses, so O / l stays a weighted mean
      }
      l_s[r] = l_s[r] * alpha + sum;
      alpha_s[r] = alpha;
      m_run = m_new;
    }
    barrier();
    for (uint j = 0u; j < D; j += TN) {
      coopmat<float, gl_ScopeSubgroup, TM, TN, gl_MatrixUseAccumulator> pv =
          coopmat<float, gl_ScopeSubgroup, TM, TN, gl_MatrixUseAccumulator>(0.0);
      for (uint kk = 0u; kk < BC; kk += TK) {
        coopmat<float16_t, gl_ScopeSubgroup, TM, TK, gl_MatrixUseA> pa;
        coopmat<float16_t, gl_ScopeSubgroup, TK, TN, gl_MatrixUseB> vb;
        coopMatLoad(pa, p_s, kk, BC, gl_CooperativeMatrixLayoutRowMajor);
        coopMatLoad(vb, v_s, kk * D + j, D, gl_CooperativeMatrixLayoutRowMajor);
        pv = coopMatMulAdd(pa, vb, pv);
      }
      coopMatStore(pv, pv_s, j, D, gl_CooperativeMatrixLayoutRowMajor);
    }
    barrier();
    for (uint i = tid; i < BR * D; i += SG) o_s[i] = o_s[i] * alpha_s[i / D] + pv_s[i];
  }
  barrier();
  for (uint i = tid; i < BR * D; i += SG) {
    const uint rw = row0 + i / D;
    if (rw >= rows) continue;
    const uint e = ((b * pc.Hq + hkv * G + rw % G) * pc.S + rw / G) * D + i % D;
    o[e] = o_s[i] / l_s[i / D];
  }
}
