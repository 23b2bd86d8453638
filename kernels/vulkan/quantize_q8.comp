#version 450
// quantize_q8: X[M,K] (f32/f16/bf16) -> Q8_0 groups of 32, the activation side of the
// int8 matmul path (ref.h ActPrecision::Q8; ggml quantize_row_q8_0_ref):
//   d = amax / 127, id = d ? 1/d : 0, q = round-half-away(x * id), d stored as FP16.
// Output as two arrays so the GEMM reads aligned words: xq [M][K/4] (int8 x4, element
// 4w+c in byte c of word w) and xd [M][K/32] (d rounded to FP16, held as FP32).
//
// One thread per group (grid-stride): reads 32 values, writes 8 words + 1 scale. Bandwidth-bound and
// small next to the GEMM (M*K reads vs M*N*K FMAs); WG = 64 threads.
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"

layout(local_size_x = 64) in;

layout(std430, binding = 0) readonly buffer XBuf { uint x_words[]; };
layout(std430, binding = 0) readonly buffer XBuf4 { vec4 x4[]; };  // F32 view: 16-byte loads
layout(std430, binding = 1) writeonly buffer XQ { uint xq[]; };
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
  float amax = 0.0;
  for (uint i = 0; i < 32; ++i) amax = max(amax, abs(v[i]));
  const float d = amax / 127.0;
  const float inv = d != 0.0 ? 1.0 / d : 0.0;
  for (uint w = 0; w < 8; ++w) {
    uint word = 0u;
    for (uint c = 0; c < 4; ++c) {
      const float s = v[4 * w + c] * inv;
      const int q = int(sign(s) * floor(abs(s) + 0.5));  // C roundf: half away from zero
      word |= (uint(q) & 0xFFu) << (8u * c);
    }
    xq[m * (pc.K / 4) + g * 8 + w] = word;
  }
  xd[m * groups + g] = round_f16(d);
}

void main() {
  const uint groups = pc.K / 32;
  // Grid-stride loop: the host caps the workgroup count at the 65535 every device allows.
  for (uint id = gl_GlobalInvocationID.x; id < pc.M * groups; id += gl_NumWorkGroups.x * 64) {
    quantize_group(id / groups, id % groups);
  }
}
