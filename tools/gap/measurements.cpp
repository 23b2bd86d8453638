// CSV files of the measurement database and parsers for ggml / llama.cpp output.
#include "measurements.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <fstream>
#include <regex>
#include <sstream>

#include <nlohmann/json.hpp>

#include "text.h"
#include "xk/error.h"

namespace xk::gap {
namespace {

std::string trim(const std::string& s) {
  size_t a = 0, b = s.size();
  while (a < b && std::isspace(static_cast<unsigned char>(s[a]))) ++a;
  while (b > a && std::isspace(static_cast<unsigned char>(s[b - 1]))) --b;
  return s.substr(a, b - a);
}

double number(const std::string& cell, const std::string& where, const std::string& column) {
  double v = 0;
  if (parse_double(trim(cell), v)) return v;
  throw Error("measurements", column, where + ": '" + cell + "' is not a number");
}

// A measured rate or time: finite and above zero (a NaN or a negative figure is a broken row).
// `shown` is the figure as the file wrote it.
double above_zero(double v, const std::string& shown, const std::string& where, const std::string& column) {
  if (!std::isfinite(v) || v <= 0)
    throw Error("measurements", column, where + ": '" + shown + "' is not a finite figure above zero");
  return v;
}
double positive(const std::string& cell, const std::string& where, const std::string& column) {
  return above_zero(number(cell, where, column), cell, where, column);
}

// llama-bench's -ub: whole tokens, at least one.
int64_t whole_tokens(double v, const std::string& shown, const std::string& where,
                     const std::string& column) {
  if (!(v >= 1 && v <= 1e9) || v != std::floor(v))
    throw Error("measurements", column,
                where + ": ubatch '" + shown + "' is not a whole token count of at least 1");
  return static_cast<int64_t>(v);
}
int64_t ubatch_of(const std::string& cell, const std::string& where, const std::string& column) {
  return whole_tokens(number(cell, where, column), cell, where, column);
}

// "unknown" or empty: no date; anything else must be YYYY-MM-DD.
std::string date_of(const std::string& cell, const std::string& where, const std::string& column) {
  if (cell.empty() || lower(cell) == "unknown") return "";
  if (!iso_date(cell))
    throw Error("measurements", column, where + ": '" + cell + "' is not a date (YYYY-MM-DD)");
  return cell;
}

void require(const CsvTable& t, const std::vector<std::string>& cols, const std::string& what) {
  for (const auto& c : cols)
    if (std::find(t.header.begin(), t.header.end(), c) == t.header.end())
      throw Error("measurements", c, what + ": no column '" + c + "' in the header");
}

std::vector<std::string> split_lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);) {
    if (!l.empty() && l.back() == '\r') l.pop_back();
    out.push_back(l);
  }
  return out;
}

}  // namespace

std::string read_text_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error("measurements", "file", "cannot open '" + path + "'");
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

CsvTable parse_csv(const std::string& text) {
  CsvTable t;
  std::vector<std::string> row;
  std::string cell;
  bool quoted = false, any = false;
  auto end_row = [&] {
    row.push_back(cell);
    cell.clear();
    const bool blank = row.size() == 1 && trim(row[0]).empty();
    if (!blank && !(row[0].size() > 0 && row[0][0] == '#')) {
      if (t.header.empty()) {
        for (auto& h : row) h = trim(h);
        t.header = row;
      } else {
        row.resize(std::max(row.size(), t.header.size()));
        t.rows.push_back(row);
      }
    }
    row.clear();
    any = false;
  };
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (quoted) {
      if (c == '"' && i + 1 < text.size() && text[i + 1] == '"')
        cell += '"', ++i;
      else if (c == '"')
        quoted = false;
      else
        cell += c;
    } else if (c == '"') {
      quoted = true;
      any = true;
    } else if (c == ',') {
      row.push_back(cell);
      cell.clear();
    } else if (c == '\n') {
      end_row();
    } else if (c != '\r') {
      cell += c;
      any = true;
    }
  }
  if (any || !cell.empty() || !row.empty()) end_row();
  return t;
}

std::string CsvTable::get(size_t r, const std::string& column) const {
  for (size_t i = 0; i < header.size(); ++i)
    if (header[i] == column) return r < rows.size() && i < rows[r].size() ? trim(rows[r][i]) : "";
  return "";
}

