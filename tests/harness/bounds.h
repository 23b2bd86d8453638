// Per-element error bounds (in addition to NMSE) and the inputs they are computed from.
//
// Matmul: every output y[i, j] = sum_k w[j, k] * x[i, k] must satisfy
//     |y - ref| <= c(K) * u * sum_k |w[j, k] * x[i, k]| + floor
// with u the unit roundoff of FP32 accumulation. The operand-format rounding term is zero
// on purpose: the oracle (kernels/ref) quantizes the activations with exactly the formulas
// the kernels implement and rounds F16 operands where they do, so operands agree exactly and
// only the order and rounding of the FP32 sums may differ (the constants are in bounds.cpp).
// Attention: FlashAttention's acceptance rule, the kernel's error against the FP64 oracle is
// at most 2x the error of a reference that rounds where the kernel rounds.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "xk/dtype.h"

namespace xk::harness {

// sum_k |w[j,k] x[i,k]| for every output, from dequantized W[N,K] and widened X[M,K].
std::vector<double> abs_products(const std::vector<float>& w, const std::vector<float>& x, int64_t M,
                                 int64_t N, int64_t K);

// Q8 only: one activation rounding flip, max_k |w[j,k]| * d(i, k/32) with d = amax/127 of
// X's block. Devices whose quantizer computes x * (1/d) with a reciprocal that is not
// correctly rounded (GLSL division is allowed 2.5 ulp) resolve some near-ties the other way
// than the oracle; each flip moves one product by one step. 0 for every other precision.
std::vector<double> q8_flip_allowance(const std::vector<float>& w, const std::vector<float>& x, int64_t M,
                                      int64_t N, int64_t K);

// c(K) * u of the matmul bound for a dot product of length K (justification in bounds.cpp).
double matmul_bound_scale(int64_t K);
// The absolute floor: FP32's smallest normal, so an all-zero dot product must give 0.
constexpr double kBoundFloor = 1.1754943508222875e-38;

struct ElementCheck {
  size_t violations = 0;
  size_t worst = 0;        // flat index with the largest |y - ref| / bound
  double worst_ratio = 0;  // that ratio (> 1 is a violation; NaN counts as infinite)
  double worst_bound = 0;
};
// `extra` (may be empty) is added to each element's bound.
ElementCheck check_elements(const std::vector<float>& y, const std::vector<float>& ref,
                            const std::vector<double>& abs_sum, double scale,
                            const std::vector<double>& extra = {});

// Max |y - ref| over all elements (NaN -> infinity).
double max_abs_error(const std::vector<float>& y, const std::vector<float>& ref);

// Attention reference at the kernels' precision: Q, K, V and P rounded to FP16 where the
// tensor-core kernels round them, scores and softmax statistics in FP32 (what PyTorch's
// fp16 SDPA computes). Layout as ref::attention. `q`, `k`, `v` are already widened to f32.
std::vector<float> attention_low_precision(const std::vector<float>& q, const std::vector<float>& k,
                                           const std::vector<float>& v, int64_t B, int64_t Hq, int64_t Hkv,
                                           int64_t S, int64_t T, int64_t D, float scale, bool causal,
                                           int64_t q_offset);
// FlashAttention's rule: at most this times the low-precision reference's error.
constexpr double kAttentionErrorRatio = 2.0;

}  // namespace xk::harness
