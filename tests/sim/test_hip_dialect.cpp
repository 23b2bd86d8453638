// hip-sim's HIP dialect: wave-wide shuffles and votes without masks (wave32), dynamic
// shared memory through HIP_DYNAMIC_SHARED, and a barrier deadlock report.
#include <gtest/gtest.h>

#include <string>

#include "kernels/hip/wmma.h"
#include "sim_test_util.h"
#include "xk/error.h"

namespace {

TEST(HipDialect, WaveShufflesAndVotes) {
  int sh[32], xr[32], dn[32];
  unsigned long long bal[32];
  int any[32], all[32];
  xk::simtest::run(
      1, 32,
      [&] {
        const int l = int(__lane_id());
        sh[l] = __shfl(l * 10, 4);
        xr[l] = __shfl_xor(l, 1);
        dn[l] = __shfl_down(l, 8);
        bal[l] = __ballot(l >= 30);
        any[l] = __any(l == 0);
        all[l] = __all(l >= 0);
      },
      "hip_wave_ops");
  for (int l = 0; l < 32; ++l) {
    EXPECT_EQ(sh[l], 40);
    EXPECT_EQ(xr[l], l ^ 1);
    EXPECT_EQ(dn[l], l + 8 < 32 ? l + 8 : l);
    EXPECT_EQ(bal[l], 0xC0000000ull);
    EXPECT_EQ(any[l], 1);
    EXPECT_EQ(all[l], 1);
  }
}

TEST(HipDialect, DynamicSharedIsPerBlockAndPoisoned) {
  bool poisoned[3] = {};
  float sums[3] = {};
  xk::simtest::run(
      3, 64,
      [&] {
        HIP_DYNAMIC_SHARED(float, lds);
        if (threadIdx.x == 0) poisoned[blockIdx.x] = std::isnan(lds[63]);
        __syncthreads();
        lds[threadIdx.x] = float(blockIdx.x);
        __syncthreads();
        if (threadIdx.x == 0) {
          float s = 0;
          for (int i = 0; i < 64; ++i) s += lds[i];
          sums[blockIdx.x] = s;
        }
      },
      "hip_lds", 64 * sizeof(float));
  for (int b = 0; b < 3; ++b) {
    EXPECT_TRUE(poisoned[b]) << "block " << b;
    EXPECT_EQ(sums[b], 64.0f * float(b)) << "block " << b;
  }
}

TEST(HipDialect, BarrierInDivergentCodeIsReported) {
  try {
    xk::simtest::run(
        2, 64,
        [&] {
          if (threadIdx.x % 2 == 0) __syncthreads();
        },
        "hip_divergent_barrier");
    ADD_FAILURE() << "expected an xk::Error";
  } catch (const xk::Error& e) {
    EXPECT_NE(std::string(e.what()).find("kernel 'hip_divergent_barrier'"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("exited without reaching it"), std::string::npos) << e.what();
  }
}

}  // namespace
