// ggml's tensor storage types as the gap model needs them: the GGUF type id, the block
// size and bytes per block (ggml/src/ggml-common.h block_* structs; ggml.c type_traits),
// and the GEMM family a backend runs them with.
#pragma once
#include <cstdint>
#include <string>

namespace xk::gap {

struct GgmlType {
  int id = -1;              // GGUF tensor type id (enum ggml_type)
  const char* name = "";    // lowercase, as llama.cpp prints it: "q4_k", "mxfp4", "f16"
  int64_t block = 1;        // elements per block
  int64_t block_bytes = 4;  // bytes per block
  // "float": F32/F16/BF16 weights (cuBLAS / hipBLAS / Vulkan mul_mm with f16 operands);
  // "quant": a block-quantized type that llama.cpp's MMQ kernels take with int8 activations;
  // "fp4": MXFP4 / NVFP4, which Blackwell can take natively with block-scaled FP4 MMA.
  // (NVFP4 carries id -1: its GGUF id is not used by the files read here.)
  const char* family = "quant";
  double bits() const { return 8.0 * static_cast<double>(block_bytes) / static_cast<double>(block); }
};

// Throws xk::Error for an id the table does not know.
const GgmlType& ggml_type_by_id(int id);
// Accepts either case ("Q4_K", "q4_k"); throws xk::Error naming the unknown type.
const GgmlType& ggml_type_by_name(const std::string& name);

// The per-tensor types of a llama.cpp file type as printed by llama-bench ("Q4_K_M",
// "MXFP4", "Q8_0" ...). `role` is the tensor's role (attn_v, ffn_down, ffn_*_exps, ...);
// `layer_half` is 0 for the first half of layers that a mixed type quantizes with more
// bits, 1 for the rest. Throws xk::Error for an unknown file type.
std::string file_type_tensor_type(const std::string& file_type, const std::string& role, int layer_half);

}  // namespace xk::gap
