#version 450
// mul_mm_direct: Y[M,N] = X[M,K] * W[N,K]^T without shared memory or barriers, register
// blocked, every operand fetched as 16-byte vectors. Written for SIMD-CPU Vulkan
// implementations (lavapipe/llvmpipe); on GPUs the tiled mul_mm.comp (shared-memory reuse)
// is the better kernel and ranks higher (mm_variants.cpp).
//
// What llvmpipe (Mesa 22.3, gallivm lp_bld_nir_soa.c) does with a compute shader, and so
// what this kernel is shaped around:
//   * a subgroup is one 8-wide AVX2 vector (SoA: each scalar is a ymm register);
//   * every SSBO or shared load is a loop over the 8 lanes (exec-mask test per lane, bounds
//     check and masked broadcast per component) - even when the address is the same in
//     every lane - so load instructions are what costs, and a vec4 load pays the per-lane
//     overhead once for 16 bytes (seen in perf + gdb disassembly of the JIT code);
//   * subgroupShuffle is cheaper than a load: replacing the shuffles below with direct
//     (uniform-address) X loads made the kernel 2x slower;
//   * NIR unrolls the constant-trip loops below, so `wq`, `wv` become named values; register
//     arrays indexed at run time go to scratch memory, itself a per-lane loop (3x slower);
//   * barriers are coroutine switches; this kernel has none.
// Hence:
//   * X rows map to subgroups and W rows to lanes. The SG lanes fetch a chunk of 4*SG
//     activations of a row together (one vec4 per lane, one load instruction) and hand them
//     out with subgroupShuffle;
//   * one uvec4 load carries a whole 32-weight group of a 4-bit format;
//   * each invocation keeps a 16 x 8 block (16 X rows x the lane's 8 W rows n0 + j*SG) in 32
//     named vec4 accumulators; per 32-element group, 8 uvec4 + 8 scale loads and 16*8/SG
//     activation loads feed 16*8*32 FMAs, and each weight is decoded (and, for F16,
//     rounded) once for 16 rows. Measured at M=512, N=K=4096 on a 2-core host: 16 x 8 and
//     16 x 4 run alike (16 x 8 halves the loads and shuffles per FMA but spills more); 8 x 4
//     and 32 x 4 were slower.
//   * Q8 activations: quantize_q8_f32 stores each quantized activation dequantized, q * d,
//     which FP32 holds exactly (7-bit integer times an FP16). The GEMM is then the F32 inner
//     loop: it multiplies exactly the values ref.h's Q8 semantics define, accumulating in
//     FP32 like every float path. Per-group exact integer sums (a second set of 32
//     accumulators plus a rescale per group) spilled and made the kernel 1.5-2x slower.
// Workgroup tile: (gl_NumSubgroups * 16) rows x (SG * 8) columns; the host sizes the grid
// with the device's subgroup size and offers the variant only on devices whose subgroup
// size is fixed (minSubgroupSize == maxSubgroupSize), so both agree.
// Ragged M/N: indices are clamped (loads stay in bounds and control flow stays uniform)
// and the stores masked. Activations here must be F32 (ACT_F32/ACT_F16) or the
// dequantized Q8_0 values of quantize_q8.comp built with Q8_AS_F32 (ACT_Q8).
#extension GL_GOOGLE_include_directive : require
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_KHR_shader_subgroup_shuffle : require
#include "common.glsl"

layout(constant_id = 0) const uint WG = 64;  // threads per workgroup (a multiple of SG)
layout(constant_id = 1) const uint SG = 8;   // subgroup size (fixed on devices offered this)
layout(local_size_x_id = 0) in;

const uint CHUNK_GROUPS = SG / 8;  // 32-element groups per chunk of 4*SG activations

