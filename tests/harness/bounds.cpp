// Per-element bounds (bounds.h): the constants and the same-precision attention reference.
#include "bounds.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace xk::harness {

std::vector<double> abs_products(const std::vector<float>& w, const std::vector<float>& x, int64_t M,
                                 int64_t N, int64_t K) {
  std::vector<double> s(static_cast<size_t>(M * N));
  for (int64_t i = 0; i < M; ++i)
    for (int64_t j = 0; j < N; ++j) {
      double acc = 0;
      const float* xr = &x[static_cast<size_t>(i * K)];
      const float* wr = &w[static_cast<size_t>(j * K)];
      for (int64_t k = 0; k < K; ++k) acc += std::fabs(static_cast<double>(wr[k]) * xr[k]);
      s[static_cast<size_t>(i * N + j)] = acc;
    }
  return s;
}

std::vector<double> q8_flip_allowance(const std::vector<float>& w, const std::vector<float>& x, int64_t M,
                                      int64_t N, int64_t K) {
  const int64_t blocks = K / 32;
  std::vector<double> step(static_cast<size_t>(M * blocks));  // d of each X block
  for (int64_t i = 0; i < M; ++i)
    for (int64_t b = 0; b < blocks; ++b) {
      double amax = 0;
      for (int64_t k = 32 * b; k < 32 * b + 32; ++k)
        amax = std::max(amax, std::fabs(static_cast<double>(x[static_cast<size_t>(i * K + k)])));
      step[static_cast<size_t>(i * blocks + b)] = amax / 127.0;
    }
  std::vector<double> out(static_cast<size_t>(M * N));
  for (int64_t i = 0; i < M; ++i)
    for (int64_t j = 0; j < N; ++j) {
      double m = 0;
      for (int64_t k = 0; k < K; ++k)
        m = std::max(m, std::fabs(static_cast<double>(w[static_cast<size_t>(j * K + k)])) *
                            step[static_cast<size_t>(i * blocks + k / 32)]);
      out[static_cast<size_t>(i * N + j)] = m;
    }
  return out;
}

// u = 2^-24, FP32's unit roundoff. Recursive FP32 summation of K terms errs by at most
// gamma_K ~ K*u times sum|terms| (Higham, "Accuracy and Stability of Numerical Algorithms",
// 2nd ed., eq. 3.5); any summation order (split-K, trees, per-MMA chunks) has the same
// bound. Tensor cores truncate instead of rounding (Fasi et al. 2021, see mma_emu.cpp), which
// doubles u: c = 2K. The +32 covers the few roundings after the dot product: block-scale
// and per-row-scale multiplications, the split-K combine's rescaling, the final store.
// At K = 1056 this is 1.3e-4 * sum|w x|, while the outputs are ~ sum|w x| / sqrt(K) ~ 3e-2 *
// sum|w x|: one wrong element, sign, K block or zero stands out by two orders of magnitude.
double matmul_bound_scale(int64_t K) {
  const double u = std::ldexp(1.0, -24);
  return (2.0 * static_cast<double>(K) + 32.0) * u;
}

ElementCheck check_elements(const std::vector<float>& y, const std::vector<float>& ref,
                            const std::vector<double>& abs_sum, double scale,
                            const std::vector<double>& extra) {
  ElementCheck c;
  for (size_t i = 0; i < ref.size(); ++i) {
    const double bound = scale * abs_sum[i] + kBoundFloor + (extra.empty() ? 0.0 : extra[i]);
    const double err = std::fabs(static_cast<double>(y[i]) - ref[i]);
    const double ratio = std::isfinite(err) ? err / bound : std::numeric_limits<double>::infinity();
    if (ratio > 1.0) ++c.violations;
    if (ratio > c.worst_ratio || i == 0) {
      c.worst_ratio = ratio;
      c.worst = i;
      c.worst_bound = bound;
    }
  }
  return c;
}

double max_abs_error(const std::vector<float>& y, const std::vector<float>& ref) {
  double m = 0;
  for (size_t i = 0; i < ref.size(); ++i) {
    const double e = std::fabs(static_cast<double>(y[i]) - ref[i]);
    if (!std::isfinite(e)) return std::numeric_limits<double>::infinity();
    m = std::max(m, e);
  }
  return m;
}

namespace {
float f16(float v) { return static_cast<float>(static_cast<_Float16>(v)); }
}  // namespace

std::vector<float> attention_low_precision(const std::vector<float>& q, const std::vector<float>& k,
                                           const std::vector<float>& v, int64_t B, int64_t Hq, int64_t Hkv,
                                           int64_t S, int64_t T, int64_t D, float scale, bool causal,
                                           int64_t q_offset) {
  std::vector<float> o(static_cast<size_t>(B * Hq * S * D), 0.0f);
  std::vector<float> s(static_cast<size_t>(T)), acc(static_cast<size_t>(D));
  const int64_t group = Hq / Hkv;
  for (int64_t b = 0; b < B; ++b)
    for (int64_t h = 0; h < Hq; ++h) {
      const int64_t hk = h / group;
      const float* kb = &k[static_cast<size_t>((b * Hkv + hk) * T * D)];
      const float* vb = &v[static_cast<size_t>((b * Hkv + hk) * T * D)];
      for (int64_t i = 0; i < S; ++i) {
        const float* qr = &q[static_cast<size_t>(((b * Hq + h) * S + i) * D)];
        const int64_t visible = causal ? std::min(T, q_offset + i + 1) : T;
        float m = -std::numeric_limits<float>::infinity();
        for (int64_t j = 0; j < visible; ++j) {
          float dot = 0;  // FP16 operands, FP32 accumulation (the QK^T MMA)
          for (int64_t d = 0; d < D; ++d) dot += f16(qr[d]) * f16(kb[j * D + d]);
          s[static_cast<size_t>(j)] = dot * scale;
          m = std::max(m, s[static_cast<size_t>(j)]);
        }
        float l = 0;
        std::fill(acc.begin(), acc.end(), 0.0f);
        for (int64_t j = 0; j < visible; ++j) {
          const float p = std::exp(s[static_cast<size_t>(j)] - m);
          l += p;
          for (int64_t d = 0; d < D; ++d)
            acc[static_cast<size_t>(d)] += f16(p) * f16(vb[j * D + d]);  // PV MMA
        }
        float* orow = &o[static_cast<size_t>(((b * Hq + h) * S + i) * D)];
        for (int64_t d = 0; d < D; ++d) orow[d] = visible > 0 ? acc[static_cast<size_t>(d)] / l : 0.0f;
      }
    }
  return o;
}

}  // namespace xk::harness
