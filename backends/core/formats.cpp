// Host-side conversions and GGUF (de)quantization (include/xk/formats.h).
//
// The row quantizers reproduce ggml's reference quantizers bit for bit
// (ggml/src/ggml-quants.c: quantize_row_q4_0_ref, quantize_row_q8_0_ref,
// quantize_row_mxfp4_ref, quantize_row_nvfp4_ref, and the matching dequantize_row_*), so a
// GGUF file's bytes and ours are interchangeable. Their rounding rules are ggml's, not IEEE's:
//   Q4_0   d = (signed value of largest magnitude) / -8, q = min(15, trunc(x/d + 8.5))
//   Q8_0   d = amax / 127, q = roundf(x * (1/d))  (half away from zero)
//   MXFP4  e = floor(log2f(amax)) - 2 + 127, codes by nearest doubled-E2M1 (lower index on ties)
//   NVFP4  per 16: d = ggml_fp32_to_ue4m3(amax / 6) (round half up), codes as MXFP4
// Two departures, both where ggml's result is undefined or not finite (README "Contracts"):
//   - a Q4_0/Q8_0 block whose 1/d overflows (|d| < 1/FLT_MAX: Q8_0 amax below ~3.7e-37, Q4_0
//     below ~2.4e-38) is stored as ggml stores an all-zero block (FP16 d of +-0, codes of value 0);
//     ggml converts inf/NaN to int8 there;
//   - a Q4_0/Q8_0 block whose d overflows FP16 (Q8_0 amax >= 65520 * 127 ~ 8.3e6, Q4_0
//     >= 65520 * 8) is an xk::Error, where ggml stores an infinite scale.
// The element order of each block lives in kernels/ref/formats.h.
#include "xk/formats.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <cstring>
#include <string>

#include "kernels/ref/formats.h"
#include "kernels/ref/numerics.h"
#include "xk/error.h"

namespace xk {

float f16_to_f32(uint16_t h) { return num::f16_to_f32(h); }
uint16_t f32_to_f16(float f) { return num::f32_to_f16(f); }
float bf16_to_f32(uint16_t h) { return num::bf16_to_f32(h); }
uint16_t f32_to_bf16(float f) { return num::f32_to_bf16(f); }
float e2m1_to_f32(uint8_t code) { return num::e2m1_to_f32(code); }
uint8_t f32_to_e2m1(float f) { return num::f32_to_e2m1(f); }
float e8m0_to_f32(uint8_t e) { return num::e8m0_to_f32(e); }
float ue4m3_to_f32(uint8_t code) { return num::ue4m3_to_f32(code); }
uint8_t f32_to_ue4m3(float f) { return num::f32_to_ue4m3(f); }
float e4m3_to_f32(uint8_t code) { return num::e4m3_to_f32(code); }
uint8_t f32_to_e4m3(float f) { return num::f32_to_e4m3(f); }

namespace {

using namespace xk::ref;

void check_row(const char* op, DType t, int64_t n) {
  const auto& tr = traits(t);
  if (n < 0) throw Error(op, "n", "negative length " + std::to_string(n));
  if (n % tr.block_elems != 0)
    throw Error(op, "n",
                std::to_string(n) + " elements is not a multiple of the " + tr.name + " block size " +
                    std::to_string(tr.block_elems));
}

// ggml's quantizers are only defined for finite input (an inf makes d infinite and every
// code garbage; a NaN is silently skipped by the amax scan). Refuse both, naming the index.
void check_finite(const char* op, DType t, const float* x, int64_t n) {
  for (int64_t i = 0; i < n; ++i)
    if (!std::isfinite(x[i]))
      throw Error(op, "x",
                  std::string(name(t)) + " quantization needs finite input, element " + std::to_string(i) +
                      " is " + std::to_string(x[i]));
}

// %g, so that 1e-41 and 3e+38 read as such (std::to_string prints fixed-point).
std::string num_str(float v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", static_cast<double>(v));
  return buf;
}

float block_amax(const float* x, int n) {
  float amax = 0.0f;
  for (int j = 0; j < n; ++j) amax = std::fabs(x[j]) > amax ? std::fabs(x[j]) : amax;
  return amax;
}

// ggml's id = 1/d, or 0 where that is not finite: d == 0 (ggml's own case, an all-zero block)
// and |d| below 1/FLT_MAX, whose reciprocal overflows to inf. There ggml goes on to convert
// x * inf (or 0 * inf = NaN) to int8, which is undefined behaviour; such a block's FP16 scale
// rounds to zero anyway, so it is stored as ggml stores an all-zero block (codes of value 0).
float finite_reciprocal(float d) {
  if (d == 0.0f) return 0.0f;
  const float id = 1.0f / d;
  return std::isfinite(id) ? id : 0.0f;
}

// The FP16 scale of block `block`, refusing one FP16 cannot hold: ggml stores inf there and
// every element of the block then reads back as inf or NaN, a finite weight made non-finite.
uint16_t block_scale_f16(DType t, float d, int64_t block, float largest) {
  const uint16_t h = num::f32_to_f16(d);
  if (std::isinf(num::f16_to_f32(h))) {
    const auto& tr = traits(t);
    throw Error("quantize_row", "x",
                std::string(tr.name) + " block " + std::to_string(block) + " (elements " +
                    std::to_string(block * tr.block_elems) + ".." +
                    std::to_string((block + 1) * tr.block_elems - 1) + ") has largest magnitude " +
                    num_str(largest) + ": its scale " + num_str(d) +
                    " overflows FP16 (largest finite 65504), so the block cannot be stored");
  }
  return h;
}

void quantize_q4_0(const float* x, block_q4_0* y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, x += kQK4_0) {
    float amax = 0.0f, max = 0.0f;  // the signed value of largest magnitude, first one wins
    for (int j = 0; j < kQK4_0; ++j)
      if (amax < std::fabs(x[j])) {
        amax = std::fabs(x[j]);
        max = x[j];
      }
    const float d = max / -8;  // so the extreme value maps to q = 0, i.e. -8 * d
    const float id = finite_reciprocal(d);
    y[i] = {};
    y[i].d = block_scale_f16(DType::Q4_0, d, i, amax);
    for (int j = 0; j < kQK4_0; ++j) {
      const int q = static_cast<int8_t>(x[j] * id + 8.5f);  // truncation, as ggml's (int8_t) cast
      q4_0_put(y[i], j, static_cast<uint8_t>(q < 15 ? q : 15));
    }
  }
}

void quantize_q8_0(const float* x, block_q8_0* y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, x += kQK8_0) {
    const float amax = block_amax(x, kQK8_0);
    const float d = amax / 127;
    const float id = finite_reciprocal(d);
    y[i].d = block_scale_f16(DType::Q8_0, d, i, amax);
    for (int j = 0; j < kQK8_0; ++j) y[i].qs[j] = static_cast<int8_t>(std::round(x[j] * id));
  }
}