// One binding, two views: the quants as 16-byte groups and the scales as floats.
layout(std430, binding = 0) readonly buffer WQuants { uvec4 w_q4[]; };
layout(std430, binding = 0) readonly buffer WScales { float w_sc[]; };
#ifdef ACT_Q8
layout(std430, binding = 1) readonly buffer XQ { vec4 xq4[]; };  // [M][K/4] q * d, FP32 (quantize_q8_f32)
layout(std430, binding = 2) readonly buffer XD { float xd[]; };  // [M][K/32] d (bound, not read here)
layout(std430, binding = 3) writeonly buffer YBuf { float y[]; };
#else
layout(std430, binding = 1) readonly buffer XBuf { vec4 x4[]; };  // [M][K/4] F32
layout(std430, binding = 2) writeonly buffer YBuf { float y[]; };
#endif

layout(push_constant) uniform Push {
  uint M, N, K;
  uint x_dtype;  // F32 only here (host-checked)
  uint scale_base;
  float tensor_scale;
} pc;

const uint GROUP_VECS = W_WORDS / 4;  // uvec4 per 32-element group: 1 (4-bit) or 2 (Q8_0)

vec4 act_round4(vec4 v) {
#ifdef ACT_F16
  return vec4(round_f16(v.x), round_f16(v.y), round_f16(v.z), round_f16(v.w));
#else
  return v;
#endif
}
#ifndef ACT_Q8
#define XK_LOAD_ACT(idx) act_round4(x4[idx])
#else
#define XK_LOAD_ACT(idx) xq4[idx]
#endif

// Register block: 16 X rows x 8 W rows per invocation (mm_variants.cpp kDirectRows and
// kDirectCols must match). Per row two named vec4 accumulators: acc (the lane's W rows
// n0 + j*SG, j = 0..3) and acd (j = 4..7).
#define ROWS_PER_SG 16u
#define COLS 8u
#define XK_EACH_ROW(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8) X(9) X(10) X(11) X(12) X(13) X(14) X(15)
// a += x * [t0 t1 t2 t3] for the four k of one activation quad, one FMA per k.
#define XK_FMA4(a, v, t0, t1, t2, t3) \
  a = fma(vec4(v.w), t3, fma(vec4(v.z), t2, fma(vec4(v.y), t1, fma(vec4(v.x), t0, a))))

