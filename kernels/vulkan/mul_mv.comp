#version 450
// mul_mv: skinny matmul for token generation, M <= 8 rows of X against W[N,K].
//
// Bandwidth-bound: every weight byte is read exactly once and used for M rows, so the
// kernel is written to stream W at full memory bandwidth:
//   * one workgroup (WG threads, spec constant, a multiple of the subgroup size) produces
//     ROWS output columns (spec constant, default 8) for all M rows;
//   * thread t walks the K groups t, t+WG, ... of each of its W rows: consecutive threads
//     read consecutive 16- or 32-byte groups of the repacked quants (coalesced);
//   * partial sums are reduced with subgroupAdd (KHR_shader_subgroup_arithmetic), then
//     across subgroups through a small shared array.
// X (M*K values, at most 8 rows) is small and is served from cache.
// Data types as in mul_mm.comp (W_<fmt>, ACT_F32/F16/Q8; ACT_Q8 reads quantize_q8 output).
#extension GL_GOOGLE_include_directive : require
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_KHR_shader_subgroup_arithmetic : require
#include "common.glsl"

layout(constant_id = 0) const uint WG = 64;   // threads per workgroup
layout(constant_id = 1) const uint ROWS = 8;  // W rows (Y columns) per workgroup
layout(local_size_x_id = 0) in;

const uint MAX_M = 8;

// Weights and activations are read as 16-byte vectors (one uvec4 = a 32-weight 4-bit group),
// through a second view of the same binding: wide loads are what a GPU coalesces best and
// what SIMD-CPU implementations (lavapipe) execute with the fewest per-lane fetch loops.
layout(std430, binding = 0) readonly buffer WBuf { uint w_words[]; };
layout(std430, binding = 0) readonly buffer WBuf4 { uvec4 w_q4[]; };
#ifdef ACT_Q8
layout(std430, binding = 1) readonly buffer XQ { uvec4 xq4[]; };  // [M][K/16] int8 x16
layout(std430, binding = 2) readonly buffer XD { float xd[]; };
layout(std430, binding = 3) writeonly buffer YBuf { float y[]; };
#else
layout(std430, binding = 1) readonly buffer XBuf { uint x_words[]; };
layout(std430, binding = 1) readonly buffer XBuf4 { vec4 x4[]; };  // F32 activations
layout(std430, binding = 2) writeonly buffer YBuf { float y[]; };
#endif

layout(push_constant) uniform Push {
  uint M, N, K;
  uint x_dtype;
  uint scale_base;
  float tensor_scale;
} pc;

shared float partial[MAX_M * ROWS * 32];  // (MAX_M*ROWS, subgroups <= 32)

#ifndef ACT_Q8
float act_round(float v) {
#ifdef ACT_F16
  return round_f16(v);
#else
  return v;
#endif
}
// Activations k..k+3 of row m (k a multiple of 4), widened and rounded as the precision says.
vec4 x_quad(uint m, uint k) {
  const uint e = m * pc.K + k;
  vec4 v;
  if (pc.x_dtype == DT_F32) {
    v = x4[e / 4];
  } else {
    const uint w0 = x_words[e / 2], w1 = x_words[e / 2 + 1];  // 4 halves
    v = vec4(load_act(pc.x_dtype, 0u, w0), load_act(pc.x_dtype, 1u, w0), load_act(pc.x_dtype, 0u, w1),
             load_act(pc.x_dtype, 1u, w1));
  }
  return vec4(act_round(v.x), act_round(v.y), act_round(v.z), act_round(v.w));
}
#endif

