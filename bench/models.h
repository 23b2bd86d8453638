// Model-shape presets: the dense shapes of one transformer layer, from each model's
// published config.json (Hugging Face model cards), so benchmarks and the gap model speak
// of real prompts. Sources:
//   Llama-3-70B   meta-llama/Meta-Llama-3-70B config.json: hidden 8192, intermediate 28672,
//                 80 layers, 64 heads, 8 KV heads, head_dim 128
//   Qwen2.5-72B   Qwen/Qwen2.5-72B config.json: hidden 8192, intermediate 29568, 80 layers,
//                 64 heads, 8 KV heads, head_dim 128
//   Gemma-3-27B   google/gemma-3-27b-pt config.json (text_config): hidden 5376,
//                 intermediate 21504, 62 layers, 32 heads, 16 KV heads, head_dim 128
//   gpt-oss-120b  openai/gpt-oss-120b config.json: hidden 2880, 36 layers, 64 heads,
//                 8 KV heads, head_dim 64, 128 experts (4 active), expert intermediate 2880
//                 (dense part here = attention projections + the 4 active experts' FFNs)
#pragma once
#include <array>
#include <cstdint>
#include <string_view>

namespace xk::models {

struct ModelPreset {
  std::string_view key;    // CLI name: "llama3-70b"
  std::string_view label;  // "Llama-3 70B"
  int64_t hidden;          // d_model
  int64_t ffn;             // intermediate size of one (expert) FFN
  int64_t layers;
  int64_t heads;           // query heads
  int64_t kv_heads;
  int64_t head_dim;
  int64_t active_experts;  // FFNs run per token (1 for dense models)
};

inline constexpr std::array<ModelPreset, 4> kModels{{
    {"llama3-70b", "Llama-3 70B", 8192, 28672, 80, 64, 8, 128, 1},
    {"qwen2.5-72b", "Qwen2.5 72B", 8192, 29568, 80, 64, 8, 128, 1},
    {"gemma3-27b", "Gemma 3 27B", 5376, 21504, 62, 32, 16, 128, 1},
    {"gpt-oss-120b", "gpt-oss-120b", 2880, 2880, 36, 64, 8, 64, 4},
}};

// The matmuls of one layer for `tokens` tokens: Y[M=tokens, N] = X[M, K] W[N, K]^T.
struct LayerGemm {
  std::string_view name;  // "qkv", "o", "gate_up", "down"
  int64_t n, k;
  int64_t count;          // how many times per layer (active experts for MoE FFNs)
};
inline std::array<LayerGemm, 4> layer_gemms(const ModelPreset& m) {
  const int64_t q = m.heads * m.head_dim, kv = m.kv_heads * m.head_dim;
  return {{{"qkv", q + 2 * kv, m.hidden, 1},
           {"o", m.hidden, q, 1},
           {"gate_up", 2 * m.ffn, m.hidden, m.active_experts},
           {"down", m.hidden, m.ffn, m.active_experts}}};
}

// Workloads: pp = prompt processing of `tokens` tokens; tg = generating tokens one by one
// (M = 1) with `context` tokens of KV cache.
struct Workload {
  std::string_view key;  // "pp512"
  int64_t tokens;        // M of the prefill GEMMs (pp) or 1 (tg)
  int64_t context;       // KV length the attention sees
  bool decode;
};
inline constexpr std::array<Workload, 3> kWorkloads{{
    {"pp512", 512, 512, false},
    {"pp2048", 2048, 2048, false},
    {"tg128", 1, 128, true},
}};

inline const ModelPreset* find_model(std::string_view key) {
  for (const auto& m : kModels)
    if (m.key == key) return &m;
  return nullptr;
}

}  // namespace xk::models
