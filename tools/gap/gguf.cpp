// GGUF header reader (ggml docs/gguf.md). Little-endian, as the format specifies.
#include "gguf.h"

#include <cstring>
#include <fstream>

#include "xk/error.h"

namespace xk::gap {
namespace {

// Bounds-checked reads from the stream; a short read is a truncated file.
class Reader {
 public:
  Reader(std::ifstream& in, const std::string& path) : in_(in), path_(path) {}
  template <class T>
  T pod() {
    T v{};
    in_.read(reinterpret_cast<char*>(&v), sizeof v);
    if (!in_) fail("file ends inside the header");
    return v;
  }
  std::string str() {
    const uint64_t n = pod<uint64_t>();
    if (n > (1u << 24)) fail("string of " + std::to_string(n) + " bytes");
    std::string s(n, '\0');
    in_.read(s.data(), static_cast<std::streamsize>(n));
    if (!in_) fail("file ends inside a string");
    return s;
  }
  [[noreturn]] void fail(const std::string& why) { throw Error("gguf", "file", path_ + ": " + why); }

 private:
  std::ifstream& in_;
  const std::string& path_;
};

// GGUF value types: 0 u8, 1 i8, 2 u16, 3 i16, 4 u32, 5 i32, 6 f32, 7 bool, 8 string,
// 9 array, 10 u64, 11 i64, 12 f64.
nlohmann::json read_value(Reader& r, uint32_t type, bool keep) {
  switch (type) {
    case 0:
      return r.pod<uint8_t>();
    case 1:
      return r.pod<int8_t>();
    case 2:
      return r.pod<uint16_t>();
    case 3:
      return r.pod<int16_t>();
    case 4:
      return r.pod<uint32_t>();
    case 5:
      return r.pod<int32_t>();
    case 6:
      return r.pod<float>();
    case 7:
      return r.pod<uint8_t>() != 0;
    case 8:
      return r.str();
    case 10:
      return r.pod<uint64_t>();
    case 11:
      return r.pod<int64_t>();
    case 12:
      return r.pod<double>();
    case 9: {
      const uint32_t item = r.pod<uint32_t>();
      const uint64_t n = r.pod<uint64_t>();
      if (item == 9) r.fail("nested arrays are not supported");
      nlohmann::json out = {{"array_of", item}, {"count", n}};
      // Short numeric arrays (per-layer head counts, SWA patterns) are kept.
      const bool small = keep && n <= 1024 && item != 8;
      nlohmann::json items = nlohmann::json::array();
      for (uint64_t i = 0; i < n; ++i) {
        nlohmann::json v = read_value(r, item, false);
        if (small) items.push_back(v);
      }
      if (small) out["items"] = items;
      return out;
    }
    default:
      r.fail("unknown value type " + std::to_string(type));
  }
}

}  // namespace

GgufFile read_gguf(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error("gguf", "file", "cannot open '" + path + "'");
  Reader r(in, path);
  char magic[4];
  in.read(magic, 4);
  if (!in || std::memcmp(magic, "GGUF", 4) != 0) r.fail("not a GGUF file (no 'GGUF' magic)");
  GgufFile f;
  f.path = path;
  f.version = r.pod<uint32_t>();
  if (f.version < 2 || f.version > 3)
    r.fail("GGUF version " + std::to_string(f.version) + " (2 or 3 supported)");
  const uint64_t n_tensors = r.pod<uint64_t>(), n_kv = r.pod<uint64_t>();
  if (n_tensors > (1u << 20) || n_kv > (1u << 20)) r.fail("implausible tensor or key count");
  for (uint64_t i = 0; i < n_kv; ++i) {
    const std::string key = r.str();
    const uint32_t type = r.pod<uint32_t>();
    f.kv[key] = read_value(r, type, true);
  }
  for (uint64_t i = 0; i < n_tensors; ++i) {
    GgufTensor t;
    t.name = r.str();
    const uint32_t n_dims = r.pod<uint32_t>();
    if (n_dims == 0 || n_dims > 4) r.fail(t.name + ": " + std::to_string(n_dims) + " dimensions");
    for (uint32_t d = 0; d < n_dims; ++d) t.dims.push_back(static_cast<int64_t>(r.pod<uint64_t>()));
    t.type = static_cast<int>(r.pod<uint32_t>());
    r.pod<uint64_t>();  // data offset: the weights are not read
    f.tensors.push_back(std::move(t));
  }
  return f;
}

std::string GgufFile::get_string(const std::string& key) const {
  auto it = kv.find(key);
  if (it == kv.end() || !it->second.is_string())
    throw Error("gguf", "key", path + ": no string key '" + key + "'");
  return it->second.get<std::string>();
}

std::string GgufFile::get_string_or(const std::string& key, const std::string& fallback) const {
  auto it = kv.find(key);
  return it != kv.end() && it->second.is_string() ? it->second.get<std::string>() : fallback;
}

int64_t GgufFile::get_int(const std::string& key) const {
  auto it = kv.find(key);
  if (it == kv.end()) throw Error("gguf", "key", path + ": no key '" + key + "'");
  if (it->second.is_number()) return it->second.get<int64_t>();
  // Per-layer arrays (e.g. head_count_kv of some architectures): the first layer's value.
  if (it->second.is_object() && it->second.contains("items") && !it->second["items"].empty())
    return it->second["items"][0].get<int64_t>();
  throw Error("gguf", "key", path + ": key '" + key + "' is not a number");
}

int64_t GgufFile::get_int_or(const std::string& key, int64_t fallback) const {
  return kv.count(key) ? get_int(key) : fallback;
}

}  // namespace xk::gap
