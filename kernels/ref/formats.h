// GGUF block layouts and their element order, stated once.
//
// Byte-compatible with ggml (ggml/src/ggml-common.h: block_q4_0, block_q8_0, block_mxfp4,
// block_nvfp4; QK4_0 = QK8_0 = QK_MXFP4 = 32, QK_NVFP4 = 64, QK_NVFP4_SUB = 16). Every kernel
// (ref, CUDA, HIP, Vulkan via its own GLSL mirror, simulator) reads weights through these
// accessors or follows the order written here:
//
//   Q4_0   qs[j] low nibble = element j, high nibble = element j + 16   (j < 16)
//          value = (q - 8) * fp16(d)
//   Q8_0   qs[j] = element j,  value = q * fp16(d)
//   MXFP4  nibbles as Q4_0;  value = kE2M1x2[q] * 2^(e-128)   (= e2m1(q) * 2^(e-127))
//   NVFP4  four sub-blocks of 16; sub-block s uses scale d[s] and bytes qs[8s .. 8s+7]:
//          qs[8s + j] low nibble = element 16s + j, high nibble = element 16s + j + 8 (j < 8)
//          value = kE2M1x2[q] * ue4m3(d[s]) / 2 * tensor_scale
//          (ggml-quants.c dequantize_row_nvfp4; the per-tensor FP32 scale is xkern's and
//          travels beside the tensor, ggml's block has none: tensor_scale = 1 is plain GGUF.)
//
// Scale decoding follows ggml exactly (ggml-impl.h): E8M0 through ggml_e8m0_to_fp32_half
// (0xFF is not treated as NaN) and UE4M3 through ggml_ue4m3_to_fp32, where codes 0x00 and 0x7F
// decode to 0. Quantizers never produce 0x7F or 0xFF scales.
#pragma once
#include <stdint.h>

#include "kernels/ref/numerics.h"
#include "xk/dtype.h"

