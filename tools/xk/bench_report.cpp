#include "tools/xk/bench_report.h"

#include <iostream>

#include "bench/summary.h"
#include "tools/xk/text.h"

namespace xk::tool {

namespace {

double counter(const benchmark::BenchmarkReporter::Run& r, const char* key) {
  const auto it = r.counters.find(key);
  return it == r.counters.end() ? 0.0 : it->second.value;
}

std::string field(const std::string& label, const std::string& key, bool to_end) {
  const size_t at = label.find(key + "=");
  if (at == std::string::npos) return "";
  const size_t start = at + key.size() + 1;
  const size_t end = to_end ? std::string::npos : label.find(' ', start);
  return label.substr(start, end == std::string::npos ? std::string::npos : end - start);
}

std::string shorten(const std::string& s, size_t n) { return s.size() <= n ? s : s.substr(0, n - 3) + "..."; }

}  // namespace

void parse_label(const std::string& label, BenchRow& row) {
  row.variant = field(label, "variant", false);
  row.act = field(label, "act", false);
  row.timer = field(label, "timer", true);
}

bool ProgressReporter::ReportContext(const Context& context) {
  if (progress_)
    std::cerr << "xk bench: " << total_ << " benchmarks on " << context.cpu_info.num_cpus << "-core host\n";
  return true;
}

void ProgressReporter::ReportRuns(const std::vector<Run>& runs) {
  for (const Run& r : runs) {
    if (r.run_type != Run::RT_Iteration) continue;
    BenchRow row;
    // The registered name, without Google Benchmark's "/manual_time" or "/iterations:N".
    row.name = r.run_name.function_name;
    const size_t slash = row.name.rfind('/');
    row.device = slash == std::string::npos ? "" : row.name.substr(slash + 1);
    row.benchmark = slash == std::string::npos ? row.name : row.name.substr(0, slash);
    parse_label(r.report_label, row);
    row.ok = !r.error_occurred;
    row.error = r.error_message;
    if (row.ok && r.iterations > 0) {
      // real_accumulated_time is the manual (device) time for UseManualTime benchmarks.
      row.seconds = r.real_accumulated_time / static_cast<double>(r.iterations);
      row.flops_rate = counter(r, "FLOP/s");
      row.bytes_rate = counter(r, "bytes/s");
      row.tokens_rate = counter(r, "tok/s");
    }
    rows_.push_back(row);
    if (progress_) {
      std::cerr << "[" << rows_.size() << "/" << total_ << "] " << row.name << "  ";
      if (row.ok)
        std::cerr << duration(row.seconds) << "  " << si(row.flops_rate, "FLOP/s") << "\n";
      else
        std::cerr << "skipped: " << row.error << "\n";
    }
  }
}

void print_results(std::ostream& os, const std::vector<BenchRow>& rows) {
  Table t({"DEVICE", "BENCHMARK", "VARIANT", "ACT", "TIME", "FLOP/s", "BYTES/s", "TOK/s", "TIMER"});
  std::vector<std::string> skipped;
  for (const BenchRow& r : rows) {
    if (!r.ok) {
      t.add({r.device, r.benchmark, "-", "-", "skipped", "", "", "", ""});
      skipped.push_back(r.name + ": " + r.error);
      continue;
    }
    t.add({r.device, r.benchmark, r.variant, r.act.empty() ? "-" : r.act, duration(r.seconds),
           si(r.flops_rate, "FLOP/s"), si(r.bytes_rate, "B/s"), si(r.tokens_rate, "tok/s"), r.timer});
  }
  t.print(os);
  if (!skipped.empty()) {
    os << "\nSkipped (what the device lacks, or why the call failed):\n";
    for (const auto& s : skipped) os << "  " << shorten(s, 400) << "\n";
  }

  std::vector<bench::Result> results;
  for (const BenchRow& r : rows) results.push_back({r.name, r.seconds, r.ok});
  const auto estimates = bench::model_estimates(results);
  if (estimates.empty()) return;
  os << "\nModel estimates: layers x (layer GEMMs + attention) as measured above; norms, RoPE,\n"
        "sampling and the rest of an inference engine are not counted, so these are upper bounds.\n";
  Table m({"DEVICE", "MODEL", "WORKLOAD", "FORMAT", "ACT", "LAYER", "ATTENTION SHARE", "TOK/s"});
  for (const auto& e : estimates) {
    const double layer = e.gemm_seconds + e.attention_seconds;
    m.add({e.device, e.model, e.workload, e.format, e.act, duration(layer),
           std::to_string(static_cast<int>(100.0 * e.attention_seconds / layer + 0.5)) + "%",
           si(e.tokens_per_second, "tok/s")});
  }
  m.print(os);
}

}  // namespace xk::tool
