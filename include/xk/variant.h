// Kernel variants as a user sees them: what each backend's kernels are, under stable names.
//
// Stable names: <family>_<weights>_<acts>_<tile>_<technique>_<minarch>, e.g.
//   "mmq_nvfp4_fp4_128x128_mma_sm120a", "mm_q4_0_q8_64x64_i8_vk".
// A name is derived from the fields of its row, never typed by hand (backends/core/variant_row.h),
// so it cannot drift from them. A profiler filters on the device functions a variant launches
// (`kernels`), which `xk profile` prints; `--variant` and benchmarks take the stable name.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "xk/tensor.h"

namespace xk {

enum class Op { Matmul, Attention };
const char* name(Op op);

struct MatmulArgs {
  const Tensor& W;   // [N, K] weights (quantized or F16/BF16/F32)
  const Tensor& X;   // [M, K] activations F32/F16/BF16
  Tensor& Y;         // [M, N] F32 output
  ActPrecision act;  // resolved: never Auto when a variant runs
  int64_t M() const { return X.shape[0]; }
  int64_t N() const { return W.shape[0]; }
  int64_t K() const { return W.shape[1]; }
};

struct AttentionArgs {
  const Tensor& Q;   // [B, Hq, S, D]  F32 or F16
  const Tensor& K;   // [B, Hkv, T, D] F16 or F32
  const Tensor& V;   // [B, Hkv, T, D] same dtype as K
  Tensor& O;         // [B, Hq, S, D]  F32
  float scale;       // softmax scale (resolved: 1/sqrt(D) when the caller passed 0)
  bool causal;       // query i sees keys j <= q_offset + i
  int64_t q_offset;  // absolute position of query 0 (decode: T - 1)
  int64_t B() const { return Q.shape[0]; }
  int64_t Hq() const { return Q.shape[1]; }
  int64_t S() const { return Q.shape[2]; }
  int64_t D() const { return Q.shape[3]; }
  int64_t Hkv() const { return K.shape[1]; }
  int64_t T() const { return K.shape[2]; }
};

// The work one thread block / workgroup owns. Matmul: m rows of Y x n columns of Y, stepping
// k along the reduction. Attention: m query rows x n keys per step (k = 0). The name shows m x n.
struct Tile {
  int m = 0, n = 0, k = 0;
  std::string str() const;  // "64x64x32", or "64x32" when k is 0
};

struct VariantOps;  // a variant's supports() and run(): backends/core/variant_row.h

// Every member has a default, so a table row written with designated initializers names only
// the fields it sets (make_row derives `name` and attaches `ops`).
struct Variant {
  std::string name{};  // stable, derived from the fields below
  Op op = Op::Matmul;
  std::string family{};              // the name's first word: mm, mmq, mmvq, mv, attn
  std::vector<DType> formats{};      // matmul: weight formats; attention: K/V formats
  std::vector<ActPrecision> acts{};  // matmul: activation precisions (first = preferred);
                                     // attention: the precision of the QK^T and PV products
  Tile tile{};
  std::string technique{};  // how it computes: "mma", "dp4a", "wmmai8", "splitk_mma", ...
  std::string min_arch{};   // "sm_80", "sm_120a", "gfx11", "vk1.2", "any"
  int priority = 0;         // higher wins among variants that support the call
  // Device functions it launches, as a profiler names them (ncu's function base name, the
  // HIP symbol, the Vulkan pipeline label), the one doing the variant's work first; then
  // `helpers`, the small kernels it launches around it (activation quantizer, split combine).
  std::vector<std::string> kernels{};
  std::vector<std::string> helpers{};
  std::shared_ptr<const VariantOps> ops{};  // set by make_row

  bool handles(DType f) const;
  bool handles(ActPrecision a) const;
};

}  // namespace xk
