// Weight repacking at upload: GGUF blocks -> the aligned two-array layout the shaders read
// (documented once, in kernels/vulkan/common.glsl "Repacked weights").
#pragma once
#include <cstdint>
#include <vector>

#include "xk/dtype.h"

namespace xk::vk {

// Words of quants per 32-element group (common.glsl W_WORDS) and scales per group (W_SCALES).
int quant_words_per_group(DType t);
int scales_per_group(DType t);
// Word offset of the scales array: every row's quants come first.
uint32_t scale_base(DType t, int64_t n, int64_t k);

// Packs n rows of k elements (k a multiple of the format's block) from GGUF bytes.
std::vector<uint32_t> pack_weights(DType t, const uint8_t* gguf, int64_t n, int64_t k);

}  // namespace xk::vk
