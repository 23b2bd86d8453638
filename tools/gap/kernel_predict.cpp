// `xk predict`: measured kernels beside their roofline predictions (formulas in the header).
#include "kernel_predict.h"

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <set>

#include "render.h"
#include "xk/error.h"

namespace xk::gap {
namespace {

bool has(const std::string& s, const char* part) { return s.find(part) != std::string::npos; }

// The value of "key=" in a label such as "variant=mmq_... act=q8 timer=cuda-event".
std::string label_value(const std::string& label, const std::string& key) {
  const size_t p = label.find(key + "=");
  if (p == std::string::npos) return "";
  const size_t start = p + key.size() + 1, end = label.find(' ', start);
  return label.substr(start, end == std::string::npos ? std::string::npos : end - start);
}

bool is_run_suffix(const std::string& seg) {
  return seg == "manual_time" || seg == "real_time" || seg.rfind("iterations:", 0) == 0 ||
         seg.rfind("min_time:", 0) == 0 || seg.rfind("repeats:", 0) == 0 || seg.rfind("threads:", 0) == 0;
}

double seconds_of(double t, const std::string& unit, const std::string& file, const std::string& where) {
  if (unit == "ns") return t * 1e-9;
  if (unit == "us") return t * 1e-6;
  if (unit == "ms") return t * 1e-3;
  if (unit == "s") return t;
  throw Error("predict", file, where + ".time_unit: unknown unit '" + unit + "' (ns, us, ms, s)");
}

// Bits per weight element; "i8" is the peers' plain int8 (no block scales).
double weight_bits_of(const std::string& format) { return format == "i8" ? 8 : weight_bits(format); }
double act_bytes_of(const std::string& act) { return act == "i8" ? 1 : act_bytes(act); }

std::string instruction_class(const KernelPrediction& r) {
  if (r.op == "attention") return "f16_mma_f32acc";
  if (r.act == "f16" || r.act == "bf16") return "f16_mma_f32acc";
  if (r.act == "fp8") return "fp8_mma";
  if (r.act == "fp4") return "fp4_mma";
  if (r.act == "f32") return "f32_fma";
  // q8 / i8: a dp4a GEMV, or an int8 MMA tile kernel (xkern's mmq, cuBLASLt's int8 GEMM).
  if (has(r.variant, "dp4a") || has(r.variant, "mmvq")) return "int8_dot";
  if (has(r.variant, "mma") || has(r.variant, "int_mm")) return "int8_mma";
  return r.m == 1 ? "int8_dot" : "int8_mma";
}

// Two decimals below 10 us, where a decode kernel or a GEMV sits; one above.
std::string fmt_us(double s) {
  if (s <= 0) return "n/a";
  return strf(s < 1e-5 ? "%.2f" : "%.1f", s * 1e6);
}

}  // namespace

bool parse_kernel_name(const std::string& name, const std::string& label, KernelPrediction& row) {
  auto seg = split_name(name, '/');
  while (!seg.empty() && is_run_suffix(seg.back())) seg.pop_back();
  row.name = name;
  if (seg.size() < 5) return false;
  row.op = seg.front();
  row.device = seg.back();
  std::vector<std::string> mid(seg.begin() + 1, seg.end() - 1);
  auto var =
      std::find_if(mid.begin(), mid.end(), [](const std::string& s) { return s.rfind("variant=", 0) == 0; });
  if (var != mid.end()) {
    row.variant = var->substr(8);
    mid.erase(var);
  }
  if (row.variant.empty()) row.variant = label_value(label, "variant");
  // mid: <set>/<shape>/<format>[/<act>]
  if (mid.size() < 3) return false;
  row.shape = mid[1];
  row.format = mid[2];
  if (row.op == "matmul") {
    if (mid.size() != 4 || std::sscanf(row.shape.c_str(), "M%ld_N%ld_K%ld", &row.m, &row.n, &row.k) != 3)
      return false;
    row.act = mid[3];
    if (const std::string a = label_value(label, "act"); !a.empty()) row.act = a;
    return row.m > 0 && row.n > 0 && row.k > 0;
  }
  if (row.op == "attention") {
    char kind[16] = {};
    if (mid.size() != 3 || std::sscanf(row.shape.c_str(), "%15[a-z]_B%ld_Hq%ld_Hkv%ld_S%ld_T%ld_D%ld", kind,
                                       &row.b, &row.hq, &row.hkv, &row.s, &row.t, &row.d) != 7)
      return false;
    row.causal = row.shape.size() > 7 && row.shape.compare(row.shape.size() - 7, 7, "_causal") == 0;
    row.act = "f16";
    return row.b > 0 && row.hq > 0 && row.hkv > 0 && row.s > 0 && row.t > 0 && row.d > 0;
  }
  return false;
}

void predict_row(const DeviceSpec& dev, KernelPrediction& r) {
  try {
    r.cls = instruction_class(r);
    r.eff_key = r.op == "attention" ? "attention" : r.cls;
    if (r.op == "matmul") {
      const double M = static_cast<double>(r.m), N = static_cast<double>(r.n), K = static_cast<double>(r.k);
      // xkern writes F32 (bench/accounting.cpp); torch.matmul keeps f16/bf16, _int_mm int32.
      const bool peer = r.device.rfind("torch", 0) == 0;
      const double yb = peer && (r.act == "f16" || r.act == "bf16") ? 2 : 4;
      r.flops = 2 * M * N * K;
      // xkern's ops take F32 activations and quantize them inside the timed call.
      const double xb = peer ? act_bytes_of(r.act) : 4;
      r.bytes = N * K * weight_bits_of(r.format) / 8 + M * K * xb + M * N * yb;
    } else {
      const int64_t q_offset = r.causal ? std::max<int64_t>(0, r.t - r.s) : 0;
      const double pairs = static_cast<double>(attention_pairs(r.s, r.t, r.causal, q_offset));
      const double qo = r.device.rfind("torch", 0) == 0 ? 2 : 4;  // peers f16, xkern F32 Q and O
      const double kv = weight_bits_of(r.format) / 8;
      const double q_elems = static_cast<double>(r.b * r.hq * r.s * r.d);
      r.flops = 4.0 * static_cast<double>(r.b * r.hq * r.d) * pairs;
      r.bytes = q_elems * 2 * qo + 2.0 * static_cast<double>(r.b * r.hkv * r.t * r.d) * kv;
    }
    r.predicted = roofline(r.flops, r.bytes, dev.peak_ops(r.cls), dev.efficiency_of(r.eff_key),
                           dev.bandwidth_bytes(), dev.efficiency_of("memory"));
  } catch (const Error& e) {
    r.not_predicted = e.reason();
  }
}

PredictionTable predict_files(const DeviceSpec& dev, const std::vector<std::string>& paths) {
  if (paths.empty())
    throw Error("predict", "files", "name at least one bench JSON (xk bench --json, torch_peers.py --out)");
  PredictionTable t;
  t.device_key = dev.key;
  t.device_name = dev.name;
  t.files = paths;
  for (const auto& path : paths) {
    std::ifstream in(path);
    if (!in) throw Error("predict", path, "cannot open the bench JSON");
    nlohmann::json j;
    try {
      in >> j;
    } catch (const std::exception& e) {
      throw Error("predict", path, std::string("not valid JSON: ") + e.what());
    }
    if (!j.is_object() || !j.contains("benchmarks") || !j["benchmarks"].is_array())
      throw Error("predict", path,
                  "field 'benchmarks': missing or not an array (expected Google Benchmark JSON)");
    const auto& list = j["benchmarks"];
    for (size_t i = 0; i < list.size(); ++i) {
      const auto& b = list[i];
      const std::string where = "benchmarks[" + std::to_string(i) + "]";
      if (!b.is_object()) throw Error("predict", path, where + ": not an object");
      if (!b.contains("name") || !b["name"].is_string())
        throw Error("predict", path, where + ".name: missing or not a string");
      if (b.value("run_type", std::string("iteration")) == "aggregate") continue;
      KernelPrediction r;
      r.file = path;
      const bool error =
          b.contains("error_occurred") && b["error_occurred"].is_boolean() && b["error_occurred"].get<bool>();
      if (error) {
        r.not_measured = b.contains("error_message") && b["error_message"].is_string()
                             ? b["error_message"].get<std::string>()
                             : "error";
      } else {
        if (!b.contains("real_time") || !b["real_time"].is_number())
          throw Error(
              "predict", path,
              where + ".real_time: missing or not a number (entry '" + b["name"].get<std::string>() + "')");
        const std::string unit =
            b.contains("time_unit") && b["time_unit"].is_string() ? b["time_unit"].get<std::string>() : "ns";
        r.measured_s = seconds_of(b["real_time"].get<double>(), unit, path, where);
        if (r.measured_s <= 0) r.not_measured = "no timing (real_time 0)";
      }
      const std::string label =
          b.contains("label") && b["label"].is_string() ? b["label"].get<std::string>() : "";
      if (!parse_kernel_name(b["name"].get<std::string>(), label, r)) {
        ++t.skipped_presets;
        continue;
      }
      predict_row(dev, r);
      t.rows.push_back(std::move(r));
    }
  }
  return t;
}

void print_prediction_table(std::ostream& out, const PredictionTable& t, const DeviceSpec& dev) {
  out << "## Predicted vs measured, kernel by kernel (" << t.device_key << ")\n\n";
  out << "Predicted: roofline on device-database entry '" << t.device_key << "' (" << t.device_name << ", "
      << t.database
      << "): max(FLOPs / (peak x efficiency), bytes / (bandwidth x memory efficiency)), each operand read or "
         "written "
         "once, no launch overhead. Measured: real_time of each entry in ";
  for (size_t i = 0; i < t.files.size(); ++i) out << (i ? ", " : "") << t.files[i];
  out << ". Ratio = measured / predicted (> 1: slower than the model says).\n\n";
  out << "| kernel | variant | measured on | class | GFLOP | MB | predicted us | bound | measured us | "
         "measured / predicted |\n";
  out << "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n";
  std::set<std::string> classes;
  for (const auto& r : t.rows) {
    std::string pred = "n/a (" + r.not_predicted + ")", bound = "", ratio = "n/a";
    if (r.not_predicted.empty()) {
      classes.insert(r.cls);
      classes.insert(r.eff_key);
      pred = fmt_us(r.predicted.time);
      bound = r.predicted.memory_bound ? "memory" : "compute";
    }
    std::string meas = r.measured_s > 0 ? fmt_us(r.measured_s) : "n/a (" + r.not_measured + ")";
    if (r.measured_s > 0 && r.not_predicted.empty() && r.predicted.time > 0)
      ratio = strf("%.2f", r.measured_s / r.predicted.time);
    const std::string kernel = r.op + " " + r.shape + " " + r.format + "/" + r.act;
    out << "| " << kernel << " | `" << (r.variant.empty() ? "auto" : r.variant) << "` | " << r.device << " | "
        << r.cls << " | " << strf("%.3f", r.flops / 1e9) << " | " << strf("%.2f", r.bytes / 1e6) << " | "
        << pred << " | " << bound << " | " << meas << " | " << ratio << " |\n";
  }
  if (t.rows.empty()) out << "| (no entry with a shape in its name) | | | | | | | | | |\n";
  if (t.skipped_presets > 0)
    out << "\n"
        << t.skipped_presets
        << " entries carry no shape in their names (model presets: `xk explain --bench` predicts those).\n";
  out << "\nSources of the predicted figures (" << t.device_key << "):\n\n";
  auto line = [&](const std::string& what, const Figure& f) {
    out << "- " << what << ": " << strf("%g", f.value) << " " << f.unit << ", " << f.kind << "; " << f.source
        << (f.derivation.empty() ? "" : " (" + f.derivation + ")") << "\n";
  };
  for (const auto& c : classes) {
    if (auto p = dev.peak.find(c); p != dev.peak.end()) line("peak " + c, p->second);
    if (auto e = dev.efficiency.find(c); e != dev.efficiency.end()) line("efficiency " + c, e->second);
  }
  if (auto m = dev.memory.find("bandwidth_theoretical"); m != dev.memory.end()) line("bandwidth", m->second);
  if (auto e = dev.efficiency.find("memory"); e != dev.efficiency.end()) line("efficiency memory", e->second);
}

void add_predict_command(CLI::App& app) {
  auto device = std::make_shared<std::string>();
  auto files = std::make_shared<std::vector<std::string>>();
  CLI::App* p = app.add_subcommand(
      "predict",
      "Each measured kernel of bench JSON files beside its roofline prediction on a database device");
  p->add_option("--device", *device, "Device-database entry to predict on (e.g. h200, h100-sxm)")->required();
  p->add_option("files", *files, "Bench JSON files (xk bench --json, torch_peers.py --out)")->required();
  p->callback([device, files] {
    const Database db = load_database(database_path());
    const DeviceSpec& dev = db.device(*device);
    PredictionTable t = predict_files(dev, *files);
    t.database = db.path;
    print_prediction_table(std::cout, t, dev);
  });
}

}  // namespace xk::gap
