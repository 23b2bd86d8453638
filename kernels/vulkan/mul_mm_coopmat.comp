#version 450
// mul_mm_coopmat: Y[M,N] = X[M,K] * W[N,K]^T on cooperative-matrix units
// (VK_KHR_cooperative_matrix: RDNA3 WMMA, NVIDIA tensor cores), FP16 x FP16 with FP32
// accumulation: ActPrecision::F16 (kernels/ref/ref.h), X and the dequantized weights both
// rounded to FP16 before they are multiplied.
//
//   workgroup = one subgroup (SG lanes, spec constant) owning a BM x BN output tile,
//   BM = RM*TM, BN = RN*TN: RM x RN accumulator fragments of TM x TN (fixed 2 x 2);
//   TM x TN x TK is a shape the device reports through
//   vkGetPhysicalDeviceCooperativeMatrixPropertiesKHR (spec constants 1-3, chosen by
//   mm_variants.cpp: 16x16x16 on RDNA3, 16x16x16 / 16x8x16 / 16x8x8 on NVIDIA);
//   K advances one 32-element quant group at a time: the subgroup writes the group's X
//   (BM x 32) and dequantized W (BN x 32) into shared memory as FP16, then issues
//   32/TK x RM x RN coopMatMulAdd;
//   the accumulators go through shared memory to Y so partial tiles at the M and N edges
//   are written element by element.
// Compute-bound at pp512 on the matrix units; the dequantization is the SIMT part.
// Data types as in mul_mm.comp (W_<fmt>); the activation precision is always F16.
#extension GL_GOOGLE_include_directive : require
#extension GL_KHR_cooperative_matrix : require
#extension GL_KHR_memory_scope_semantics : require
#extension GL_EXT_shader_explicit_arithmetic_types_float16 : require
#include "common.glsl"

layout(constant_id = 0) const uint SG = 32;  // lanes = threads per workgroup
layout(constant_id = 1) const uint TM = 16;  // fragment rows (A rows, C rows)
layout(constant_id = 2) const uint TN = 16;  // fragment columns (B columns, C columns)
layout(constant_id = 3) const uint TK = 16;  // fragment depth; divides BK
layout(local_size_x_id = 0) in;

const uint RM = 2u, RN = 2u;  // fragments per workgroup along M and N
const uint BK = 32u;          // one quant group per step
const uint MAX_T = 16u;       // largest TM / TN the host selects (mm_variants.cpp checks)

layout(std430, binding = 0) readonly buffer WBuf { uint w_words[]; };
layout(std430, binding = 1) readonly buffer XBuf { uint x_words[]; };
layout(std430, binding = 2) writeonly buffer YBuf { float y[]; };

layout(push_constant) uniform Push {
  uint M, N, K;
  uint x_dtype;
  uint scale_base;
  float tensor_scale;
} pc;

shared float16_t xs[RM * MAX_T * BK];      // (BM, BK) row-major: the A operand
shared float16_t ws[RN * MAX_T * BK];      // (BN, BK) row-major = B (BK x BN) column-major
shared float ys[RM * MAX_T * RN * MAX_T];  // (BM, BN) row-major: the accumulators on their way out

void main() {
  const uint tid = gl_LocalInvocationID.x;
  const uint BM = RM * TM, BN = RN * TN;
  const uint m0 = gl_WorkGroupID.y * BM, n0 = gl_WorkGroupID.x * BN;
  const uint groups = pc.K / 32u;

  coopmat<float, gl_ScopeSubgroup, TM, TN, gl_MatrixUseAccumulator> acc[RM][RN];
  for (uint i = 0u; i < RM; ++i)
    for (uint j = 0u; j < RN; ++j) acc[i][j] = coopmat<float, gl_ScopeSubgroup, TM, TN, gl_MatrixUseAccumulator>(0.0);

  for (uint g = 0u; g < groups; ++g) {
    for (uint i = tid; i < BM * BK; i += SG) {
      const uint r = i / BK, m = m0 + r;
      float v = 0.0;
      if (m < pc.M) {
        const uint e = m * pc.K + g * BK + i % BK;
        v = load_act(pc.x_dtype, e, x_words[act_word_index(pc.x_dtype, e)]);
      }
      xs[i] = float16_t(round_f16(v));  // exact: round_f16 already gives an FP16 value
    }
    // One lane per (W row, quant word): 8 weights (4-bit formats) or 4 (Q8_0).
    for (uint i = tid; i < BN * W_WORDS; i += SG) {
      const uint r = i / W_WORDS, w = i % W_WORDS, n = n0 + r;
      vec4 lo = vec4(0.0), hi = vec4(0.0);
      if (n < pc.N) {
        const uint grp = n * groups + g;
        vec2 sc;
        sc.x = uintBitsToFloat(w_words[pc.scale_base + grp * W_SCALES]);
        sc.y = W_SCALES > 1u ? uintBitsToFloat(w_words[pc.scale_base + grp * W_SCALES + 1u]) : sc.x;
        const uint word = w_words[grp * W_WORDS + w];
#if defined(W_Q8_0)
        lo = vec4(unpack_i8x4(word)) * sc.x;
#else
        decode_word_f32(word, sc, pc.tensor_scale, lo, hi);
#endif
      }
#if defined(W_Q8_0)
      for (uint c = 0u; c < 4u; ++c) ws[r * BK + 4u * w + c] = float16_t(round_f16(lo[c]));
#else
      for (uint c = 0u; c < 4u; ++c) {
        ws[r * BK + 4u * w + c] = float16_t(round_f16(lo[c]));
        ws[r * BK + 16u + 4u * w + c] = float16_t(round_f16(hi[c]));
      }
#endif
    }
    barrier();
    for (uint kk = 0u; kk < BK; kk += TK) {
      coopmat<float16_t, gl_ScopeSubgroup, TM, TK, gl_MatrixUseA> a[RM];
      coopmat<float16_t, gl_ScopeSubgroup, TK, TN, gl_MatrixUseB> b[RN];
      for (uint i = 0u; i < RM; ++i) coopMatLoad(a[i], xs, i * TM * BK + kk, BK, gl_CooperativeMatrixLayoutRowMajor);
      for (uint j = 0u; j < RN; ++j) coopMatLoad(b[j], ws, j * TN * BK + kk, BK, gl_CooperativeMatrixLayoutColumnMajor);
      for (uint i = 0u; i < RM; ++i)
        for (uint j = 0u; j < RN; ++j) acc[i][j] = coopMatMulAdd(a[i], b[j], acc[i][j]);
    }
    barrier();
  }

  for (uint i = 0u; i < RM; ++i)
    for (uint j = 0u; j < RN; ++j)
      coopMatStore(acc[i][j], ys, i * TM * BN + j * TN, BN, gl_CooperativeMatrixLayoutRowMajor);
  barrier();
  for (uint i = tid; i < BM * BN; i += SG) {
    const uint m = m0 + i / BN, n = n0 + i % BN;
    if (m < pc.M && n < pc.N) y[m * pc.N + n] = ys[i];
  }
}
