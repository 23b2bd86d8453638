// The timed loop: the device's own time feeds UseManualTime, wall time stands in (and the
// label says so) when a backend reports none, the simulator's counters are passed through,
// and a device that lacks a format skips with the reason instead of passing silently.
#include <benchmark/benchmark.h>
#include <gtest/gtest.h>

#include "backends/core/variant_row.h"
#include "backends/cpu/host_device.h"
#include "bench/bench.h"
#include "xk/registry.h"

namespace xk::bench {
namespace {

// A host-memory device whose only matmul variant handles Q4_0 x Q8 and reports a fixed
// 1 ms device time plus simulator-style counters; its attention variant reports no time.
class FakeDevice : public host::HostDevice {
 public:
  FakeDevice() : HostDevice(make_info()) {
    Variant mm;
    mm.name = "mm_q4_0_q8_fake";
    mm.op = Op::Matmul;
    mm.formats = {DType::Q4_0};
    mm.acts = {ActPrecision::Q8};
    mm.ops = std::make_shared<const VariantOps>(
        VariantOps{.run_matmul = [](Device& dev, const MatmulArgs&, LaunchRecord& rec) {
          if (dev.timing()) rec.device_seconds = 1e-3;
          rec.has_counters = true;
          rec.mma_by_kind["mma.m16n8k32.s8"] = 7;
          rec.global_bytes_read = 100;
          rec.global_bytes_written = 10;
        }});
    DeviceAccess::variants(*this).push_back(mm);
    Variant at;
    at.name = "attn_f16_untimed_fake";
    at.op = Op::Attention;
    at.formats = {DType::F16};
    at.ops = std::make_shared<const VariantOps>(
        VariantOps{.run_attention = [](Device&, const AttentionArgs&, LaunchRecord&) {}});
    DeviceAccess::variants(*this).push_back(at);
  }

 private:
  static DeviceInfo make_info() {
    DeviceInfo i;
    i.name = "fake";
    i.api = "test";
    i.memory_bytes = uint64_t{1} << 30;
    return i;
  }
};

class Collect : public benchmark::BenchmarkReporter {
 public:
  bool ReportContext(const Context&) override { return true; }
  void ReportRuns(const std::vector<Run>& r) override { runs.insert(runs.end(), r.begin(), r.end()); }
  std::vector<Run> runs;
};

double counter(const benchmark::BenchmarkReporter::Run& r, const std::string& k) {
  auto it = r.counters.find(k);
  return it == r.counters.end() ? -1.0 : it->second.value;
}

TEST(BenchSession, DeviceTimeFeedsManualTimeAndRates) {
  FakeDevice dev;
  Session s({3});
  SetOptions o;
  o.format = "q4_0";
  for (const auto& c : matmul_cases(dev, o))
    if (c.M == 64) s.add(dev, c);
  ASSERT_EQ(s.names().size(), 1u);
  EXPECT_EQ(s.names()[0], "matmul/small/M64_N1024_K1024/q4_0/q8/fake");
  Collect rep;
  benchmark::RunSpecifiedBenchmarks(&rep);
  ASSERT_EQ(rep.runs.size(), 1u);
  const auto& r = rep.runs[0];
  ASSERT_FALSE(r.error_occurred) << r.error_message;
  EXPECT_EQ(r.iterations, 3);
  EXPECT_DOUBLE_EQ(r.real_accumulated_time / 3, 1e-3);
  EXPECT_NE(r.report_label.find("variant=mm_q4_0_q8_fake act=q8 timer=device"), std::string::npos)
      << r.report_label;
  const double flops = 2.0 * 64 * 1024 * 1024;
  EXPECT_DOUBLE_EQ(counter(r, "flops"), flops);
  EXPECT_NEAR(counter(r, "FLOP/s"), flops / 1e-3, flops * 1e-6);
  EXPECT_NEAR(counter(r, "tok/s"), 64 / 1e-3, 1e-3);
  EXPECT_DOUBLE_EQ(counter(r, "mma"), 7);
  EXPECT_DOUBLE_EQ(counter(r, "mma:mma.m16n8k32.s8"), 7);
  EXPECT_DOUBLE_EQ(counter(r, "global_bytes_read"), 100);
  EXPECT_DOUBLE_EQ(counter(r, "global_bytes_written"), 10);
}

TEST(BenchSession, MissingFormatSkipsWithTheSelectionReason) {
  FakeDevice dev;
  Session s({1});
  SetOptions o;
  o.format = "nvfp4";
  const auto cases = matmul_cases(dev, o);
  ASSERT_EQ(cases.size(), 2u);  // M = 1 and 64, each with act "auto" since nothing offers nvfp4
  s.add(dev, cases[0]);
  Collect rep;
  benchmark::RunSpecifiedBenchmarks(&rep);
  ASSERT_EQ(rep.runs.size(), 1u);
  EXPECT_TRUE(rep.runs[0].error_occurred);
  EXPECT_NE(rep.runs[0].error_message.find("nvfp4"), std::string::npos) << rep.runs[0].error_message;
}

TEST(BenchSession, NoDeviceTimeFallsBackToWallTimeAndSaysSo) {
  FakeDevice dev;
  Session s({2});
  for (const auto& c : attention_cases(dev, {})) s.add(dev, c);
  Collect rep;
  benchmark::RunSpecifiedBenchmarks(&rep);
  ASSERT_EQ(rep.runs.size(), 2u);
  for (const auto& r : rep.runs) {
    ASSERT_FALSE(r.error_occurred) << r.error_message;
    EXPECT_NE(r.report_label.find("timer=wall"), std::string::npos) << r.report_label;
    EXPECT_GT(r.real_accumulated_time, 0.0);
    EXPECT_EQ(counter(r, "mma"), -1.0) << "no simulator counters were reported";
  }
}

TEST(BenchSession, SmallSetRegistersAndRunsOnCpuRef) {
  Session s({1});
  Device& dev = s.open("cpu-ref");
  for (const auto& c : matmul_cases(dev, {})) s.add(dev, c);
  for (const auto& c : attention_cases(dev, {})) s.add(dev, c);
  EXPECT_EQ(s.names().size(), 38u);
  Collect rep;
  benchmark::RunSpecifiedBenchmarks(&rep, "M1_N1024_K1024/q8_0/q8/|decode");
  ASSERT_EQ(rep.runs.size(), 2u);
  for (const auto& r : rep.runs) {
    ASSERT_FALSE(r.error_occurred) << r.error_message;
    EXPECT_NE(r.report_label.find("timer=device"), std::string::npos) << r.report_label;
    EXPECT_GT(counter(r, "FLOP/s"), 0);
    EXPECT_GT(counter(r, "bytes/s"), 0);
  }
}

}  // namespace
}  // namespace xk::bench