std::map<std::string, std::string> parse_params(const std::string& params) {
  std::map<std::string, std::string> out;
  int depth = 0;
  std::string item;
  auto flush = [&] {
    const size_t eq = item.find('=');
    if (eq != std::string::npos) out[trim(item.substr(0, eq))] = trim(item.substr(eq + 1));
    item.clear();
  };
  for (char c : params) {
    if (c == '[') ++depth;
    if (c == ']') --depth;
    if (c == ',' && depth == 0)
      flush();
    else
      item += c;
  }
  flush();
  return out;
}

int64_t KernelRow::num(const std::string& key, int64_t fallback) const {
  auto it = p.find(key);
  if (it == p.end()) return fallback;
  // The whole value, not its leading digits: "4096x" or "abc" is a broken row, not 4096 or 0.
  const std::string& v = it->second;
  int64_t out = 0;
  const auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
  if (ec == std::errc::result_out_of_range)
    throw Error("gap", key, "'" + v + "' in " + op + "(" + params + ") is out of range");
  if (v.empty() || ec != std::errc() || end != v.data() + v.size())
    throw Error("gap", key, "'" + v + "' in " + op + "(" + params + ") is not a whole number");
  return out;
}

std::vector<KernelRow> kernel_rows_from_csv(const CsvTable& t, const std::string& what) {
  require(t, {"device", "backend", "build", "op", "params", "value", "unit"}, what);
  std::vector<KernelRow> out;
  for (size_t r = 0; r < t.rows.size(); ++r) {
    KernelRow k;
    k.line = static_cast<int>(r) + 2;
    const std::string where = what + " line " + std::to_string(k.line);
    k.device = t.get(r, "device");
    k.backend = lower(t.get(r, "backend"));
    k.build = t.get(r, "build");
    k.date = date_of(t.get(r, "date"), where, "date");
    k.op = t.get(r, "op");
    k.params = t.get(r, "params");
    k.p = parse_params(k.params);
    k.value = positive(t.get(r, "value"), where, "value");
    k.unit = t.get(r, "unit");
    k.source = t.get(r, "source");
    k.notes = t.get(r, "notes");
    out.push_back(std::move(k));
  }
  return out;
}

std::vector<E2eRow> e2e_rows_from_csv(const CsvTable& t, const std::string& what) {
  require(t, {"device", "backend", "build", "model", "quant", "test", "tok_s"}, what);
  std::vector<E2eRow> out;
  for (size_t r = 0; r < t.rows.size(); ++r) {
    E2eRow e;
    e.line = static_cast<int>(r) + 2;
    const std::string where = what + " line " + std::to_string(e.line);
    e.device = t.get(r, "device");
    e.backend = lower(t.get(r, "backend"));
    e.build = t.get(r, "build");
    e.model = lower(t.get(r, "model"));
    e.quant = t.get(r, "quant");
    e.test = lower(t.get(r, "test"));
    // "unknown" ubatch: llama-bench's default (-ub 512); an unknown date is left empty.
    const std::string ub = t.get(r, "ubatch");
    e.ubatch = ub.empty() || lower(ub) == "unknown" ? 512 : ubatch_of(ub, where, "ubatch");
    e.tok_s = positive(t.get(r, "tok_s"), where, "tok_s");
    e.source = t.get(r, "source");
    e.date = date_of(t.get(r, "date"), where, "date");
    e.flags = t.get(r, "flags");
    e.notes = t.get(r, "notes");
    out.push_back(std::move(e));
  }
  return out;
}

std::vector<KernelRow> read_kernel_csv(const std::string& path) {
  return kernel_rows_from_csv(parse_csv(read_text_file(path)), path);
}
std::vector<E2eRow> read_e2e_csv(const std::string& path) {
  return e2e_rows_from_csv(parse_csv(read_text_file(path)), path);
}

std::vector<KernelRow> parse_backend_ops_perf(const std::string& text, const KernelRow& context) {
  // "  MUL_MAT(type_a=q4_0,...,o=1):   196 runs -  5123.45 us/run -  60.13 GFLOP/run -  11.74 TFLOPS"
  static const std::regex line_re(
      R"(^\s*([A-Z_0-9]+)\((.*)\):\s+(\d+)\s+runs\s+-.*-\s+([0-9.eE+]+)\s+([A-Za-z/]+)\s*$)");
  static const std::regex backend_re(R"(^\s*Backend\s+\d+/\d+:\s+(\S+))");
  std::vector<KernelRow> out;
  std::string backend_name;
  int n = 0;
  for (const auto& l : split_lines(text)) {
    ++n;
    std::smatch m;
    if (std::regex_search(l, m, backend_re)) {
      backend_name = m[1];
      continue;
    }
    if (!std::regex_match(l, m, line_re)) continue;
    KernelRow k = context;
    k.op = m[1];
    k.params = m[2];
    k.p = parse_params(k.params);
    k.value = std::stod(m[4]);
    k.unit = m[5];
    k.line = n;
    if (!backend_name.empty()) k.notes = "test-backend-ops backend " + backend_name;
    out.push_back(std::move(k));
  }
  return out;
}

