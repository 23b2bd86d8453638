#version 450
// mul_mv_sg: single-token GEMV, y[N] = W[N,K] x[K] (M = 1), one subgroup per workgroup.
//
//   workgroup = one subgroup (SG lanes, spec constant = the device's subgroup size: 8 on
//   lavapipe, one llvmpipe SIMD vector; 32 / 64 on GPUs), computing NR = 4 output rows;
//   lane l walks the quant groups l, l+SG, ... of K: per group it loads the 32 activations
//   once (8 vec4) and uses them for all NR rows;
//   the NR partial sums are one vec4 accumulator (component r = row r: a fixed-size
//   register, never indexed at run time), reduced with one subgroupAdd - no shared memory,
//   no barrier.
// Bandwidth-bound: every weight byte is read once; x (K floats) is re-read by each
// workgroup from cache.
// Data types as in mul_mv.comp (W_<fmt>, ACT_F32 / ACT_F16); mul_mv.comp stays the
// multi-row (M <= 8), 64-thread variant.
#extension GL_GOOGLE_include_directive : require
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_KHR_shader_subgroup_arithmetic : require
#include "common.glsl"

layout(constant_id = 0) const uint SG = 8;  // lanes = threads per workgroup
layout(local_size_x_id = 0) in;

const uint NR = 4u;  // W rows per workgroup: the components of the vec4 accumulator

layout(std430, binding = 0) readonly buffer WBuf { uint w_words[]; };
layout(std430, binding = 0) readonly buffer WBuf4 { uvec4 w_q4[]; };
layout(std430, binding = 1) readonly buffer XBuf { uint x_words[]; };
layout(std430, binding = 1) readonly buffer XBuf4 { vec4 x4[]; };
layout(std430, binding = 2) writeonly buffer YBuf { float y[]; };

layout(push_constant) uniform Push {  // mul_mv.comp's (the host shares one struct)
  uint M, N, K;
  uint x_dtype;
  uint scale_base;
  float tensor_scale;
} pc;

float act_round(float v) {
#ifdef ACT_F16
  return round_f16(v);
#else
  return v;
#endif
}
vec4 act_round4(vec4 v) { return vec4(act_round(v.x), act_round(v.y), act_round(v.z), act_round(v.w)); }

// Activations k..k+3 (k a multiple of 4), widened and rounded as the precision says.
vec4 x_quad(uint k) {
  if (pc.x_dtype == DT_F32) return act_round4(x4[k / 4u]);
  const uint w0 = x_words[k / 2u], w1 = x_words[k / 2u + 1u];
  return act_round4(vec4(load_act(pc.x_dtype, 0u, w0), load_act(pc.x_dtype, 1u, w0), load_act(pc.x_dtype, 0u, w1),
                         load_act(pc.x_dtype, 1u, w1)));
}

#if !defined(W_Q8_0)
// The 8 weights of one quant word, as common.glsl's decode_word_f32 gives them (same values,
// same rounding order), with the 4 bytes decoded as vectors: the E2M1 value is computed
// from its bits instead of read from kE2M1x2, since a runtime-indexed constant array is a
// per-lane gather on SIMD-CPU implementations. E2M1 (OCP MX spec v1.0, 5.3.3): twice the
// value is m for exponent 0 and (2 + m) << (e - 1) otherwise, sign in bit 3.
vec4 nibbles_value(uvec4 q) {
#if defined(W_Q4_0)
  return vec4(ivec4(q) - 8);
#else
  const uvec4 e = (q >> 1u) & 3u, m = q & 1u;
  const vec4 mag = mix(vec4((2u + m) << (max(e, uvec4(1u)) - 1u)), vec4(m), equal(e, uvec4(0u)));
  return mix(mag, -mag, notEqual(q & 8u, uvec4(0u)));
#endif
}
void decode_word_vec(uint word, vec2 sc, float ts, out vec4 lo, out vec4 hi) {
  const uvec4 bytes = (uvec4(word) >> uvec4(0u, 8u, 16u, 24u)) & 0xFFu;
  const vec4 vl = nibbles_value(bytes & 0xFu), vh = nibbles_value(bytes >> 4u);
#if defined(W_NVFP4)
  lo = (vl * sc.x) * ts;  // elements 0..15 of the group: first sub-block
  hi = (vh * sc.y) * ts;  // elements 16..31: second sub-block
#else
  lo = vl * sc.x;
  hi = vh * sc.x;
#endif
}
#endif

// Row n's share of group g: dot(W[n, 32g .. 32g+31], x) with x the group's 8 quads.
float group_dot(uint n, uint g, uint groups, vec4 x[8]) {
  const uint grp = n * groups + g;
  vec2 sc;
  sc.x = uintBitsToFloat(w_words[pc.scale_base + grp * W_SCALES]);
  sc.y = W_SCALES > 1u ? uintBitsToFloat(w_words[pc.scale_base + grp * W_SCALES + 1u]) : sc.x;
  float s = 0.0;
#if defined(W_Q8_0)
  const uvec4 q0 = w_q4[grp * 2u], q1 = w_q4[grp * 2u + 1u];
  for (uint w = 0u; w < 4u; ++w) {
    s += dot(act_round4(vec4(unpack_i8x4(q0[w])) * sc.x), x[w]);
    s += dot(act_round4(vec4(unpack_i8x4(q1[w])) * sc.x), x[w + 4u]);
  }
#else
  const uvec4 q = w_q4[grp];
  for (uint w = 0u; w < 4u; ++w) {
    vec4 lo, hi;
    decode_word_vec(q[w], sc, pc.tensor_scale, lo, hi);
    s += dot(act_round4(lo), x[w]) + dot(act_round4(hi), x[w + 4u]);
  }
#endif
  return s;
}

void main() {
  const uint lane = gl_SubgroupInvocationID;
  const uint groups = pc.K / 32u;
  const uint n0 = gl_WorkGroupID.x * NR;
  // Rows past N repeat row N-1 (loads stay in bounds, no branch); their sums are dropped.
  const uvec4 n = min(uvec4(n0) + uvec4(0u, 1u, 2u, 3u), uvec4(pc.N - 1u));

  vec4 acc = vec4(0.0);  // (NR) partial sums of rows n0 .. n0+3
  for (uint g = lane; g < groups; g += SG) {
    vec4 x[8];  // the group's 32 activations: x[q] = elements 4q .. 4q+3
    for (uint q = 0u; q < 8u; ++q) x[q] = x_quad(g * 32u + 4u * q);
    acc += vec4(group_dot(n.x, g, groups, x), group_dot(n.y, g, groups, x), group_dot(n.z, g, groups, x),
                group_dot(n.w, g, groups, x));
  }
  acc = subgroupAdd(acc);
  if (subgroupElect())
    for (uint r = 0u; r < NR; ++r)
      if (n0 + r < pc.N) y[n0 + r] = acc[r];
}
