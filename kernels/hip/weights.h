// Weight and activation element access shared by the HIP kernels (device code; hip-sim runs
// it too). Every format is read through kernels/ref/formats.h, the one statement of the
// GGUF element order, so the kernels cannot disagree with the oracle about which nibble is
// which element.
//
// The unit of work is a "run": 16 consecutive elements k0..k0+15 of one row (k0 % 16 == 0),
// the K extent of one WMMA 16x16x16 instruction. Every quantized format has one scale per
// run or per two runs (Q4_0/Q8_0/MXFP4: 32, NVFP4: 16), so a run never straddles scales.
#pragma once
#include <stddef.h>
#include <stdint.h>

#include "kernels/hip/wmma.h"
#include "kernels/ref/formats.h"
#include "kernels/ref/numerics.h"
#include "xk/dtype.h"

namespace xk::hipk {

using ::xk::DType;
using ::xk::wmma::ld_global;
using ::xk::wmma::st_global;

template <class T>
__device__ inline T ceil_div(T a, T b) {
  return (a + b - 1) / b;
}

// Block size in elements / bytes of a format (kernels/ref/formats.h), usable in device code.
template <DType F>
using Fmt = ::xk::ref::FormatBlock<F>;

// Little-endian FP16 scale at p (GGUF stores ggml_half d first in Q4_0/Q8_0 blocks).
__device__ inline float load_f16_scale(const uint8_t* p) {
  return num::f16_to_f32(static_cast<uint16_t>(ld_global(p) | (ld_global(p + 1) << 8)));
}

// Run of a block-quantized weight row as integers and the scale that turns them into values
// (the ActPrecision::Q8 integer view of kernels/ref/ref.h):
//   Q4_0 (q-8, d)   Q8_0 (q, d)   MXFP4 (2*e2m1, 2^(e-127)/2)   NVFP4 (2*e2m1, ue4m3/2).
// NVFP4's per-tensor scale is NOT included: the kernels apply it once per output, as the
// oracle does, so each per-run term stays exact. Bytes are read straight from global memory
// at the positions formats.h's nibble maps give (GGUF blocks are 17/18/34/36 bytes, so only
// byte alignment holds for every format; a copy of the block into a local struct indexed at
// run time would live in scratch memory on AMDGPU).
template <DType F>
__device__ inline float load_run_i8(const uint8_t* row, int64_t k0, int8_t (&q)[16]) {
  const int64_t block = k0 / Fmt<F>::elems;
  const int first = static_cast<int>(k0 % Fmt<F>::elems);  // element index of q[0] in the block
  const uint8_t* p = row + block * Fmt<F>::bytes;
  if constexpr (F == DType::Q4_0 || F == DType::MXFP4) {
    constexpr int qs = F == DType::Q4_0 ? 2 : 1;  // offset of qs[] (after fp16 d / E8M0 e)
    for (int j = 0; j < 16; ++j) {
      const ref::NibbleAt at = ref::q4_0_nibble_at(first + j);
      const int code = (ld_global(p + qs + at.byte) >> at.shift) & 0xF;
      q[j] = static_cast<int8_t>(F == DType::Q4_0 ? code - 8 : num::e2m1_x2(static_cast<uint8_t>(code)));
    }
    if constexpr (F == DType::Q4_0)
      return load_f16_scale(p);
    else
      return num::e8m0_to_f32_half_ggml(ld_global(p));
  } else if constexpr (F == DType::Q8_0) {
    for (int j = 0; j < 16; ++j) q[j] = static_cast<int8_t>(ld_global(p + 2 + first + j));
    return load_f16_scale(p);
  } else {
    static_assert(F == DType::NVFP4, "integer runs exist for the block-quantized formats only");
    for (int j = 0; j < 16; ++j) {
      const ref::NibbleAt at = ref::nvfp4_nibble_at(first + j);
      q[j] = static_cast<int8_t>(
          num::e2m1_x2(static_cast<uint8_t>((ld_global(p + 4 + at.byte) >> at.shift) & 0xF)));
    }
    return num::ue4m3_to_f32_half_ggml(ld_global(p + first / ref::kQKNvfp4Sub));
  }
}

// Layout facts the byte offsets above rely on (formats.h structs, GGUF order of fields).
static_assert(offsetof(ref::block_q4_0, qs) == 2 && offsetof(ref::block_q8_0, qs) == 2, "fp16 d first");
static_assert(offsetof(ref::block_mxfp4, qs) == 1 && offsetof(ref::block_nvfp4, qs) == 4, "scales first");

// Run of a weight row as FP32 values, exactly as xk::dequantize_row computes them (NVFP4:
// (code * scale/2) exact, then one rounding by tensor_scale). Elements at k >= K are 0;
// only the unblocked formats (F32/F16/BF16) can have a K that is not a multiple of 16.
template <DType F>
__device__ inline void load_run_f32(const uint8_t* row, int64_t k0, int64_t K, float tensor_scale,
                                    float (&v)[16]) {
  if constexpr (F == DType::F32) {
    const float* r = reinterpret_cast<const float*>(row);
    for (int j = 0; j < 16; ++j) v[j] = k0 + j < K ? ld_global(r + k0 + j) : 0.0f;
  } else if constexpr (F == DType::F16 || F == DType::BF16) {
    const uint16_t* r = reinterpret_cast<const uint16_t*>(row);
    for (int j = 0; j < 16; ++j) {
      const uint16_t h = k0 + j < K ? ld_global(r + k0 + j) : uint16_t{0};
      v[j] = F == DType::F16 ? num::f16_to_f32(h) : num::bf16_to_f32(h);
    }
  } else {
    int8_t q[16];
    const float s = load_run_i8<F>(row, k0, q);
    for (int j = 0; j < 16; ++j) {
      v[j] = static_cast<float>(q[j]) * s;
      if constexpr (F == DType::NVFP4) v[j] *= tensor_scale;
    }
  }
}

// Activation element m,k of X (F32, F16 or BF16, row-major [M, K]) widened to FP32.
template <DType X>
__device__ inline float load_x(const void* x, int64_t index) {
  if constexpr (X == DType::F32) {
    return ld_global(static_cast<const float*>(x) + index);
  } else if constexpr (X == DType::F16) {
    return num::f16_to_f32(ld_global(static_cast<const uint16_t*>(x) + index));
  } else {
    static_assert(X == DType::BF16, "activations are f32, f16 or bf16");
    return num::bf16_to_f32(ld_global(static_cast<const uint16_t*>(x) + index));
  }
}

// FP16 bits -> _Float16 for building WMMA fragments (rounding happened in num::f32_to_f16,
// the oracle's own conversion).
__device__ inline _Float16 half_from_bits(uint16_t h) { return __builtin_bit_cast(_Float16, h); }

// Wave32 butterfly reductions (all 32 lanes participate).
__device__ inline float wave_max(float v) {
  for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor(v, o, 32));
  return v;
}
__device__ inline float wave_sum(float v) {
  for (int o = 16; o > 0; o >>= 1) v += __shfl_xor(v, o, 32);
  return v;
}
// Reduction over the 16 lanes that share lane / 16 (one row of a WMMA C/D fragment).
__device__ inline float half_wave_max(float v) {
  for (int o = 8; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor(v, o, 32));
  return v;
}
__device__ inline float half_wave_sum(float v) {
  for (int o = 8; o > 0; o >>= 1) v += __shfl_xor(v, o, 32);
  return v;
}

}  // namespace xk::hipk

