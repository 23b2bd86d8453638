// XK_SIM_RACECHECK (on by default where the kernel sources are instrumented): plain shared-memory
// loads and stores of different threads in one barrier interval, not ordered by a __syncthreads
// (other warps) or a completed warp collective (same warp), are reported as read/write or
// write/write races naming kernel, block, both threads and the byte. Each case is shown correct
// and with one planted unordered access; under every schedule seed, including round-robin.
#include <gtest/gtest.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "kernels/cuda/ptx.cuh"
#include "sim_test_util.h"
#include "xk/error.h"

namespace {

namespace st = xk::simtest;

using xk::test::expect_error_containing;
using xk::test::ScopedEnv;

// For one test's launches (the engine reads both at every launch): the race check on, and
// round-robin order, which the expected messages (who reads or writes first) assume; tests
// that loop over seeds set their own.
struct RacecheckOn {
  RacecheckOn() {
    setenv("XK_SIM_RACECHECK", "1", 1);
    setenv("XK_SIM_SEED", "0", 1);
  }
  ~RacecheckOn() {
    unsetenv("XK_SIM_RACECHECK");
    unsetenv("XK_SIM_SEED");
  }
};

constexpr int kSeeds[] = {0, 1, 2, 3};  // 0 = round-robin by thread index

// Sanitizer builds race-check by snapshots of shared memory, which see writes that change a
// byte and nothing else: the tests of reads (and of atomics) skip there.
bool sees_reads() { return xk::sim::kRacecheckSeesReads; }
constexpr const char* kSnapshotOnly = "sanitizer build: the race check sees only changed bytes (snapshots)";

template <class F>
void expect_race(F&& body, const std::string& kind, const std::vector<std::string>& needles) {
  try {
    body();
    ADD_FAILURE() << "expected a " << kind << " report, nothing was thrown";
  } catch (const xk::Error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find(kind), std::string::npos) << what;
    for (const auto& n : needles)
      EXPECT_NE(what.find(n), std::string::npos) << "missing '" << n << "' in: " << what;
  }
}

// ---- write/write ---------------------------------------------------------------------------

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
  expect_race([] { two_warps_one_slot(false); }, "write/write race",
              {"kernel 'test_kernel'", "block (0,0,0)", "thread (32,0,0)", "which thread (0,0,0)",
               "static shared byte", "__syncthreads"});
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
  expect_race([] { two_lanes_one_slot(false); }, "write/write race",
              {"thread (1,0,0)", "which thread (0,0,0)", "__syncwarp"});
}

// ---- read/write, across warps: both orders -------------------------------------------------

// One thread of warp `writer_warp` writes s[5], one thread of the other warp reads it. Under
// round-robin, warp 0 runs first: writer_warp 1 is a read followed by a write, 0 the reverse.
float cross_warp_exchange(unsigned writer_warp, bool barrier) {
  float out = 0;
  st::run(
      1, 64,
      [=, &out] {
        __shared__ float s[8];
        const unsigned t = threadIdx.x;
        if (t == 0) s[6] = 0.0f;  // something for the reader when the write is ordered after it
        __syncthreads();
        const unsigned writer = 32 * writer_warp + 3, reader = 32 * (1 - writer_warp) + 7;
        if (t == writer) s[5] = 42.0f;
        if (barrier) __syncthreads();
        if (t == reader) out = s[5] + s[6];
      },
      "exchange_kernel");
  return out;
}

TEST(SimRacecheck, ReadOfAnotherWarpsWriteAfterABarrierPasses) {
  if (!sees_reads()) GTEST_SKIP() << kSnapshotOnly;
  RacecheckOn on;
  for (int seed : kSeeds) {
    ScopedEnv g("XK_SIM_SEED", std::to_string(seed));
    EXPECT_EQ(cross_warp_exchange(0, true), 42.0f) << "seed " << seed;
    EXPECT_EQ(cross_warp_exchange(1, true), 42.0f) << "seed " << seed;
  }
}