std::pair<std::string, std::string> model_key_from_description(const std::string& desc) {
  const std::string d = lower(desc);
  // llama.cpp prints "<arch> <size> <ftype>", the file type as llama_model_ftype_name().
  struct Map {
    const char* prefix;
    const char* key;
  };
  static const Map kMaps[] = {
      {"gpt-oss 120b", "gpt-oss-120b"},
      {"gpt-oss 20b", "gpt-oss-20b"},
      {"qwen3moe 30b.a3b", "qwen3-30b-a3b"},
      {"qwen3moe 30b", "qwen3-30b-a3b"},
      {"qwen2 7b", "qwen2.5-7b"},
      {"qwen2 72b", "qwen2.5-72b"},
      {"llama 7b", "llama-2-7b"},
      {"llama 8b", "llama-3-8b"},
      {"llama 70b", "llama-3.1-70b"},
      {"gemma3 27b", "gemma3-27b"},
  };
  std::string key;
  size_t used = 0;
  for (const auto& m : kMaps)
    if (d.rfind(m.prefix, 0) == 0) {
      key = m.key;
      used = std::string(m.prefix).size();
      break;
    }
  if (key.empty()) return {"", ""};
  std::string rest = trim(desc.substr(used));
  const size_t moe = rest.find(" MoE");
  if (moe != std::string::npos) rest = rest.substr(0, moe);
  // "Q4_K - Medium" -> Q4_K_M, "Q4_K - Small" -> Q4_K_S
  static const std::regex mix(R"(^(\S+) - (Medium|Small|Large))");
  std::smatch m;
  if (std::regex_search(rest, m, mix)) rest = std::string(m[1]) + "_" + std::string(m[2]).substr(0, 1);
  const size_t sp = rest.find(' ');
  return {key, trim(sp == std::string::npos ? rest : rest.substr(0, sp))};
}