// ---- entry-point tables (host) --------------------------------------------------------------
// Each kernel header's launch section lists its __global__ entry points with the symbol a
// profiler shows, both taken from one token (XK_HIP_ENTRY), so a row's kernel names cannot
// disagree with the functions it launches.
#include <string>
#include <vector>

#include "xk/variant.h"

namespace xk::hipk {

template <class Fn>
struct Entry {
  DType w, x;  // weight format and activation (or Q / KV) dtype the entry point is built for
  Fn fn;
  const char* symbol;  // the entry point's name in the code object
};
#define XK_HIP_ENTRY(W, X, FN) {W, X, FN, #FN}

template <class Fn, size_t N>
Fn pick(const Entry<Fn> (&table)[N], DType w, DType x) {
  for (const auto& e : table)
    if (e.w == w && e.x == x) return e.fn;
  return nullptr;
}
// Symbols of the entries for weight format w (every entry when w is unset).
template <class Fn, size_t N>
std::vector<std::string> symbols(const Entry<Fn> (&table)[N], const DType* w = nullptr) {
  std::vector<std::string> out;
  for (const auto& e : table)
    if (!w || e.w == *w) out.push_back(e.symbol);
  return out;
}

// One workgroup per Tile::kBM x Tile::kBN block of Y: grid (ceil(N / kBN), ceil(M / kBM)).
template <class Tile>
dim3 tile_grid(int64_t M, int64_t N) {
  return dim3(static_cast<unsigned>((N + Tile::kBN - 1) / Tile::kBN),
              static_cast<unsigned>((M + Tile::kBM - 1) / Tile::kBM));
}

// Launches a kernel of the (W, row bytes, tensor scale, X, Y, M, N, K) signature that the
// f16 GEMM and the GEMV share: W in GGUF rows, X as stored, Y FP32.
template <class L, class Kernel>
void launch_w_x(L& l, const char* variant, Kernel kernel, dim3 grid, dim3 block, const MatmulArgs& a,
                LaunchRecord& rec) {
  l.launch(variant, kernel, grid, block, 0, rec, static_cast<const uint8_t*>(l.ptr(a.W.buf)),
           static_cast<int64_t>(row_bytes(a.W.dtype, a.K())), a.W.tensor_scale,
           static_cast<const void*>(l.ptr(a.X.buf)), static_cast<float*>(l.ptr(a.Y.buf)), a.M(), a.N(),
           a.K());
}

}  // namespace xk::hipk