void main() {
  const uint lane = gl_SubgroupInvocationID;
  const uint m0 = (gl_WorkGroupID.y * gl_NumSubgroups + gl_SubgroupID) * ROWS_PER_SG;  // subgroup-uniform
  const uint n0 = gl_WorkGroupID.x * SG * COLS + lane;
  const uint groups = pc.K / 32;
  const uint quads = pc.K / 4;
  // Clamped W rows of this lane (n0 + j*SG) and X rows (uniform across the subgroup).
  const uvec4 col_a = min(n0 + SG * uvec4(0, 1, 2, 3), uvec4(pc.N - 1));
  const uvec4 col_b = min(n0 + SG * uvec4(4, 5, 6, 7), uvec4(pc.N - 1));
#define XK_DECLARE(i) const uint row##i = min(m0 + i, pc.M - 1); vec4 acc##i = vec4(0.0), acd##i = vec4(0.0);
  XK_EACH_ROW(XK_DECLARE)

  for (uint g0 = 0; g0 < groups; g0 += CHUNK_GROUPS) {
    // This lane's quad of the chunk (elements 4*lane..+3 after g0*32), zero past K.
    const uint q = g0 * 8 + lane;
    const bool q_in = q < quads;
    const uint q_safe = min(q, quads - 1);
#define XK_LOAD_X(i) const vec4 xl##i = q_in ? XK_LOAD_ACT(row##i * quads + q_safe) : vec4(0.0);
    XK_EACH_ROW(XK_LOAD_X)
    for (uint gi = 0; gi < CHUNK_GROUPS; ++gi) {
      const uint g = min(g0 + gi, groups - 1);  // past K: X is zero there, W any valid group
      const uvec4 grp_a = col_a * groups + g, grp_b = col_b * groups + g;
      uvec4 wq[COLS][GROUP_VECS];
      vec4 sa_lo, sa_hi, sb_lo, sb_hi;  // scales of W rows j = 0..3 / 4..7: elements 0-15, 16-31
      for (uint j = 0; j < 4; ++j) {
        for (uint v = 0; v < GROUP_VECS; ++v) {
          wq[j][v] = w_q4[grp_a[j] * GROUP_VECS + v];
          wq[j + 4][v] = w_q4[grp_b[j] * GROUP_VECS + v];
        }
        sa_lo[j] = w_sc[pc.scale_base + grp_a[j] * W_SCALES];
        sb_lo[j] = w_sc[pc.scale_base + grp_b[j] * W_SCALES];
        sa_hi[j] = W_SCALES > 1u ? w_sc[pc.scale_base + grp_a[j] * W_SCALES + 1] : sa_lo[j];
        sb_hi[j] = W_SCALES > 1u ? w_sc[pc.scale_base + grp_b[j] * W_SCALES + 1] : sb_lo[j];
      }
      for (uint w = 0; w < 8; ++w) {  // elements 4w..4w+3 of the group
        vec4 wv[COLS];  // wv[j] = those 4 weights of W row n0 + j*SG
        for (uint j = 0; j < COLS; ++j) {
#if defined(W_Q8_0)
          wv[j] = act_round4(vec4(unpack_i8x4(wq[j][w / 4][w % 4])) * (j < 4 ? sa_lo[j] : sb_lo[j - 4]));
#else
          // w < 4: low nibbles of word w; w >= 4: high nibbles of word w-4 (= elements 16+..)
          vec4 lo, hi;
          decode_word_f32(wq[j][0][w % 4], j < 4 ? vec2(sa_lo[j], sa_hi[j]) : vec2(sb_lo[j - 4], sb_hi[j - 4]),
                          pc.tensor_scale, lo, hi);
          wv[j] = act_round4(w < 4 ? lo : hi);
#endif
        }
        // Transposed: ta_c / tb_c hold element 4w+c of W rows 0..3 / 4..7, so one FMA
        // updates 4 outputs.
        const vec4 ta0 = vec4(wv[0].x, wv[1].x, wv[2].x, wv[3].x), tb0 = vec4(wv[4].x, wv[5].x, wv[6].x, wv[7].x);
        const vec4 ta1 = vec4(wv[0].y, wv[1].y, wv[2].y, wv[3].y), tb1 = vec4(wv[4].y, wv[5].y, wv[6].y, wv[7].y);
        const vec4 ta2 = vec4(wv[0].z, wv[1].z, wv[2].z, wv[3].z), tb2 = vec4(wv[4].z, wv[5].z, wv[6].z, wv[7].z);
        const vec4 ta3 = vec4(wv[0].w, wv[1].w, wv[2].w, wv[3].w), tb3 = vec4(wv[4].w, wv[5].w, wv[6].w, wv[7].w);
#define XK_FMA(i)                                         \
        {                                                 \
          const vec4 xv = subgroupShuffle(xl##i, gi * 8 + w); \
          XK_FMA4(acc##i, xv, ta0, ta1, ta2, ta3);        \
          XK_FMA4(acd##i, xv, tb0, tb1, tb2, tb3);        \
        }
        XK_EACH_ROW(XK_FMA)
      }
    }
  }

#define XK_STORE(i)                                                                        \
  if (m0 + i < pc.M)                                                                       \
    for (uint j = 0; j < 4; ++j) {                                                         \
      if (n0 + j * SG < pc.N) y[(m0 + i) * pc.N + n0 + j * SG] = acc##i[j];     \
      if (n0 + (j + 4) * SG < pc.N) y[(m0 + i) * pc.N + n0 + (j + 4) * SG] = acd##i[j]; \
    }
  XK_EACH_ROW(XK_STORE)
}