TEST(SimRacecheck, ReadAndWriteOfTwoWarpsInOneIntervalAreAReadWriteRaceInEitherOrder) {
  if (!sees_reads()) GTEST_SKIP() << kSnapshotOnly;
  RacecheckOn on;
  // Round-robin: warp 0 writes first (the read sees it), or warp 0 reads first (it does not).
  expect_race([] { cross_warp_exchange(0, false); }, "read/write race",
              {"kernel 'exchange_kernel'", "block (0,0,0)", "thread (39,0,0) (warp 1, lane 7): reads",
               "which thread (3,0,0) (warp 0, lane 3) wrote", "static shared byte", "__syncthreads"});
  expect_race([] { cross_warp_exchange(1, false); }, "read/write race",
              {"thread (35,0,0) (warp 1, lane 3): writes", "which thread (7,0,0) (warp 0, lane 7) read",
               "__syncthreads"});
  for (int seed : kSeeds) {
    ScopedEnv g("XK_SIM_SEED", std::to_string(seed));
    expect_race([] { cross_warp_exchange(0, false); }, "read/write race", {});
    expect_race([] { cross_warp_exchange(1, false); }, "read/write race", {});
  }
}

// The race is found whatever the value: the write of an unchanged value (which the snapshot
// method cannot see), and a read of another warp no longer among the byte's two latest readers
// (named by its warp).
TEST(SimRacecheck, ReadWriteRaceIsFoundForUnchangedValuesAndEarlierReaders) {
  if (!sees_reads()) GTEST_SKIP() << kSnapshotOnly;
  RacecheckOn on;
  expect_race(
      [] {
        st::run(1, 128, [] {
          __shared__ int s[4];
          const unsigned t = threadIdx.x;
          if (t == 0) s[0] = 0;
          __syncthreads();
          if (t < 32 || t >= 96) {
            volatile int sink = s[0];  // warp 0 reads, then warp 3
            (void)sink;
          }
          if (t >= 96) __syncwarp();  // orders warp 3's reads before its own write, not warp 0's
          if (t == 127) s[0] = 0;     // the value it already holds
        });
      },
      "read/write race", {"thread (127,0,0)", "which a thread of warp 0 read", "__syncthreads"});
}

// ---- read/write, inside one warp ------------------------------------------------------------

enum class Order { None, Syncwarp, Shuffle };
// Lane 0 writes s[0]; lane 1 reads it, with `order` between them.
int lanes_exchange(Order order) {
  int out = 0;
  st::run(1, 32, [order, &out] {
    __shared__ int s[4];
    const unsigned l = threadIdx.x;
    if (l == 0) s[0] = 77;
    if (order == Order::Syncwarp) __syncwarp();
    int v = 0;
    if (order == Order::Shuffle) v = __shfl_sync(0xffffffffu, int(l), 0);
    if (l == 1) out = s[0] + v;
  });
  return out;
}

TEST(SimRacecheck, LanesOrderedBySyncwarpOrAShufflePass) {
  if (!sees_reads()) GTEST_SKIP() << kSnapshotOnly;
  RacecheckOn on;
  for (int seed : kSeeds) {
    ScopedEnv g("XK_SIM_SEED", std::to_string(seed));
    EXPECT_EQ(lanes_exchange(Order::Syncwarp), 77) << "seed " << seed;
    EXPECT_EQ(lanes_exchange(Order::Shuffle), 77) << "seed " << seed;
  }
}

TEST(SimRacecheck, LanesOfOneWarpWithNothingBetweenAreAReadWriteRace) {
  if (!sees_reads()) GTEST_SKIP() << kSnapshotOnly;
  RacecheckOn on;
  for (int seed : kSeeds) {
    ScopedEnv g("XK_SIM_SEED", std::to_string(seed));
    expect_race([] { lanes_exchange(Order::None); }, "read/write race", {"__syncwarp or shuffle"});
  }
}

