// The Vulkan activation quantizer (kernels/vulkan/quantize_q8.comp, both builds: packed int8
// codes and the FP32 dequantized view mul_mm_direct reads) byte for byte against the oracle's
// quantize_act_q8 (kernels/ref/act_quant.cpp), dispatched alone on vulkan:0 (lavapipe in CI).
// K = 160 is five Q8 groups: not a multiple of the 64- or 128-wide K tiles of the GEMMs, and
// M x K/32 = 25 groups leave most of the quantizer's 64-thread workgroup idle. Rows span every
// FP32 binade, from the smallest subnormal (1.4e-45) through the subnormal-only blocks (up to
// 1.1e-38, whose FP16 scale is zero) to 3e38 (whose scale overflows FP16: a NaN scale).
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "backends/vulkan/vk_context.h"
#include "backends/vulkan/vk_device.h"
#include "kernels/ref/formats.h"
#include "kernels/ref/numerics.h"
#include "kernels/ref/ref.h"
#include "xk/xk.h"

namespace {

using xk::DType;

// Row 0 ordinary N(0,1); row 1 log-uniform over all of FP32 with random signs; row 2
// subnormals only; row 3 huge only (1e30 .. 3e38); row 4 zeros. Deterministic.
std::vector<float> rows_of_every_magnitude(int K) {
  std::mt19937 rng(1234);
  std::normal_distribution<float> normal;
  std::uniform_real_distribution<double> u(0.0, 1.0);
  auto log_uniform = [&](double lo, double hi) {
    const double v = std::exp(std::log(lo) + u(rng) * (std::log(hi) - std::log(lo)));
    return static_cast<float>(rng() & 1 ? v : -v);
  };
  std::vector<float> x(static_cast<size_t>(5 * K));
  for (int k = 0; k < K; ++k) {
    x[k] = normal(rng);
    x[K + k] = log_uniform(1.4e-45, 3e38);
    x[2 * K + k] = log_uniform(1.4e-45, 1.1e-38);
    x[3 * K + k] = log_uniform(1e30, 3e38);
    x[4 * K + k] = 0.0f;
  }
  x[K + 5] = 3e38f;  // the extremes themselves
  x[K + 6] = std::ldexp(1.0f, -149);
  x[2 * K + 40] = std::ldexp(1.0f, -149);  // a subnormal block whose amax is the smallest one
  return x;
}

bool same_scale(float got, float want) { return std::isnan(want) ? std::isnan(got) : got == want; }

struct Quantized {
  std::vector<uint8_t> codes;  // quantize_q8: [M][K] int8 bytes
  std::vector<float> values;   // quantize_q8_f32: [M][K] q * d
  std::vector<float> scales;   // [M][K/32]
};

// Dispatches one quantize shader alone, as mm_variants.cpp does before a Q8 GEMM.
Quantized run_quantizer(const char* shader, const std::vector<float>& x, int M, int K) {
  auto dev = xk::open_device("vulkan:0");
  auto& vk = static_cast<xk::vk::VulkanDevice&>(*dev);
  const bool as_f32 = std::strcmp(shader, "quantize_q8_f32") == 0;
  xk::Tensor X = xk::upload(*dev, DType::F32, {M, K}, x.data());
  xk::Tensor Q = xk::make_tensor(*dev, DType::F32, {M, as_f32 ? K : K / 4});
  xk::Tensor D = xk::make_tensor(*dev, DType::F32, {M, K / 32});
  struct Push {
    uint32_t M, K, x_dtype;
  } push{uint32_t(M), uint32_t(K), uint32_t(DType::F32)};
  const uint32_t groups = uint32_t((M * (K / 32) + 63) / 64);
  xk::vk::Batch b = vk.ctx().batch(shader, false);
  b.dispatch(shader, {}, {&xk::vk::vkbuf(X.buf), &xk::vk::vkbuf(Q.buf), &xk::vk::vkbuf(D.buf)}, push,
             {groups, 1, 1});
  b.run();
  Quantized out;
  out.scales = xk::download_f32(D);
  if (as_f32) {
    out.values = xk::download_f32(Q);
  } else {
    out.codes.resize(static_cast<size_t>(M) * K);
    xk::download(Q, out.codes.data(), out.codes.size());
  }
  return out;
}

TEST(VulkanQuantizeQ8, CodesAndScalesMatchOracleBytesAtEveryMagnitudeWithKNotATileMultiple) {
  const int M = 5, K = 160, groups = K / 32;
  const std::vector<float> x = rows_of_every_magnitude(K);
  const Quantized got = run_quantizer("quantize_q8", x, M, K);
  for (int row = 0; row < M; ++row) {
    std::vector<xk::ref::block_q8_0> want(static_cast<size_t>(groups));
    xk::ref::quantize_act_q8(&x[static_cast<size_t>(row) * K], K, want.data());
    for (int g = 0; g < groups; ++g) {
      const float want_d = xk::num::f16_to_f32(want[g].d), got_d = got.scales[row * groups + g];
      EXPECT_TRUE(same_scale(got_d, want_d))
          << got_d << " vs " << want_d << ", row " << row << " group " << g;
      for (int i = 0; i < 32; ++i)
        EXPECT_EQ(int(int8_t(got.codes[static_cast<size_t>(row) * K + g * 32 + i])), int(want[g].qs[i]))
            << "row " << row << " group " << g << " element " << i << " x = " << x[row * K + g * 32 + i];
    }
  }
}

TEST(VulkanQuantizeQ8, Fp32ViewHoldsOracleCodesTimesScaleAtEveryMagnitude) {
  const int M = 5, K = 160, groups = K / 32;
  const std::vector<float> x = rows_of_every_magnitude(K);
  const Quantized got = run_quantizer("quantize_q8_f32", x, M, K);
  for (int row = 0; row < M; ++row) {
    std::vector<xk::ref::block_q8_0> want(static_cast<size_t>(groups));
    xk::ref::quantize_act_q8(&x[static_cast<size_t>(row) * K], K, want.data());
    for (int g = 0; g < groups; ++g) {
      const float d = xk::num::f16_to_f32(want[g].d);
      EXPECT_TRUE(same_scale(got.scales[row * groups + g], d)) << "row " << row << " group " << g;
      for (int i = 0; i < 32; ++i) {
        const float want_v = float(want[g].qs[i]) * d,
                    got_v = got.values[static_cast<size_t>(row) * K + g * 32 + i];
        EXPECT_TRUE(same_scale(got_v, want_v))
            << got_v << " vs " << want_v << ", row " << row << " group " << g << " element " << i;
      }
    }
  }
}

}  // namespace