void quantize_mxfp4(const float* x, block_mxfp4* y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, x += kQKMxfp4) {
    y[i] = {};
    y[i].e = num::mxfp4_exponent_ggml(block_amax(x, kQKMxfp4));
    const float d = num::e8m0_to_f32_half_ggml(y[i].e);
    for (int j = 0; j < kQKMxfp4; ++j) mxfp4_put(y[i], j, num::e2m1_best_index_ggml(x[j], d));
  }
}

void quantize_nvfp4(const float* x, block_nvfp4* y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i) {
    y[i] = {};
    for (int s = 0; s < kQKNvfp4 / kQKNvfp4Sub; ++s) {
      const float* xs = x + i * kQKNvfp4 + s * kQKNvfp4Sub;
      y[i].d[s] = num::ue4m3_from_f32_ggml(block_amax(xs, kQKNvfp4Sub) / 6.0f);
      const float d = num::ue4m3_to_f32_half_ggml(y[i].d[s]);
      for (int j = 0; j < kQKNvfp4Sub; ++j)
        nvfp4_put(y[i], s * kQKNvfp4Sub + j, num::e2m1_best_index_ggml(xs[j], d));
    }
  }
}

}  // namespace

void quantize_row(DType t, const float* x, void* dst, int64_t n) {
  check_row("quantize_row", t, n);
  if (traits(t).quantized) check_finite("quantize_row", t, x, n);
  const int64_t nb = n / traits(t).block_elems;
  switch (t) {
    case DType::F32:
      if (n) std::memcpy(dst, x, static_cast<size_t>(n) * sizeof(float));
      return;
    case DType::F16: {
      auto* h = static_cast<uint16_t*>(dst);
      for (int64_t i = 0; i < n; ++i) h[i] = num::f32_to_f16(x[i]);
      return;
    }
    case DType::BF16: {
      auto* h = static_cast<uint16_t*>(dst);
      for (int64_t i = 0; i < n; ++i) h[i] = num::f32_to_bf16(x[i]);
      return;
    }
    case DType::Q4_0:
      quantize_q4_0(x, static_cast<block_q4_0*>(dst), nb);
      return;
    case DType::Q8_0:
      quantize_q8_0(x, static_cast<block_q8_0*>(dst), nb);
      return;
    case DType::MXFP4:
      quantize_mxfp4(x, static_cast<block_mxfp4*>(dst), nb);
      return;
    case DType::NVFP4:
      quantize_nvfp4(x, static_cast<block_nvfp4*>(dst), nb);
      return;
  }
  throw Error("quantize_row", "dtype", "unknown format code " + std::to_string(static_cast<int>(t)));
}

