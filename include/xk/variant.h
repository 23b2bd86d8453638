// Kernel variants: each backend's table of kernels, chosen in one place (ops.cpp).
//
// Stable names: <op>_<weights>_<acts>_<tile>_<technique>_<minarch>, e.g.
//   "mm_q4_0_q8_64x64_i8dot_vk", "mmq_nvfp4_fp4_128x128_mma_sm120a".
// The names are what `ncu --kernel-name`, rocprof filters and `--variant` take.
#pragma once
#include <functional>
#include <string>
#include <vector>

#include "xk/tensor.h"

namespace xk {

class Device;

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

struct Variant {
  std::string name;                  // stable kernel-variant name
  Op op = Op::Matmul;
  std::vector<DType> formats;        // matmul: weight formats; attention: K/V formats
  std::vector<ActPrecision> acts;    // matmul: activation precisions (first = preferred)
  std::string min_arch;              // "sm_80", "sm_120a", "gfx11", "vk1.3", "any"
  std::string tile;                  // "64x64x32" block tile, for tables and profiles
  int priority = 0;                  // higher wins among variants that support the call
  // "" when this variant can run the call on this device; otherwise why not.
  std::function<std::string(const MatmulArgs&, const DeviceInfo&)> supports_matmul;
  std::function<std::string(const AttentionArgs&, const DeviceInfo&)> supports_attention;
  // Runs the call; fills rec.device_seconds when dev.timing() and counters when it can.
  std::function<void(Device&, const MatmulArgs&, LaunchRecord& rec)> run_matmul;
  std::function<void(Device&, const AttentionArgs&, LaunchRecord& rec)> run_attention;

  bool handles(DType f) const;
  bool handles(ActPrecision a) const;
};

}  // namespace xk
