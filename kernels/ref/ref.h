// cpu-ref: the scalar oracle every test compares against. Obviously correct, not fast.
// Works on host pointers so the test harness can call it directly on host data.
//
// Matmul semantics per activation precision (GPU kernels implement exactly these):
//   F32  X widened to FP32; W dequantized to FP32 (NVFP4 includes tensor_scale).
//   F16  X and dequantized W each rounded to FP16 (RNE) before multiplying.
//   Q8   each row of X quantized to Q8_0 blocks (xk::quantize_row(Q8_0): d = amax/127,
//        q = roundf(x * (1/d)) with 1/d rounded to FP32 first and ties away from zero, as
//        ggml's quantize_row_q8_0_ref; d stored as FP16, the rounded d is the x scale).
//        Weights enter as small integers with a block scale: Q4_0 (q-8, d); Q8_0 (q, d);
//        MXFP4 (2*e2m1, 2^(e-127)/2); NVFP4 per 16 (2*e2m1, ue4m3 * tensor_scale / 2).
//        Y = sum over blocks of w_scale * x_scale * sum(int w * int x).
//   FP4  X quantized to the weight's FP4 format: MXFP4 weights -> quantize_row(MXFP4, x);
//        NVFP4 weights -> per-row scale s = amax_row / (6 * 448) (1 when the row is 0,
//        floored at FLT_MIN so x / s stays finite),
//        quantize_row(NVFP4, x / s), and Y row multiplied by s.
//   FP8  X quantized to E4M3 in blocks of 32 with one E8M0 scale each (quantize_act_fp8).
// Every product is formed exactly and accumulated in FP64; Y is rounded to FP32 once.
//
// Attention: Q, K, V widened to FP64, scores, softmax and P*V in FP64, O rounded to FP32.
// Causal: query i (absolute position q_offset + i) sees keys j <= q_offset + i.
#pragma once
#include <cstdint>
#include <vector>

#include "xk/dtype.h"

namespace xk::ref {

struct MatmulProblem {
  DType w_dtype;         // any DType
  const void* W;         // [N, K] GGUF-canonical rows
  float w_scale = 1.0f;  // NVFP4 per-tensor scale
  DType x_dtype;         // F32, F16 or BF16
  const void* X;         // [M, K]
  float* Y;              // [M, N]
  int64_t M, N, K;
  ActPrecision act;  // not Auto
};
void matmul(const MatmulProblem& p);

struct AttentionProblem {
  DType q_dtype;   // F32 or F16
  const void* Q;   // [B, Hq, S, D]
  DType kv_dtype;  // F16 or F32
  const void* K;   // [B, Hkv, T, D]
  const void* V;   // [B, Hkv, T, D]
  float* O;        // [B, Hq, S, D]
  int64_t B, Hq, Hkv, S, T, D;
  float scale;
  bool causal;
  int64_t q_offset;
};
void attention(const AttentionProblem& p);

// Activation quantizers used by matmul above, exposed so GPU kernel tests can compare the
// on-the-fly quantization itself. Each writes GGUF-layout blocks for one row of K values.
void quantize_act_q8(const float* x, int64_t K, void* q8_0_blocks);
// FP4: returns the row scale s (1 for MXFP4) and writes MXFP4 or NVFP4 blocks of x / s.
float quantize_act_fp4(DType w_dtype, const float* x, int64_t K, void* blocks);
// FP8: K/32 E8M0 scales and K E4M3 codes: scale e = clamp(floor(log2(amax)) - 8 + 127, 0, 254)
// (amax = 0 -> e = 0), code = e4m3(x / 2^(e-127)).
void quantize_act_fp8(const float* x, int64_t K, uint8_t* scales_e8m0, uint8_t* codes_e4m3);

}  // namespace xk::ref
