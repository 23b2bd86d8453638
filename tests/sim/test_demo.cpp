// The demonstration GEMM of each simulator device (mma.sync m16n8k16 on cuda-sim, WMMA f16
// on hip-sim) through the public matmul op, against cpu-ref, on ragged shapes. The generic
// harness covers the same variants; this test pins them by name and checks the counters.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "xk/ops.h"
#include "xk/registry.h"

#ifndef XK_TEST_DEVICE
#error "XK_TEST_DEVICE names the simulator device"
#endif

namespace {

struct Shape {
  int64_t M, N, K;
};

TEST(SimDemoGemm, MatchesCpuRefOnRaggedShapes) {
  const bool cuda = std::string(XK_TEST_DEVICE) == "cuda-sim";
  const std::string variant = cuda ? "mm_f16_f16_64x64_mma16816_demo_sm80" : "mm_f16_f16_64x64_wmma_demo_gfx11";
  auto dev = xk::open_device(XK_TEST_DEVICE);
  auto ref = xk::open_device("cpu-ref");
  std::mt19937 rng(9);
  std::uniform_real_distribution<float> u(-1, 1);
  for (Shape s : {Shape{1, 8, 16}, Shape{7, 33, 40}, Shape{65, 70, 100}, Shape{33, 64, 64}}) {
    for (xk::DType xt : {xk::DType::F32, xk::DType::F16}) {
      std::vector<float> w(size_t(s.N * s.K)), x(size_t(s.M * s.K));
      for (auto& v : w) v = u(rng);
      for (auto& v : x) v = u(rng);
      // F16 tensors are uploaded as f16 bits.
      auto to_f16 = [](const std::vector<float>& f) {
        std::vector<uint16_t> h(f.size());
        for (size_t i = 0; i < f.size(); ++i) {
          _Float16 v = static_cast<_Float16>(f[i]);
          std::memcpy(&h[i], &v, 2);
        }
        return h;
      };
      const auto wh = to_f16(w), xh = to_f16(x);
      const void* xdata = xt == xk::DType::F16 ? static_cast<const void*>(xh.data()) : static_cast<const void*>(x.data());
      xk::Tensor W = xk::upload_weights(*dev, xk::DType::F16, s.N, s.K, wh.data());
      xk::Tensor X = xk::upload(*dev, xt, {s.M, s.K}, xdata);
      xk::MatmulOptions opt;
      opt.act = xk::ActPrecision::F16;
      opt.variant = variant;
      xk::Tensor Y = xk::matmul(*dev, W, X, opt);
      const auto y = xk::download_f32(Y);
      const auto& rec = dev->last_launch();
      EXPECT_TRUE(rec.has_counters);
      const uint64_t tiles = uint64_t((s.M + 63) / 64) * uint64_t((s.N + 63) / 64) * uint64_t((s.K + 31) / 32);
      EXPECT_EQ(rec.mma_by_kind.at(cuda ? "mma.m16n8k16.f16" : "wmma.f32.16x16x16.f16"), tiles * (cuda ? 64 : 32))
          << "per 64x64x32 block tile: 4 warps x (2 x 4 x 2) mma.m16n8k16, or 4 waves x (2 x 2 x 2) WMMA";

      xk::Tensor Wr = xk::upload_weights(*ref, xk::DType::F16, s.N, s.K, wh.data());
      xk::Tensor Xr = xk::upload(*ref, xt, {s.M, s.K}, xdata);
      xk::MatmulOptions ropt;
      ropt.act = xk::ActPrecision::F16;
      const auto yr = xk::download_f32(xk::matmul(*ref, Wr, Xr, ropt));
      double worst = 0;
      size_t wi = 0;
      for (size_t i = 0; i < y.size(); ++i) {
        const double err = std::isnan(y[i]) ? INFINITY : std::fabs(double(y[i]) - yr[i]) / (1.0 + std::fabs(yr[i]));
        if (err > worst) { worst = err; wi = i; }
      }
      EXPECT_LT(worst, 1e-5) << "device " << XK_TEST_DEVICE << ", variant " << variant << ", shape M=" << s.M
                             << " N=" << s.N << " K=" << s.K << " X " << xk::name(xt) << ": worst element Y[" << wi / s.N
                             << "][" << wi % s.N << "] expected " << yr[wi] << " actual " << y[wi];
    }
  }
}

}  // namespace
