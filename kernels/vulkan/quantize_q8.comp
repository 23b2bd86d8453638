#version 450
// quantize_q8: X[M,K] (f32/f16/bf16) -> Q8_0 groups of 32, the activation side of the
// int8 matmul path (ref.h ActPrecision::Q8; ggml quantize_row_q8_0_ref):
//   d = amax / 127, id = d ? 1/d : 0, q = round-half-away(x * id), d stored as FP16.
// Output as two arrays so the GEMM reads aligned words: xq [M][K/4] (int8 x4, element
// 4w+c in byte c of word w) and xd [M][K/32] (d rounded to FP16, held as FP32).
// Built with -DQ8_AS_F32 (shader quantize_q8_f32): xq [M][K] FP32 holds the dequantized
// values q * d instead, exact in FP32 (a 7-bit integer times an FP16 has at most 18
// significant bits), for mul_mm_direct.comp's Q8 path, which then runs its float inner loop
// with no per-element int8 unpacking or per-group rescaling.
//
// One thread per group (grid-stride): reads 32 values, writes 8 words + 1 scale. Bandwidth-bound and
// small next to the GEMM (M*K reads vs M*N*K FMAs); WG = 64 threads.
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"

layout(local_size_x = 64) in;

layout(std430, binding = 0) readonly buffer XBuf { uint x_words[]; };
layout(std430, binding = 0) readonly buffer XBuf4 { vec4 x4[]; };  // F32 view: 16-byte loads
#ifdef Q8_AS_F32
layout(std430, binding = 1) writeonly buffer XQ { vec4 xq4[]; };  // [M][K/4], integer-valued
#else
layout(std430, binding = 1) writeonly buffer XQ { uint xq[]; };
#endif
layout(std430, binding = 2) writeonly buffer XD { float xd[]; };

layout(push_constant) uniform Push {
  uint M, K;
  uint x_dtype;
} pc;

void quantize_group(uint m, uint g) {
  const uint groups = pc.K / 32;
  const uint base = m * pc.K + g * 32;

  float v[32];
  if (pc.x_dtype == DT_F32) {
    for (uint i = 0; i < 8; ++i) {
      const vec4 q = x4[base / 4 + i];
      v[4 * i] = q.x;
      v[4 * i + 1] = q.y;
      v[4 * i + 2] = q.z;
      v[4 * i + 3] = q.w;
    }
  } else {
    for (uint i = 0; i < 32; ++i) v[i] = load_act(pc.x_dtype, base + i, x_words[act_word_index(pc.x_dtype, base + i)]);
  }
  // NaN policy (README "Contracts"): a block holding a NaN or an inf, or whose scale overflows
  // FP16 (amax > 65504 * 127), gets a NaN scale and zero codes, so every output reading it is
  // NaN (GLSL max() may drop a NaN: test the elements first).
  bool finite = true;
  float amax = 0.0;
  for (uint i = 0; i < 32; ++i) {
    finite = finite && !isnan(v[i]) && !isinf(v[i]);
    amax = max(amax, abs(v[i]));
  }
  const float d = amax / 127.0;
  finite = finite && !isinf(round_f16(d));
  const float d16 = finite ? round_f16(d) : uintBitsToFloat(0x7FC00000u);  // the stored x scale
  // 1/d overflows to inf for d < 1/FLT_MAX (int(inf) is undefined); such a d rounds to FP16
  // zero, which zeroes the block whatever the codes, so skip the division there.
  const float inv = finite && d16 != 0.0 ? 1.0 / d : 0.0;
  for (uint w = 0; w < 8; ++w) {
    ivec4 q;
    for (uint c = 0; c < 4; ++c) {
      const float s = v[4 * w + c] * inv;  // NaN for a non-finite v: its code is 0 instead
      q[c] = inv != 0.0 ? int(sign(s) * floor(abs(s) + 0.5)) : 0;  // C roundf: half away from zero
    }
#ifdef Q8_AS_F32
    xq4[m * (pc.K / 4) + g * 8 + w] = vec4(q) * d16;  // |q| <= 127 times an FP16: exact in FP32
#else
    xq[m * (pc.K / 4) + g * 8 + w] = (uint(q.x) & 0xFFu) | ((uint(q.y) & 0xFFu) << 8) | ((uint(q.z) & 0xFFu) << 16) |
                                    ((uint(q.w) & 0xFFu) << 24);
#endif
  }
  xd[m * groups + g] = d16;
}

void main() {
  const uint groups = pc.K / 32;
  // Grid-stride loop: the host caps the workgroup count at the 65535 every device allows.
  for (uint id = gl_GlobalInvocationID.x; id < pc.M * groups; id += gl_NumWorkGroups.x * 64) {
    quantize_group(id / groups, id % groups);
  }
}
