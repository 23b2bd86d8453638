// `xk report`: a Markdown report plus plots (plot.py, matplotlib) in one folder.
//
// xk computes everything; plot.py only draws what report_data.json tells it: per device a
// roofline (one ceiling per instruction class, the bandwidth slope, every kernel placed at
// its arithmetic intensity and attained rate) and one stacked bar per device of where the
// prompt-processing time goes.
#include <algorithm>
#include <cerrno>
#include <cstring>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <ostream>

#include "commands.h"
#include "render.h"
#include "xk/error.h"

namespace xk::gap {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

std::string shell_quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += (c == '\'') ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

json roofline_data(const DeviceSpec& dev, const Estimate& e, const BenchFile* bench,
                   const std::string& bench_dev) {
  json d = {{"key", dev.key},
            {"name", dev.name},
            {"bandwidth", dev.bandwidth_bytes()},
            {"bandwidth_kind", dev.memory.at("bandwidth_theoretical").kind}};
  for (const auto& [cls, f] : dev.peak) d["peaks"][cls] = {{"ops", f.value * 1e12}, {"kind", f.kind}};
  for (const auto& k : e.kernels) {
    const double t = k.time - k.rl.t_overhead;
    d["points"].push_back({{"label", k.name + " (" + e.workload + ")"},
                           {"class", k.cls},
                           {"ai", k.flops / k.bytes},
                           {"rate", k.flops / t},
                           {"measured", k.measured}});
    d["time"].push_back({k.name, k.time});  // in layer order, not sorted by name
  }
  if (bench)
    for (const auto& b : bench->entries) {
      if (b.device != bench_dev || b.bytes <= 0 || b.flops <= 0) continue;
      // Short labels: "qkv tg128 q8", "M64_N1024_K1024 q8", "attn decode".
      std::string label;
      if (b.op == "matmul")
        label = b.gemm + (b.workload.empty() ? "" : " " + b.workload) + " " + b.act;
      else
        label = "attn " + (b.model == "small" ? b.workload.substr(0, b.workload.find('_')) : b.workload);
      d["points"].push_back({{"label", label},
                             {"class", "bench"},
                             {"ai", b.flops / b.bytes},
                             {"rate", b.flops / b.seconds},
                             {"measured", true}});
    }
  d["total_s"] = e.total;
  d["tok_per_s"] = e.tok_per_s();
  return d;
}

void write_markdown(std::ostream& md, const Database& db, const ReportArgs& args,
                    const std::vector<Estimate>& est, const std::vector<std::string>& images,
                    const BenchFile* bench, const std::string& bench_dev) {
  const auto* m = models::find_model(args.model);
  md << "# xkern gap report: " << m->label << ", " << args.format << " weights\n\n";
  md << "Device database: `" << db.path
     << "`. Predicted figures are roofline times with the database's "
        "efficiency factors; measured ones come from `"
     << (args.bench.empty() ? "(no bench file)" : args.bench) << "`"
     << (bench_dev.empty() ? "" : " (bench device `" + bench_dev + "`)") << ".\n\n";
  md << "## Devices\n\n| device | best class for " << args.format
     << " | peak | bandwidth | pp512 tok/s | pp2048 tok/s | tg128 tok/s |\n"
        "|---|---|---|---|---|---|---|\n";
  for (const auto& e : est) {
    const DeviceSpec& d = db.device(e.device);
    const auto& bwf = d.memory.at("bandwidth_theoretical");
    md << "| " << d.name << " | " << e.main_path.kernel << " (" << e.main_path.cls << ") | "
       << strf("%.1f T (%s)", e.main_peak / 1e12, d.peak.at(e.main_path.cls).kind.c_str()) << " | "
       << strf("%.0f GB/s (%s)", bwf.value, bwf.kind.c_str());
    for (const char* w : {"pp512", "pp2048", "tg128"})
      md << " | " << strf("%.1f", estimate(d, args.model, args.format, w).tok_per_s());
    md << " |\n";
  }
  md << "\nThe tok/s columns are model predictions (no measurements), so devices compare on equal terms.\n\n";
  md << "## Where " << args.workload << " time goes\n\n```\n";
  print_kernel_table(md, est);
  md << "```\n\n";
  if (est.size() >= 2) {
    md << "## Decomposition of the gap\n\n```\n";
    for (size_t i = 1; i < est.size(); ++i) {
      if (est[i].device == "this-cpu" || est[0].device == "this-cpu") continue;
      print_decomposition(md, decompose(est[0], est[i]));
      md << "\n";
      const DeviceSpec& a = db.device(est[0].device);
      const DeviceSpec& b = db.device(est[i].device);
      print_scenarios(md, est[0], est[i],
                      run_scenarios(a, b, est[0], est[i], default_scenarios(a, b, args.format)));
      md << "\n";
    }
    print_factor_definitions(md);
    md << "```\n\n";
  }
  if (!bench_dev.empty()) {
    const DeviceSpec& cpu = db.device("this-cpu");
    md << "## Measured on this machine (`" << bench_dev
       << "`)\n\n| benchmark | time | FLOP/s | % of f32 FMA peak | bytes/s | % of probed bandwidth |\n"
          "|---|---|---|---|---|---|\n";
    for (const auto& b : bench->entries) {
      if (b.device != bench_dev) continue;
      md << "| `" << b.name << "` | " << strf("%.3g ms", b.seconds * 1e3) << " | "
         << strf("%.3g G", b.flops / b.seconds / 1e9) << " | "
         << strf("%.2f%%", 100 * b.flops / b.seconds / cpu.peak_ops("f32_fma")) << " | "
         << strf("%.3g GB/s", b.bytes / b.seconds / 1e9) << " | "
         << strf("%.1f%%", 100 * b.bytes / b.seconds / cpu.bandwidth_bytes()) << " |\n";
    }
    md << "\nbytes are the problem's compulsory traffic (each input once, output once) as `xk bench` counts "
          "them.\n\n";
  }
  if (bench) {
    const auto checks = traffic_checks(*bench);
    if (!checks.empty()) {
      md << "## Simulator counters vs the traffic formula\n\nGlobal bytes one launch of the real kernel "
            "moved on the "
            "simulator, beside the tiling formula without caches (W x ceil(M/tile_m) + X_q x ceil(N/tile_n) "
            "+ Y):\n\n"
            "| benchmark | variant | tile | formula | simulator | simulator / formula "
            "|\n|---|---|---|---|---|---|\n";
      for (const auto& c : checks)
        md << "| `" << c.name << "` | `" << c.variant << "` | " << c.tile_m << "x" << c.tile_n << " | "
           << strf("%.4g MB", c.formula_bytes / 1e6) << " | " << strf("%.4g MB", c.simulator_bytes / 1e6)
           << " | " << strf("%.3f", c.simulator_bytes / c.formula_bytes) << " |\n";
      md << "\n";
    }
  }
  md << "## Plots\n\n";
  for (const auto& img : images) md << "![" << img << "](" << img << ")\n\n";
  md << "Roofline: horizontal lines are the peaks of each instruction class, the slope is the memory "
        "bandwidth; "
        "each dot is a kernel at its arithmetic intensity (FLOP per DRAM byte) and attained FLOP/s "
        "(filled = measured, hollow = predicted).\n";
}

// --out: std::filesystem's own exception names neither the option nor, on every library, the path.
void make_out_dir(const std::string& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) throw Error("report", "out", "cannot create output folder '" + dir + "': " + ec.message());
  if (!fs::is_directory(dir, ec)) throw Error("report", "out", "'" + dir + "' exists and is not a folder");
}