void main() {
  const uint tid = gl_LocalInvocationID.x;
  const uint groups = pc.K / 32;
  const uint n0 = gl_WorkGroupID.x * ROWS;

  float acc[MAX_M][ROWS];
  for (uint m = 0; m < MAX_M; ++m)
    for (uint r = 0; r < ROWS; ++r) acc[m][r] = 0.0;

  for (uint r = 0; r < ROWS; ++r) {
    const uint n = n0 + r;
    if (n >= pc.N) break;
    for (uint g = tid; g < groups; g += WG) {
      const uint grp = n * groups + g;
      vec2 sc;
      sc.x = uintBitsToFloat(w_words[pc.scale_base + grp * W_SCALES]);
      sc.y = W_SCALES > 1u ? uintBitsToFloat(w_words[pc.scale_base + grp * W_SCALES + 1]) : sc.x;
      uvec4 wv[2];  // the group's quants: one uvec4 (4-bit) or two (Q8_0)
      wv[0] = w_q4[grp * (W_WORDS / 4)];
      wv[1] = W_WORDS > 4u ? w_q4[grp * (W_WORDS / 4) + 1] : uvec4(0u);
#ifdef ACT_Q8
      uint wq[8];  // the group's 32 weights as int8 x4, element 4w+c in byte c of word w
#if defined(W_Q8_0)
      for (uint w = 0; w < 8; ++w) wq[w] = wv[w / 4][w % 4];
#else
      for (uint w = 0; w < 4; ++w) decode_word_i8(wv[0][w], wq[w], wq[w + 4]);
#endif
      for (uint m = 0; m < pc.M; ++m) {
        const uvec4 x0 = xq4[(m * groups + g) * 2], x1 = xq4[(m * groups + g) * 2 + 1];
        ivec2 isum = ivec2(0);
        for (uint w = 0; w < 4; ++w) {
          isum.x += dot_i8x4(unpack_i8x4(wq[w]), unpack_i8x4(x0[w]));
          isum.y += dot_i8x4(unpack_i8x4(wq[w + 4]), unpack_i8x4(x1[w]));
        }
        acc[m][r] += xd[m * groups + g] * (sc.x * float(isum.x) + sc.y * float(isum.y));
      }
#else
      vec4 wf[8];  // the group's 32 weights dequantized: wf[q] = elements 4q..4q+3
#if defined(W_Q8_0)
      for (uint w = 0; w < 8; ++w) {
        const vec4 q = vec4(unpack_i8x4(wv[w / 4][w % 4])) * sc.x;
        wf[w] = vec4(act_round(q.x), act_round(q.y), act_round(q.z), act_round(q.w));
      }
#else
      for (uint w = 0; w < 4; ++w) {
        vec4 lo, hi;
        decode_word_f32(wv[0][w], sc, pc.tensor_scale, lo, hi);
        wf[w] = vec4(act_round(lo.x), act_round(lo.y), act_round(lo.z), act_round(lo.w));
        wf[w + 4] = vec4(act_round(hi.x), act_round(hi.y), act_round(hi.z), act_round(hi.w));
      }
#endif
      for (uint m = 0; m < pc.M; ++m) {
        float s = 0.0;
        for (uint q = 0; q < 8; ++q) s += dot(wf[q], x_quad(m, g * 32 + 4 * q));
        acc[m][r] += s;
      }
#endif
    }
  }

  // Reduce over the workgroup: subgroup sums, then one value per subgroup in shared memory.
  for (uint m = 0; m < pc.M; ++m)
    for (uint r = 0; r < ROWS; ++r) {
      const float s = subgroupAdd(acc[m][r]);
      if (subgroupElect()) partial[(m * ROWS + r) * 32 + gl_SubgroupID] = s;
    }
  barrier();
  if (tid < pc.M * ROWS) {
    const uint m = tid / ROWS, r = tid % ROWS, n = n0 + r;
    float s = 0.0;
    for (uint sg = 0; sg < gl_NumSubgroups; ++sg) s += partial[(m * ROWS + r) * 32 + sg];
#ifdef ACT_Q8
    s *= pc.tensor_scale;  // NVFP4's per-tensor scale, once per output as ref applies it
#endif
    if (n < pc.N) y[m * pc.N + n] = s;
  }
}
