// The simulator's strict rules, each shown twice: a correct kernel passes, the same kernel
// with one planted violation fails with a message naming kernel, block, thread and address.
//   cp.async visible only at its wait; alignment of cp.async, ldmatrix and vector global
//   accesses; global reads and writes outside an allocation; cross-warp shared-memory races
//   between barriers; static __shared__ poisoned per block; shuffles from lanes outside the
//   mask (XK_SIM_STRICT); truncating
//   tensor-core accumulation (XK_SIM_ACCUM=truncate).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "backends/sim/sim_device.h"
#include "kernels/cuda/ptx.cuh"
#include "sim_test_util.h"

namespace {

namespace st = xk::simtest;

using xk::test::expect_error_containing;
using xk::test::ScopedEnv;

// 64 threads = 2 warps. Warp 0 stages a 16x8 f16 matrix into shared memory with cp.async
// (one 16-byte row per lane 0..15), warp 1 reads it back with ldmatrix_x2 (rows 0..15).
enum class Plant { None, NoWait, NoBarrier, WaitTooWeak };
void stage_and_read(Plant plant, std::vector<uint16_t>& rows_in, uint32_t (&got)[32][2]) {
  st::run(
      1, 64,
      [&] {
        __shared__ __align__(16) uint16_t tile[16 * 8];
        const unsigned t = threadIdx.x;
        if (t < 16) {
          xk::ptx::cp_async_16(&tile[8 * t], &rows_in[8 * t]);
          xk::ptx::cp_async_commit();
          xk::ptx::cp_async_16(&tile[8 * t], &rows_in[8 * t]);  // a second group, same data
          xk::ptx::cp_async_commit();
          if (plant == Plant::WaitTooWeak)
            xk::ptx::cp_async_wait<1>();
          else if (plant != Plant::NoWait)
            xk::ptx::cp_async_wait<0>();
        }
        if (plant != Plant::NoBarrier) __syncthreads();
        if (t >= 32) {
          uint32_t r[2];
          xk::ptx::ldmatrix_x2(r, &tile[8 * ((t - 32) % 16)]);
          got[t - 32][0] = r[0];
          got[t - 32][1] = r[1];
        }
      },
      "stage_kernel");
}

std::vector<uint16_t> ramp(size_t n) {
  std::vector<uint16_t> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = uint16_t(i + 1);
  return v;
}

TEST(SimStrictCpAsync, DataArrivesAtTheWaitThatRetiresIt) {
  auto in = ramp(128);
  for (int seed : {0, 1, 2, 3}) {
    ScopedEnv g("XK_SIM_SEED", std::to_string(seed));
    uint32_t got[32][2] = {};
    stage_and_read(Plant::None, in, got);
    // ldmatrix: lane l gets row l/4, columns 2(l%4), 2(l%4)+1 of matrix 0 (rows 0..7) and 1.
    for (int l = 0; l < 32; ++l)
      for (int i = 0; i < 2; ++i) {
        const int row = 8 * i + l / 4, col = 2 * (l % 4);
        EXPECT_EQ(got[l][i], uint32_t(in[8 * row + col]) | uint32_t(in[8 * row + col + 1]) << 16)
            << "seed " << seed;
      }
  }
}

TEST(SimStrictCpAsync, ReadingBeforeTheWaitIsReportedWithThreadAndAddress) {
  auto in = ramp(128);
  uint32_t got[32][2];
  expect_error_containing([&] { stage_and_read(Plant::NoWait, in, got); },
                          {"kernel 'stage_kernel'", "block (0,0,0)", "thread (32,0,0)", "shared address 0x",
                           "before the cp.async of thread (0,0,0)", "cp.async.wait_group"});
  expect_error_containing([&] { stage_and_read(Plant::WaitTooWeak, in, got); }, {"before the cp.async"});
}

TEST(SimStrictCpAsync, PlainReadBeforeTheWaitSeesPoison) {
  ScopedEnv rc("XK_SIM_RACECHECK", "0");  // with the race check the read itself is reported (test_racecheck)
  std::vector<float> in(4, 1.5f);
  float seen_early = 0, seen_late = 0;
  st::run(1, 1, [&] {
    __shared__ __align__(16) float buf[4];
    xk::ptx::cp_async_16(buf, in.data());
    xk::ptx::cp_async_commit();
    seen_early = buf[0];  // the missing wait: the GPU may not have the data yet
    xk::ptx::cp_async_wait<0>();
    seen_late = buf[0];
  });
  EXPECT_TRUE(std::isnan(seen_early));
  EXPECT_EQ(seen_late, 1.5f);
}

TEST(SimStrictSharedPoison, StaticSharedIsPoisonedBeforeEveryBlock) {
  // Block 0 writes its array; block 1 reads before writing: on a GPU it sees whatever the
  // SM held, here NaN / -1, never block 0's values (whichever worker runs it).
  float seen_f[2] = {0, 0};
  int seen_i[2] = {0, 0};
  st::run(2, 32, [&] {
    __shared__ float f[32];
    __shared__ int n[32];
    const unsigned t = threadIdx.x, blk = blockIdx.x;
    if (blk == 0) {
      f[t] = 1.0f;
      n[t] = 7;
    }
    __syncthreads();
    if (t == 0) {
      seen_f[blk] = f[5];
      seen_i[blk] = n[5];
    }
  });
  EXPECT_EQ(seen_f[0], 1.0f);
  EXPECT_EQ(seen_i[0], 7);
  EXPECT_TRUE(std::isnan(seen_f[1])) << "the uninitialised read of block 1 must not see block 0's data";
  EXPECT_EQ(seen_i[1], -1);
}

TEST(SimStrictRace, CrossWarpReadWithoutBarrierIsReported) {
  auto in = ramp(128);
  uint32_t got[32][2];
  expect_error_containing([&] { stage_and_read(Plant::NoBarrier, in, got); },
                          {"thread (32,0,0)", "written by warp 0"});
}

TEST(SimStrictRace, RefillingAStageAnotherWarpReadIsReported) {
  auto in = ramp(128);
  auto run = [&](bool barrier) {
    st::run(
        1, 64,
        [&] {
          __shared__ __align__(16) uint16_t tile[16 * 8];
          // Warp 1 (threads 32..47) copies, warp 0 reads: round-robin runs warp 0 first after
          // the barrier, so the refill comes after the read in this schedule.
          const unsigned t = threadIdx.x, c = t - 32;
          if (t >= 32 && c < 16) xk::ptx::cp_async_16(&tile[8 * c], &in[8 * c]);
          xk::ptx::cp_async_commit();
          xk::ptx::cp_async_wait<0>();
          __syncthreads();
          if (t < 32) {
            uint32_t r[2];
            xk::ptx::ldmatrix_x2(r, &tile[8 * (t % 16)]);
          }
          if (barrier) __syncthreads();
          if (t >= 32 && c < 16) xk::ptx::cp_async_16(&tile[8 * c], &in[8 * c]);  // the next stage
          xk::ptx::cp_async_commit();
          xk::ptx::cp_async_wait<0>();
        },
        "refill_kernel");
  };
  EXPECT_NO_THROW(run(true));
  expect_error_containing([&] { run(false); }, {"refill_kernel", "read/write race"});
}

TEST(SimStrictAlignment, MisalignedLdmatrixCpAsyncAndVectorLoadsFault) {
  alignas(16) uint16_t host[64] = {};
  // A padded row of 8 bytes instead of 16: row 1 starts at byte 24, not a multiple of 16.
  expect_error_containing(
      [&] {
        st::run(
            1, 32,
            [&] {
              __shared__ __align__(16) uint16_t tile[8 * 12];
              uint32_t r[1];
              xk::ptx::ldmatrix_x1(r, &tile[12 * (threadIdx.x % 8)]);
            },
            "pad_kernel");
      },
      {"pad_kernel", "misaligned ldmatrix row address", "not a multiple of 16"});
  EXPECT_NO_THROW(st::run(1, 32, [&] {
    __shared__ __align__(16) uint16_t tile[8 * 16];
    uint32_t r[1];
    xk::ptx::ldmatrix_x1(r, &tile[16 * (threadIdx.x % 8)]);
  }));
  expect_error_containing(
      [&] {
        st::run(1, 1, [&] {
          __shared__ __align__(16) uint16_t tile[16];
          xk::ptx::cp_async_16(&tile[4], host);
        });
      },
      {"misaligned cp.async shared destination"});
  expect_error_containing(
      [&] { st::run(1, 1, [&] { (void)xk::ptx::ld_global(reinterpret_cast<const uint4*>(host + 4)); }); },
      {"misaligned global load"});
}

TEST(SimStrictBounds, GlobalReadsAndWritesOutsideAnAllocationAreReported) {
  xk::sim::SimBuffer buf(100);
  auto* f = reinterpret_cast<float*>(buf.data());
  EXPECT_NO_THROW(st::run(1, 25, [&] { (void)xk::ptx::ld_global(f + threadIdx.x); }));
  expect_error_containing(
      [&] { st::run(1, 26, [&] { (void)xk::ptx::ld_global(f + threadIdx.x); }, "oob_kernel"); },
      {"oob_kernel", "thread (25,0,0)", "out-of-bounds global load (read) of 4 bytes at offset 100",
       "buffer of 100 bytes"});
  expect_error_containing([&] { st::run(1, 1, [&] { xk::ptx::st_global(f - 1, 0.0f); }); }, {"offset -4"});
  expect_error_containing([&] { st::run(1, 1, [&] { (void)__ldg(f + 25); }); }, {"out-of-bounds"});
  // A cp.async whose src-size covers bytes past the end reads them too.
  expect_error_containing(
      [&] {
        st::run(1, 1, [&] {
          __shared__ __align__(16) float tile[4];
          xk::ptx::cp_async_16_zfill(tile, f + 24, 16);
        });
      },
      {"cp.async source"});
  EXPECT_NO_THROW(st::run(1, 1, [&] {
    __shared__ __align__(16) float tile[4];
    xk::ptx::cp_async_16_zfill(tile, f + 24, 4);  // the tail form the kernels use
    xk::ptx::cp_async_commit();
    xk::ptx::cp_async_wait<0>();
  }));
}

TEST(SimStrictBounds, PlainGlobalLoadsAndStoresOutsideAnAllocationAreReported) {
  if (!xk::sim::kRacecheckSeesReads) GTEST_SKIP() << "sanitizer build: plain accesses are not instrumented";
  xk::sim::SimBuffer buf(100);
  auto* f = reinterpret_cast<float*>(buf.data());
  float sink[32] = {};
  EXPECT_NO_THROW(st::run(1, 25, [&] { sink[threadIdx.x] = f[threadIdx.x]; }));
  expect_error_containing(
      [&] { st::run(1, 26, [&] { sink[threadIdx.x] = f[threadIdx.x]; }, "plain_oob"); },
      {"plain_oob", "thread (25,0,0)",
       "out-of-bounds plain global load (read) of 4 bytes at offset 100 of a buffer of 100 bytes"});
  expect_error_containing([&] { st::run(1, 1, [&] { f[-1] = 1.0f; }); },
                          {"out-of-bounds plain global store (write) of 4 bytes at offset -4"});
  // Memory the simulator did not allocate (a test's own array) is not checked.
  EXPECT_NO_THROW(st::run(1, 32, [&] { sink[threadIdx.x] += 1.0f; }));
}

TEST(SimStrictShuffle, InactiveSourceLaneIsPoisonOnlyInStrictMode) {
  int got[32];
  auto run = [&] {
    st::run(1, 32, [&] {
      const int l = threadIdx.x;
      // Lanes 0..15 shuffle among themselves but ask for lane l + 16, outside the mask.
      got[l] = l < 16 ? __shfl_sync(0x0000ffffu, 100 + l, l + 16) : 0;
    });
  };
  run();
  EXPECT_EQ(got[3], 103) << "lenient mode keeps the caller's own value";
  ScopedEnv strict("XK_SIM_STRICT", "1");
  run();
  for (int l = 0; l < 16; ++l) EXPECT_EQ(got[l], -1) << "lane " << l;
  int ok[32];
  st::run(1, 32, [&] { ok[threadIdx.x] = __shfl_xor_sync(0xffffffffu, int(threadIdx.x), 1); });
  EXPECT_EQ(ok[4], 5) << "a shuffle inside the mask is unaffected";
}

TEST(SimStrictAccumulation, TruncatedSumDropsBitsBelowTheLargestAddend) {
  // c = 1 and eight products of 2^-25: exact FP64 gives 1 + 2^-22; tensor cores align
  // every addend to 1's exponent with 24 bits (lsb 2^-23), so each 2^-25 truncates to 0.
  double small[8];
  for (double& p : small) p = std::ldexp(1.0, -25);
  EXPECT_EQ(xk::sim::truncated_dot(1.0f, small, 8, 8), 1.0f);
  // Round toward zero: 1 + 1.5 * 2^-23 truncates to 1 + 2^-23, for either sign.
  const double one_and_half[1] = {1.5 * std::ldexp(1.0, -23)};
  EXPECT_EQ(xk::sim::truncated_dot(1.0f, one_and_half, 1, 8), 1.0f + std::ldexp(1.0f, -23));
  const double neg[1] = {-1.5 * std::ldexp(1.0, -23)};
  EXPECT_EQ(xk::sim::truncated_dot(-1.0f, neg, 1, 8), -1.0f - std::ldexp(1.0f, -23));
  // Chunks: 16 products of 2^-25 in chunks of 8 still vanish against 1, in one chunk too.
  double sixteen[16];
  for (double& p : sixteen) p = std::ldexp(1.0, -25);
  EXPECT_EQ(xk::sim::truncated_dot(1.0f, sixteen, 16, 8), 1.0f);
  // Exactly representable sums are unchanged; NaN propagates.
  const double exact[4] = {1.0, 2.0, -0.5, 0.25};
  EXPECT_EQ(xk::sim::truncated_dot(0.5f, exact, 4, 8), 3.25f);
  const double nan[2] = {1.0, NAN};
  EXPECT_TRUE(std::isnan(xk::sim::truncated_dot(0.0f, nan, 2, 8)));
}

TEST(SimStrictAccumulation, MmaFollowsTheSelectedMode) {
  // One m16n8k16: A row 0 = [1, 2^-12 x 15] (f16), B = ones; D[0][0] = 1 + 15 * 2^-12 ...
  // with C = 2^12, the small products vanish under truncation but not in exact mode.
  auto run = [&] {
    float d0 = 0;
    st::run(1, 32, [&] {
      const unsigned l = threadIdx.x;
      uint32_t a[4], b[2];
      // Every A element 2^-14 (f16 0x0400), every B element 1: each product 2^-14.
      for (uint32_t& r : a) r = 0x04000400u;
      for (uint32_t& r : b) r = 0x3c003c00u;
      const float c[4] = {4096.0f, 4096.0f, 4096.0f, 4096.0f};
      float d[4];
      xk::ptx::mma_m16n8k16_f16_f32(d, a, b, c);
      if (l == 0) d0 = d[0];
    });
    return d0;
  };
  EXPECT_EQ(run(), 4096.0f + 16 * std::ldexp(1.0f, -14));  // 4096 + 2^-10: exact in FP32
  ScopedEnv hw("XK_SIM_ACCUM", "truncate");
  EXPECT_EQ(run(), 4096.0f) << "2^-14 is below 4096's 24-bit window (lsb 2^-11) and truncates away";
}

}  // namespace
