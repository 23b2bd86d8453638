// The fiber engine of cuda-sim: warp shuffles/votes, barriers, the randomized schedule that
// exposes a missing __syncthreads, deadlock reports (kernel, block, thread), dynamic shared
// memory poisoning, global guard regions and the launch counters.
#include <gtest/gtest.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "backends/sim/launcher.h"
#include "kernels/cuda/ptx.cuh"
#include "sim_test_util.h"
#include "xk/registry.h"

namespace {

namespace st = xk::simtest;

using xk::test::expect_error_containing;
using xk::test::ScopedEnv;

TEST(SimWarp, ShufflesFollowTheCudaSourceLaneRules) {
  int idx[64], xr[64], dn[64], up[64], w16[64];
  st::run(1, 64, [&] {
    const int t = threadIdx.x, l = t % 32, v = 100 * (t / 32) + l;
    idx[t] = __shfl_sync(0xffffffffu, v, 7);
    xr[t] = __shfl_xor_sync(0xffffffffu, v, 5);
    dn[t] = __shfl_down_sync(0xffffffffu, v, 3);
    up[t] = __shfl_up_sync(0xffffffffu, v, 3);
    w16[t] = __shfl_sync(0xffffffffu, v, 2, 16);
  });
  for (int t = 0; t < 64; ++t) {
    const int l = t % 32, base = 100 * (t / 32);
    EXPECT_EQ(idx[t], base + 7) << "thread " << t;
    EXPECT_EQ(xr[t], base + (l ^ 5)) << "thread " << t;
    EXPECT_EQ(dn[t], base + (l + 3 < 32 ? l + 3 : l)) << "thread " << t;
    EXPECT_EQ(up[t], base + (l >= 3 ? l - 3 : l)) << "thread " << t;
    EXPECT_EQ(w16[t], base + (l & ~15) + 2) << "thread " << t;
  }
}

TEST(SimWarp, ButterflyReductionVotesAndReduceAdd) {
  float sum[32];
  unsigned bal[32];
  int any[32], all[32], red[32];
  st::run(1, 32, [&] {
    const int l = threadIdx.x;
    float v = float(l);
    for (int o = 16; o > 0; o /= 2) v += __shfl_xor_sync(0xffffffffu, v, o);
    sum[l] = v;
    bal[l] = __ballot_sync(0xffffffffu, l % 3 == 0);
    any[l] = __any_sync(0xffffffffu, l == 31);
    all[l] = __all_sync(0xffffffffu, l < 31);
    red[l] = __reduce_add_sync(0xffffffffu, l);
  });
  unsigned want_bal = 0;
  for (int l = 0; l < 32; l += 3) want_bal |= 1u << l;
  for (int l = 0; l < 32; ++l) {
    EXPECT_EQ(sum[l], 496.0f);
    EXPECT_EQ(bal[l], want_bal);
    EXPECT_EQ(any[l], 1);
    EXPECT_EQ(all[l], 0);
    EXPECT_EQ(red[l], 496);
  }
}

TEST(SimWarp, PartialMaskShuffleOnlyWaitsForNamedLanes) {
  int out[32];
  st::run(1, 32, [&] {
    const int l = threadIdx.x;
    out[l] = l < 16 ? __shfl_sync(0x0000ffffu, l * 2, 15) : -1;
  });
  for (int l = 0; l < 32; ++l) EXPECT_EQ(out[l], l < 16 ? 30 : -1);
}

// Reads its left neighbour's shared value. With the barrier it is right in every schedule.
// Without it, round-robin (thread t-1 finishes before t starts) happens to be right, and a
// shuffled schedule reads values not yet written.
__global__ void neighbour_read(float* out, float base, bool with_barrier) {
  __shared__ float s[256];
  const int t = threadIdx.x;
  s[t] = base + float(t);
  if (with_barrier) __syncthreads();
  out[t] = t > 0 ? s[t - 1] : base - 1.0f;
}

int wrong_elements(int seed, bool with_barrier, float base) {
  ScopedEnv g("XK_SIM_SEED", std::to_string(seed));
  ScopedEnv rc("XK_SIM_RACECHECK", "0");  // the schedules alone (the race check reports it: test_racecheck)
  std::vector<float> out(256, 0.0f);
  st::run(1, 256, [&] { neighbour_read(out.data(), base, with_barrier); });
  int wrong = 0;
  for (int t = 0; t < 256; ++t) wrong += out[size_t(t)] != base + float(t) - 1.0f;
  return wrong;
}

TEST(SimSchedule, BarrierMakesSharedMemoryExchangeCorrectUnderEverySeed) {
  for (int seed = 0; seed < 8; ++seed)
    EXPECT_EQ(wrong_elements(seed, true, 1000.0f * seed), 0) << "seed " << seed;
}

TEST(SimSchedule, MissingSyncthreadsGivesWrongAnswersUnderShuffledSeeds) {
  EXPECT_EQ(wrong_elements(0, false, 5.0f), 0) << "round-robin order is the lucky one for this kernel";
  int seeds_wrong = 0;
  for (int seed = 1; seed <= 4; ++seed) seeds_wrong += wrong_elements(seed, false, 7000.0f + seed) > 0;
  EXPECT_EQ(seeds_wrong, 4) << "each shuffled schedule should expose the missing barrier";
}

TEST(SimSchedule, MissingSyncthreadsIsAReportedRaceUnderEverySeedWithTheRaceCheck) {
  if (!xk::sim::kRacecheckSeesReads) GTEST_SKIP() << "sanitizer build: the race check sees no reads";
  ScopedEnv rc("XK_SIM_RACECHECK", "1");
  for (int seed = 0; seed <= 4; ++seed) {
    ScopedEnv g("XK_SIM_SEED", std::to_string(seed));
    std::vector<float> out(256, 0.0f);
    expect_error_containing([&] { st::run(1, 256, [&] { neighbour_read(out.data(), 0.0f, false); }); },
                            {"read/write race", "static shared byte"});
  }
}

__global__ void early_exit_then_barrier(int* out) {
  if (threadIdx.x == 5) return;  // bug: thread 5 never reaches the barrier
  __syncthreads();
  out[threadIdx.x] = 1;
}

TEST(SimDeadlock, BarrierNotReachedByEveryThreadNamesKernelBlockAndThread) {
  std::vector<int> out(64);
  expect_error_containing(
      [&] { st::run(3, 64, [&] { early_exit_then_barrier(out.data()); }, "early_exit_then_barrier"); },
      {"kernel 'early_exit_then_barrier'", "block (", "thread (5,0,0)", "__syncthreads"});
}

TEST(SimDeadlock, ThreadsWaitingAtDifferentBarriersAreReported) {
  expect_error_containing(
      [&] {
        st::run(
            1, 64,
            [&] {
              __syncthreads();
              if (threadIdx.x < 32) __syncthreads();  // warp 1 skips the second barrier and exits
            },
            "divergent_barrier");
      },
      {"kernel 'divergent_barrier'", "exited without reaching it", "waits at __syncthreads"});
}

TEST(SimDeadlock, LaneExitingWhileItsWarpWaitsAtAShuffleIsReported) {
  expect_error_containing(
      [&] {
        st::run(
            1, 32,
            [&] {
              if (threadIdx.x == 3) return;
              (void)__shfl_sync(0xffffffffu, 1, 0);
            },
            "lost_lane");
      },
      {"kernel 'lost_lane'", "thread (3,0,0)", "exited"});
}

TEST(SimDeadlock, LanesAtDifferentCollectivesAreReported) {
  expect_error_containing(
      [&] {
        st::run(
            1, 32,
            [&] {
              if (threadIdx.x < 16)
                (void)__shfl_sync(0xffffffffu, 1, 0);
              else
                (void)__ballot_sync(0xffffffffu, 1);
            },
            "mixed_collectives");
      },
      {"kernel 'mixed_collectives'", "different warp collectives"});
}

TEST(SimDeadlock, MaskMismatchAndAbsentLanesAreReported) {
  expect_error_containing(
      [&] {
        st::run(
            1, 32, [&] { (void)__shfl_sync(threadIdx.x < 8 ? 0xffu : 0xffffffffu, 1, 0); }, "mask_mismatch");
      },
      {"kernel 'mask_mismatch'", "warp collective"});
  expect_error_containing(
      [&] { st::run(1, 40, [&] { (void)__ballot_sync(0xffffffffu, 1); }, "partial_warp"); },
      {"kernel 'partial_warp'", "do not exist"});
}

TEST(SimSharedMemory, DynamicSharedMemoryIsNaNBeforeFirstWrite) {
  bool nan_seen[4] = {};
  st::run(
      4, 32,
      [&] {
        float* s = xk::ptx::dynamic_smem<float>();
        if (threadIdx.x == 0) nan_seen[blockIdx.x] = std::isnan(s[17]) && std::isnan(s[1023]);
        __syncthreads();
        s[threadIdx.x] = 0.0f;  // dirty it for the next block on this worker
      },
      "nan_fill", 4096);
  for (bool b : nan_seen) EXPECT_TRUE(b);
}

__global__ void write_one_past(float* out, int n) {
  const int i = int(blockIdx.x * blockDim.x + threadIdx.x);
  if (i <= n) out[i] = 1.0f;  // bug: <= writes out[n]
}

__global__ void counted_copy(float* out, const float* in) {
  __shared__ __align__(16) float tile[128];
  xk::ptx::cp_async_16(&tile[4 * threadIdx.x], in + 4 * threadIdx.x);
  xk::ptx::cp_async_commit();
  xk::ptx::cp_async_wait<0>();
  __syncthreads();
  xk::ptx::st_global(out + threadIdx.x, tile[127 - threadIdx.x]);
  __syncthreads();
}

TEST(SimDevice, GuardRegionReportsOutOfBoundsWriteWithKernelAndArgument) {
  auto dev = xk::open_device("cuda-sim");
  auto& sd = dynamic_cast<xk::sim::SimDevice&>(*dev);
  xk::sim::Launcher launcher(sd);
  xk::Buffer buf = dev->alloc(100 * sizeof(float));
  xk::LaunchRecord rec;
  // Where kernels are instrumented the plain store is reported as it happens, with the thread;
  // sanitizer builds see it in the guard after the launch, with the kernel argument.
  if (xk::sim::kRacecheckSeesReads)
    expect_error_containing(
        [&] {
          launcher.launch("write_one_past", write_one_past, dim3(4), dim3(32), 0, rec,
                          static_cast<float*>(launcher.ptr(buf)), 100);
        },
        {"kernel 'write_one_past'", "block (3,0,0) thread (4,0,0)",
         "out-of-bounds plain global store (write) of 4 bytes at offset 400 of a buffer of 400 bytes"});
  else
    expect_error_containing(
        [&] {
          launcher.launch("write_one_past", write_one_past, dim3(4), dim3(32), 0, rec,
                          static_cast<float*>(launcher.ptr(buf)), 100);
        },
        {"cuda-sim", "kernel 'write_one_past'", "400 bytes", "kernel argument #0", "past its end"});
  // The guard was restored: a correct launch afterwards passes.
  launcher.launch("write_in_bounds", write_one_past, dim3(4), dim3(32), 0, rec,
                  static_cast<float*>(launcher.ptr(buf)), 99);
}

TEST(SimDevice, DynamicSharedMemoryBeyondTheDeviceLimitIsRefused) {
  auto dev = xk::open_device("cuda-sim");
  xk::sim::Launcher launcher(dynamic_cast<xk::sim::SimDevice&>(*dev));
  xk::Buffer buf = dev->alloc(512);
  xk::LaunchRecord rec;
  expect_error_containing(
      [&] {
        launcher.launch("too_much_smem", write_one_past, dim3(1), dim3(32), 100 * 1024, rec,
                        static_cast<float*>(launcher.ptr(buf)), 10);
      },
      {"cuda-sim", "dyn_smem_bytes", "too_much_smem", "102400"});
}

TEST(SimDevice, LaunchRecordCountsBytesBarriersAndMma) {
  auto dev = xk::open_device("cuda-sim");
  auto& sd = dynamic_cast<xk::sim::SimDevice&>(*dev);
  xk::sim::Launcher launcher(sd);
  xk::Buffer in = dev->alloc(128 * 4), out = dev->alloc(32 * 4 * 3);
  std::vector<float> host(128);
  for (int i = 0; i < 128; ++i) host[size_t(i)] = float(i);
  dev->write(in, 0, host.data(), 512);
  xk::LaunchRecord rec;
  for (int b = 0; b < 3; ++b)
    launcher.launch("counted_copy", counted_copy, dim3(1), dim3(32), 0, rec,
                    static_cast<float*>(launcher.ptr(out)) + 32 * b,
                    static_cast<const float*>(launcher.ptr(in)));
  EXPECT_TRUE(rec.has_counters);
  EXPECT_EQ(rec.global_bytes_read, 3u * 512u);     // cp.async: 32 lanes x 16 bytes
  EXPECT_EQ(rec.global_bytes_written, 3u * 128u);  // st_global: 32 lanes x 4 bytes
  EXPECT_EQ(rec.shared_bytes, 3u * 512u);
  EXPECT_EQ(rec.barriers, 3u * 2u);
  std::vector<float> got(32);
  dev->read(out, 0, got.data(), 128);
  for (int t = 0; t < 32; ++t) EXPECT_EQ(got[size_t(t)], float(127 - t));
}

}  // namespace
