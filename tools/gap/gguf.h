// Reads the header of a GGUF file: the key/value metadata and the tensor list (names,
// shapes, types), never the weights, so a file cut after its header works too.
// Format: ggml docs/gguf.md (magic "GGUF", version 2 or 3, tensor and kv counts as u64,
// strings as u64 length + bytes, tensor info = name, n_dims u32, dims u64[n], type u32,
// offset u64).
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace xk::gap {

struct GgufTensor {
  std::string name;
  std::vector<int64_t> dims;  // ne[0] first (ne[0] = the input dimension k of a weight)
  int type = 0;               // enum ggml_type
};

struct GgufFile {
  std::string path;
  uint32_t version = 0;
  // Scalars and strings as JSON values; arrays as {"array_of": type, "count": n} (their
  // contents, e.g. a 200k-entry vocabulary, are skipped).
  std::map<std::string, nlohmann::json> kv;
  std::vector<GgufTensor> tensors;

  std::string get_string(const std::string& key) const;  // throws when missing
  std::string get_string_or(const std::string& key, const std::string& fallback) const;
  int64_t get_int(const std::string& key) const;  // throws when missing
  int64_t get_int_or(const std::string& key, int64_t fallback) const;
};

// Throws xk::Error naming the file and what is wrong (not GGUF, truncated, bad type).
GgufFile read_gguf(const std::string& path);

}  // namespace xk::gap