void dequantize_row(DType t, const void* src, float* y, int64_t n, float tensor_scale) {
  check_row("dequantize_row", t, n);
  const int64_t nb = n / traits(t).block_elems;
  switch (t) {
    case DType::F32:
      if (n) std::memcpy(y, src, static_cast<size_t>(n) * sizeof(float));
      return;
    case DType::F16: {
      const auto* h = static_cast<const uint16_t*>(src);
      for (int64_t i = 0; i < n; ++i) y[i] = num::f16_to_f32(h[i]);
      return;
    }
    case DType::BF16: {
      const auto* h = static_cast<const uint16_t*>(src);
      for (int64_t i = 0; i < n; ++i) y[i] = num::bf16_to_f32(h[i]);
      return;
    }
    case DType::Q4_0: {
      const auto* b = static_cast<const block_q4_0*>(src);
      for (int64_t i = 0; i < nb; ++i)
        for (int j = 0; j < kQK4_0; ++j)
          y[i * kQK4_0 + j] = static_cast<float>(q4_0_get(b[i], j)) * q4_0_scale(b[i]);
      return;
    }
    case DType::Q8_0: {
      const auto* b = static_cast<const block_q8_0*>(src);
      for (int64_t i = 0; i < nb; ++i)
        for (int j = 0; j < kQK8_0; ++j)
          y[i * kQK8_0 + j] = static_cast<float>(q8_0_get(b[i], j)) * q8_0_scale(b[i]);
      return;
    }
    case DType::MXFP4: {
      const auto* b = static_cast<const block_mxfp4*>(src);
      for (int64_t i = 0; i < nb; ++i)
        for (int j = 0; j < kQKMxfp4; ++j)
          y[i * kQKMxfp4 + j] = static_cast<float>(mxfp4_get(b[i], j)) * mxfp4_scale_half(b[i]);
      return;
    }
    case DType::NVFP4: {
      // (code * scale) is exact in FP32 (4-bit by 4-bit significands); tensor_scale then
      // costs one rounding, and none when it is 1 (plain GGUF).
      const auto* b = static_cast<const block_nvfp4*>(src);
      for (int64_t i = 0; i < nb; ++i)
        for (int j = 0; j < kQKNvfp4; ++j)
          y[i * kQKNvfp4 + j] =
              static_cast<float>(nvfp4_get(b[i], j)) * nvfp4_scale_half(b[i], j / kQKNvfp4Sub) * tensor_scale;
      return;
    }
  }
  throw Error("dequantize_row", "dtype", "unknown format code " + std::to_string(static_cast<int>(t)));
}

std::vector<uint8_t> quantize(DType t, const float* x, int64_t rows, int64_t cols, float* tensor_scale) {
  if (rows < 0) throw Error("quantize", "rows", "negative row count " + std::to_string(rows));
  check_row("quantize", t, cols);
  const size_t rb = row_bytes(t, cols);
  std::vector<uint8_t> out(rb * static_cast<size_t>(rows));
  float scale = 1.0f;
  if (t == DType::NVFP4) {
    // One FP32 scale for the whole tensor so that the largest element lands on E2M1's 6 times
    // UE4M3's 448, the top of the two-level range (NVIDIA's NVFP4 recipe).
    const int64_t total = rows * cols;
    check_finite("quantize", t, x, total);
    float amax = 0.0f;
    for (int64_t i = 0; i < total; ++i) amax = std::fabs(x[i]) > amax ? std::fabs(x[i]) : amax;
    // Floored at the smallest normal float so x / scale stays finite for vanishing tensors.
    scale = amax > 0.0f ? std::max(amax / (6.0f * 448.0f), std::numeric_limits<float>::min()) : 1.0f;
    std::vector<float> scaled(static_cast<size_t>(cols));
    for (int64_t r = 0; r < rows; ++r) {
      for (int64_t c = 0; c < cols; ++c) scaled[static_cast<size_t>(c)] = x[r * cols + c] / scale;
      quantize_row(t, scaled.data(), out.data() + rb * static_cast<size_t>(r), cols);
    }
  } else {
    for (int64_t r = 0; r < rows; ++r)
      quantize_row(t, x + r * cols, out.data() + rb * static_cast<size_t>(r), cols);
  }
  if (tensor_scale) *tensor_scale = scale;
  return out;
}

std::vector<float> dequantize(DType t, const void* src, int64_t rows, int64_t cols, float tensor_scale) {
  if (rows < 0) throw Error("dequantize", "rows", "negative row count " + std::to_string(rows));
  check_row("dequantize", t, cols);
  if (t != DType::NVFP4 && tensor_scale != 1.0f)
    throw Error("dequantize", "tensor_scale",
                std::string("only nvfp4 has a tensor scale, format is ") + name(t));
  const size_t rb = row_bytes(t, cols);
  std::vector<float> out(static_cast<size_t>(rows * cols));
  for (int64_t r = 0; r < rows; ++r)
    dequantize_row(t, static_cast<const uint8_t*>(src) + rb * static_cast<size_t>(r), out.data() + r * cols,
                   cols, tensor_scale);
  return out;
}

}  // namespace xk
