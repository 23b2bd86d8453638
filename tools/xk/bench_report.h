// The display side of `xk bench`: a Google Benchmark reporter that prints one progress line
// per finished benchmark to stderr and keeps the results, then a readable table (and the
// model-level estimates when a models-set run measured whole layers) at the end.
#pragma once
#include <benchmark/benchmark.h>

#include <ostream>
#include <string>
#include <vector>

namespace xk::tool {

struct BenchRow {
  std::string name;                 // full benchmark name
  std::string device;               // its last path segment
  std::string benchmark;            // the name without the device
  std::string variant, act, timer;  // parsed from the label
  bool ok = false;
  std::string error;   // SkipWithError message
  double seconds = 0;  // per call
  double flops_rate = 0, bytes_rate = 0, tokens_rate = 0;
};

class ProgressReporter : public benchmark::BenchmarkReporter {
 public:
  // `total`: benchmarks that will run (for "[i/total]"); `progress`: print lines to stderr.
  ProgressReporter(size_t total, bool progress) : total_(total), progress_(progress) {}
  bool ReportContext(const Context& context) override;
  void ReportRuns(const std::vector<Run>& runs) override;
  const std::vector<BenchRow>& rows() const { return rows_; }

 private:
  size_t total_;
  bool progress_;
  std::vector<BenchRow> rows_;
};

// Parses "variant=NAME act=q8 timer=device" (bench/session.cpp writes it).
void parse_label(const std::string& label, BenchRow& row);

void print_results(std::ostream& os, const std::vector<BenchRow>& rows);

}  // namespace xk::tool
