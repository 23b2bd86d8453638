#version 450
// mul_mm_direct: Y[M,N] = X[M,K] * W[N,K]^T without shared memory or barriers, register
// blocked, every operand fetched as 16-byte vectors. Written for SIMD-CPU Vulkan
// implementations (lavapipe/llvmpipe), where a workgroup runs as 8-wide SIMD loops,
// every shared or storage load with per-invocation addresses costs a loop over the lanes,
// and barriers cost a coroutine switch. So this kernel:
//   * issues few, wide loads: one uvec4 carries a whole 32-weight group of a 4-bit format,
//     one vec4 four activations;
//   * maps X rows to subgroups and W rows to lanes; the SG lanes of a subgroup fetch a
//     chunk of 4*SG activations of a row together (one vec4 each, one load instruction)
//     and pass them around with subgroupShuffle instead of each lane re-reading them;
//   * blocks 16 X rows x 4 W rows per invocation, written out with named vec4 accumulators
//     (one per X row; the 4 components are the lane's 4 W rows): per 32-element group,
//     4 uvec4 + 4 scale loads and 16*8/SG activation loads feed 16*4*32 FMAs, and each
//     weight is decoded once for 16 rows. lavapipe keeps named variables in registers;
//     register arrays beyond 16 floats went to memory and ran 3x slower, which is why the
//     block is written out rather than a specialization constant (measured at M=512,
//     N=K=4096: 8 rows ~10 GFLOP/s, 16 rows ~12-29, 32 rows ~12);
//   * needs no barrier, so the whole workgroup runs straight through.
// Workgroup tile: (gl_NumSubgroups * 16) rows x (SG * 4) columns; the host
// sizes the grid with the device's subgroup size and offers the variant only on devices
// whose subgroup size is fixed (minSubgroupSize == maxSubgroupSize), so both agree.
// On GPUs the tiled mul_mm.comp (shared-memory reuse) is the better kernel and ranks higher.
// Ragged M/N: indices are clamped (loads stay in bounds and control flow stays uniform)
// and the stores masked. Data types as in mul_mm.comp; activations here must be F32
// (ACT_F32/ACT_F16) or the Q8_0 arrays of quantize_q8.comp (ACT_Q8).
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
layout(std430, binding = 1) readonly buffer XQ { uint xq[]; };   // [M][K/4] int8 x4
layout(std430, binding = 2) readonly buffer XD { float xd[]; };  // [M][K/32]
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

#ifndef ACT_Q8
vec4 act_round4(vec4 v) {
#ifdef ACT_F16
  return vec4(round_f16(v.x), round_f16(v.y), round_f16(v.z), round_f16(v.w));
#else
  return v;
#endif
}
#endif

#ifndef ACT_Q8
// Float path: FP32 FMAs on dequantized (and for ACT_F16, FP16-rounded) values.
#define ROWS_PER_SG 16u  // X rows per subgroup; mm_variants.cpp kDirectRows must match
#define XK_EACH_ROW(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8) X(9) X(10) X(11) X(12) X(13) X(14) X(15)

