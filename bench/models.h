// Model-shape presets: the dense shapes of one transformer layer, from each model's
// published config.json (Hugging Face model cards), so benchmarks and the gap model speak
// of real prompts. Sources:
//   Llama-3-70B   meta-llama/Meta-Llama-3-70B config.json: hidden 8192, intermediate 28672,
//                 80 layers, 64 heads, 8 KV heads, head_dim 128
//   Qwen2.5-72B   Qwen/Qwen2.5-72B config.json: hidden 8192, intermediate 29568, 80 layers,
//                 64 heads, 8 KV heads, head_dim 128
//   Gemma-3-27B   google/gemma-3-27b-pt config.json (text_config): hidden 5376,
//                 intermediate 21504, 62 layers, 32 heads, 16 KV heads, head_dim 128,
//                 sliding_window 1024 on 5 of every 6 layers (52 of 62); q/k RMS norms
//                 (model.safetensors.index.json: self_attn.q_norm / self_attn.k_norm)
//   gpt-oss-120b  openai/gpt-oss-120b config.json: hidden 2880, 36 layers, 64 heads,
//                 8 KV heads, head_dim 64, 128 experts (4 active), expert intermediate 2880
//                 (dense part here = attention projections + the 4 active experts' FFNs);
//                 layer_types alternate sliding_attention (window 128) / full_attention
// Further presets (kPresets, used by the gap model; the bench's `models` set stays kModels):
//   gpt-oss-20b   openai/gpt-oss-20b config.json: hidden 2880, 24 layers, 64 heads, 8 KV
//                 heads, head_dim 64, 32 experts (4 active), intermediate 2880, window 128
//   Qwen3-30B-A3B Qwen/Qwen3-30B-A3B config.json: hidden 2048, 48 layers, 32 heads, 4 KV
//                 heads, head_dim 128, 128 experts (8 active), moe_intermediate_size 768;
//                 q/k RMS norms (model.safetensors.index.json: self_attn.q_norm / k_norm)
//   Qwen2.5-7B    Qwen/Qwen2.5-7B config.json: hidden 3584, intermediate 18944, 28 layers,
//                 28 heads, 4 KV heads (head_dim 3584/28 = 128)
//   Llama-2-7B    meta-llama/Llama-2-7b-hf config.json: hidden 4096, intermediate 11008,
//                 32 layers, 32 heads, 32 KV heads
//   Llama-3-8B    meta-llama/Meta-Llama-3-8B config.json: hidden 4096, intermediate 14336,
//                 32 layers, 32 heads, 8 KV heads
//   Llama-3.1-70B meta-llama/Llama-3.1-70B config.json, Llama-3.3-70B
//                 meta-llama/Llama-3.3-70B-Instruct config.json: both hidden 8192,
//                 intermediate 28672, 80 layers, 64 heads, 8 KV heads, vocab 128256
//   Llama-2-70B   meta-llama/Llama-2-70b-hf config.json: hidden 8192, intermediate 28672,
//                 80 layers, 64 heads, 8 KV heads, vocab 32000
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
  int64_t heads;  // query heads
  int64_t kv_heads;
  int64_t head_dim;
  int64_t active_experts;      // FFNs run per token (1 for dense models)
  int64_t total_experts = 1;   // experts per MoE layer (1 for dense models)
  int64_t sliding_window = 0;  // tokens a sliding-window layer attends to (0: none)
  int64_t swa_layers = 0;      // how many of the layers use the sliding window
  int64_t vocab = 0;           // output head rows
  bool expert_bias = false;    // biases on the expert GEMMs (gpt-oss: the checkpoint's
                               // mlp.experts gate_up_proj_bias / down_proj_bias)
  bool qk_norm = false;        // per-head RMS norms of q and k before rope (the checkpoint's
                               // self_attn.q_norm / k_norm; GGUF attn_q_norm / attn_k_norm)
};

inline constexpr auto kModels = std::to_array<ModelPreset>({
    {"llama3-70b", "Llama-3 70B", 8192, 28672, 80, 64, 8, 128, 1, 1, 0, 0, 128256},
    {"qwen2.5-72b", "Qwen2.5 72B", 8192, 29568, 80, 64, 8, 128, 1, 1, 0, 0, 152064},
    {"gemma3-27b", "Gemma 3 27B", 5376, 21504, 62, 32, 16, 128, 1, 1, 1024, 52, 262208, false, true},
    {"gpt-oss-120b", "gpt-oss-120b", 2880, 2880, 36, 64, 8, 64, 4, 128, 128, 18, 201088, true},
});

inline constexpr auto kPresets = std::to_array<ModelPreset>({
    {"gpt-oss-20b", "gpt-oss-20b", 2880, 2880, 24, 64, 8, 64, 4, 32, 128, 12, 201088, true},
    {"qwen3-30b-a3b", "Qwen3-30B-A3B", 2048, 768, 48, 32, 4, 128, 8, 128, 0, 0, 151936, false, true},
    {"qwen2.5-7b", "Qwen2.5-7B", 3584, 18944, 28, 28, 4, 128, 1, 1, 0, 0, 152064},
    {"llama-2-7b", "Llama-2-7B", 4096, 11008, 32, 32, 32, 128, 1, 1, 0, 0, 32000},
    {"llama-3-8b", "Llama-3-8B", 4096, 14336, 32, 32, 8, 128, 1, 1, 0, 0, 128256},
    {"llama-3.1-70b", "Llama-3.1-70B", 8192, 28672, 80, 64, 8, 128, 1, 1, 0, 0, 128256},
    {"llama-3.3-70b", "Llama-3.3-70B", 8192, 28672, 80, 64, 8, 128, 1, 1, 0, 0, 128256},
    {"llama-2-70b", "Llama-2-70B", 8192, 28672, 80, 64, 8, 128, 1, 1, 0, 0, 32000},
});

// Every preset is named: an unnamed entry would answer to an empty --model.
constexpr bool all_named(const auto& presets) {
  for (const auto& m : presets)
    if (m.key.empty()) return false;
  return true;
}
static_assert(all_named(kModels) && all_named(kPresets));

// Other spellings of a preset key (lowercase family-version-size, and the bench's keys).
struct ModelAlias {
  std::string_view alias, key;
};
inline constexpr std::array<ModelAlias, 4> kAliases{{
    {"llama-3-70b", "llama3-70b"},
    {"gemma-3-27b", "gemma3-27b"},
    {"llama3-8b", "llama-3-8b"},
    {"llama2-7b", "llama-2-7b"},
}};

// The matmuls of one layer for `tokens` tokens: Y[M=tokens, N] = X[M, K] W[N, K]^T.
struct LayerGemm {
  std::string_view name;  // "qkv", "o", "gate_up", "down"
  int64_t n, k;
  int64_t count;  // how many times per layer (active experts for MoE FFNs)
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

// kModels first (the bench's own entries), then kPresets, then the aliases.
inline const ModelPreset* find_model(std::string_view key) {
  if (key.empty()) return nullptr;
  for (const auto& m : kModels)
    if (m.key == key) return &m;
  for (const auto& m : kPresets)
    if (m.key == key) return &m;
  for (const auto& a : kAliases)
    if (a.alias == key) return find_model(a.key);
  return nullptr;
}

}  // namespace xk::models
