// Fitting achieved efficiencies from kernel rows; lookups with stated fallbacks.
#include "calibrate.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <ostream>

#include "ggml_types.h"
#include "render.h"
#include "xk/error.h"

namespace xk::gap {
namespace {

double units_of(const DeviceSpec& d) {
  for (const char* k : {"sm_count", "cu_count", "gpu_cores"}) {
    auto it = d.units.find(k);
    if (it != d.units.end()) return it->second.value;
  }
  return 1;
}

double median_of(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

// Seconds per run of a row, or 0 when its unit gives a rate instead.
double seconds_of(const KernelRow& r) {
  if (r.unit == "us/run") return r.value * 1e-6;
  if (r.unit == "ms/run") return r.value * 1e-3;
  return 0;
}

double flops_rate(const KernelRow& r, double flops) {
  if (r.unit == "TFLOPS") return r.value * 1e12;
  if (r.unit == "GFLOPS") return r.value * 1e9;
  const double s = seconds_of(r);
  return s > 0 ? flops / s : 0;
}

}  // namespace

double wave_factor(double m_tokens, double n_rows, int tile_m, int tile_n, double units) {
  const double tm = std::ceil(m_tokens / tile_m), tn = std::ceil(n_rows / tile_n);
  const double tiles = tm * tn;
  const double pad = (m_tokens * n_rows) / (tiles * tile_m * tile_n);
  const double waves = std::ceil(tiles / std::max(1.0, units));
  return pad * tiles / (waves * std::max(1.0, units));
}

bool gemv_rows(double tokens) { return tokens <= 8; }

std::string kernel_kind(const std::string& op) {
  if (op == "MUL_MAT") return "mm";
  if (op == "MUL_MAT_ID") return "mm_id";
  if (op == "FLASH_ATTN_EXT") return "fa";
  for (const char* m : {"ADD", "MUL", "RMS_NORM", "ROPE", "SOFT_MAX", "GLU", "SWIGLU", "CPY", "GET_ROWS", "SCALE", "NORM"})
    if (op == m) return "mem";
  return "";
}

double CalGroup::at(double x) const {
  if (curve.empty()) return 0;
  if (x <= curve.begin()->first) return curve.begin()->second;
  if (x >= curve.rbegin()->first) return curve.rbegin()->second;
  auto hi_it = curve.lower_bound(x);
  auto lo_it = std::prev(hi_it);
  const double t = (std::log2(x) - std::log2(lo_it->first)) / (std::log2(hi_it->first) - std::log2(lo_it->first));
  return lo_it->second + t * (hi_it->second - lo_it->second);
}

double CalGroup::median() const {
  std::vector<double> v;
  for (const auto& p : points) v.push_back(p.eff);
  return median_of(v);
}
double CalGroup::lo() const {
  double m = 1e300;
  for (const auto& p : points) m = std::min(m, p.eff);
  return points.empty() ? 0 : m;
}
double CalGroup::hi() const {
  double m = 0;
  for (const auto& p : points) m = std::max(m, p.eff);
  return m;
}

Calibration calibrate(const Database& db, const std::vector<KernelRow>& rows) {
  Calibration c;
  for (const auto& r : rows) {
    auto skip = [&](const std::string& why) { c.skipped.push_back({r.line, why}); };
    const std::string kind = kernel_kind(r.op);
    if (kind.empty()) {
      skip(r.op + ": not a kernel the runtime model uses");
      continue;
    }
    if (!db.devices.count(r.device)) {
      skip("device '" + r.device + "' is not in the device database");
      continue;
    }
    const DeviceSpec& dev = db.device(r.device);
    const BuildRef build = parse_build(r.build, r.date);
    double x = 0, eff = 0;
    std::string path_name = "memory", cls = "memory";
    try {
      if (kind == "mem") {
        if (r.unit != "GB/s") {
          skip(r.op + ": elementwise rows are used as GB/s only");
          continue;
        }
        eff = r.value * 1e9 / dev.bandwidth_bytes();
        x = 1;
      } else {
        const std::string type = kind == "fa" ? "f16" : r.p.count("type_a") ? r.p.at("type_a") : "";
        const std::string family = ggml_type_by_name(type.empty() ? "f16" : type).family;
        const InstrPath path = instruction_path(dev, r.backend, build, kind, family);
        path_name = path.name;
        cls = path.cls;
        const double peak = dev.peak_ops(path.cls), units = units_of(dev);
        const double m = static_cast<double>(r.num("m")), n = static_cast<double>(r.num("n")), k = static_cast<double>(r.num("k"));
        double flops = 0, wave = 1;
        if (kind == "mm") {
          flops = 2 * m * n * k;
          x = n;
          wave = gemv_rows(n) ? 1.0 : wave_factor(n, m, path.tile_m, path.tile_n, units);
        } else if (kind == "mm_id") {
          const double used = static_cast<double>(r.num("n_used", 1)), mats = static_cast<double>(r.num("n_mats", 1));
          flops = 2 * m * n * k * used;
          x = n * used / mats;
          wave = gemv_rows(n) ? 1.0 : wave_factor(std::max(1.0, x), m, path.tile_m, path.tile_n, units / std::max(1.0, std::min(mats, n * used)));
        } else {
          const double hs = static_cast<double>(r.num("hsk", r.num("hs", 128)));
          // GQA ratio: "nr" in older builds, "nr23=[a,b]" (a x b) in newer ones.
          double nr = static_cast<double>(r.num("nr", 1));
          if (r.p.count("nr23")) {
            nr = 1;
            const std::string& list = r.p.at("nr23");
            for (size_t i = list.find_first_of("0123456789"); i != std::string::npos; i = list.find_first_of("0123456789", list.find_first_not_of("0123456789", i)))
              nr *= std::atof(list.c_str() + i);
          }
          flops = 4 * hs * static_cast<double>(r.num("nh", 1)) * nr * static_cast<double>(r.num("kv")) * static_cast<double>(r.num("nb", 1));
          x = static_cast<double>(r.num("nb", 1));
        }
        if (flops <= 0 || x <= 0) {
          skip(r.op + ": params lack the shape (m, n, k / kv, nb)");
          continue;
        }
        const double rate = flops_rate(r, flops);
        if (rate <= 0) {
          skip(r.op + ": unit '" + r.unit + "' is not a rate or time");
          continue;
        }
        eff = rate / peak / std::max(1e-6, wave);
      }
    } catch (const Error& e) {
      skip(e.what());
      continue;
    }
    const std::string key = r.device + "|" + r.backend + "|" + path_name + "|" + kind;
    CalGroup& g = c.groups[key];
    g.device = r.device, g.backend = r.backend, g.path = path_name, g.kind = kind, g.cls = cls;
    g.points.push_back({x, eff, r.line, r.build, r.source});
    g.builds.insert(r.build);
    c.sources.insert(r.source);
    ++c.rows_used;
  }
  for (auto& [key, g] : c.groups) {
    std::map<double, std::vector<double>> by_x;
    for (const auto& p : g.points) by_x[p.x].push_back(p.eff);
    for (const auto& [x, v] : by_x) g.curve[x] = median_of(v);
  }
  return c;
}

CalLookup Calibration::lookup(const DeviceSpec& dev, const std::string& backend, const InstrPath& path, const std::string& kind,
                              double x) const {
  CalLookup out;
  auto exact = groups.find(dev.key + "|" + backend + "|" + path.name + "|" + kind);
  if (exact != groups.end()) {
    out.eff = exact->second.at(x);
    out.calibrated = true;
    out.how = "calibrated: " + std::to_string(exact->second.points.size()) + " rows";
    return out;
  }
  // The same device and backend on another path (another build era): same achieved op/s
  // per op of the class it issued, re-expressed as a fraction of this path's peak.
  for (const auto& [key, g] : groups) {
    if (g.device != dev.key || g.backend != backend || g.kind != kind) continue;
    out.eff = g.at(x) * dev.peak_ops(g.cls) / dev.peak_ops(path.cls);
    out.how = "fallback: nearest build (" + g.path + " rows, " + *g.builds.begin() + ")";
    return out;
  }
  out.fallback_default = true;
  const std::string what = kind == "fa" ? "attention" : kind == "mem" ? "memory" : path.cls;
  out.eff = dev.efficiency.count(what) ? dev.efficiency_of(what) : 0.5;
  out.how = "fallback: roofline default (devices.json efficiency." + what + ")";
  return out;
}

void print_calibration(std::ostream& out, const Calibration& c) {
  out << strf("calibration: %zu kernel rows fitted in %zu groups, %zu rows skipped\n", c.rows_used, c.groups.size(), c.skipped.size());
  out << strf("  %-12s %-7s %-24s %-6s %5s %8s %8s %8s  %s\n", "device", "backend", "path", "kind", "rows", "median", "min", "max",
              "curve x:eff");
  for (const auto& [key, g] : c.groups) {
    std::string curve;
    for (const auto& [x, e] : g.curve) curve += strf(" %g:%.3f", x, e);
    out << strf("  %-12s %-7s %-24s %-6s %5zu %8.3f %8.3f %8.3f %s\n", g.device.c_str(), g.backend.c_str(), g.path.c_str(), g.kind.c_str(),
                g.points.size(), g.median(), g.lo(), g.hi(), curve.c_str());
  }
  for (const auto& s : c.skipped) out << "  skipped line " << s.line << ": " << s.why << "\n";
}

}  // namespace xk::gap