void main() {
  const uint lane = gl_SubgroupInvocationID;
  const uint m0 = (gl_WorkGroupID.y * gl_NumSubgroups + gl_SubgroupID) * ROWS_PER_SG;  // subgroup-uniform
  const uint n0 = gl_WorkGroupID.x * SG * 4 + lane;
  const uint groups = pc.K / 32;
  const uint quads = pc.K / 4;
  // Clamped W rows of this lane (lane + j*SG) and X rows (uniform across the subgroup).
  const uvec4 col = min(uvec4(n0, n0 + SG, n0 + 2 * SG, n0 + 3 * SG), uvec4(pc.N - 1));
#define XK_DECLARE(i) const uint row##i = min(m0 + i, pc.M - 1); vec4 acc##i = vec4(0.0);
  XK_EACH_ROW(XK_DECLARE)

  for (uint g0 = 0; g0 < groups; g0 += CHUNK_GROUPS) {
    // This lane's quad of the chunk (elements 4*lane..+3 after g0*32), zero past K.
    const uint q = g0 * 8 + lane;
    const bool q_in = q < quads;
    const uint q_safe = min(q, quads - 1);
#define XK_LOAD_X(i) const vec4 xl##i = q_in ? act_round4(x4[row##i * quads + q_safe]) : vec4(0.0);
    XK_EACH_ROW(XK_LOAD_X)
    for (uint gi = 0; gi < CHUNK_GROUPS; ++gi) {
      const uint g = min(g0 + gi, groups - 1);  // past K: X is zero there, W any valid group
      const uvec4 grp = col * groups + g;
      uvec4 wq[4][GROUP_VECS];
      vec2 sc[4];
      for (uint j = 0; j < 4; ++j) {
        for (uint v = 0; v < GROUP_VECS; ++v) wq[j][v] = w_q4[grp[j] * GROUP_VECS + v];
        sc[j].x = w_sc[pc.scale_base + grp[j] * W_SCALES];
        sc[j].y = W_SCALES > 1u ? w_sc[pc.scale_base + grp[j] * W_SCALES + 1] : sc[j].x;
      }
      for (uint w = 0; w < 8; ++w) {  // elements 4w..4w+3 of the group
        vec4 wv[4];  // wv[j] = those 4 weights of W row col[j]
        for (uint j = 0; j < 4; ++j) {
#if defined(W_Q8_0)
          wv[j] = act_round4(vec4(unpack_i8x4(wq[j][w / 4][w % 4])) * sc[j].x);
#else
          // w < 4: low nibbles of word w; w >= 4: high nibbles of word w-4 (= elements 16+..)
          vec4 lo, hi;
          decode_word_f32(wq[j][0][w % 4], sc[j], pc.tensor_scale, lo, hi);
          wv[j] = act_round4(w < 4 ? lo : hi);
#endif
        }
        // Transposed: wt_c holds element 4w+c of the 4 W rows, so one FMA updates 4 outputs.
        const vec4 wt0 = vec4(wv[0].x, wv[1].x, wv[2].x, wv[3].x);
        const vec4 wt1 = vec4(wv[0].y, wv[1].y, wv[2].y, wv[3].y);
        const vec4 wt2 = vec4(wv[0].z, wv[1].z, wv[2].z, wv[3].z);
        const vec4 wt3 = vec4(wv[0].w, wv[1].w, wv[2].w, wv[3].w);
#define XK_FMA(i)                                                                   \
        {                                                                           \
          const vec4 xv = subgroupShuffle(xl##i, gi * 8 + w);                       \
          acc##i = fma(vec4(xv.w), wt3, fma(vec4(xv.z), wt2, fma(vec4(xv.y), wt1,   \
                   fma(vec4(xv.x), wt0, acc##i))));                                 \
        }
        XK_EACH_ROW(XK_FMA)
      }
    }
  }

#define XK_STORE(i)                                                        \
  if (m0 + i < pc.M)                                                       \
    for (uint j = 0; j < 4; ++j)                                           \
      if (n0 + j * SG < pc.N) y[(m0 + i) * pc.N + n0 + j * SG] = acc##i[j];
  XK_EACH_ROW(XK_STORE)
}
#else
// Q8 path: the same 16 x 4 block; per 32-group exact integer dot products (sub-blocks 0-15
// and 16-31 apart, for NVFP4's per-16 scales), then scaled into FP32. The int8 values are
// carried in FP32 lanes: every product and every 16-term sum is an integer below 2^24
// (|x| <= 127 and |w| <= 127, so 16 * 127 * 127 < 2^18), so FP32 FMAs compute the integer
// dot product exactly - and on a SIMD CPU they are cheaper than 32-bit integer multiplies.
// (GPUs take mul_mm.comp's int32 path instead.)
#define ROWS_PER_SG 16u  // X rows per subgroup; mm_variants.cpp kDirectRows must match
#define XK_EACH_ROW(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8) X(9) X(10) X(11) X(12) X(13) X(14) X(15)

void main() {
  const uint lane = gl_SubgroupInvocationID;
  const uint m0 = (gl_WorkGroupID.y * gl_NumSubgroups + gl_SubgroupID) * ROWS_PER_SG;  // subgroup-uniform
  const uint n0 = gl_WorkGroupID.x * SG * 4 + lane;
  const uint groups = pc.K / 32;
  const uint quads = pc.K / 4;
  const uvec4 col = min(uvec4(n0, n0 + SG, n0 + 2 * SG, n0 + 3 * SG), uvec4(pc.N - 1));
#define XK_DECLARE(i) const uint row##i = min(m0 + i, pc.M - 1); vec4 acc##i = vec4(0.0);
  XK_EACH_ROW(XK_DECLARE)

  for (uint g0 = 0; g0 < groups; g0 += CHUNK_GROUPS) {
    const uint q = g0 * 8 + lane;  // this lane's 4 int8 of the chunk
    const bool q_in = q < quads;
    const uint q_safe = min(q, quads - 1);
#define XK_LOAD_X(i)                                              \
    const uint xl##i = q_in ? xq[row##i * quads + q_safe] : 0u;   \
    const float xdl##i = xd[row##i * groups + q_safe / 8];
    XK_EACH_ROW(XK_LOAD_X)
    for (uint gi = 0; gi < CHUNK_GROUPS; ++gi) {
      const uint g = min(g0 + gi, groups - 1);  // past K: X is zero there, W any valid group
      const uvec4 grp = col * groups + g;
      uvec4 wq[4][GROUP_VECS];
      vec4 sc_lo, sc_hi;  // scales of the 4 W rows: elements 0-15 and 16-31
      for (uint j = 0; j < 4; ++j) {
        for (uint v = 0; v < GROUP_VECS; ++v) wq[j][v] = w_q4[grp[j] * GROUP_VECS + v];
        sc_lo[j] = w_sc[pc.scale_base + grp[j] * W_SCALES];
        sc_hi[j] = W_SCALES > 1u ? w_sc[pc.scale_base + grp[j] * W_SCALES + 1] : sc_lo[j];
      }
#define XK_ZERO(i) vec4 lo##i = vec4(0.0), hi##i = vec4(0.0);
      XK_EACH_ROW(XK_ZERO)
      for (uint w = 0; w < 8; ++w) {  // elements 4w..4w+3 of the group
        vec4 wi[4];  // integer-valued
        for (uint j = 0; j < 4; ++j) {
#if defined(W_Q8_0)
          wi[j] = vec4(unpack_i8x4(wq[j][w / 4][w % 4]));
#else
          wi[j] = vec4(decode4_i8(wq[j][0][w % 4], w < 4 ? 0u : 4u));
#endif
        }
        const vec4 wt0 = vec4(wi[0].x, wi[1].x, wi[2].x, wi[3].x);
        const vec4 wt1 = vec4(wi[0].y, wi[1].y, wi[2].y, wi[3].y);
        const vec4 wt2 = vec4(wi[0].z, wi[1].z, wi[2].z, wi[3].z);
        const vec4 wt3 = vec4(wi[0].w, wi[1].w, wi[2].w, wi[3].w);
#define XK_DOT(i)                                                                         \
        {                                                                                 \
          const vec4 xi = vec4(unpack_i8x4(subgroupShuffle(xl##i, gi * 8 + w)));          \
          const vec4 d = fma(vec4(xi.w), wt3, fma(vec4(xi.z), wt2, fma(vec4(xi.y), wt1,   \
                         xi.x * wt0)));                                                   \
          if (w < 4) lo##i += d; else hi##i += d;                                         \
        }
        XK_EACH_ROW(XK_DOT)
      }
#define XK_SCALE(i)                                                                     \
      acc##i += subgroupShuffle(xdl##i, gi * 8) * (sc_lo * lo##i + sc_hi * hi##i);
      XK_EACH_ROW(XK_SCALE)
    }
  }

#define XK_STORE(i)                                                        \
  if (m0 + i < pc.M)                                                       \
    for (uint j = 0; j < 4; ++j)                                           \
      if (n0 + j * SG < pc.N) y[(m0 + i) * pc.N + n0 + j * SG] = acc##i[j] * pc.tensor_scale;
  XK_EACH_ROW(XK_STORE)
}
#endif
