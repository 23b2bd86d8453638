// Fitting achieved efficiencies from kernel rows; lookups with stated fallbacks.
#include "calibrate.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <ostream>
#include <regex>
#include <sstream>

#include "ggml_types.h"
#include "render.h"
#include "text.h"
#include "xk/error.h"

namespace xk::gap {
namespace {

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

// The product of a bracketed list parameter ("ne=[4096,1,1,1]"); 1 when absent. Every entry
// must be a number: "[abc,1]" is a broken row (an xk::Error naming the parameter), not 1.
double list_product(const KernelRow& r, const std::string& key) {
  if (!r.p.count(key)) return 1;
  const std::string& list = r.p.at(key);
  const size_t open = list.find_first_not_of(" ["), close = list.find_last_not_of(" ]");
  double product = 1;
  std::stringstream entries(open == std::string::npos || close < open ? ""
                                                                      : list.substr(open, close - open + 1));
  std::string entry;
  int count = 0;
  while (std::getline(entries, entry, ',')) {
    double v = 0;
    if (!parse_double(entry, v) || !std::isfinite(v))
      throw Error("gap", key, "'" + list + "' in " + r.op + "(" + r.params + ") is not a list of numbers");
    product *= v;
    ++count;
  }
  if (count == 0)
    throw Error("gap", key, "'" + list + "' in " + r.op + "(" + r.params + ") lists no numbers");
  return product;
}

}  // namespace

bool is_fork_build(const std::string& build) {
  // "owner/llama.cpp ...", "owner/strix-llama.cpp ...": another repository's line of
  // development; upstream builds are written "llama.cpp ...".
  const size_t slash = build.find('/'), name = build.find("llama.cpp");
  return build.find("fork") != std::string::npos ||
         (slash != std::string::npos && name != std::string::npos && slash < name &&
          build.find(' ') > slash && build.rfind("ggml-org/", 0) != 0);
}

bool is_branch_build(const std::string& build) {
  if (is_fork_build(build)) return true;
  return build.find("PR #") != std::string::npos && build.find("master") == std::string::npos &&
         build.find("base") == std::string::npos;
}

std::string source_document(const std::string& source) {
  const size_t start = source.find_first_not_of(" \t\"");
  if (start == std::string::npos) return "";
  const size_t end = source.find_first_of(" \t\",;", start);
  return source.substr(start, end == std::string::npos ? std::string::npos : end - start);
}

std::string kernel_kind(const std::string& op) {
  if (op == "MUL_MAT") return "mm";
  if (op == "MUL_MAT_ID") return "mm_id";
  if (op == "FLASH_ATTN_EXT") return "fa";
  for (const char* m :
       {"ADD", "MUL", "RMS_NORM", "ROPE", "SOFT_MAX", "GLU", "SWIGLU", "CPY", "GET_ROWS", "SCALE", "NORM"})
    if (op == m) return "mem";
  return "";
}

namespace {

bool same_regime(double a, double b) { return gemv_rows(a) == gemv_rows(b); }

bool covers_regime(const std::map<double, double>& curve, double x) {
  for (const auto& [cx, e] : curve)
    if (same_regime(cx, x)) return true;
  return false;
}

double interpolate(std::map<double, double> curve, double x) {
  // Only the points of x's regime (calibrate.h); all of them when none is (a caller that
  // checked covers() never gets there).
  if (covers_regime(curve, x))
    for (auto it = curve.begin(); it != curve.end();)
      it = same_regime(it->first, x) ? std::next(it) : curve.erase(it);
  if (curve.empty()) return 0;
  if (x <= curve.begin()->first) return curve.begin()->second;
  if (x >= curve.rbegin()->first) return curve.rbegin()->second;
  auto hi_it = curve.lower_bound(x);
  auto lo_it = std::prev(hi_it);
  const double t =
      (std::log2(x) - std::log2(lo_it->first)) / (std::log2(hi_it->first) - std::log2(lo_it->first));
  return lo_it->second + t * (hi_it->second - lo_it->second);
}

// Days since 2000-01-01 of "YYYY-MM-DD" (approximate: 31-day months are enough to order
// and compare build dates); -1 when the text is not a date.
double day_number(const std::string& d) {
  if (d.size() < 10 || d[4] != '-' || d[7] != '-') return -1;
  return (std::atof(d.substr(0, 4).c_str()) - 2000) * 372 + std::atof(d.substr(5, 2).c_str()) * 31 +
         std::atof(d.substr(8, 2).c_str());
}

// How far a build date `have` is from the wanted one, both as day_number gives them.
// Unknown dates on either side: the latest dated rows stand for "today's build".
double date_gap(double want, double have) {
  return want < 0 ? -have : have < 0 ? 1e200 : std::abs(have - want);
}

// Backend ratios from rows timed as one geometric mean over a case list (calibrate.h).
// Only upstream builds ("master" in the build text) are paired: a pull request's branch is
// not the kernel any published run used.
std::vector<BackendRatio> backend_ratios(const Database& db, const std::vector<const KernelRow*>& rows,
                                         std::vector<SkippedRow>& skipped) {
  std::map<std::string, std::map<std::string, const KernelRow*>>
      cases;  // device|date|op|params -> backend -> row
  for (const KernelRow* r : rows) {
    if (r->build.find("master") == std::string::npos) {
      skipped.push_back(
          {r->line,
           r->op + ": geometric mean of a branch build (only upstream builds are paired across backends)"});
      continue;
    }
    if (!db.devices.count(r->device) || kernel_kind(r->op).empty() || r->value <= 0) {
      skipped.push_back({r->line, r->op + ": geometric mean without a known device, kernel or time"});
      continue;
    }
    cases[r->device + "|" + r->date + "|" + r->op + "|" + r->params][r->backend] = r;
  }
  std::map<std::string, BackendRatio> out;
  std::map<std::string, std::vector<double>> values;
  static const std::regex type_re(R"(type_a=([A-Za-z0-9_]+))");
  for (const auto& [key, by_backend] : cases) {
    for (const auto& [from, a] : by_backend)
      for (const auto& [to, b] : by_backend) {
        if (from == to) continue;
        std::smatch m;
        const std::string family =
            std::regex_search(a->params, m, type_re) ? ggml_type_by_name(m[1]).family : "quant";
        BackendRatio r{a->device, from, to, a->date, source_document(a->source), kernel_kind(a->op), family};
        const std::string k = r.device + "|" + from + "|" + to + "|" + r.date + "|" + r.kind + "|" + family;
        out.emplace(k, r);
        values[k].push_back(a->value / b->value);
      }
  }
  std::vector<BackendRatio> ratios;
  for (auto& [k, r] : out) {
    r.ratio = median_of(values[k]);
    r.pairs = static_cast<int>(values[k].size());
    ratios.push_back(r);
  }
  for (const KernelRow* r : rows) {
    bool paired = false;
    for (const auto& b : ratios)
      paired = paired || (b.device == r->device && b.date == r->date && (b.from == r->backend));
    if (!paired && r->build.find("master") != std::string::npos)
      skipped.push_back(
          {r->line, r->op + ": geometric mean with no other backend's upstream row for the same cases"});
  }
  return ratios;
}

}  // namespace

double CalGroup::at(double x) const { return interpolate(curve, x); }

namespace {

// Where x lies outside the measured points of its regime, interpolate() holds the nearest
// point's efficiency: said in the lookup's text, since nothing was measured there.
std::string held_note(const std::map<double, double>& curve, double x) {
  double lo = 0, hi = 0;
  for (const auto& [cx, e] : curve)
    if (same_regime(cx, x)) {
      if (lo == 0) lo = cx;
      hi = cx;
    }
  if (lo > 0 && x < lo) return strf(" (held from x=%g: none measured below it)", lo);
  if (hi > 0 && x > hi) return strf(" (held from x=%g: none measured above it)", hi);
  return "";
}

}  // namespace

bool CalGroup::covers(double x) const { return covers_regime(curve, x); }

bool CalGroup::covers(double x, const std::string& type) const {
  if (!covers(x)) return false;
  if (!gemv_rows(x) || type.empty()) return true;
  // The vector kernels' cost per weight byte depends on how the block type unpacks (an
  // iq1_m row is ALU-bound where q4_0 streams at the bandwidth), so in that regime other
  // types' rows do not stand in for a type.
  const std::string want = lower(type);
  for (const auto& p : points)
    if (!(upstream_only && p.branch) && gemv_rows(p.x) && p.type == want) return true;
  return false;
}

std::string CalGroup::nearest_date(const std::string& date, double x) const {
  const double want = day_number(date);
  std::string best;
  double best_gap = 1e300;
  for (const auto& [d, c] : era_curves) {
    if (x > 0 && !covers_regime(c, x)) continue;
    const double gap = date_gap(want, day_number(d));
    if (gap < best_gap) best_gap = gap, best = d;
  }
  return best;
}

double CalGroup::at(double x, const std::string& date) const {
  const std::string era = nearest_date(date, x);
  if (era_curves.empty() || !era_curves.count(era)) return at(x);
  return interpolate(era_curves.at(era), x);
}

double CalGroup::eval(double x, const std::string& date, const std::string& type, std::string& rows) const {
  const std::string want = lower(type);
  std::map<std::string, std::map<double, std::vector<double>>> by_date;
  for (const auto& p : points)
    if (!(upstream_only && p.branch) && same_regime(p.x, x) && !want.empty() && p.type == want)
      by_date[p.date][p.x].push_back(p.eff);
  if (!by_date.empty()) {
    std::string best;
    double best_gap = 1e300;
    for (const auto& [d, c] : by_date) {
      const double have = day_number(d), at_day = day_number(date);
      const double gap = at_day < 0 ? -have : have < 0 ? 1e200 : std::abs(have - at_day);
      if (gap < best_gap) best_gap = gap, best = d;
    }
    std::map<double, double> c;
    for (const auto& [cx, v] : by_date.at(best)) c[cx] = median_of(v);
    rows = want + " rows of " + (best.empty() ? std::string("undated builds") : best) + held_note(c, x);
    return interpolate(c, x);
  }
  if (want.empty()) {
    const std::string era = nearest_date(date, x);
    rows = "rows of " + (era.empty() ? std::string("undated builds") : era) +
           held_note(era_curves.count(era) ? era_curves.at(era) : curve, x);
    return at(x, date);
  }
  // No rows of this weight type: one type's rows at one build date do not make a build era
  // for the others, so the curve of all types and dates stands in.
  rows = "rows of all weight types and builds (none of " + want + ")" + held_note(curve, x);
  return at(x);
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
  std::vector<const KernelRow*> geomeans;
  for (const auto& r : rows) {
    auto skip = [&](const std::string& why) { c.skipped.push_back({r.line, why}); };
    if (r.unit == "us (geomean)") {
      geomeans.push_back(&r);
      continue;
    }
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
    BuildRef build = parse_build(r.build, r.date);
    if (r.backend == "vulkan") {
      build.vk_shader = vulkan_shader_of(r.notes);
      build.vk_shared_bytes = vulkan_shared_memory_of(r.notes);
    }
    double x = 0, eff = 0;
    std::string path_name = "memory", cls = "memory", path_family = "mem", weight_type;
    try {
      if (kind == "mem") {
        if (seconds_of(r) > 0) {
          const double us = seconds_of(r) * 1e6, elems = list_product(r, "ne") * list_product(r, "nr");
          const double bytes_us = elems * kDispatchBytesPerElement / dev.bandwidth_bytes() * 1e6;
          if (elems <= 0 || elems > kDispatchMaxElements || bytes_us > 0.5 * us) {
            skip(r.op + ": an elementwise time is used only where the dispatch dominates it (ne too large)");
            continue;
          }
          c.dispatch[r.device + "|" + r.backend].push_back({us - bytes_us, r.line, r.op, r.build, r.date});
          c.sources.insert(source_document(r.source));
          ++c.rows_used;
          continue;
        }
        if (r.unit != "GB/s") {
          skip(r.op + ": elementwise rows are used as GB/s or as a time per run");
          continue;
        }
        eff = r.value * 1e9 / dev.bandwidth_bytes();
        x = 1;
      } else {
        if (r.unit != "TFLOPS" && r.unit != "GFLOPS" && seconds_of(r) <= 0) {
          skip(r.op + ": unit '" + r.unit + "' is neither a rate (TFLOPS, GFLOPS) nor a time per run");
          continue;
        }
        const std::string type = kind == "fa" ? "f16" : r.p.count("type_a") ? r.p.at("type_a") : "";
        if (kind != "fa") weight_type = type;
        const std::string family = ggml_type_by_name(type.empty() ? "f16" : type).family;
        if (kind == "mm_id") {
          const int64_t mats = r.num("n_mats", 1), used = r.num("n_used", 1);
          if (mats < 1 || used < 1 || used > mats)
            throw Error(
                "gap", "n_used",
                strf("%s(%s): %lld of %lld experts per token is not a MUL_MAT_ID (1 <= n_used <= n_mats)",
                     r.op.c_str(), r.params.c_str(), static_cast<long long>(used),
                     static_cast<long long>(mats)));
        }
        // The token count that decides between MMQ and BLAS (paths.h): n, or the expert batch.
        const double tokens =
            kind == "mm_id" ? static_cast<double>(r.num("n")) * static_cast<double>(r.num("n_used", 1)) /
                                  static_cast<double>(std::max<int64_t>(1, r.num("n_mats", 1)))
                            : static_cast<double>(r.num("n", 512));
        const InstrPath path =
            instruction_path(dev, r.backend, build, kind, family, tokens,
                             kind == "mm_id" ? static_cast<double>(r.num("n")) : 0.0, type);
        path_name = path.name;
        cls = path.cls;
        path_family = path.family;
        const double peak = dev.peak_ops(path.cls), units = tile_units(dev, r.backend);
        const double m = static_cast<double>(r.num("m")), n = static_cast<double>(r.num("n")),
                     k = static_cast<double>(r.num("k"));
        double flops = 0, wave = 1;
        if (kind == "mm") {
          flops = 2 * m * n * k;
          x = n;
          wave =
              gemv_rows(n) ? 1.0 : wave_factor(n, m, path.tile_m, path.tile_n, path.stream_k ? 1.0 : units);
        } else if (kind == "mm_id") {
          const double used = static_cast<double>(r.num("n_used", 1)),
                       mats = static_cast<double>(r.num("n_mats", 1));
          flops = 2 * m * n * k * used;
          const ExpertGemm g = expert_gemm(n, used, mats, m, path, units);
          x = g.x;
          wave = g.wave;
        } else {
          const double hs = static_cast<double>(r.num("hsk", r.num("hs", 128)));
          // GQA ratio: "nr" in older builds, "nr23=[a,b]" (a x b) in newer ones.
          const double nr = r.p.count("nr23") ? list_product(r, "nr23") : static_cast<double>(r.num("nr", 1));
          flops = 4 * hs * static_cast<double>(r.num("nh", 1)) * nr * static_cast<double>(r.num("kv")) *
                  static_cast<double>(r.num("nb", 1));
          x = static_cast<double>(r.num("nb", 1));
        }
        if (flops <= 0 || x <= 0) {
          skip(r.op + ": params lack the shape (m, n, k / kv, nb)");
          continue;
        }
        double rate = flops_rate(r, flops);
        // A quantized row on a BLAS path timed the to_f16 expansion too (runtime.cpp prices it
        // as a pass of its own): take it out at the database's memory efficiency.
        const double run_s = seconds_of(r) > 0 ? seconds_of(r) : (rate > 0 ? flops / rate : 0);
        if (kind == "mm" && expands_to_f16(path, family) && run_s > 0) {
          const double pass_s = (m * k * (ggml_type_by_name(type).bits() / 8.0 + 2)) /
                                (dev.bandwidth_bytes() * dev.efficiency_of("memory"));
          if (run_s > 2 * pass_s) rate = flops / (run_s - pass_s);
        }
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
    g.device = r.device, g.backend = r.backend, g.path = path_name, g.kind = kind, g.cls = cls,
    g.family = path_family;
    if (kind != "mem") g.ops_per_byte = dev.peak_ops(cls) / dev.bandwidth_bytes();
    g.points.push_back(
        {x, eff, r.line, r.build, r.source, r.date, is_branch_build(r.build), lower(weight_type)});
    g.builds.insert(r.build);
    c.sources.insert(source_document(r.source));
    ++c.rows_used;
  }
  c.ratios = backend_ratios(db, geomeans, c.skipped);
  for (auto& [key, g] : c.groups) {
    std::map<double, std::vector<double>> by_x;
    std::map<std::string, std::map<double, std::vector<double>>> by_date;
    g.upstream_only =
        std::any_of(g.points.begin(), g.points.end(), [](const CalPoint& p) { return !p.branch; });
    for (const auto& p : g.points) {
      if (g.upstream_only && p.branch) continue;
      by_x[p.x].push_back(p.eff);
      by_date[p.date][p.x].push_back(p.eff);
    }
    for (const auto& [x, v] : by_x) g.curve[x] = median_of(v);
    for (const auto& [date, xs] : by_date)
      for (const auto& [x, v] : xs) g.era_curves[date][x] = median_of(v);
  }
  return c;
}

bool Calibration::dispatch_us(const std::string& device, const std::string& backend, const std::string& date,
                              double& us, std::string& how) const {
  auto it = dispatch.find(device + "|" + backend);
  if (it == dispatch.end() || it->second.empty()) return false;
  // The build date nearest the run's, as CalGroup::nearest_date decides it.
  const double want = day_number(date);
  const DispatchPoint* best = nullptr;
  for (const auto& p : it->second)
    if (!best || date_gap(want, day_number(p.date)) < date_gap(want, day_number(best->date))) best = &p;
  std::vector<double> v;
  std::set<std::string> ops;
  for (const auto& p : it->second)
    if (p.date == best->date) v.push_back(p.us), ops.insert(p.op);
  us = median_of(v);
  std::string names;
  for (const auto& o : ops) names += (names.empty() ? "" : ", ") + o;
  how = strf("calibrated: %.2f us per kernel, median of %zu tiny-op test-backend-ops time(s) (%s) of %s", us,
             v.size(), names.c_str(), best->date.empty() ? "an undated build" : best->date.c_str());
  return true;
}

// The same kernel's MUL_MAT_ID against its MUL_MAT, both of one build on another device,
// carried over as a ratio onto an expert GEMM priced from a MUL_MAT curve (what the expert
// GEMM does besides the padding expert_gemm already charges: gathering rows by id, the
// early exit of empty tiles): the device with the most MUL_MAT_ID rows of this backend and
// path. Nothing is applied when no device has both.
void Calibration::expert_ratio(const DeviceSpec& dev, const std::string& backend, const InstrPath& path,
                               double x, const std::string& date, const std::string& type,
                               CalLookup& out) const {
  const CalGroup* ids = nullptr;
  for (const auto& [key, g] : groups)
    if (g.kind == "mm_id" && g.path == path.name && g.backend == backend && g.device != dev.key &&
        g.covers(x, type) && groups.count(g.device + "|" + backend + "|" + path.name + "|mm") &&
        (!ids || g.points.size() > ids->points.size()))
      ids = &g;
  if (!ids) return;
  const CalGroup& other = groups.at(ids->device + "|" + backend + "|" + path.name + "|mm");
  const std::string era = ids->nearest_date(date, x);
  std::string id_rows, mm_rows;
  const double a = ids->eval(x, era, type, id_rows), b = other.eval(x, era, type, mm_rows);
  if (a <= 0 || b <= 0 || !other.covers(x, type)) return;
  out.eff *= a / b;
  out.how += strf(" x %.2f (%s's MUL_MAT_ID / MUL_MAT of the same path, %s / %s)", a / b, ids->device.c_str(),
                  id_rows.c_str(), mm_rows.c_str());
}

CalLookup Calibration::lookup(const DeviceSpec& dev, const std::string& backend, const InstrPath& path,
                              const std::string& kind, double x, const std::string& date,
                              const std::string& type) const {
  CalLookup out;
  std::string rows;
  auto exact = groups.find(dev.key + "|" + backend + "|" + path.name + "|" + kind);
  if (exact != groups.end() && exact->second.covers(x, type)) {
    out.eff = exact->second.eval(x, date, type, rows);
    out.calibrated = true;
    out.how = "calibrated: " + rows;
    return out;
  }
  if (kind == "mm_id") {
    auto dense = groups.find(dev.key + "|" + backend + "|" + path.name + "|mm");
    if (dense != groups.end() && dense->second.covers(x, type)) {
      out.eff = dense->second.eval(x, date, type, rows);
      out.how = "fallback: MUL_MAT " + rows + ", same path, at the token tile the expert GEMM runs";
      expert_ratio(dev, backend, path, x, date, type, out);
      return out;
    }
  }
  auto kind_fits = [&](const CalGroup& g) {
    return g.covers(x, type) && (g.kind == kind || (kind == "mm_id" && g.kind == "mm"));
  };
  // The same device and backend on another path of the family (another build era): same
  // achieved op/s per op of the class it issued, re-expressed as a fraction of this path's
  // peak. MUL_MAT rows stand in for MUL_MAT_ID as above.
  for (const auto& [key, g] : groups) {
    if (g.device != dev.key || g.backend != backend || g.family != path.family || !kind_fits(g)) continue;
    out.eff = g.eval(x, date, type, rows) * dev.peak_ops(g.cls) / dev.peak_ops(path.cls);
    out.how = "fallback: nearest build era (" + g.path + " " + rows + ")";
    if (kind == "mm_id" && g.kind == "mm") expert_ratio(dev, backend, path, x, date, type, out);
    return out;
  }
  // The same device on another backend, through a ratio of the two backends' times for the
  // same test-backend-ops cases on that machine. The other backend's curve is read at the
  // ratio's own build date: the ratio holds for the kernels of that date only, so every
  // build of this backend gets that date's kernel (stated as the nearest build).
  for (const auto& r : ratios) {
    if (r.device != dev.key || r.to != backend || r.family != path.family ||
        (r.kind != kind && !(kind == "mm_id" && r.kind == "mm")))
      continue;
    BuildRef then;
    then.date = r.date;
    const InstrPath other = instruction_path(dev, r.from, then, r.kind, r.family);
    auto g = groups.find(dev.key + "|" + r.from + "|" + other.name + "|" + r.kind);
    if (g == groups.end() || !g->second.covers(x, type)) continue;
    out.eff = g->second.eval(x, r.date, type, rows) * dev.peak_ops(g->second.cls) / dev.peak_ops(path.cls) *
              r.ratio;
    out.how = strf(
        "fallback: %s's %s %s %s x %.3f (%s/%s time ratio of the same test-backend-ops cases on this "
        "machine, "
        "%d types, %s, %s; nearest build: that date's kernels)",
        dev.key.c_str(), r.from.c_str(), other.name.c_str(), rows.c_str(), r.ratio, r.from.c_str(),
        r.to.c_str(), r.pairs, r.date.c_str(), r.source.c_str());
    if (kind == "mm_id") expert_ratio(dev, backend, path, x, date, type, out);
    return out;
  }
  // The same kernel (backend, path) measured on another device, as a fraction of that
  // device's peak of the class: the group with the most rows.
  const CalGroup* other = nullptr;
  for (const auto& [key, g] : groups) {
    if (g.device == dev.key || g.backend != backend || g.path != path.name || !kind_fits(g)) continue;
    if (!other || g.points.size() > other->points.size()) other = &g;
  }
  if (other) {
    out.eff = other->eval(x, date, type, rows);
    // Up to 8 tokens the vector kernels stream the weights: what carries over to another
    // device is the fraction of its bandwidth, not of its matrix peak.
    const bool streaming = gemv_rows(x) && other->ops_per_byte > 0;
    if (streaming) out.eff *= other->ops_per_byte * dev.bandwidth_bytes() / dev.peak_ops(path.cls);
    out.how = "fallback: " + other->device + "'s " + other->path + " " + other->kind + " " + rows +
              " (same kernel, another device), as a fraction of " + (streaming ? "bandwidth" : "peak");
    if (kind == "mm_id" && other->kind == "mm") expert_ratio(dev, backend, path, x, date, type, out);
    return out;
  }
  out.fallback_default = true;
  const std::string what = kind == "fa" ? "attention" : kind == "mem" ? "memory" : path.cls;
  out.eff = dev.efficiency.count(what) ? dev.efficiency_of(what) : 0.5;
  out.how = "fallback: roofline default (devices.json efficiency." + what + ")";
  return out;
}

void print_calibration(std::ostream& out, const Calibration& c) {
  out << strf("calibration: %zu kernel rows fitted in %zu groups, %zu rows skipped\n", c.rows_used,
              c.groups.size(), c.skipped.size());
  out << strf("  %-12s %-7s %-24s %-6s %5s %8s %8s %8s  %s\n", "device", "backend", "path", "kind", "rows",
              "median", "min", "max", "curves per build date, x:eff");
  for (const auto& [key, g] : c.groups) {
    std::string curve;
    for (const auto& [date, c] : g.era_curves) {
      curve += " [" + (date.empty() ? std::string("undated") : date) + "]";
      for (const auto& [x, e] : c) curve += strf(" %g:%.3f", x, e);
    }
    const auto branch_rows =
        std::count_if(g.points.begin(), g.points.end(), [](const CalPoint& p) { return p.branch; });
    if (g.upstream_only && branch_rows > 0)
      curve += strf(" (%d rows of PR branches left out: upstream rows exist)", static_cast<int>(branch_rows));
    out << strf("  %-12s %-7s %-24s %-6s %5zu %8.3f %8.3f %8.3f %s\n", g.device.c_str(), g.backend.c_str(),
                g.path.c_str(), g.kind.c_str(), g.points.size(), g.median(), g.lo(), g.hi(), curve.c_str());
  }
  for (const auto& r : c.ratios)
    out << strf("  backend ratio: %s %s -> %s (%s, %s): achieved rate x %.3f over %d types (%s, %s)\n",
                r.device.c_str(), r.from.c_str(), r.to.c_str(), r.kind.c_str(), r.family.c_str(), r.ratio,
                r.pairs, r.date.c_str(), r.source.c_str());
  for (const auto& [key, points] : c.dispatch) {
    std::map<std::string, std::vector<double>> by_date;
    for (const auto& p : points) by_date[p.date].push_back(p.us);
    std::string per_date;
    for (const auto& [date, v] : by_date)
      per_date +=
          strf(" [%s] %.2f us (%zu rows)", date.empty() ? "undated" : date.c_str(), median_of(v), v.size());
    out << "  per-kernel cost: " << key.substr(0, key.find('|')) << " " << key.substr(key.find('|') + 1)
        << per_date << "\n";
  }
  for (const auto& s : c.skipped) out << "  skipped line " << s.line << ": " << s.why << "\n";
}

}  // namespace xk::gap
