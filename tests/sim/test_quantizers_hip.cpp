// The HIP on-device Q8 activation quantizer (quantize_q8_body of mmq_wmma_i8.h) byte for
// byte against the oracle (kernels/ref/act_quant.cpp), on rows whose K is not a multiple
// of the 32-K x 8-wave quantizer group nor of the GEMM's tiles, with magnitudes spanning
// FP32 from the smallest subnormal to 3e38.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <vector>

#include "kernels/hip/mmq_wmma_i8.h"
#include "kernels/ref/formats.h"
#include "kernels/ref/ref.h"
#include "sim_test_util.h"

namespace {

TEST(SimQuantizers, HipQ8MatchesOracleBytesAtEveryMagnitudeWithKNotATileMultiple) {
  const int64_t M = 5, K = 288;  // 9 blocks: one full 8-wave group and one partial
  const std::vector<float> x = xk::simtest::rows_of_every_magnitude(K, 99);
  std::vector<int8_t> xq(static_cast<size_t>(M * K), 0x55);
  std::vector<float> xd(static_cast<size_t>(M * K / 32), -1.0f);
  const auto plan = xk::hipk::quantize_q8_plan(M, K);
  xk::sim::run_grid({"mmq_actq8_xf32_gfx11", {plan.grid_x, plan.grid_y, 1}, {plan.threads, 1, 1}, 0}, [&] {
    xk::hipk::quantize_q8_body<xk::DType::F32>(x.data(), xq.data(), xd.data(), M, K);
  });
  for (int64_t m = 0; m < M; ++m) {
    std::vector<xk::ref::block_q8_0> want(static_cast<size_t>(K / 32));
    xk::ref::quantize_act_q8(&x[static_cast<size_t>(m * K)], K, want.data());
    for (int64_t kb = 0; kb < K / 32; ++kb) {
      EXPECT_TRUE(xk::simtest::same_scale(xd[static_cast<size_t>(m * (K / 32) + kb)],
                                          xk::num::f16_to_f32(want[kb].d)))
          << "row " << m << " block " << kb;
      EXPECT_EQ(0, std::memcmp(&xq[static_cast<size_t>(m * K + kb * 32)], want[kb].qs, 32))
          << "row " << m << " block " << kb;
    }
  }
}

}  // namespace
