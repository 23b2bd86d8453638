// The ops. Every argument is validated here, once, with an xk::Error naming the op, the
// argument and the reason; backends trust what reaches them.
#pragma once
#include <string>
#include <vector>

#include "xk/device.h"
#include "xk/variant.h"

namespace xk {

struct MatmulOptions {
  ActPrecision act = ActPrecision::Auto;
  std::string variant;  // force a variant by its stable name ("" = automatic selection)
};

// Y[M,N] = X[M,K] * W[N,K]^T, FP32 output. Returns what this call ran (variant, activation
// precision, device time when dev.timing(), counters): the per-call launch record.
LaunchRecord matmul(Device& dev, const Tensor& W, const Tensor& X, Tensor& Y, const MatmulOptions& opt = {});
Tensor matmul(Device& dev, const Tensor& W, const Tensor& X, const MatmulOptions& opt = {});

struct AttentionOptions {
  float scale = 0.0f;  // 0 = 1/sqrt(D)
  bool causal = false;
  int64_t q_offset = 0;  // absolute position of the first query (causal)
  std::string variant;   // force a variant ("" = automatic)
};

// O = softmax(scale * Q K^T [+ causal mask]) V per (batch, head); head h of Q uses KV head
// h / (Hq / Hkv) (grouped-query attention). Returns this call's launch record.
LaunchRecord attention(Device& dev, const Tensor& Q, const Tensor& K, const Tensor& V, Tensor& O,
                       const AttentionOptions& opt = {});
Tensor attention(Device& dev, const Tensor& Q, const Tensor& K, const Tensor& V,
                 const AttentionOptions& opt = {});

// Selection, exposed for the test harness and benchmarks: the variant the call would use
// (nullptr + reason when none can run it). `forced` selects by name.
struct Selection {
  const Variant* variant = nullptr;
  ActPrecision act = ActPrecision::Auto;
  std::string reason;  // why nothing was selected
};
Selection select_matmul(const Device& dev, const Tensor& W, const Tensor& X, Tensor& Y,
                        const MatmulOptions& opt);
Selection select_attention(const Device& dev, const AttentionArgs& args, const std::string& forced);

}  // namespace xk
