// cpu-ref matmul: Y[M,N] = X[M,K] * W[N,K]^T, the oracle for every weight format and
// activation precision (semantics in kernels/ref/ref.h).
//
// Two paths, both FP64-accumulated and rounded to FP32 once per output:
//   value path    F32, F16 and FP8 activations, and Q8 activations against float weights.
//                 Each operand element is an FP32 number (exact for every format), their
//                 product is exact in FP64, summed in four interleaved partial sums.
//   integer path  Q8 and FP4 activations against block-quantized weights, as the int8 /
//                 block-scaled tensor-core kernels compute it: per block of G elements an
//                 exact integer dot product, times (w_scale * x_scale), summed over blocks.
//                 G = 16 when either side is NVFP4 (its scales are per 16), else 32.
// Each W row is expanded once and reused for all M rows of X, so the integer path runs the
// M=512, N=K=4096 Q4_0 x Q8 case in seconds on one core.
#include <cstring>
#include <string>
#include <vector>

#include "kernels/ref/formats.h"
#include "kernels/ref/numerics.h"
#include "kernels/ref/ref.h"
#include "xk/error.h"
#include "xk/formats.h"

namespace xk::ref {

namespace {

// X row m widened to FP32.
void load_x_row(const MatmulProblem& p, int64_t m, float* dst) {
  const size_t row = static_cast<size_t>(m) * static_cast<size_t>(p.K);
  switch (p.x_dtype) {
    case DType::F32:
      if (p.K)
        std::memcpy(dst, static_cast<const float*>(p.X) + row, static_cast<size_t>(p.K) * sizeof(float));
      return;
    case DType::F16:
    case DType::BF16:
      dequantize_row(p.x_dtype, static_cast<const uint16_t*>(p.X) + row, dst, p.K);
      return;
    default:
      throw Error("ref::matmul", "X",
                  std::string("activations must be f32, f16 or bf16, got ") + name(p.x_dtype));
  }
}

const uint8_t* w_row(const MatmulProblem& p, int64_t n) {
  return static_cast<const uint8_t*>(p.W) + row_bytes(p.w_dtype, p.K) * static_cast<size_t>(n);
}

float round_to_f16(float v) { return num::f16_to_f32(num::f32_to_f16(v)); }

// ---------------------------------------------------------------- value path
// X row as the FP32 values the precision implies (exact representations, no further rounding).
void x_values(const MatmulProblem& p, int64_t m, float* x, std::vector<uint8_t>& scratch) {
  load_x_row(p, m, x);
  const int64_t K = p.K;
  switch (p.act) {
    case ActPrecision::F32:
      return;
    case ActPrecision::F16:
      for (int64_t k = 0; k < K; ++k) x[k] = round_to_f16(x[k]);
      return;
    case ActPrecision::Q8:  // q * fp16(d): at most 8 + 11 significant bits, exact in FP32
      scratch.resize(row_bytes(DType::Q8_0, K));
      quantize_act_q8(x, K, scratch.data());
      dequantize_row(DType::Q8_0, scratch.data(), x, K);
      return;
    case ActPrecision::FP8: {  // e4m3 * 2^(e-127): 4 significant bits, exact in FP32
      std::vector<uint8_t> scales(static_cast<size_t>(K / 32)), codes(static_cast<size_t>(K));
      quantize_act_fp8(x, K, scales.data(), codes.data());
      for (int64_t k = 0; k < K; ++k)
        x[k] = num::e4m3_to_f32(codes[static_cast<size_t>(k)]) *
               num::e8m0_to_f32(scales[static_cast<size_t>(k / 32)]);
      return;
    }
    default:
      throw Error("ref::matmul", "act", std::string("precision ") + name(p.act) + " has no value path");
  }
}

// sum_k w[k] * x[k] with exact FP64 products (24-bit by 24-bit significands). Four partial
// sums over k mod 4 instead of one running sum: the FP64 result is as accurate either way
// (rounding error ~K * 2^-53 of sum |w x|, far below the final FP32 rounding) and the
// independent chains run ~4x faster than one latency-bound chain.
double dot_f64(const float* w, const float* x, int64_t K) {
  double acc[4] = {0.0, 0.0, 0.0, 0.0};
  int64_t k = 0;
  for (; k + 4 <= K; k += 4)
    for (int l = 0; l < 4; ++l) acc[l] += static_cast<double>(w[k + l]) * static_cast<double>(x[k + l]);
  for (; k < K; ++k) acc[0] += static_cast<double>(w[k]) * static_cast<double>(x[k]);
  return (acc[0] + acc[1]) + (acc[2] + acc[3]);
}

void matmul_values(const MatmulProblem& p) {
  const int64_t M = p.M, N = p.N, K = p.K;
  std::vector<float> xs(static_cast<size_t>(M * K));
  std::vector<uint8_t> scratch;
  for (int64_t m = 0; m < M; ++m) x_values(p, m, xs.data() + m * K, scratch);
  std::vector<float> w(static_cast<size_t>(K));
  for (int64_t n = 0; n < N; ++n) {
    dequantize_row(p.w_dtype, w_row(p, n), w.data(), K, p.w_dtype == DType::NVFP4 ? p.w_scale : 1.0f);
    if (p.act == ActPrecision::F16)
      for (auto& v : w) v = round_to_f16(v);
    for (int64_t m = 0; m < M; ++m)
      p.Y[m * N + n] = static_cast<float>(dot_f64(w.data(), xs.data() + m * K, K));
  }
}

// ---------------------------------------------------------------- integer path
// One operand row as small integers with one scale per group of G elements.
struct IntRow {
  std::vector<int8_t> q;      // [K]
  std::vector<double> scale;  // [K / G]
};

// Weight row n: Q4_0 (q-8, d), Q8_0 (q, d), MXFP4 (2*e2m1, 2^(e-127)/2), NVFP4 (2*e2m1,
// ue4m3/2). NVFP4's tensor scale is applied once per output instead (see matmul_ints).
void w_ints(const MatmulProblem& p, int64_t n, int G, IntRow& r) {
  const int64_t K = p.K;
  const uint8_t* row = w_row(p, n);
  const int64_t blocks = K / traits(p.w_dtype).block_elems;
  for (int64_t b = 0; b < blocks; ++b) {
    switch (p.w_dtype) {
      case DType::Q4_0: {
        const auto& blk = reinterpret_cast<const block_q4_0*>(row)[b];
        for (int j = 0; j < 32; ++j)
          r.q[static_cast<size_t>(b * 32 + j)] = static_cast<int8_t>(q4_0_get(blk, j));
        for (int g = 0; g < 32 / G; ++g) r.scale[static_cast<size_t>(b * (32 / G) + g)] = q4_0_scale(blk);
        break;
      }
      case DType::Q8_0: {
        const auto& blk = reinterpret_cast<const block_q8_0*>(row)[b];
        for (int j = 0; j < 32; ++j)
          r.q[static_cast<size_t>(b * 32 + j)] = static_cast<int8_t>(q8_0_get(blk, j));
        for (int g = 0; g < 32 / G; ++g) r.scale[static_cast<size_t>(b * (32 / G) + g)] = q8_0_scale(blk);
        break;
      }
      case DType::MXFP4: {
        const auto& blk = reinterpret_cast<const block_mxfp4*>(row)[b];
        for (int j = 0; j < 32; ++j)
          r.q[static_cast<size_t>(b * 32 + j)] = static_cast<int8_t>(mxfp4_get(blk, j));
        for (int g = 0; g < 32 / G; ++g)
          r.scale[static_cast<size_t>(b * (32 / G) + g)] = mxfp4_scale_half(blk);
        break;
      }
      case DType::NVFP4: {
        const auto& blk = reinterpret_cast<const block_nvfp4*>(row)[b];
        for (int j = 0; j < 64; ++j)
          r.q[static_cast<size_t>(b * 64 + j)] = static_cast<int8_t>(nvfp4_get(blk, j));
        for (int s = 0; s < 4; ++s) r.scale[static_cast<size_t>(b * 4 + s)] = nvfp4_scale_half(blk, s);
        break;
      }
      default:
        throw Error("ref::matmul", "W", std::string("no integer form for ") + name(p.w_dtype));
    }
  }
}

// Activation row m quantized as the precision says; returns the per-row factor (NVFP4 FP4's s).
double x_ints(const MatmulProblem& p, int64_t m, int G, float* xf, std::vector<uint8_t>& blocks, IntRow& r) {
  const int64_t K = p.K;
  load_x_row(p, m, xf);
  if (p.act == ActPrecision::Q8) {
    blocks.resize(row_bytes(DType::Q8_0, K));
    quantize_act_q8(xf, K, blocks.data());
    const auto* b = reinterpret_cast<const block_q8_0*>(blocks.data());
    for (int64_t k = 0; k < K; ++k)
      r.q[static_cast<size_t>(k)] = static_cast<int8_t>(q8_0_get(b[k / 32], k % 32));
    for (int64_t g = 0; g < K / G; ++g) r.scale[static_cast<size_t>(g)] = q8_0_scale(b[g * G / 32]);
    return 1.0;
  }
  // FP4: the weight's own format.
  blocks.resize(row_bytes(p.w_dtype, K));
  const float s = quantize_act_fp4(p.w_dtype, xf, K, blocks.data());
  if (p.w_dtype == DType::MXFP4) {
    const auto* b = reinterpret_cast<const block_mxfp4*>(blocks.data());
    for (int64_t k = 0; k < K; ++k)
      r.q[static_cast<size_t>(k)] = static_cast<int8_t>(mxfp4_get(b[k / 32], k % 32));
    for (int64_t g = 0; g < K / G; ++g) r.scale[static_cast<size_t>(g)] = mxfp4_scale_half(b[g * G / 32]);
  } else {
    const auto* b = reinterpret_cast<const block_nvfp4*>(blocks.data());
    for (int64_t k = 0; k < K; ++k)
      r.q[static_cast<size_t>(k)] = static_cast<int8_t>(nvfp4_get(b[k / 64], k % 64));
    for (int64_t g = 0; g < K / 16; ++g) r.scale[static_cast<size_t>(g)] = nvfp4_scale_half(b[g / 4], g % 4);
  }
  return s;
}

// sum over groups of (ws * xs) * sum(int w * int x). Every term is exact in FP64: scales carry
// at most 11 + 11 significant bits (fp16 x fp16; FP4 scales fewer) and |int dot| < 2^19.
// Even and odd groups go to two partial sums so consecutive FP64 additions do not wait on
// each other (the same accuracy argument as dot_f64).
template <int G>
double int_dot(const IntRow& w, const IntRow& x, int64_t K) {
  double acc[2] = {0.0, 0.0};
  const int8_t* wq = w.q.data();
  const int8_t* xq = x.q.data();
  for (int64_t g = 0; g < K / G; ++g) {
    int32_t isum = 0;
    for (int j = 0; j < G; ++j)
      isum += static_cast<int32_t>(wq[g * G + j]) * static_cast<int32_t>(xq[g * G + j]);
    acc[g & 1] +=
        (w.scale[static_cast<size_t>(g)] * x.scale[static_cast<size_t>(g)]) * static_cast<double>(isum);
  }
  return acc[0] + acc[1];
}

void matmul_ints(const MatmulProblem& p) {
  const int64_t M = p.M, N = p.N, K = p.K;
  const bool nv = p.w_dtype == DType::NVFP4;
  const int G = nv ? 16 : 32;
  std::vector<IntRow> xs(static_cast<size_t>(M));
  std::vector<double> row_factor(static_cast<size_t>(M));
  std::vector<float> xf(static_cast<size_t>(K));
  std::vector<uint8_t> blocks;
  for (int64_t m = 0; m < M; ++m) {
    IntRow& r = xs[static_cast<size_t>(m)];
    r.q.resize(static_cast<size_t>(K));
    r.scale.resize(static_cast<size_t>(K / G));
    row_factor[static_cast<size_t>(m)] = x_ints(p, m, G, xf.data(), blocks, r);
  }
  // NVFP4's per-tensor scale multiplies the whole dot product; applying it here keeps every
  // per-group term exact (ue4m3 x fp16 scales are short; tensor_scale has 24 bits).
  const double w_factor = nv ? static_cast<double>(p.w_scale) : 1.0;
  IntRow w;
  w.q.resize(static_cast<size_t>(K));
  w.scale.resize(static_cast<size_t>(K / G));
  for (int64_t n = 0; n < N; ++n) {
    w_ints(p, n, G, w);
    for (int64_t m = 0; m < M; ++m) {
      const double dot = G == 16 ? int_dot<16>(w, xs[static_cast<size_t>(m)], K)
                                 : int_dot<32>(w, xs[static_cast<size_t>(m)], K);
      p.Y[m * N + n] = static_cast<float>(dot * row_factor[static_cast<size_t>(m)] * w_factor);
    }
  }
}

}  // namespace

void matmul(const MatmulProblem& p) {
  if (p.M < 0 || p.N < 0 || p.K < 0) throw Error("ref::matmul", "shape", "negative dimension");
  const auto& tr = traits(p.w_dtype);
  if (p.K % tr.block_elems != 0)
    throw Error("ref::matmul", "W",
                "K=" + std::to_string(p.K) + " is not a multiple of the " + tr.name + " block size " +
                    std::to_string(tr.block_elems));
  const bool quantized_w = tr.quantized;
  switch (p.act) {
    case ActPrecision::F32:
    case ActPrecision::F16:
    case ActPrecision::FP8:
      if (p.act == ActPrecision::FP8 && p.K % 32 != 0)
        throw Error("ref::matmul", "act",
                    "fp8 activations need K to be a multiple of 32, K=" + std::to_string(p.K));
      matmul_values(p);
      return;
    case ActPrecision::Q8:
      if (p.K % 32 != 0)
        throw Error("ref::matmul", "act",
                    "q8 activations need K to be a multiple of 32, K=" + std::to_string(p.K));
      if (quantized_w)
        matmul_ints(p);
      else
        matmul_values(p);
      return;
    case ActPrecision::FP4:
      if (p.w_dtype != DType::MXFP4 && p.w_dtype != DType::NVFP4)
        throw Error("ref::matmul", "act",
                    std::string("fp4 activations need mxfp4 or nvfp4 weights, W is ") + tr.name);
      matmul_ints(p);
      return;
    case ActPrecision::Auto:
      break;
  }
  throw Error("ref::matmul", "act", "the reference needs an explicit activation precision, not auto");
}

}  // namespace xk::ref
