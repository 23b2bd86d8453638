// cpu-ref attention: O = softmax(scale * Q K^T [+ causal mask]) V per (batch, query head),
// the oracle for every flash-attention kernel (semantics in kernels/ref/ref.h).
//
// Plain two-pass softmax in FP64: scores for all visible keys, their max, exp(s - max),
// normalised P * V. No online rescaling, no tiling: nothing here can share a bug with the
// FlashAttention-2 kernels it checks.
//   GQA     query head h reads KV head h / (Hq / Hkv).
//   causal  query i sits at absolute position q_offset + i and sees keys j <= q_offset + i;
//           otherwise it sees all T keys.
#include <cmath>
#include <string>
#include <vector>

#include "kernels/ref/numerics.h"
#include "kernels/ref/ref.h"
#include "xk/error.h"

namespace xk::ref {

namespace {

double load(DType t, const void* base, int64_t i) {
  if (t == DType::F32) return static_cast<const float*>(base)[i];
  return num::f16_to_f32(static_cast<const uint16_t*>(base)[i]);
}

}  // namespace

void attention(const AttentionProblem& p) {
  if (p.B < 0 || p.Hq < 0 || p.Hkv < 0 || p.S < 0 || p.T < 0 || p.D < 0)
    throw Error("ref::attention", "shape", "negative dimension");
  if (p.q_dtype != DType::F32 && p.q_dtype != DType::F16)
    throw Error("ref::attention", "Q", std::string("must be f32 or f16, got ") + name(p.q_dtype));
  if (p.kv_dtype != DType::F32 && p.kv_dtype != DType::F16)
    throw Error("ref::attention", "K", std::string("must be f32 or f16, got ") + name(p.kv_dtype));
  if (p.B == 0 || p.Hq == 0 || p.S == 0 || p.D == 0) return;  // (a product of the four can overflow)
  if (p.Hkv == 0 || p.Hq % p.Hkv != 0)
    throw Error(
        "ref::attention", "K",
        "query heads " + std::to_string(p.Hq) + " must be a multiple of KV heads " + std::to_string(p.Hkv));
  if (p.T == 0) throw Error("ref::attention", "K", "T = 0: no keys to attend to");
  // Written without the sum q_offset + S, which overflows for q_offset near INT64_MAX.
  if (p.causal && (p.q_offset < 0 || p.S > p.T || p.q_offset > p.T - p.S))
    throw Error("ref::attention", "q_offset", "causal needs 0 <= q_offset and q_offset + S <= T");

  const int64_t D = p.D, T = p.T, S = p.S, group = p.Hq / p.Hkv;
  std::vector<double> q(static_cast<size_t>(D)), scores(static_cast<size_t>(T)), o(static_cast<size_t>(D));
  for (int64_t b = 0; b < p.B; ++b) {
    for (int64_t h = 0; h < p.Hq; ++h) {
      const int64_t kv_base = (b * p.Hkv + h / group) * T * D;
      for (int64_t i = 0; i < S; ++i) {
        const int64_t q_base = ((b * p.Hq + h) * S + i) * D;
        for (int64_t d = 0; d < D; ++d) q[static_cast<size_t>(d)] = load(p.q_dtype, p.Q, q_base + d);
        const int64_t visible = p.causal ? p.q_offset + i + 1 : T;  // keys [0, visible)

        double max_score = -INFINITY;
        for (int64_t j = 0; j < visible; ++j) {
          double s = 0.0;
          for (int64_t d = 0; d < D; ++d)
            s += q[static_cast<size_t>(d)] * load(p.kv_dtype, p.K, kv_base + j * D + d);
          s *= static_cast<double>(p.scale);
          scores[static_cast<size_t>(j)] = s;
          max_score = s > max_score ? s : max_score;
        }
        double denom = 0.0;
        for (int64_t j = 0; j < visible; ++j) {
          scores[static_cast<size_t>(j)] = std::exp(scores[static_cast<size_t>(j)] - max_score);
          denom += scores[static_cast<size_t>(j)];
        }
        for (auto& v : o) v = 0.0;
        for (int64_t j = 0; j < visible; ++j) {
          const double pj = scores[static_cast<size_t>(j)];
          for (int64_t d = 0; d < D; ++d)
            o[static_cast<size_t>(d)] += pj * load(p.kv_dtype, p.V, kv_base + j * D + d);
        }
        for (int64_t d = 0; d < D; ++d)
          p.O[q_base + d] = static_cast<float>(o[static_cast<size_t>(d)] / denom);
      }
    }
  }
}

}  // namespace xk::ref
