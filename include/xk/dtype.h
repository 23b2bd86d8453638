// Storage formats and their traits.
//
// Quantized weight formats are byte-compatible with GGUF / ggml (ggml/src/ggml-common.h):
//   Q4_0  : 32 values, 18 bytes  { fp16 d; u8 qs[16]; }  low nibble = j, high nibble = j+16, x = (q-8)*d
//   Q8_0  : 32 values, 34 bytes  { fp16 d; i8 qs[32]; }                                       x = q*d
//   MXFP4 : 32 values, 17 bytes  { u8 e (E8M0); u8 qs[16]; } nibbles as Q4_0, x = e2m1(q)*2^(e-127)
//   NVFP4 : 64 values, 36 bytes  { u8 d[4] (UE4M3, one per 16); u8 qs[32]; } + per-tensor FP32 scale
// The exact element order of every format is defined once, in kernels/ref/formats.h.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace xk {

enum class DType : uint8_t { F32, F16, BF16, Q8_0, Q4_0, MXFP4, NVFP4 };

struct DTypeTraits {
  const char* name;  // stable lower-case name: "f32", "q4_0", "nvfp4", ...
  int block_elems;   // elements per block (1 for plain floats)
  int block_bytes;   // bytes per block
  bool quantized;    // block-quantized weight format
};

const DTypeTraits& traits(DType t);
inline const char* name(DType t) { return traits(t).name; }
// Parses a name as printed by name(); throws xk::Error("dtype", ...) when unknown.
DType parse_dtype(std::string_view s);
// Bytes of one row of `elems` elements; elems must be a multiple of block_elems.
inline size_t row_bytes(DType t, int64_t elems) {
  const auto& tr = traits(t);
  return static_cast<size_t>(elems / tr.block_elems) * static_cast<size_t>(tr.block_bytes);
}

inline constexpr DType kAllDTypes[] = {DType::F32,  DType::F16,   DType::BF16, DType::Q8_0,
                                       DType::Q4_0, DType::MXFP4, DType::NVFP4};
inline constexpr DType kWeightFormats[] = {DType::Q4_0, DType::Q8_0, DType::MXFP4, DType::NVFP4};

// How the activations X of a matmul enter the kernel. The reference backend implements
// every choice exactly (see kernels/ref/matmul.h) so that GPU kernels compare tightly.
enum class ActPrecision : uint8_t {
  Auto,  // the backend's best variant for the weight format decides
  F32,   // X as given (F32/F16/BF16 widened), W dequantized to FP32, FP32 math
  F16,   // X and dequantized W rounded to FP16 (tensor-core F16 paths), FP32 accumulation
  Q8,    // X quantized on the fly to int8 blocks of 32 exactly as Q8_0 (integer dot products)
  FP4,   // X quantized on the fly to the weight's FP4 format (MXFP4 or NVFP4 block scales)
  FP8,   // X quantized to E4M3 with one E8M0 scale per 32 (W4A8 on Blackwell)
};
const char* name(ActPrecision a);
ActPrecision parse_act(std::string_view s);

}  // namespace xk
