// A model as llama.cpp runs it: hyper-parameters and the weight tensors of each layer with
// their ggml types. Built from a preset (bench/models.h, with a llama.cpp file type such as
// Q4_K_M) or from a GGUF header (gguf.h), so the kernel list of the runtime model
// (runtime.h) is the same either way.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "ggml_types.h"

namespace xk::gap {

struct GgufFile;

// One weight matrix role of a layer: W[n, k] (n outputs, k inputs), `experts` copies for a
// MoE expert tensor, held by `layers` of the model's layers with type `type`.
struct WeightTensor {
  std::string role;  // attn_q, attn_k, attn_v, attn_qkv, attn_output, ffn_gate, ffn_up,
                     // ffn_down, ffn_gate_inp, ffn_gate_exps, ffn_up_exps, ffn_down_exps,
                     // ffn_gate_up_exps, output
  int64_t n = 0, k = 0;
  int64_t experts = 1;
  int64_t layers = 1;
  std::string type;  // ggml type name: q4_k, mxfp4, f16 ...
  bool is_expert() const { return experts > 1; }
  double bytes() const;  // all copies in all layers
};

struct ModelDesc {
  std::string key, label, arch, source;  // source: "preset <key> (config.json)" or the GGUF path
  std::string quant;                     // file type label: "Q4_K_M", "MXFP4", or "from GGUF"
  int64_t hidden = 0, layers = 0, heads = 0, kv_heads = 0, head_dim = 0, vocab = 0;
  int64_t experts = 1, experts_used = 1;  // MoE: experts per layer and per token
  int64_t sliding_window = 0, swa_layers = 0;
  bool expert_bias = false;  // per-expert biases after the expert GEMMs (ggml_add_id)
  bool qk_norm = false;      // per-head RMS norms of q and k before rope (attn_q_norm, attn_k_norm)
  std::vector<WeightTensor> tensors;
  bool moe() const { return experts > 1; }
  double weight_bytes() const;
};

// From a preset key or alias and a llama.cpp file type. Throws xk::Error listing the
// presets for an unknown key, and for an unknown file type.
ModelDesc model_from_preset(const std::string& key, const std::string& file_type);
// From a GGUF header: hyper-parameters from "<arch>.*" keys, tensors from the tensor list
// (blk.<i>.<role>.weight grouped by role, shape and type). Throws xk::Error when a needed
// key is missing.
ModelDesc model_from_gguf(const GgufFile& f);
// A comma-separated list of the preset keys (for messages and --help).
std::string preset_keys();

}  // namespace xk::gap