// ---- what else the log sees -----------------------------------------------------------------

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
  expect_race([] { st::run(1, 64, [] { template_kernel_race<8>(); }); }, "write/write race",
              {"of a template's __shared__ array"});
  expect_race(
      [] {
        st::run(
            1, 64, [] { xk::ptx::dynamic_smem<int>()[threadIdx.x % 4] = int(threadIdx.x); }, "dyn_race", 64);
      },
      "write/write race", {"dynamic shared byte 0", "kernel 'dyn_race'"});
}

// Data a cp.async brought in is the issuing thread's write when its wait retires it: another
// warp must not read it before the next __syncthreads.
float staged_read(bool barrier) {
  std::vector<float> in(4, 2.5f);
  float out = 0;
  st::run(1, 64, [&] {
    __shared__ __align__(16) float buf[4];
    const unsigned t = threadIdx.x;
    if (t == 0) {
      xk::ptx::cp_async_16(buf, in.data());
      xk::ptx::cp_async_commit();
      xk::ptx::cp_async_wait<0>();
    }
    if (barrier) __syncthreads();
    if (t == 40) out = buf[1];
  });
  return out;
}

TEST(SimRacecheck, CpAsyncDataReadByAnotherWarpNeedsABarrierAfterTheWait) {
  if (!sees_reads()) GTEST_SKIP() << kSnapshotOnly;
  RacecheckOn on;
  EXPECT_EQ(staged_read(true), 2.5f);
  expect_race([] { staged_read(false); }, "read/write race", {"thread (40,0,0)", "which thread (0,0,0)"});
}

// A cp.async destination is in flight from issue to the wait that retires it: reading it before,
// even by the issuing thread, is reported (the read would see whatever the copy had landed).
// Here thread 0 never waits; under round-robin it issues before any reader runs.
float read_in_flight(unsigned reader) {
  std::vector<float> in(4, 2.5f);
  float out = 0;
  st::run(
      1, 64,
      [&] {
        __shared__ __align__(16) float buf[4];
        const unsigned t = threadIdx.x;
        if (t == 0) {
          xk::ptx::cp_async_16(buf, in.data());
          xk::ptx::cp_async_commit();
        }
        if (t == reader) out = buf[2];
      },
      "flight_kernel");
  return out;
}

TEST(SimRacecheck, ReadingACpAsyncDestinationBeforeItsWaitIsReported) {
  if (!sees_reads()) GTEST_SKIP() << kSnapshotOnly;
  RacecheckOn on;
  for (unsigned reader : {0u, 1u, 40u})
    expect_race([=] { read_in_flight(reader); }, "before the cp.async of thread (0,0,0)",
                {"kernel 'flight_kernel'", "thread (" + std::to_string(reader) + ",0,0)",
                 "static shared byte", "cp.async.wait_group"});
}

// Atomics of different threads on one shared word do not race. (The snapshot method cannot
// tell an atomic from a plain store.)
TEST(SimRacecheck, SharedAtomicsOfEveryThreadAreNotARace) {
  if (!sees_reads()) GTEST_SKIP() << kSnapshotOnly;
  RacecheckOn on;
  int out = 0;
  st::run(1, 128, [&] {
    __shared__ int count;
    if (threadIdx.x == 0) count = 0;
    __syncthreads();
    atomicAdd(&count, 1);
    __threadfence();  // compiles without g++'s -Wtsan warning (the fence is out of line)
    __syncthreads();
    if (threadIdx.x == 0) out = count;
  });
  EXPECT_EQ(out, 128);
}

TEST(SimRacecheck, OnByDefaultWhereLoadsAndStoresAreInstrumentedAndOffWithZero) {
  if (!sees_reads()) GTEST_SKIP() << "sanitizer build: the snapshot race check is opt-in";
  unsetenv("XK_SIM_RACECHECK");  // the default, whatever the caller's environment says
  expect_race([] { cross_warp_exchange(0, false); }, "read/write race", {});
  ScopedEnv off("XK_SIM_RACECHECK", "0");
  EXPECT_NO_THROW(cross_warp_exchange(0, false));
}

}  // namespace
