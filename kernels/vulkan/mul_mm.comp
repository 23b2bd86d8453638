#version 450
// mul_mm: Y[M,N] = X[M,K] * W[N,K]^T for block-quantized W (Q4_0, Q8_0, MXFP4, NVFP4).
//
// One workgroup computes a BM x BN tile of Y, walking K one 32-element quantization group
// at a time (BK = 32). Both operands are staged through shared memory; each thread owns a
// TM x TN register block of accumulators (FP32) and reads TM + TN shared values per k for
// TM*TN FMAs, which is what makes it compute-bound rather than shared-memory-bound.
//
// Data types (compile-time defines, one SPIR-V module each):
//   W_<fmt>   weight format, decoded while staging the W tile (each element once per tile)
//   ACT_F32   X widened to FP32, W dequantized to FP32            (ref.h ActPrecision::F32)
//   ACT_F16   X and dequantized W rounded to FP16 (RNE), FP32 accumulation     (::F16)
//   ACT_Q8    X pre-quantized to Q8_0 by quantize_q8.comp, W as small integers, int32 dot
//             products per group, scaled and accumulated in FP32                (::Q8)
//
// Tiles are specialization constants (host: backends/vulkan/mm_variants.cpp):
//   BM x BN = 64 x 64, TM x TN = 4 x 4, WG = (BM/TM)*(BN/TN) = 256 threads by default.
// Real-GPU design choices:
//   * Shared tiles are k-major ([BK][BM+1]): in the inner loop consecutive threads read
//     consecutive columns (conflict-free) or the same address (broadcast); the +1 pad makes
//     the transposing stores conflict-free too (32 banks of 4 bytes on NVIDIA and AMD).
//   * Thread (tx, ty) owns rows ty + i*BM/TM and columns tx + j*BN/TN (strided, not
//     contiguous), so the shared reads of a warp/wavefront stay on distinct banks.
//   * Global loads: consecutive threads read consecutive 32-bit words of X rows and of the
//     repacked weight quants (coalesced). Weights are read once per BM rows of X: at
//     M=512, N=K=4096 the tile is compute-bound (64 FMA per weight byte).
//   * Ragged M and N are handled by zero-filling the tile edge and masking the stores; K is
//     a multiple of 32 (every format's block), so there is no K tail.
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"

layout(constant_id = 0) const uint WG = 256;  // threads: (BM/TM) * (BN/TN)
layout(constant_id = 1) const uint BM = 64;   // Y rows (X rows) per workgroup
layout(constant_id = 2) const uint BN = 64;   // Y columns (W rows) per workgroup
layout(constant_id = 3) const uint TM = 4;    // Y rows per thread
layout(constant_id = 4) const uint TN = 4;    // Y columns per thread
layout(local_size_x_id = 0) in;

const uint BK = 32;  // one quantization group of every format
const uint SM = BM / TM;  // thread rows
const uint SN = BN / TN;  // thread columns

layout(std430, binding = 0) readonly buffer WBuf { uint w_words[]; };  // repacked (common.glsl)
#ifdef ACT_Q8
layout(std430, binding = 1) readonly buffer XQ { uint xq[]; };   // [M][K/4] int8 x4
layout(std430, binding = 2) readonly buffer XD { float xd[]; };  // [M][K/32] FP16-valued d
layout(std430, binding = 3) writeonly buffer YBuf { float y[]; };
#else
layout(std430, binding = 1) readonly buffer XBuf { uint x_words[]; };  // [M][K] f32/f16/bf16
layout(std430, binding = 2) writeonly buffer YBuf { float y[]; };
#endif

layout(push_constant) uniform Push {
  uint M, N, K;
  uint x_dtype;       // DT_F32/F16/BF16 (float paths)
  uint scale_base;    // word offset of the scales array in WBuf
  float tensor_scale; // NVFP4 per-tensor scale (1 otherwise)
} pc;

#ifdef ACT_Q8
shared uint a_q[8 * BM];          // (8 words, BM)  X int8 x4, word-major
shared float a_d[BM];             // (BM)           X group scale
shared uint b_q[8 * BN];          // (8 words, BN)  W int8 x4, word-major
shared vec2 b_d[BN];              // (BN)           W group (sub-)scales
#else
shared float a_s[BK * (BM + 1)];  // (BK, BM+1)     X tile, k-major, padded
shared float b_s[BK * (BN + 1)];  // (BK, BN+1)     W tile dequantized, k-major, padded
#endif

#ifndef ACT_Q8
float act_round(float v) {
#ifdef ACT_F16
  return round_f16(v);
#else
  return v;
#endif
}
#endif

