// FLOPs, bytes and tokens of one call. These are the problem's compulsory figures (what any
// kernel must compute and move at least once), not what a particular kernel did: a
// kernel's real traffic comes from the simulator's counters, reported beside these.
#include <algorithm>

#include "bench/bench.h"

namespace xk::bench {

namespace {
double elem_bytes(DType t) {
  const auto& tr = traits(t);
  return static_cast<double>(tr.block_bytes) / tr.block_elems;
}
}  // namespace

Work matmul_work(int64_t M, int64_t N, int64_t K, DType w_format, DType x_dtype) {
  Work w;
  w.flops = 2.0 * static_cast<double>(M) * static_cast<double>(N) * static_cast<double>(K);
  const double weights = static_cast<double>(N) * static_cast<double>(row_bytes(w_format, K));
  const double acts = static_cast<double>(M) * static_cast<double>(K) * elem_bytes(x_dtype);
  const double out = static_cast<double>(M) * static_cast<double>(N) * sizeof(float);
  w.bytes = weights + acts + out;
  w.tokens = static_cast<double>(M);
  return w;
}

int64_t attention_pairs(const AttentionShape& s) {
  if (!s.causal) return s.S * s.T;
  // Query i sits at absolute position q_offset + i and sees keys 0 .. q_offset + i.
  int64_t pairs = 0;
  for (int64_t i = 0; i < s.S; ++i) pairs += std::min(s.T, s.q_offset + i + 1);
  return pairs;
}

Work attention_work(const AttentionShape& s, DType q_dtype, DType kv_dtype) {
  Work w;
  const double heads = static_cast<double>(s.B) * static_cast<double>(s.Hq);
  w.flops = 4.0 * heads * static_cast<double>(s.D) * static_cast<double>(attention_pairs(s));
  const double q_elems = heads * static_cast<double>(s.S) * static_cast<double>(s.D);
  const double kv_elems = static_cast<double>(s.B * s.Hkv) * static_cast<double>(s.T * s.D);
  w.bytes = q_elems * elem_bytes(q_dtype) + 2.0 * kv_elems * elem_bytes(kv_dtype) + q_elems * sizeof(float);
  w.tokens = static_cast<double>(s.B * s.S);
  return w;
}

}  // namespace xk::bench