std::vector<E2eRow> parse_llama_bench_json(const std::string& text, const E2eRow& context) {
  // `-o json` writes one array; `-o jsonl` one object per line. Lines starting with '#'
  // (a provenance note) are not part of either.
  std::string body;
  for (const auto& l : split_lines(text))
    if (trim(l).rfind("#", 0) != 0) body += l + "\n";
  nlohmann::json all = nlohmann::json::array();
  try {
    const auto j = nlohmann::json::parse(body);
    if (j.is_array())
      all = j;
    else
      all.push_back(j);
  } catch (const std::exception&) {
    for (const auto& l : split_lines(body)) {
      if (trim(l).empty()) continue;
      try {
        all.push_back(nlohmann::json::parse(l));
      } catch (const std::exception& e) {
        throw Error("measurements", "json",
                    std::string("llama-bench JSON/JSONL does not parse: ") + e.what());
      }
    }
  }
  std::vector<E2eRow> out;
  for (size_t i = 0; i < all.size(); ++i) {
    const auto& r = all[i];
    if (!r.is_object()) throw Error("measurements", "json", "llama-bench JSON: a result is not an object");
    const std::string where = "llama-bench JSON result " + std::to_string(i + 1);
    E2eRow e = context;
    try {
      auto [key, quant] = model_key_from_description(r.value("model_type", ""));
      if (key.empty()) {  // "gpt-oss ?B F16": the size is missing; the file name usually has it
        std::string file = lower(r.value("model_filename", ""));
        for (const char* k : {"gpt-oss-120b", "gpt-oss-20b", "qwen3-30b-a3b", "qwen2.5-7b", "llama-2-7b"})
          if (file.find(k) != std::string::npos) key = k;
        const std::string type = r.value("model_type", "");
        quant = type.substr(type.rfind(' ') == std::string::npos ? 0 : type.rfind(' ') + 1);
      }
      e.model = key.empty() ? r.value("model_type", "") : key;
      e.quant = quant;
      const int64_t np = r.value("n_prompt", 0), ng = r.value("n_gen", 0), depth = r.value("n_depth", 0);
      e.test = np > 0 && ng == 0   ? "pp" + std::to_string(np)
               : ng > 0 && np == 0 ? "tg" + std::to_string(ng)
                                   : "pp" + std::to_string(np) + "+tg" + std::to_string(ng);
      if (depth > 0) e.test += " @ d" + std::to_string(depth);
      const double ub = r.value("n_ubatch", 512.0), ts = r.value("avg_ts", 0.0);
      e.ubatch = whole_tokens(ub, r.contains("n_ubatch") ? r["n_ubatch"].dump() : "512", where, "n_ubatch");
      e.tok_s = above_zero(ts, r.contains("avg_ts") ? r["avg_ts"].dump() : "(none)", where, "avg_ts");
      if (r.contains("build_number"))
        e.build = "llama.cpp b" + std::to_string(r["build_number"].get<int64_t>());
      if (r.contains("test_time") && r["test_time"].is_string())
        e.date = r["test_time"].get<std::string>().substr(0, 10);
      if (r.contains("backends") && r["backends"].is_string() && e.backend.empty()) {
        const std::string b = lower(r["backends"].get<std::string>());
        e.backend = b == "rocm" ? "hip" : b;
      }
      if (r.contains("flash_attn")) {
        const auto& fa = r["flash_attn"];
        e.flags = std::string("fa=") + (fa.is_boolean() ? (fa.get<bool>() ? "1" : "0") : fa.dump());
      }
    } catch (const nlohmann::json::exception& x) {  // a field of the wrong JSON type
      throw Error("measurements", "json", where + ": " + x.what());
    }
    if (!e.date.empty() && !iso_date(e.date))  // llama-bench writes an ISO timestamp, never "unknown"
      throw Error("measurements", "test_time", where + ": '" + e.date + "' is not a date (YYYY-MM-DD)");
    out.push_back(std::move(e));
  }
  return out;
}

std::vector<E2eRow> parse_llama_bench_markdown(const std::string& text, const E2eRow& context) {
  std::vector<E2eRow> out;
  std::vector<std::string> header;
  static const std::regex build_re(R"(build:\s*\S+\s*\((\d+)\))");
  std::string build;
  auto cells = [](const std::string& l) {
    std::vector<std::string> c;
    std::string cur;
    for (size_t i = 1; i < l.size(); ++i) {
      if (l[i] == '|') {
        c.push_back(trim(cur));
        cur.clear();
      } else {
        cur += l[i];
      }
    }
    return c;
  };
  int n = 0;
  for (const auto& l : split_lines(text)) {
    ++n;
    std::smatch m;
    if (std::regex_search(l, m, build_re)) build = "llama.cpp b" + std::string(m[1]);
    const std::string t = trim(l);
    if (t.empty() || t[0] != '|') continue;
    auto c = cells(t);
    if (header.empty()) {
      for (auto& h : c) h = lower(h);
      header = c;
      continue;
    }
    if (!c.empty() && c[0].find("---") != std::string::npos) continue;
    auto col = [&](const std::string& name) -> std::string {
      for (size_t i = 0; i < header.size() && i < c.size(); ++i)
        if (header[i] == name) return c[i];
      return "";
    };
    const std::string test = lower(col("test")), ts = col("t/s");
    if (test.empty() || ts.empty()) continue;
    E2eRow e = context;
    e.line = n;
    const auto [key, quant] = model_key_from_description(col("model"));
    e.model = key.empty() ? col("model") : key;
    e.quant = quant;
    e.test = test;
    const std::string where = "llama-bench markdown line " + std::to_string(n);
    const std::string ub = col("n_ubatch");
    if (!ub.empty()) e.ubatch = ubatch_of(ub, where, "n_ubatch");
    e.tok_s = positive(trim(ts.substr(0, ts.find("\u00b1"))), where, "t/s");  // "1723.07 ± 5.21": the mean
    const std::string fa = col("fa");
    if (!fa.empty()) e.flags = "fa=" + fa;
    if (e.backend.empty()) {
      const std::string b = lower(col("backend"));
      e.backend = b == "rocm" ? "hip" : b;
    }
    out.push_back(std::move(e));
  }
  if (!build.empty())
    for (auto& e : out)
      if (e.build.empty()) e.build = build;
  return out;
}

}  // namespace xk::gap
