// The SPIR-V of every shader in kernels/vulkan/, compiled by glslc at build time and
// embedded by backends/vulkan/embed_spirv.cmake into the build tree (vk_spirv_table.cpp).
#pragma once
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace xk::vk {

struct Spirv {
  const uint32_t* words = nullptr;
  size_t count = 0;  // in 32-bit words
};

// The module compiled under `name` (e.g. "mul_mm_q4_0_f32"); {nullptr, 0} when unknown.
Spirv find_spirv(std::string_view name);

}  // namespace xk::vk
