// Reading `xk bench --json` (Google Benchmark JSON) into measured kernels.
//
// Google Benchmark writes user counters as plain fields of each benchmark object. xk bench
// sets per-iteration amounts (flops, bytes, tokens) and rates (FLOP/s, bytes/s, tok/s);
// either form is accepted, so a file written by compare.py-style tools still parses.
#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <map>

#include "model.h"
#include "xk/error.h"

namespace xk::gap {
namespace {

double to_seconds(double t, const std::string& unit) {
  if (unit == "ns") return t * 1e-9;
  if (unit == "us") return t * 1e-6;
  if (unit == "ms") return t * 1e-3;
  return t;  // "s"
}

// Google Benchmark appends "/manual_time", "/iterations:N", "/min_time:..", "/real_time".
bool is_run_suffix(const std::string& seg) {
  return seg == "manual_time" || seg == "real_time" || seg.rfind("iterations:", 0) == 0 ||
         seg.rfind("min_time:", 0) == 0 || seg.rfind("repeats:", 0) == 0 || seg.rfind("threads:", 0) == 0;
}

void parse_name(BenchEntry& e) {
  auto seg = split_name(e.name, '/');
  while (!seg.empty() && is_run_suffix(seg.back())) seg.pop_back();
  if (seg.size() < 3) return;
  e.op = seg.front();
  e.device = seg.back();
  std::vector<std::string> mid(seg.begin() + 1, seg.end() - 1);
  auto var =
      std::find_if(mid.begin(), mid.end(), [](const std::string& s) { return s.rfind("variant=", 0) == 0; });
  if (var != mid.end()) {
    e.variant = var->substr(8);
    mid.erase(var);
  }
  if (e.op == "matmul" && mid.size() == 5) {
    e.model = mid[0];
    e.gemm = mid[1];
    e.workload = mid[2];
    e.format = mid[3];
    e.act = mid[4];
  } else if (e.op == "matmul" && mid.size() == 4) {  // matmul/small/<shape>/<format>/<act>
    e.model = mid[0];
    e.gemm = mid[1];
    e.format = mid[2];
    e.act = mid[3];
  } else if (e.op == "attention" && mid.size() == 3) {
    e.model = mid[0];
    e.workload = mid[1];
  }
}

// One benchmark object of a bench file, read field by field: an absent field takes its
// default, a field of the wrong type is an xk::Error naming the file and the field (a raw
// nlohmann type_error names neither).
struct Fields {
  const nlohmann::json& b;
  const std::string& file;
  size_t index;

