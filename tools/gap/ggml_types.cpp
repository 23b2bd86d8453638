// ggml storage types; block sizes from ggml/src/ggml-common.h (QK4_0 = 32, QK_K = 256 ...).
#include "ggml_types.h"

#include <array>

#include "text.h"
#include "xk/error.h"

namespace xk::gap {
namespace {

// id, name, elements per block, bytes per block, GEMM family. Ids are enum ggml_type.
constexpr std::array<GgmlType, 24> kTypes{{
    {0, "f32", 1, 4, "float"},         {1, "f16", 1, 2, "float"},         {2, "q4_0", 32, 18, "quant"},
    {3, "q4_1", 32, 20, "quant"},      {6, "q5_0", 32, 22, "quant"},      {7, "q5_1", 32, 24, "quant"},
    {8, "q8_0", 32, 34, "quant"},      {10, "q2_k", 256, 84, "quant"},    {11, "q3_k", 256, 110, "quant"},
    {12, "q4_k", 256, 144, "quant"},   {13, "q5_k", 256, 176, "quant"},   {14, "q6_k", 256, 210, "quant"},
    {16, "iq2_xxs", 256, 66, "quant"}, {17, "iq2_xs", 256, 74, "quant"},  {18, "iq3_xxs", 256, 98, "quant"},
    {19, "iq1_s", 256, 50, "quant"},   {20, "iq4_nl", 32, 18, "quant"},   {21, "iq3_s", 256, 110, "quant"},
    {22, "iq2_s", 256, 82, "quant"},   {23, "iq4_xs", 256, 136, "quant"}, {29, "iq1_m", 256, 56, "quant"},
    {30, "bf16", 1, 2, "float"},       {39, "mxfp4", 32, 17, "fp4"},      {-1, "nvfp4", 64, 36, "fp4"},
}};

bool starts_with(const std::string& s, const std::string& p) { return s.rfind(p, 0) == 0; }

}  // namespace

const GgmlType& ggml_type_by_id(int id) {
  for (const auto& t : kTypes)
    if (t.id == id) return t;
  throw Error("gguf", "type", "tensor type id " + std::to_string(id) + " is not one the gap model knows");
}

const GgmlType& ggml_type_by_name(const std::string& name) {
  const std::string n = lower(name);
  for (const auto& t : kTypes)
    if (n == t.name) return t;
  throw Error("gap", "type", "unknown ggml type '" + name + "'");
}

// llama.cpp src/llama-quant.cpp (llama_tensor_get_type): the _M mixes give attn_v and
// ffn_down more bits in some layers ("use_more_bits": the first and last eighth and every
// third layer, about half of them, modelled here as half), the output head Q6_K; MXFP4_MOE
// (gpt-oss) keeps experts in MXFP4 and the rest as converted (Q8_0 assumed here).
std::string file_type_tensor_type(const std::string& file_type, const std::string& role, int layer_half) {
  const std::string ft = lower(file_type);
  const bool more_bits =
      (role == "attn_v" || role == "ffn_down" || role == "ffn_down_exps") && layer_half == 0;
  if (role == "output") return ft == "f16" || ft == "bf16" || ft == "q8_0" ? ft : "q6_k";
  if (ft == "mxfp4" || ft == "mxfp4_moe") return role.find("_exps") != std::string::npos ? "mxfp4" : "q8_0";
  if (ft == "q4_k_m") return more_bits ? "q6_k" : "q4_k";
  if (ft == "q5_k_m") return more_bits ? "q6_k" : "q5_k";
  if (ft == "q4_k_s" || ft == "q4_k") return "q4_k";
  if (ft == "q5_k_s" || ft == "q5_k") return "q5_k";
  if (ft == "q3_k_m") return more_bits ? "q5_k" : "q3_k";
  if (ft == "q2_k") return "q2_k";
  if (starts_with(ft, "iq4_xs")) return "iq4_xs";
  for (const char* plain : {"q4_0", "q4_1", "q5_0", "q5_1", "q8_0", "q6_k", "f16", "bf16", "f32", "iq4_nl"})
    if (ft == plain) return plain;
  throw Error("gap", "quant",
              "unknown llama.cpp file type '" + file_type + "' (MXFP4, Q4_0, Q4_K_M, Q5_0, Q8_0, F16 ...)");
}

}  // namespace xk::gap
