// The generic harness's test cases: each case is one line of data (op, formats, shape,
// tolerance, FLOPs, bytes). xk_harness runs every case on every kernel variant of one
// device and once through automatic selection, against the oracle in kernels/ref.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "xk/dtype.h"

namespace xk::harness {

// Maximum normalised mean squared error, sum((y - ref)^2) / sum(ref^2), per activation
// precision. The justification for each number sits beside it in cases.cpp.
double max_nmse_matmul(ActPrecision act);
extern const double kMaxNmseAttention;

struct MatmulCase {
  DType w;           // weight format: Q4_0, Q8_0, MXFP4, NVFP4, F16, BF16, F32
  DType x;           // activation storage: F32, F16, BF16
  ActPrecision act;  // Auto = the device's choice; the tolerance follows the resolved one
  int64_t M, N, K;   // Y[M, N] = X[M, K] * W[N, K]^T

  std::string name() const;  // "q4_0_q8_M33_N97_K160", "f16_xf16_f16_M1_N71_K96"
  double flops() const {
    return 2.0 * static_cast<double>(M) * static_cast<double>(N) * static_cast<double>(K);
  }
  double bytes() const;  // W + X read once, Y written once
};

struct AttentionCase {
  DType q;   // F32 or F16
  DType kv;  // F16 or F32 (V has K's dtype)
  int64_t B, Hq, Hkv, S, T, D;
  bool causal;
  int64_t q_offset;  // absolute position of query 0
  float scale;       // 0 = 1/sqrt(D)

  std::string name() const;  // "kvf16_B1_Hq8_Hkv2_S19_T19_D128_causal_off0"
  double flops() const;      // 4*D per visible (query, key) pair: QK^T and PV
  double bytes() const;      // Q, K, V read once, O written once
};

// Shape lists. The small list keeps the simulator (which runs every GPU thread as a
// fiber) to seconds per case; cpu-ref uses it plus one M=512 shape; hardware and
// lavapipe get the full list.
enum class ShapeSet { Small, SmallPlusM512, Full };
ShapeSet shape_set_for(const std::string& device_api, const std::string& device_name);
const char* name(ShapeSet s);

std::vector<MatmulCase> matmul_cases(ShapeSet s);
std::vector<AttentionCase> attention_cases(ShapeSet s);

}  // namespace xk::harness
