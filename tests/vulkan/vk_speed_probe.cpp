// vk_speed_probe: times one Q4_0 GEMM shape on vulkan:0 (every matmul variant that runs it,
// device timestamps) and on cpu-ref (wall clock) in the same process, and prints the ratio.
// Not a CTest test: speed is measured in a benchmark, never asserted in a test.
// Usage: vk_speed_probe [M N K] [format] [reps] [variant substring]
// (default 512 4096 4096 q4_0 3, every variant)
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "xk/xk.h"

int main(int argc, char** argv) {
  const int64_t M = argc > 3 ? std::atoll(argv[1]) : 512, N = argc > 3 ? std::atoll(argv[2]) : 4096,
                K = argc > 3 ? std::atoll(argv[3]) : 4096;
  const xk::DType w = argc > 4 ? xk::parse_dtype(argv[4]) : xk::DType::Q4_0;
  const int reps = argc > 5 ? std::atoi(argv[5]) : 3;
  const std::string only = argc > 6 ? argv[6] : "";
  std::mt19937 rng(1);
  std::normal_distribution<float> dist;
  std::vector<float> wf(static_cast<size_t>(N * K)), xf(static_cast<size_t>(M * K));
  for (auto& v : wf) v = dist(rng);
  for (auto& v : xf) v = dist(rng);
  float ts = 1.0f;
  const auto wq = xk::quantize(w, wf.data(), N, K, w == xk::DType::NVFP4 ? &ts : nullptr);
  const double gflop = 2.0 * M * N * K * 1e-9;
  std::printf("shape M=%lld N=%lld K=%lld weights %s (%.1f GFLOP per call)\n", static_cast<long long>(M),
              static_cast<long long>(N), static_cast<long long>(K), xk::name(w), gflop);

  auto vk = xk::open_device("vulkan:0");
  std::printf("vulkan:0 = %s\n", vk->info().description.c_str());
  xk::Tensor W = xk::upload_weights(*vk, w, N, K, wq.data(), ts);
  xk::Tensor X = xk::upload(*vk, xk::DType::F32, {M, K}, xf.data());
  xk::Tensor Y = xk::make_tensor(*vk, xk::DType::F32, {M, N});
  vk->set_timing(true);
  double best_vk = 1e30;
  for (const auto& v : vk->variants()) {
    if (v.op != xk::Op::Matmul || !v.handles(w) || v.name.find(only) == std::string::npos) continue;
    xk::MatmulOptions opt;
    opt.variant = v.name;
    if (!xk::select_matmul(*vk, W, X, Y, opt).variant) continue;
    double best = 1e30;
    for (int r = 0; r < reps; ++r) {
      xk::matmul(*vk, W, X, Y, opt);
      best = std::min(best, vk->last_launch().device_seconds);
    }
    std::printf("  %-32s %9.3f s  %7.2f GFLOP/s\n", v.name.c_str(), best, gflop / best);
    best_vk = std::min(best_vk, best);
  }

  auto cpu = xk::open_device("cpu-ref");
  xk::Tensor Wc = xk::upload_weights(*cpu, w, N, K, wq.data(), ts);
  xk::Tensor Xc = xk::upload(*cpu, xk::DType::F32, {M, K}, xf.data());
  double best_cpu = 1e30;
  for (xk::ActPrecision act : {xk::ActPrecision::F32, xk::ActPrecision::Q8}) {
    xk::MatmulOptions opt;
    opt.act = act;
    const auto t0 = std::chrono::steady_clock::now();
    xk::matmul(*cpu, Wc, Xc, opt);
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::printf("  cpu-ref act=%-4s                  %9.3f s  %7.2f GFLOP/s\n", xk::name(act), s, gflop / s);
    best_cpu = std::min(best_cpu, s);
  }
  std::printf("best vulkan:0 vs best cpu-ref: %.1fx faster\n", best_cpu / best_vk);
  return 0;
}
