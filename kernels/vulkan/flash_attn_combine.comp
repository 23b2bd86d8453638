#version 450
// flash_attn_combine: merges the split-K partial results of flash_attn.comp.
// For one query row with slices i = 0..splits-1 holding (m_i, l_i, O_i unnormalised):
//   M = max m_i,  O = sum exp(m_i - M) O_i / sum exp(m_i - M) l_i
// (the online-softmax rescaling of FlashAttention-2, applied across slices). A slice that
// saw only masked keys has m_i = -inf and l_i = 0 and contributes nothing. Every row has at
// least one visible key (the op rejects T = 0 and causal rows with none), so M is finite.
// One thread per output element; bandwidth-bound and tiny (B*Hq*S*D*splits reads).
layout(local_size_x = 64) in;

#define NEG_INF uintBitsToFloat(0xFF800000u)  // -infinity (IEEE 754 bits)

layout(std430, binding = 0) readonly buffer Part { float part[]; };  // [rows][splits][D+2]
layout(std430, binding = 1) writeonly buffer OBuf { float o[]; };    // [rows][D]

layout(push_constant) uniform Push {
  uint rows;    // B * Hq * S
  uint D;
  uint splits;
} pc;

void combine(uint id) {
  const uint row = id / pc.D, d = id % pc.D;
  const uint stride = pc.D + 2;
  const uint base = row * pc.splits * stride;
  float m = NEG_INF;
  for (uint i = 0; i < pc.splits; ++i) m = max(m, part[base + i * stride]);
  float num = 0.0, den = 0.0;
  for (uint i = 0; i < pc.splits; ++i) {
    const float mi = part[base + i * stride];
    if (mi == NEG_INF) continue;
    const float w = exp(mi - m);
    den += w * part[base + i * stride + 1];
    num += w * part[base + i * stride + 2 + d];
  }
  o[id] = num / den;
}

void main() {
  // Grid-stride loop: the host caps the workgroup count at 65535.
  for (uint id = gl_GlobalInvocationID.x; id < pc.rows * pc.D; id += gl_NumWorkGroups.x * 64) combine(id);
}
