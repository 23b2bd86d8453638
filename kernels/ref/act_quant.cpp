// cpu-ref: on-the-fly activation quantizers (kernels/ref/ref.h). GPU kernels that quantize X
// inside the GEMM must produce exactly these bytes; they share the scalar rules through
// kernels/ref/numerics.h.
#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "kernels/ref/formats.h"
#include "kernels/ref/numerics.h"
#include "kernels/ref/ref.h"
#include "xk/error.h"
#include "xk/formats.h"

namespace xk::ref {

namespace {
void check_blocks(const char* op, int64_t K, int block) {
  if (K < 0 || K % block != 0)
    throw Error(op, "K",
                "K=" + std::to_string(K) + " is not a non-negative multiple of " + std::to_string(block));
}

bool all_finite(const float* x, int64_t n) {
  for (int64_t k = 0; k < n; ++k)
    if (!std::isfinite(x[k])) return false;
  return true;
}
}  // namespace

// NaN policy (README "Contracts"): a non-finite element never becomes a finite code. Its
// block gets a NaN scale and zero codes, so every output that reads the block is NaN (the
// GPU quantizers do the same); so does a block whose scale overflows FP16 (amax > 65504 * 127). A block whose
// d = amax/127 rounds to FP16 zero is all zeros in any case; it is written directly because ggml's 1/d is inf
// there and int8(inf) undefined.
void quantize_act_q8(const float* x, int64_t K, void* q8_0_blocks) {
  check_blocks("quantize_act_q8", K, 32);
  auto* blocks = static_cast<block_q8_0*>(q8_0_blocks);
  for (int64_t b = 0; b < K / 32; ++b) {
    const float* xb = x + b * 32;
    block_q8_0& out = blocks[b];
    const float d = [&] {
      float amax = 0.0f;
      for (int j = 0; j < 32; ++j) amax = std::max(amax, std::fabs(xb[j]));
      return amax / 127.0f;
    }();
    const bool finite = all_finite(xb, 32) && std::isfinite(num::f16_to_f32(num::f32_to_f16(d)));
    if (!finite || num::f32_to_f16(d) == 0) {
      out = {};
      out.d = finite ? 0 : num::f32_to_f16(std::numeric_limits<float>::quiet_NaN());
    } else {
      quantize_row(DType::Q8_0, xb, &out, 32);
    }
  }
}

// A row with a non-finite element quantizes as zeros under a NaN row factor: every output
// of the row is NaN (NaN policy above; the CUDA quantizer marks the block scale instead).
float quantize_act_fp4(DType w_dtype, const float* x, int64_t K, void* blocks) {
  if ((w_dtype == DType::MXFP4 || w_dtype == DType::NVFP4) && !all_finite(x, K)) {
    const std::vector<float> zeros(static_cast<size_t>(K), 0.0f);
    quantize_act_fp4(w_dtype, zeros.data(), K, blocks);
    return std::numeric_limits<float>::quiet_NaN();
  }
  if (w_dtype == DType::MXFP4) {
    quantize_row(DType::MXFP4, x, blocks, K);
    return 1.0f;
  }
  if (w_dtype != DType::NVFP4)
    throw Error("quantize_act_fp4", "w_dtype",
                std::string("fp4 activations need mxfp4 or nvfp4 weights, got ") + name(w_dtype));
  check_blocks("quantize_act_fp4", K, 64);
  // Per-row FP32 scale: the row's largest element lands at 6 * 448 like a weight tensor's.
  float amax = 0.0f;
  for (int64_t k = 0; k < K; ++k) amax = std::fabs(x[k]) > amax ? std::fabs(x[k]) : amax;
  // Floored at the smallest normal float so x / s stays finite for vanishing rows.
  const float s = amax > 0.0f ? std::max(amax / (6.0f * 448.0f), std::numeric_limits<float>::min()) : 1.0f;
  std::vector<float> scaled(static_cast<size_t>(K));
  for (int64_t k = 0; k < K; ++k) scaled[static_cast<size_t>(k)] = x[k] / s;
  quantize_row(DType::NVFP4, scaled.data(), blocks, K);
  return s;
}

void quantize_act_fp8(const float* x, int64_t K, uint8_t* scales_e8m0, uint8_t* codes_e4m3) {
  check_blocks("quantize_act_fp8", K, 32);
  for (int64_t b = 0; b < K / 32; ++b) {
    const float* xb = x + b * 32;
    float amax = 0.0f;
    for (int j = 0; j < 32; ++j) amax = std::fabs(xb[j]) > amax ? std::fabs(xb[j]) : amax;
    if (!all_finite(xb, 32)) {  // NaN policy: the NaN scale 0xFF (OCP MX spec v1.0, 5.4.1), zero codes
      scales_e8m0[b] = 0xFF;
      std::fill(codes_e4m3 + b * 32, codes_e4m3 + b * 32 + 32, uint8_t{0});
      continue;
    }
    const uint8_t e = num::fp8_act_exponent(amax);
    scales_e8m0[b] = e;
    for (int j = 0; j < 32; ++j) codes_e4m3[b * 32 + j] = num::fp8_act_code(xb[j], e);
  }
}

}  // namespace xk::ref
