// XK_SIM_RACECHECK=1: plain shared-memory writes of different threads in one barrier interval,
// not ordered by a __syncthreads (other warps) or a warp collective (same warp), are reported
// as write/write races. Each case is shown correct and with one planted unordered write.
#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

#include "kernels/cuda/ptx.cuh"
#include "sim_test_util.h"
#include "xk/error.h"

namespace {

namespace st = xk::simtest;

struct RacecheckOn {  // for one test's launches (the engine reads it at every launch)
  RacecheckOn() { setenv("XK_SIM_RACECHECK", "1", 1); }
  ~RacecheckOn() { unsetenv("XK_SIM_RACECHECK"); }
};

template <class F>
void expect_race(F&& body, const std::string& needle) {
  try {
    body();
    ADD_FAILURE() << "expected a write/write race report, nothing was thrown";
  } catch (const xk::Error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("write/write race"), std::string::npos) << what;
    EXPECT_NE(what.find(needle), std::string::npos) << what;
  }
}

// Threads t and t + 32 (two warps) both write s[t % 32]; with `barrier` they do so in
// different intervals. (The kernels read what they wrote: g++ drops never-read stores.)
float two_warps_one_slot(bool barrier) {
  float out = 0;
  st::run(1, 64, [barrier, &out] {
    __shared__ float s[32];
    const unsigned t = threadIdx.x;
    if (t < 32) s[t] = 1.0f;
    if (barrier) __syncthreads();
    if (t >= 32) s[t - 32] = 2.0f;
    __syncthreads();
    if (t == 0) out = s[0];
  });
  return out;
}

TEST(SimRacecheck, WritesOfTwoWarpsSeparatedByABarrierPass) {
  RacecheckOn on;
  EXPECT_EQ(two_warps_one_slot(true), 2.0f);
}

TEST(SimRacecheck, WritesOfTwoWarpsInOneBarrierIntervalAreAWriteWriteRace) {
  RacecheckOn on;
  expect_race([] { two_warps_one_slot(false); }, "__syncthreads");
}

// Lane 0 writes s[0], then lane 1 overwrites it; `sync` puts a __syncwarp between them.
int two_lanes_one_slot(bool sync) {
  int out = 0;
  st::run(1, 32, [sync, &out] {
    __shared__ int s[4];
    const unsigned l = threadIdx.x;
    if (l == 0) s[0] = 10;
    if (sync) __syncwarp();
    if (l == 1) s[0] = 11;
    __syncthreads();
    if (l == 0) out = s[0];
  });
  return out;
}

TEST(SimRacecheck, LanesOrderedBySyncwarpPass) {
  RacecheckOn on;
  EXPECT_EQ(two_lanes_one_slot(true), 11);
}

TEST(SimRacecheck, LanesOfOneWarpWithoutSyncwarpAreAWriteWriteRace) {
  RacecheckOn on;
  expect_race([] { two_lanes_one_slot(false); }, "__syncwarp");
}

// A kernel template's arrays (named in sim_poison_shared) and dynamic shared memory are
// checked too.
template <int N>
void template_kernel_race() {
  __shared__ float s[N];
  xk::ptx::sim_poison_shared(s);
  s[threadIdx.x % 8] = float(threadIdx.x);
  __syncthreads();
}

TEST(SimRacecheck, TemplateAndDynamicSharedAreChecked) {
  RacecheckOn on;
  expect_race([] { st::run(1, 64, [] { template_kernel_race<8>(); }); }, "write/write");
  expect_race(
      [] {
        st::run(
            1, 64, [] { xk::ptx::dynamic_smem<int>()[threadIdx.x % 4] = int(threadIdx.x); }, "dyn_race", 64);
      },
      "dynamic shared byte");
}

TEST(SimRacecheck, OffByDefault) { EXPECT_NO_THROW(two_warps_one_slot(false)); }

}  // namespace
