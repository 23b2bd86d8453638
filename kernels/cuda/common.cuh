// Shared device helpers of the xkern CUDA kernels: the on-the-fly activation quantizers
// (bit-exact with the oracle, kernels/ref/act_quant.cpp, through kernels/ref/numerics.h) and
// small nibble/byte utilities. Device code only; every kernel file includes this first.
#pragma once
#include <math.h>
#include <stdint.h>

#include "kernels/cuda/fragments.cuh"
#include "kernels/cuda/ptx.cuh"
#include "kernels/ref/formats.h"
#include "kernels/ref/numerics.h"

namespace xk::cuda_kernels {

// 128-bit vector of four words. alignas(16) makes nvcc emit one LDG.128/STG.128 per access;
// defined here rather than CUDA's uint4 so cuda-sim compiles it unchanged.
struct alignas(16) U32x4 {
  uint32_t x, y, z, w;
};

__device__ __forceinline__ float fabs_dev(float x) { return x < 0.0f ? -x : x; }

// Four 4-bit codes, one per byte (values 0..15) -> four int8.
// Q4_0 (value q - 8): per byte (q + 0x78) ^ 0x80 = q - 8 mod 256, no carry leaves a byte
// (q + 0x78 <= 0x87), 2 ALU ops for four elements.
__device__ __forceinline__ uint32_t q4_0_to_s8x4(uint32_t nib) { return (nib + 0x78787878u) ^ 0x80808080u; }
// E2M1 (value 2 * e2m1, ggml kvalues_mxfp4): a 16-entry byte table through two byte permutes
// (prmt, PTX ISA 9.7.8.7; __byte_perm picks byte s&7 of {lo, hi} per selector nibble): codes
// 0..7 from the positive half, 8..15 from the negative half, merged by bit 3 of each code.
__device__ __forceinline__ uint32_t e2m1_to_s8x4(uint32_t nib) {
  constexpr uint32_t kPos0 = 0x03020100u, kPos1 = 0x0C080604u;  // 0 1 2 3 | 4 6 8 12
  constexpr uint32_t kNeg0 = 0xFDFEFF00u, kNeg1 = 0xF4F8FAFCu;  // 0 -1 -2 -3 | -4 -6 -8 -12
  const uint32_t sel = (nib & 0x7u) | ((nib >> 4) & 0x70u) | ((nib >> 8) & 0x700u) | ((nib >> 12) & 0x7000u);
  const uint32_t pos = __byte_perm(kPos0, kPos1, sel), neg = __byte_perm(kNeg0, kNeg1, sel);
  const uint32_t negative = ((nib >> 3) & 0x01010101u) * 0xFFu;  // 0xFF in bytes whose code has bit 3
  return (pos & ~negative) | (neg & negative);
}

// ---- Q8_0 activation block (ggml quantize_row_q8_0_ref, kernels/ref/act_quant.cpp) ----
// d = amax / 127, q = round-half-away(x / d) with 1/d precomputed as ggml does; the scale
// the GEMM multiplies by is d rounded to FP16 (block_q8_0::d), returned here.
// NaN policy (README "Contracts"): a block holding a NaN or an inf, or whose scale overflows
// FP16 (amax > 65504 * 127), gets a NaN scale and zero codes, so every output that reads it
// is NaN. A scale that rounds to FP16 zero zeroes the
// block whatever the codes, so 1/d (inf for d < 1/FLT_MAX) is only taken when d16 != 0.
__device__ __forceinline__ float quantize_q8_block(const float (&x)[32], int8_t (&q)[32]) {
  float amax = 0.0f;
  bool finite = true;
#pragma unroll
  for (int j = 0; j < 32; ++j) {
    finite = finite && x[j] - x[j] == 0.0f;  // false for NaN and +-inf
    amax = fabs_dev(x[j]) > amax ? fabs_dev(x[j]) : amax;
  }
  const float d = amax / 127;
  const float d16 = num::f16_to_f32(num::f32_to_f16(d));
  finite = finite && d16 - d16 == 0.0f;
  const float id = finite && d16 != 0.0f ? 1.0f / d : 0.0f;
#pragma unroll
  for (int j = 0; j < 32; ++j) q[j] = id != 0.0f ? static_cast<int8_t>(roundf(x[j] * id)) : int8_t{0};
  return finite ? d16 : __int_as_float(0x7fc00000);
}

// ---- MXFP4 activation block of 32 (ggml quantize_row_mxfp4_ref) ----
// Writes 32 E2M1 codes in natural order (element 2i low nibble, 2i+1 high nibble of byte i)
// and returns the E8M0 exponent.
// A block holding a NaN or an inf gets the NaN scale 0xFF and zero codes (NaN policy, README
// "Contracts"): the block-scaled MMA then makes every output reading it NaN.
__device__ __forceinline__ uint8_t quantize_mxfp4_block(const float* x, uint8_t (&codes)[16]) {
  float amax = 0.0f;
  bool finite = true;
  for (int j = 0; j < 32; ++j) {
    finite = finite && x[j] - x[j] == 0.0f;  // false for NaN and +-inf
    amax = fabs_dev(x[j]) > amax ? fabs_dev(x[j]) : amax;
  }
  if (!finite) {
    for (int i = 0; i < 16; ++i) codes[i] = 0;
    return 0xFF;  // E8M0 NaN (OCP Microscaling spec v1.0, section 5.4.1)
  }
  const uint8_t e = num::mxfp4_exponent_ggml(amax);
  const float d = num::e8m0_to_f32_half_ggml(e);
  for (int i = 0; i < 16; ++i)
    codes[i] = static_cast<uint8_t>(num::e2m1_best_index_ggml(x[2 * i], d) |
                                    (num::e2m1_best_index_ggml(x[2 * i + 1], d) << 4));
  return e;
}

// ---- NVFP4 activation sub-block of 16 (ggml quantize_row_nvfp4_ref) on x / s ----
// x already divided by the row scale s; natural nibble order; returns the UE4M3 code.
// A non-finite element (an inf row makes x / s NaN) gives the NaN scale 0x7F and zero codes.
__device__ __forceinline__ uint8_t quantize_nvfp4_sub(const float* x, uint8_t (&codes)[8]) {
  float amax = 0.0f;
  bool finite = true;
  for (int j = 0; j < 16; ++j) {
    finite = finite && x[j] - x[j] == 0.0f;  // false for NaN and +-inf
    amax = fabs_dev(x[j]) > amax ? fabs_dev(x[j]) : amax;
  }
  if (!finite) {
    for (int i = 0; i < 8; ++i) codes[i] = 0;
    return 0x7F;  // UE4M3 NaN (E4M3 S.1111.111, OCP 8-bit FP spec v1.0)
  }
  const uint8_t ue = num::ue4m3_from_f32_ggml(amax / 6.0f);
  const float d = num::ue4m3_to_f32_half_ggml(ue);
  for (int i = 0; i < 8; ++i)
    codes[i] = static_cast<uint8_t>(num::e2m1_best_index_ggml(x[2 * i], d) |
                                    (num::e2m1_best_index_ggml(x[2 * i + 1], d) << 4));
  return ue;
}

// Reads an activation element of any float storage type as FP32.
enum class ActType : int { F32 = 0, F16 = 1, BF16 = 2 };
__device__ __forceinline__ float load_act(const void* x, int64_t i, ActType t) {
  if (t == ActType::F32) return ptx::ld_global(static_cast<const float*>(x) + i);
  const uint16_t h = ptx::ld_global(static_cast<const uint16_t*>(x) + i);
  return t == ActType::F16 ? num::f16_to_f32(h) : num::bf16_to_f32(h);
}

}  // namespace xk::cuda_kernels
