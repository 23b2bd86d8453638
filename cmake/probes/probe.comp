// One-kernel probe for the Vulkan backend's AUTO decision: glslc must emit SPIR-V 1.5 for
// Vulkan 1.2, the target every shader in kernels/vulkan is built for.
#version 450
layout(local_size_x = 64) in;
layout(std430, binding = 0) buffer Y { float y[]; };
void main() { y[gl_GlobalInvocationID.x] *= 2.0; }
