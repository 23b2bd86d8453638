// The thread contract (include/xk/device.h, README "Contracts"), exercised as it allows, so
// that a ThreadSanitizer build (.ci/run runs this suite under the tsan preset) reports any
// race inside the library:
//   - distinct Devices, one per thread, each call returning its own launch record;
//   - the const queries (info, variants, timing, last_launch) from another thread while a
//     thread runs ops on the device.
// One device name per CTest test (--device / XK_DEVICE).
#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "badinput_common.h"
#include "xk/xk.h"

namespace xk::badinput {
namespace {

constexpr int64_t M = 8, N = 16, K = 64;

std::vector<float> ramp(size_t n, int seed) {
  std::vector<float> v(n);
  for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<float>((i * 13 + seed) % 11) * 0.125f - 0.5f;
  return v;
}

struct Call {
  std::vector<float> y;
  LaunchRecord rec;
  std::string selected;  // what select_matmul said the call would run
};

Call run_matmul(Device& dev, int seed, ActPrecision act = ActPrecision::Auto) {
  const std::vector<float> w = ramp(N * K, seed), x = ramp(M * K, seed + 1);
  const std::vector<uint8_t> q8 = quantize(DType::Q8_0, w.data(), N, K);
  Tensor W = upload_weights(dev, DType::Q8_0, N, K, q8.data());
  Tensor X = upload(dev, DType::F32, {M, K}, x.data());
  Tensor Y = make_tensor(dev, DType::F32, {M, N});
  Call c;
  const MatmulOptions opt{.act = act, .variant = ""};
  const Selection sel = select_matmul(dev, W, X, Y, opt);
  c.selected = sel.variant ? sel.variant->name : "none: " + sel.reason;
  c.rec = matmul(dev, W, X, Y, opt);
  c.y = download_f32(Y);
  return c;
}

class Threads : public DeviceTest {};

TEST_F(Threads, DistinctDevicesInParallelEachGetTheirOwnLaunchRecord) {
  constexpr int kThreads = 3, kCalls = 3;
  std::vector<std::vector<Call>> got(kThreads);
  std::vector<std::string> errors(kThreads);
  {
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t)
      threads.emplace_back([&, t] {
        try {
          std::unique_ptr<Device> own = open_device(g_device_name);
          own->set_timing(t % 2 == 0);  // records differ between threads in device_seconds
          for (int i = 0; i < kCalls; ++i) got[t].push_back(run_matmul(*own, t));
        } catch (const std::exception& e) {
          errors[t] = e.what();
        }
      });
    for (std::thread& th : threads) th.join();
  }
  std::unique_ptr<Device> oracle = open_device("cpu-ref");
  for (int t = 0; t < kThreads; ++t) {
    ASSERT_EQ(errors[t], "") << "thread " << t;
    ASSERT_EQ(got[t].size(), size_t{kCalls}) << "thread " << t;
    for (const Call& c : got[t]) {
      // cpu-ref at the precision the record says ran: the record is also what makes the check exact.
      const std::vector<float> want = run_matmul(*oracle, t, c.rec.act).y;
      EXPECT_EQ(c.rec.variant, c.selected) << "thread " << t << ": the record is not this call's";
      EXPECT_NE(c.rec.act, ActPrecision::Auto) << "thread " << t << ": the record names no precision";
      if (t % 2 == 1) {
        EXPECT_LT(c.rec.device_seconds, 0.0) << "thread " << t << ": timing was off";
      }
      ASSERT_EQ(c.y.size(), want.size());
      for (size_t i = 0; i < c.y.size(); ++i)
        EXPECT_NEAR(c.y[i], want[i], 1e-3f * (1.0f + std::fabs(want[i])))
            << "thread " << t << ", Y element " << i << " on " << g_device_name << ", " << c.rec.variant;
    }
  }
}

TEST_F(Threads, ConstQueriesFromAnotherThreadWhileOpsRun) {
  std::unique_ptr<Device> dev = open_device(g_device_name);
  std::atomic<bool> reading{false}, done{false};
  std::string worker_error;
  std::thread worker([&] {
    while (!reading) std::this_thread::yield();  // overlap the calls with the reads below
    try {
      for (int i = 0; i < 8; ++i) run_matmul(*dev, i);
    } catch (const std::exception& e) {
      worker_error = e.what();
    }
    done = true;
  });
  // The queries the contract allows meanwhile; each result is checked so none is optimised out.
  size_t bad = 0, reads = 0;
  reading = true;
  do {
    const LaunchRecord r = dev->last_launch();
    bad += !r.variant.empty() && r.variant.find('_') == std::string::npos;
    bad += dev->info().name.empty();
    bad += dev->variants().empty();
    bad += dev->timing();
    ++reads;
    std::this_thread::yield();
  } while (!done);
  worker.join();
  ASSERT_EQ(worker_error, "");
  EXPECT_EQ(bad, 0u);
  EXPECT_GT(reads, 0u);
  EXPECT_FALSE(dev->last_launch().variant.empty()) << "the last call's record is kept";
}

}  // namespace
}  // namespace xk::badinput

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  if (const int rc = xk::badinput::open_device_under_test(argc, argv, "xk_badinput_threads")) return rc;
  const int rc = RUN_ALL_TESTS();
  xk::badinput::g_device.reset();
  return rc;
}
