// Host-side format conversions and GGUF-compatible (de)quantization.
//
// Scalar conversions are exact (round-to-nearest-even where a value must round) and are
// the same functions the kernels use (kernels/ref/numerics.h, host+device). Row functions
// produce/consume GGUF-canonical block bytes (see dtype.h for the layouts).
#pragma once
#include <cstdint>
#include <vector>

#include "xk/dtype.h"

namespace xk {

float f16_to_f32(uint16_t h);
uint16_t f32_to_f16(float f);  // RNE, overflow -> inf, NaN preserved
float bf16_to_f32(uint16_t h);
uint16_t f32_to_bf16(float f);     // RNE, NaN preserved
float e2m1_to_f32(uint8_t code);   // 4-bit FP4 E2M1 code (low nibble) -> value
uint8_t f32_to_e2m1(float f);      // RNE, saturates to +-6
float e8m0_to_f32(uint8_t e);      // 2^(e-127); 0xFF = NaN
float ue4m3_to_f32(uint8_t code);  // unsigned E4M3 scale (sign bit ignored), 0x7F = NaN
uint8_t f32_to_ue4m3(float f);     // RNE, saturates to 448, negatives -> 0
float e4m3_to_f32(uint8_t code);   // OCP FP8 E4M3 (fn: no inf, 0x7F/0xFF = NaN)
uint8_t f32_to_e4m3(float f);      // RNE, saturates to +-448

// Quantizes/dequantizes one row of n elements (n a multiple of the block size) in GGUF
// layout, bit-exact with ggml's quantize_row_*_ref / dequantize_row_* (rounding rules in
// backends/core/formats.cpp). NVFP4 sub-block scales use ggml's own UE4M3 rounding
// (ggml_fp32_to_ue4m3: half up, anything >= 256 -> 448) and decoding (0x7F -> 0), not the
// RNE f32_to_ue4m3 above. Non-finite input to a block format throws xk::Error, and so does a
// Q4_0/Q8_0 block whose FP16 scale would overflow (Q8_0 |x| >= ~8.3e6, Q4_0 >= ~5.2e5).
// For F32/F16/BF16 these are plain conversions. NVFP4 values are scaled by tensor_scale on
// dequantization; quantize_row for NVFP4 expects x already divided by it.
void quantize_row(DType t, const float* x, void* dst, int64_t n);
void dequantize_row(DType t, const void* src, float* y, int64_t n, float tensor_scale = 1.0f);

// Whole [rows, cols] matrices. For NVFP4, quantize() picks the per-tensor scale
// (amax / (6 * 448), 1 when amax is 0) and returns it in *tensor_scale.
std::vector<uint8_t> quantize(DType t, const float* x, int64_t rows, int64_t cols,
                              float* tensor_scale = nullptr);
std::vector<float> dequantize(DType t, const void* src, int64_t rows, int64_t cols,
                              float tensor_scale = 1.0f);

}  // namespace xk