// Writes one output file; a file that cannot be opened or written is an error naming it.
template <class Write>
void write_file(const fs::path& path, Write&& write) {
  std::ofstream f(path);
  if (!f) throw Error("report", "out", "cannot write '" + path.string() + "': " + std::strerror(errno));
  write(f);
  f.close();
  if (!f) throw Error("report", "out", "writing '" + path.string() + "' failed (disk full?)");
}

}  // namespace

std::string python_for_plots() {
  if (const char* py = std::getenv("XK_PYTHON"); py && *py) return py;
  for (const char* py : {"python3", "/usr/bin/python3"}) {
    const std::string probe = std::string(py) + " -c 'import matplotlib' >/dev/null 2>&1";
    if (std::system(probe.c_str()) == 0) return py;
  }
  return "";
}

int run_report(const ReportArgs& args, std::ostream& out) {
  const Database db = load_database(database_path());
  BenchFile bench;
  std::string bench_dev;
  std::vector<std::string> keys;
  if (!args.bench.empty()) {
    bench = read_bench_json(args.bench);
    const auto names = bench.device_names();
    if (names.empty()) throw Error("report", "bench", args.bench + ": no usable benchmark entries");
    bench_dev = names.front();
  }
  // Database devices first (the first is the reference of the ratios), this machine last.
  for (const auto& k : args.devices)
    if (k != "this-cpu") keys.push_back(k);
  if (!args.bench.empty() ||
      std::find(args.devices.begin(), args.devices.end(), "this-cpu") != args.devices.end())
    keys.push_back("this-cpu");
  if (keys.empty()) throw Error("report", "devices", "no devices to report on");

  std::vector<Estimate> est;
  json data = {{"model", std::string(models::find_model(args.model) ? models::find_model(args.model)->label
                                                                    : args.model)},
               {"format", args.format},
               {"workload", args.workload}};
  for (const auto& key : keys) {
    const DeviceSpec& dev = db.device(key);
    const bool measured = key == "this-cpu" && !args.bench.empty();
    est.push_back(
        estimate(dev, args.model, args.format, args.workload, {}, measured ? &bench : nullptr, bench_dev));
    data["devices"].push_back(roofline_data(dev, est.back(), measured ? &bench : nullptr, bench_dev));
  }

  make_out_dir(args.out_dir);
  const fs::path data_path = fs::path(args.out_dir) / "report_data.json";
  write_file(data_path, [&](std::ostream& f) { f << data.dump(1) << "\n"; });
  std::vector<std::string> images;
  for (const auto& k : keys) images.push_back("roofline_" + k + ".png");
  images.push_back("pp_time.png");
  if (args.plots) {
    const fs::path plot = fs::path(data_dir()) / "gap" / "plot.py";
    if (!fs::exists(plot))
      throw Error("report", "plot", "plot.py not found at " + plot.string() + " (set XK_DATA_DIR)");
    const std::string py = python_for_plots();
    if (py.empty())
      throw Error("report", "plot",
                  "no python3 with matplotlib found (install python3-matplotlib or set XK_PYTHON)");
    const std::string cmd = py + " " + shell_quote(plot.string()) + " " + shell_quote(data_path.string()) +
                            " " + shell_quote(args.out_dir);
    if (std::system(cmd.c_str()) != 0)
      throw Error("report", "plot", "'" + cmd + "' failed (needs python3-matplotlib)");
  }
  const fs::path md_path = fs::path(args.out_dir) / "report.md";
  write_file(md_path,
             [&](std::ostream& md) { write_markdown(md, db, args, est, images, &bench, bench_dev); });
  out << "wrote " << md_path.string() << ", " << data_path.string();
  for (const auto& i : images) out << ", " << (fs::path(args.out_dir) / i).string();
  out << "\n";
  return 0;
}

}  // namespace xk::gap