namespace xk::ref {

inline constexpr int kQK4_0 = 32;
inline constexpr int kQK8_0 = 32;
inline constexpr int kQKMxfp4 = 32;
inline constexpr int kQKNvfp4 = 64;
inline constexpr int kQKNvfp4Sub = 16;

struct block_q4_0 {
  uint16_t d;      // fp16 scale
  uint8_t qs[16];  // 32 x 4-bit, see element order above
};
struct block_q8_0 {
  uint16_t d;  // fp16 scale
  int8_t qs[32];
};
struct block_mxfp4 {
  uint8_t e;       // E8M0 shared exponent
  uint8_t qs[16];  // 32 x E2M1
};
struct block_nvfp4 {
  uint8_t d[4];    // UE4M3 scale per 16 elements
  uint8_t qs[32];  // 64 x E2M1
};
// Sizes from ggml-common.h's static_asserts (and xk::traits()).
static_assert(sizeof(block_q4_0) == 18, "block_q4_0: fp16 + 16 bytes");
static_assert(sizeof(block_q8_0) == 34, "block_q8_0: fp16 + 32 bytes");
static_assert(sizeof(block_mxfp4) == 17, "block_mxfp4: 1 + 16 bytes");
static_assert(sizeof(block_nvfp4) == 36, "block_nvfp4: 4 + 32 bytes");

// Elements and bytes per block of every storage format: the one definition, read by
// xk::traits() on the host and by the kernels (HIP Fmt<>), so they cannot disagree.
template <DType F>
struct FormatBlock;
template <>
struct FormatBlock<DType::Q4_0> {
  static constexpr int elems = kQK4_0, bytes = sizeof(block_q4_0);
};
template <>
struct FormatBlock<DType::Q8_0> {
  static constexpr int elems = kQK8_0, bytes = sizeof(block_q8_0);
};
template <>
struct FormatBlock<DType::MXFP4> {
  static constexpr int elems = kQKMxfp4, bytes = sizeof(block_mxfp4);
};
template <>
struct FormatBlock<DType::NVFP4> {
  static constexpr int elems = kQKNvfp4, bytes = sizeof(block_nvfp4);
};
template <>
struct FormatBlock<DType::F32> {
  static constexpr int elems = 1, bytes = 4;
};
template <>
struct FormatBlock<DType::F16> {
  static constexpr int elems = 1, bytes = 2;
};
template <>
struct FormatBlock<DType::BF16> {
  static constexpr int elems = 1, bytes = 2;
};

// Twice the E2M1 value of each 4-bit code: ggml's kvalues_mxfp4 (ggml-common.h). An integer
// in [-12, 12], so FP4 weights enter int8 dot products exactly.
// Device code uses num::e2m1_x2() (the same numbers, computed), since a constexpr array
// cannot be indexed at run time in CUDA device code; the two are checked equal below.
inline constexpr int8_t kE2M1x2[16] = {0, 1, 2, 3, 4, 6, 8, 12, 0, -1, -2, -3, -4, -6, -8, -12};
constexpr bool e2m1_table_matches_encoding() {
  for (int c = 0; c < 16; ++c)
    if (kE2M1x2[c] != num::e2m1_x2(static_cast<uint8_t>(c))) return false;
  return true;
}
static_assert(e2m1_table_matches_encoding(), "kE2M1x2 must equal OCP E2M1 x 2 for every code");

// ---- element order: (byte index, high nibble?) of element j within a block ----
struct NibbleAt {
  int byte;
  int shift;  // 0 for the low nibble, 4 for the high nibble
};
// Q4_0 and MXFP4: element j < 16 in the low nibble of byte j, j >= 16 in the high nibble of j-16.
inline XK_HD NibbleAt q4_0_nibble_at(int j) { return {j & 15, (j >> 4) << 2}; }
// NVFP4: sub-block s = j / 16, inside it the same half-split over 8 bytes.
inline XK_HD NibbleAt nvfp4_nibble_at(int j) {
  const int s = j >> 4, r = j & 15;
  return {s * 8 + (r & 7), (r >> 3) << 2};
}

// ---- integer view (what the int8 GEMM paths consume) ----
inline XK_HD int q4_0_get(const block_q4_0& b, int j) {  // q - 8, in [-8, 7]
  const NibbleAt at = q4_0_nibble_at(j);
  return ((b.qs[at.byte] >> at.shift) & 0xF) - 8;
}
inline XK_HD int q8_0_get(const block_q8_0& b, int j) { return b.qs[j]; }
inline XK_HD uint8_t mxfp4_code(const block_mxfp4& b, int j) {
  const NibbleAt at = q4_0_nibble_at(j);
  return static_cast<uint8_t>((b.qs[at.byte] >> at.shift) & 0xF);
}
inline XK_HD int mxfp4_get(const block_mxfp4& b, int j) { return num::e2m1_x2(mxfp4_code(b, j)); }
inline XK_HD uint8_t nvfp4_code(const block_nvfp4& b, int j) {
  const NibbleAt at = nvfp4_nibble_at(j);
  return static_cast<uint8_t>((b.qs[at.byte] >> at.shift) & 0xF);
}
inline XK_HD int nvfp4_get(const block_nvfp4& b, int j) { return num::e2m1_x2(nvfp4_code(b, j)); }

// ---- block scales paired with the integers above (value = get * scale) ----
inline XK_HD float q4_0_scale(const block_q4_0& b) { return num::f16_to_f32(b.d); }
inline XK_HD float q8_0_scale(const block_q8_0& b) { return num::f16_to_f32(b.d); }
// Half of 2^(e-127): pairs with the doubled E2M1 integers.
inline XK_HD float mxfp4_scale_half(const block_mxfp4& b) { return num::e8m0_to_f32_half_ggml(b.e); }
// Half of ue4m3(d[s]) for sub-block s (tensor_scale not included).
inline XK_HD float nvfp4_scale_half(const block_nvfp4& b, int s) {
  return num::ue4m3_to_f32_half_ggml(b.d[s]);
}

// ---- setters used by the quantizers (byte must start zeroed) ----
inline XK_HD void q4_0_put(block_q4_0& b, int j, uint8_t q) {  // q in [0, 15], i.e. value + 8
  const NibbleAt at = q4_0_nibble_at(j);
  b.qs[at.byte] = static_cast<uint8_t>(b.qs[at.byte] | ((q & 0xF) << at.shift));
}
inline XK_HD void mxfp4_put(block_mxfp4& b, int j, uint8_t code) {
  const NibbleAt at = q4_0_nibble_at(j);
  b.qs[at.byte] = static_cast<uint8_t>(b.qs[at.byte] | ((code & 0xF) << at.shift));
}
inline XK_HD void nvfp4_put(block_nvfp4& b, int j, uint8_t code) {
  const NibbleAt at = nvfp4_nibble_at(j);
  b.qs[at.byte] = static_cast<uint8_t>(b.qs[at.byte] | ((code & 0xF) << at.shift));
}

}  // namespace xk::ref