  const nlohmann::json* find(const char* key, bool (nlohmann::json::*is_type)() const,
                             const char* type) const {
    auto it = b.find(key);
    if (it == b.end()) return nullptr;
    if (!((*it).*is_type)()) wrong(key, *it, type);
    return &*it;
  }
  [[noreturn]] void wrong(const char* key, const nlohmann::json& v, const std::string& expected) const {
    std::string shown = v.dump();
    if (shown.size() > 40) shown = shown.substr(0, 37) + "...";
    throw Error("gap", "bench",
                file + ": field 'benchmarks[" + std::to_string(index) + "]." + key + "' is " + v.type_name() +
                    " " + shown + ", expected " + expected);
  }
  // A field Google Benchmark always writes for a run that was not skipped.
  void require(const char* key) const {
    if (!b.contains(key))
      throw Error("gap", "bench",
                  file + ": field 'benchmarks[" + std::to_string(index) + "]." + key +
                      "' is missing (expected `xk bench --json` output)");
  }
  double number(const char* key) const {
    const auto* v = find(key, &nlohmann::json::is_number, "a number");
    return v ? v->get<double>() : 0.0;
  }
  std::string string(const char* key, const char* fallback) const {
    const auto* v = find(key, &nlohmann::json::is_string, "a string");
    return v ? v->get<std::string>() : fallback;
  }
  bool boolean(const char* key) const {
    const auto* v = find(key, &nlohmann::json::is_boolean, "true or false");
    return v && v->get<bool>();
  }
};

// "M64_N1024_K1024" -> (64, 1024, 1024); false when the segment is not a shape.
bool parse_shape(const std::string& seg, int64_t& m, int64_t& n, int64_t& k) {
  return std::sscanf(seg.c_str(), "M%ld_N%ld_K%ld", &m, &n, &k) == 3;
}

// The "<m>x<n>[x<k>]" segment of a variant name such as mmq_q4_0_q8_64x64_mma_sm80.
bool parse_tile(const std::string& variant, int& tm, int& tn) {
  for (const auto& seg : split_name(variant, '_'))
    if (!seg.empty() && std::isdigit(static_cast<unsigned char>(seg[0])) &&
        std::sscanf(seg.c_str(), "%dx%d", &tm, &tn) == 2)
      return true;
  return false;
}

}  // namespace

std::vector<std::string> split_name(const std::string& s, char sep) {
  std::vector<std::string> out;
  size_t start = 0;
  for (size_t i = 0; i <= s.size(); ++i)
    if (i == s.size() || s[i] == sep) {
      out.push_back(s.substr(start, i - start));
      start = i + 1;
    }
  return out;
}

bool BenchEntry::simulated() const {
  return device.size() > 4 && device.compare(device.size() - 4, 4, "-sim") == 0;
}

std::vector<TrafficCheck> traffic_checks(const BenchFile& f) {
  std::vector<TrafficCheck> out;
  for (const auto& e : f.entries) {
    if (e.op != "matmul" || !e.simulated() || e.global_bytes <= 0) continue;
    TrafficCheck c;
    c.name = e.name;
    c.variant = e.variant;
    if (!parse_tile(e.variant, c.tile_m, c.tile_n)) continue;
    if (!parse_shape(e.gemm, c.m, c.n, c.k)) {
      const auto* model = models::find_model(e.model);
      if (!model) continue;
      for (const auto& w : models::kWorkloads)
        if (w.key == e.workload) c.m = w.tokens;
      for (const auto& g : models::layer_gemms(*model))
        if (g.name == e.gemm) {
          c.n = g.n;
          c.k = g.k;
        }
      if (c.m == 0 || c.n == 0) continue;
    }
    const double M = static_cast<double>(c.m), N = static_cast<double>(c.n), K = static_cast<double>(c.k);
    const double wbits = weight_bits(e.format), ab = act_bytes(e.act.empty() ? "f32" : e.act);
    c.formula_bytes =
        N * K * wbits / 8 * std::ceil(M / c.tile_m) + M * K * ab * std::ceil(N / c.tile_n) + M * N * 4;
    c.simulator_bytes = e.global_bytes;
    out.push_back(c);
  }
  return out;
}

std::vector<std::string> BenchFile::device_names() const {
  std::map<std::string, int> n;
  for (const auto& e : entries) ++n[e.device];
  std::vector<std::pair<int, std::string>> order;
  for (const auto& [name, c] : n) order.emplace_back(-c, name);
  std::sort(order.begin(), order.end());
  std::vector<std::string> out;
  for (const auto& [c, name] : order) out.push_back(name);
  return out;
}

BenchFile parse_bench_json(const nlohmann::json& j, const std::string& path) {
  const std::string file = path.empty() ? std::string("bench JSON") : path;
  if (!j.is_object() || !j.contains("benchmarks") || !j["benchmarks"].is_array())
    throw Error("gap", "bench", file + ": no 'benchmarks' array (expected `xk bench --json` output)");
  BenchFile f;
  f.path = path;
  for (size_t i = 0; i < j["benchmarks"].size(); ++i) {
    const auto& b = j["benchmarks"][i];
    if (!b.is_object())
      throw Error(
          "gap", "bench",
          file + ": 'benchmarks[" + std::to_string(i) + "]' is " + b.type_name() + ", expected an object");
    const Fields in{b, file, i};
    if (in.boolean("error_occurred")) continue;
    if (in.string("run_type", "iteration") == "aggregate") continue;
    in.require("name");
    in.require("real_time");
    BenchEntry e;
    e.name = in.string("name", "");
    const std::string unit = in.string("time_unit", "ns");
    if (unit != "ns" && unit != "us" && unit != "ms" && unit != "s")
      in.wrong("time_unit", b["time_unit"], "one of ns, us, ms, s");
    e.seconds = to_seconds(in.number("real_time"), unit);
    if (e.name.empty() || e.seconds <= 0) continue;
    e.flops = in.number("flops");
    if (e.flops == 0) e.flops = in.number("FLOP/s") * e.seconds;
    e.bytes = in.number("bytes");
    if (e.bytes == 0) e.bytes = in.number("bytes/s") * e.seconds;
    e.global_bytes = in.number("global_bytes_read") + in.number("global_bytes_written");
    e.mma = in.number("mma");
    e.tokens = in.number("tokens");
    if (e.tokens == 0) e.tokens = in.number("tok/s") * e.seconds;
    parse_name(e);
    // xk bench puts the variant that ran in the label: "variant=<name> act=<act> timer=...".
    const std::string label = in.string("label", "");
    if (const size_t v = label.find("variant="); e.variant.empty() && v != std::string::npos)
      e.variant = label.substr(
          v + 8, label.find(' ', v) == std::string::npos ? std::string::npos : label.find(' ', v) - v - 8);
    f.entries.push_back(e);
  }
  return f;
}

BenchFile read_bench_json(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw Error("gap", "bench", "cannot open bench JSON '" + path + "'");
  nlohmann::json j;
  try {
    in >> j;
  } catch (const std::exception& e) {
    // Without nlohmann's "[json.exception.parse_error.101] " tag: the text after it says where.
    std::string what = e.what();
    if (const size_t tag = what.find("] "); what.rfind('[', 0) == 0 && tag != std::string::npos)
      what = what.substr(tag + 2);
    throw Error("gap", "bench", path + ": not valid JSON: " + what);
  }
  return parse_bench_json(j, path);
}

}  // namespace xk::gap
