// ModelDesc from presets and from GGUF headers.
#include "model_desc.h"

#include <map>
#include <tuple>

#include "bench/models.h"
#include "gguf.h"
#include "xk/error.h"

namespace xk::gap {

double WeightTensor::bytes() const {
  const GgmlType& t = ggml_type_by_name(type);
  return static_cast<double>(n) * static_cast<double>(k) * static_cast<double>(experts) *
         static_cast<double>(layers) * t.bits() / 8.0;
}

double ModelDesc::weight_bytes() const {
  double b = 0;
  for (const auto& t : tensors) b += t.bytes();
  // Token embeddings (get_rows reads only the prompt's rows, but they occupy memory).
  return b + static_cast<double>(vocab) * static_cast<double>(hidden) * 2.0;
}

std::string preset_keys() {
  std::string s;
  for (const auto& m : models::kModels) s += (s.empty() ? "" : ", ") + std::string(m.key);
  for (const auto& m : models::kPresets) s += ", " + std::string(m.key);
  return s;
}

ModelDesc model_from_preset(const std::string& key, const std::string& file_type) {
  const models::ModelPreset* p = models::find_model(key);
  if (!p)
    throw Error("gap", "model",
                "unknown model '" + key + "' (presets: " + preset_keys() + "; or give --gguf FILE)");
  ModelDesc m;
  m.key = std::string(p->key);
  m.label = std::string(p->label);
  m.arch = p->total_experts > 1 ? "moe" : "dense";
  m.source = "preset " + m.key + " (bench/models.h, from the model's config.json)";
  m.quant = file_type;
  m.hidden = p->hidden;
  m.layers = p->layers;
  m.heads = p->heads;
  m.kv_heads = p->kv_heads;
  m.head_dim = p->head_dim;
  m.vocab = p->vocab;
  m.experts = p->total_experts;
  m.experts_used = p->total_experts > 1 ? p->active_experts : 1;
  m.sliding_window = p->sliding_window;
  m.swa_layers = p->swa_layers;
  m.expert_bias = p->expert_bias;
  m.qk_norm = p->qk_norm;
  const int64_t q = p->heads * p->head_dim, kv = p->kv_heads * p->head_dim;
  auto add = [&](const std::string& role, int64_t n, int64_t k, int64_t experts) {
    // Two halves of the layers so the _M mixes can give half of them more bits.
    const int64_t first = (p->layers + 1) / 2;
    for (int half = 0; half < 2; ++half) {
      const int64_t layers = half == 0 ? first : p->layers - first;
      if (layers == 0) continue;
      // gpt-oss checkpoints ship their experts in MXFP4 and llama.cpp's converter keeps them
      // so in every file type (its "F16" GGUF is 65.4 GB, tools/measurements/raw/
      // llama-bench-jsonl-strix.txt model_size, not the 234 GB all-F16 weights would take).
      const bool mxfp4_experts = m.key.rfind("gpt-oss", 0) == 0 && experts > 1;
      const std::string type = mxfp4_experts ? "mxfp4" : file_type_tensor_type(file_type, role, half);
      if (!m.tensors.empty() && m.tensors.back().role == role && m.tensors.back().type == type) {
        m.tensors.back().layers += layers;
        continue;
      }
      m.tensors.push_back({role, n, k, experts, layers, type});
    }
  };
  add("attn_q", q, p->hidden, 1);
  add("attn_k", kv, p->hidden, 1);
  add("attn_v", kv, p->hidden, 1);
  add("attn_output", p->hidden, q, 1);
  if (m.moe()) {
    add("ffn_gate_inp", p->total_experts, p->hidden, 1);
    add("ffn_gate_exps", p->ffn, p->hidden, p->total_experts);
    add("ffn_up_exps", p->ffn, p->hidden, p->total_experts);
    add("ffn_down_exps", p->hidden, p->ffn, p->total_experts);
  } else {
    add("ffn_gate", p->ffn, p->hidden, 1);
    add("ffn_up", p->ffn, p->hidden, 1);
    add("ffn_down", p->hidden, p->ffn, 1);
  }
  if (m.vocab > 0)
    m.tensors.push_back({"output", m.vocab, p->hidden, 1, 1, file_type_tensor_type(file_type, "output", 0)});
  return m;
}

ModelDesc model_from_gguf(const GgufFile& f) {
  ModelDesc m;
  m.arch = f.get_string("general.architecture");
  const std::string a = m.arch + ".";
  m.key = f.get_string_or("general.name", m.arch);
  m.label = m.key;
  m.source = f.path;
  m.quant = "from GGUF";
  m.hidden = f.get_int(a + "embedding_length");
  m.layers = f.get_int(a + "block_count");
  m.heads = f.get_int(a + "attention.head_count");
  m.kv_heads = f.get_int_or(a + "attention.head_count_kv", m.heads);
  m.head_dim = f.get_int_or(a + "attention.key_length", m.hidden / m.heads);
  m.experts = f.get_int_or(a + "expert_count", 1);
  m.experts_used = f.get_int_or(a + "expert_used_count", 1);
  m.sliding_window = f.get_int_or(a + "attention.sliding_window", 0);
  if (m.experts <= 1) m.experts = m.experts_used = 1;

  // Group blk.<i>.<role>.weight by (role, shape, type); count the layers of each group.
  std::map<std::tuple<std::string, int64_t, int64_t, int64_t, std::string>, int64_t> groups;
  std::vector<std::tuple<std::string, int64_t, int64_t, int64_t, std::string>> order;
  for (const auto& t : f.tensors) {
    std::string role;
    if (t.name.rfind("blk.", 0) == 0) {
      const size_t dot = t.name.find('.', 4);
      if (dot == std::string::npos) continue;
      const std::string rest = t.name.substr(dot + 1);
      for (const char* b :
           {"ffn_gate_exps.bias", "ffn_up_exps.bias", "ffn_down_exps.bias", "ffn_gate_up_exps.bias"})
        if (rest == b) m.expert_bias = true;
      if (rest == "attn_q_norm.weight" || rest == "attn_k_norm.weight") m.qk_norm = true;
      const std::string suffix = ".weight";
      if (rest.size() <= suffix.size() ||
          rest.compare(rest.size() - suffix.size(), suffix.size(), suffix) != 0)
        continue;
      role = rest.substr(0, rest.size() - suffix.size());
    } else if (t.name == "output.weight") {
      role = "output";
    } else if (t.name == "token_embd.weight") {
      if (t.dims.size() >= 2) m.vocab = t.dims[1];
      continue;
    } else {
      continue;
    }
    if (t.dims.size() < 2) continue;  // norms and biases are vectors: elementwise, not GEMMs
    const int64_t k = t.dims[0], n = t.dims[1], experts = t.dims.size() >= 3 ? t.dims[2] : 1;
    auto key = std::make_tuple(role, n, k, experts, std::string(ggml_type_by_id(t.type).name));
    if (groups[key]++ == 0) order.push_back(key);
  }
  if (order.empty())
    throw Error("gguf", "tensors", f.path + ": no blk.<i>.*.weight matrices in the tensor list");
  for (const auto& key : order) {
    const auto& [role, n, k, experts, type] = key;
    m.tensors.push_back({role, n, k, experts, groups[key], type});
    if (role == "output" && m.vocab == 0) m.vocab = n;
  }
  // gpt-oss alternates sliding-window and full layers (openai/gpt-oss config.json
  // layer_types); other architectures state no pattern in the keys read here.
  if (m.sliding_window > 0) m.swa_layers = m.arch == "gpt-oss" ? m.layers / 2 : 0;
  return m;
}

}  // namespace xk::gap