void main() {
  const uint tid = gl_LocalInvocationID.x;
  const uint tx = tid % SN;
  const uint ty = tid / SN;
  const uint n0 = gl_WorkGroupID.x * BN;
  const uint m0 = gl_WorkGroupID.y * BM;
  const uint groups = pc.K / BK;

  float acc[TM][TN];  // (TM, TN) FP32 accumulators
  for (uint i = 0; i < TM; ++i)
    for (uint j = 0; j < TN; ++j) acc[i][j] = 0.0;

  for (uint g = 0; g < groups; ++g) {
    barrier();  // the previous group's tiles are no longer read
#ifdef ACT_Q8
    for (uint idx = tid; idx < 8 * BM; idx += WG) {
      const uint r = idx / 8, w = idx % 8, m = m0 + r;
      a_q[w * BM + r] = m < pc.M ? xq[m * (pc.K / 4) + g * 8 + w] : 0u;
      if (w == 0) a_d[r] = m < pc.M ? xd[m * groups + g] : 0.0;
    }
    for (uint idx = tid; idx < W_WORDS * BN; idx += WG) {
      const uint r = idx / W_WORDS, w = idx % W_WORDS, n = n0 + r;
      const uint grp = n * groups + g;
      const uint word = n < pc.N ? w_words[grp * W_WORDS + w] : 0u;
#if defined(W_Q8_0)
      b_q[w * BN + r] = word;
#else
      uint lo, hi;
      decode_word_i8(word, lo, hi);
      b_q[w * BN + r] = lo;        // elements 4w..4w+3   -> word w
      b_q[(w + 4) * BN + r] = hi;  // elements 16+4w..    -> word w+4
#endif
      if (w == 0) {
        vec2 sc = vec2(0.0);
        if (n < pc.N) {
          sc.x = uintBitsToFloat(w_words[pc.scale_base + grp * W_SCALES]);
          sc.y = W_SCALES > 1u ? uintBitsToFloat(w_words[pc.scale_base + grp * W_SCALES + 1]) : sc.x;
        }
        b_d[r] = sc;  // the NVFP4 tensor scale is applied once per output, as ref does
      }
    }
    barrier();
    // Integer dot products per group (two halves: NVFP4 has a scale per 16 elements).
    ivec2 isum[TM][TN];
    for (uint i = 0; i < TM; ++i)
      for (uint j = 0; j < TN; ++j) isum[i][j] = ivec2(0);
    for (uint w = 0; w < 8; ++w) {
      ivec4 av[TM], bv[TN];
      for (uint i = 0; i < TM; ++i) av[i] = unpack_i8x4(a_q[w * BM + ty + i * SM]);
      for (uint j = 0; j < TN; ++j) bv[j] = unpack_i8x4(b_q[w * BN + tx + j * SN]);
      for (uint i = 0; i < TM; ++i)
        for (uint j = 0; j < TN; ++j) isum[i][j][w / 4] += dot_i8x4(av[i], bv[j]);
    }
    for (uint i = 0; i < TM; ++i) {
      const float da = a_d[ty + i * SM];
      for (uint j = 0; j < TN; ++j) {
        const vec2 db = b_d[tx + j * SN];
        acc[i][j] += da * (db.x * float(isum[i][j].x) + db.y * float(isum[i][j].y));
      }
    }
#else
    // Stage X: BM rows x 32 elements, one element per thread and step (coalesced rows).
    for (uint idx = tid; idx < BM * BK; idx += WG) {
      const uint r = idx / BK, c = idx % BK, m = m0 + r;
      float v = 0.0;
      if (m < pc.M) {
        const uint e = m * pc.K + g * BK + c;
        v = act_round(load_act(pc.x_dtype, e, x_words[act_word_index(pc.x_dtype, e)]));
      }
      a_s[c * (BM + 1) + r] = v;
    }
    // Stage W: decode each quant word once into 8 (4-bit) or 4 (Q8_0) FP32 values.
    for (uint idx = tid; idx < W_WORDS * BN; idx += WG) {
      const uint r = idx / W_WORDS, w = idx % W_WORDS, n = n0 + r;
      const uint grp = n * groups + g;
      const uint word = n < pc.N ? w_words[grp * W_WORDS + w] : 0u;
      vec2 sc = vec2(0.0);
      if (n < pc.N) {
        sc.x = uintBitsToFloat(w_words[pc.scale_base + grp * W_SCALES]);
        sc.y = W_SCALES > 1u ? uintBitsToFloat(w_words[pc.scale_base + grp * W_SCALES + 1]) : sc.x;
      }
#if defined(W_Q8_0)
      const ivec4 q = unpack_i8x4(word);
      for (uint c = 0; c < 4; ++c) b_s[(4 * w + c) * (BN + 1) + r] = act_round(float(q[c]) * sc.x);
#else
      vec4 lo, hi;
      decode_word_f32(word, sc, pc.tensor_scale, lo, hi);
      for (uint c = 0; c < 4; ++c) {
        b_s[(4 * w + c) * (BN + 1) + r] = act_round(lo[c]);
        b_s[(16 + 4 * w + c) * (BN + 1) + r] = act_round(hi[c]);
      }
#endif
    }
    barrier();
    for (uint k = 0; k < BK; ++k) {
      float av[TM], bv[TN];
      for (uint i = 0; i < TM; ++i) av[i] = a_s[k * (BM + 1) + ty + i * SM];
      for (uint j = 0; j < TN; ++j) bv[j] = b_s[k * (BN + 1) + tx + j * SN];
      for (uint i = 0; i < TM; ++i)
        for (uint j = 0; j < TN; ++j) acc[i][j] = fma(av[i], bv[j], acc[i][j]);
    }
#endif
  }

  for (uint i = 0; i < TM; ++i) {
    const uint m = m0 + ty + i * SM;
    if (m >= pc.M) continue;
    for (uint j = 0; j < TN; ++j) {
      const uint n = n0 + tx + j * SN;
#ifdef ACT_Q8
      if (n < pc.N) y[m * pc.N + n] = acc[i][j] * pc.tensor_scale;
#else
      if (n < pc.N) y[m * pc.N + n] = acc[i][j];
#endif
    }
  }
}
