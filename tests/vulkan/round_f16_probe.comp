// Test-only shader (tests/vulkan/vk_round_f16_test.cpp): y[i] = round_f16(x[i]) for the
// round_f16 of kernels/vulkan/common.glsl, included as is, so the test checks the very
// function the F16-activation GEMMs run. Inputs and outputs travel as raw FP32 bit
// patterns (uint) so NaN payloads, -0 and infinities reach the host unchanged.
#version 450
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"

layout(local_size_x = 64) in;  // 64 invocations per group, one element each

layout(std430, binding = 0) readonly buffer X { uint x[]; };
layout(std430, binding = 1) writeonly buffer Y { uint y[]; };
layout(push_constant) uniform Push { uint n; } p;

void main() {
  const uint i = gl_GlobalInvocationID.x;
  if (i >= p.n) return;
  y[i] = floatBitsToUint(round_f16(uintBitsToFloat(x[i])));
}
