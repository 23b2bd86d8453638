// The harness's comparison must fail one wrong element. Correct outputs (the oracle's own)
// get one realistic fault each at the harness's largest matmul shapes, on every activation
// precision: a neighbour-column read, one sign flip, the last row losing its last K block,
// eight zeroed elements in the last partial tile. The per-element bound of bounds.h must
// catch every one; a one-ulp perturbation of every element must pass.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <functional>
#include <string>
#include <vector>

#include "bounds.h"
#include "cases.h"
#include "inputs.h"
#include "kernels/ref/ref.h"
#include "xk/xk.h"

namespace xk::harness {
namespace {

struct Problem {
  DType w, x;
  ActPrecision act;
  int64_t M, N, K;
};

struct Prepared {
  std::vector<float> ref, w_deq, x_deq;
  std::vector<double> abs_sum, extra;  // extra: the Q8 flip allowance, as the harness adds it
};

Prepared prepare(const Problem& p) {
  Rng rng(seed_of(std::string(name(p.w)) + name(p.act) + std::to_string(p.M)));
  const std::vector<float> w = weights(rng, p.N, p.K), x = activations(rng, p.M, p.K);
  float w_scale = 1.0f;
  const std::vector<uint8_t> wq = quantize(p.w, w.data(), p.N, p.K, p.w == DType::NVFP4 ? &w_scale : nullptr);
  const std::vector<uint8_t> xq = quantize(p.x, x.data(), p.M, p.K);
  Prepared r;
  r.ref.resize(static_cast<size_t>(p.M * p.N));
  ref::matmul({p.w, wq.data(), w_scale, p.x, xq.data(), r.ref.data(), p.M, p.N, p.K, p.act});
  r.w_deq = dequantize(p.w, wq.data(), p.N, p.K, w_scale);
  r.x_deq = dequantize(p.x, xq.data(), p.M, p.K);
  r.abs_sum = abs_products(r.w_deq, r.x_deq, p.M, p.N, p.K);
  if (p.act == ActPrecision::Q8) r.extra = q8_flip_allowance(r.w_deq, r.x_deq, p.M, p.N, p.K);
  return r;
}

using Fault = std::function<void(std::vector<float>& y, const Prepared& d, const Problem& p)>;

size_t at(const Problem& p, int64_t i, int64_t j) { return static_cast<size_t>(i * p.N + j); }

const std::vector<std::pair<std::string, Fault>>& faults() {
  static const std::vector<std::pair<std::string, Fault>> list = {
      {"neighbour column read",
       [](std::vector<float>& y, const Prepared& d, const Problem& p) {
         y[at(p, p.M - 1, p.N - 2)] = d.ref[at(p, p.M - 1, p.N - 1)];
       }},
      {"one sign flip",
       [](std::vector<float>& y, const Prepared&, const Problem& p) {
         float& e = y[at(p, p.M / 2, p.N / 2)];
         e = -e;
       }},
      {"last row drops its last K block",
       [](std::vector<float>& y, const Prepared& d, const Problem& p) {
         const int64_t i = p.M - 1, k0 = p.K - 32;
         for (int64_t j = 0; j < p.N; ++j) {
           double block = 0;
           for (int64_t k = k0; k < p.K; ++k)
             block += static_cast<double>(d.w_deq[static_cast<size_t>(j * p.K + k)]) *
                      d.x_deq[static_cast<size_t>(i * p.K + k)];
           y[at(p, i, j)] = static_cast<float>(y[at(p, i, j)] - block);
         }
       }},
      {"eight zeroed elements in the last partial tile",
       [](std::vector<float>& y, const Prepared&, const Problem& p) {
         for (int64_t j = p.N - 8; j < p.N; ++j) y[at(p, p.M - 1, j)] = 0.0f;
       }},
  };
  return list;
}

// The harness's full-list shapes with the most K tiles and the most rows, on every
// activation precision with a weight format that uses it.
std::vector<Problem> problems() {
  const struct {
    DType w, x;
    ActPrecision act;
  } rows[] = {
      {DType::F32, DType::F32, ActPrecision::F32},   {DType::F16, DType::F16, ActPrecision::F16},
      {DType::Q4_0, DType::F32, ActPrecision::Q8},   {DType::Q8_0, DType::F32, ActPrecision::Q8},
      {DType::MXFP4, DType::F32, ActPrecision::FP8}, {DType::MXFP4, DType::F32, ActPrecision::FP4},
      {DType::NVFP4, DType::F32, ActPrecision::FP4}, {DType::NVFP4, DType::F32, ActPrecision::FP8},
  };
  std::vector<Problem> out;
  for (const auto& r : rows) {
    const int64_t block = traits(r.w).block_elems;
    for (const auto& s : {std::pair<int64_t, int64_t>{100, 515}, {512, 133}}) {
      const int64_t K0 = s.first == 100 ? 1056 : 352, K = (K0 + block - 1) / block * block;
      out.push_back({r.w, r.x, r.act, s.first, s.second, K});
    }
  }
  return out;
}

std::string label(const Problem& p) {
  return std::string(name(p.w)) + "_" + name(p.act) + "_M" + std::to_string(p.M) + "_N" +
         std::to_string(p.N) + "_K" + std::to_string(p.K);
}

TEST(HarnessFaults, EveryInjectedFaultFailsThePerElementBoundOnEveryPrecision) {
  for (const Problem& p : problems()) {
    const Prepared d = prepare(p);
    const double scale = matmul_bound_scale(p.K);
    std::vector<float> ulp = d.ref;  // a correct kernel's last-bit differences pass
    for (float& v : ulp) v = std::nextafter(v, 2 * v + 1);
    EXPECT_EQ(check_elements(ulp, d.ref, d.abs_sum, scale, d.extra).violations, 0u) << label(p);
    for (const auto& [fault_name, inject] : faults()) {
      std::vector<float> y = d.ref;
      inject(y, d, p);
      const ElementCheck c = check_elements(y, d.ref, d.abs_sum, scale, d.extra);
      EXPECT_GT(c.violations, 0u) << label(p) << ": '" << fault_name << "' passes the bound (worst "
                                  << c.worst_ratio << "x the bound)";
      // For the record: what the NMSE limit alone would have said about this fault.
      const double nmse = test::nmse(y, d.ref);
      std::printf("%-28s %-48s NMSE %.2e (limit %.0e: %s), worst element %.0fx its bound\n", label(p).c_str(),
                  fault_name.c_str(), nmse, max_nmse_matmul(p.act),
                  nmse > max_nmse_matmul(p.act) ? "fails" : "PASSES", c.worst_ratio);
    }
  }
}

TEST(HarnessFaults, AttentionLowPrecisionReferenceErrsMoreThanExactButLittle) {
  // The 2x rule needs a reference error that is neither zero nor large: FP16 rounding of
  // Q, K, V and P gives ~1e-3 relative; FP64 agrees with itself exactly.
  Rng rng(7);
  const int64_t S = 9, T = 33, D = 64;
  const std::vector<float> q = activations(rng, S, D), k = activations(rng, T, D), v = activations(rng, T, D);
  std::vector<float> exact(static_cast<size_t>(S * D));
  ref::attention({DType::F32, q.data(), DType::F32, k.data(), v.data(), exact.data(), 1, 1, 1, S, T, D,
                  0.125f, true, 20});
  const double err =
      max_abs_error(attention_low_precision(q, k, v, 1, 1, 1, S, T, D, 0.125f, true, 20), exact);
  EXPECT_GT(err, 1e-5);
  EXPECT_LT(err, 5e-2);
}

}  // namespace
}  // namespace xk::harness
