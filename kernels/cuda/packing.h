// Weight and activation layouts of the CUDA GEMM/GEMV kernels, and the host-side repack of
// GGUF-canonical weights into them, cached with the tensor (packed_i8 / packed_fp4 at the end
// of this file: at upload on cuda:N, on first use on cuda-sim).
//
// Why repack: GGUF blocks are 17/18/34/36 bytes, so a warp reading them issues unaligned
// scattered loads and scale bytes sit between the codes. Here codes and scales live in two
// planes, tile-major, so that one pipeline stage of one thread block is ONE contiguous run of
// memory: every cp.async is a full 16-byte transfer and a warp's 32 transfers are 512
// consecutive bytes (fully coalesced), and scales arrive in the same way.
//
// "i8" layout (mmq_i8, mmvq): tiles of kI8TileN = 64 weight rows x one block of 32 along K.
//   codes  [n_tile][k_block][64 rows][16 B]  4-bit formats, per 32-block the Q4_0 nibble
//          order (byte j: low nibble = element j, high = element j + 16) for Q4_0, MXFP4 and
//          NVFP4 alike, so one 32-bit load gives a lane both halves of its m16n8k32 B fragment;
//          [..][32 B] int8 for Q8_0.
//   scales [n_tile][k_block][64 rows][G] float, G = 2 for NVFP4 (one per 16), else 1; already
//          the factor that multiplies the integer (Q4_0 d, Q8_0 d, MXFP4 2^(e-127)/2,
//          NVFP4 ue4m3/2 * tensor_scale) exactly as kernels/ref/ref.h states.
// "fp4" layout (mmq_fp4): tiles of kFp4TileN = 128 rows x kFp4BK = 128 along K (two MMA k64
//   steps), K zero-padded to a multiple of 128.
//   codes  [n_tile][k_tile][128 rows][64 B]  natural nibble order (element 2i in the low nibble
//          of byte i): the m16n8k64 A/B fragments are then plain 32-bit words (mma_layouts.h).
//   scales [n_tile][k_tile][128 rows][2] uint32: per k64 step one register as the MMA takes it
//          (NVFP4: 4 UE4M3 bytes, one per 16; MXFP4: 2 E8M0 bytes, one per 32, then 0, 0).
// Padding rows/blocks hold code 0 and scale 0, so they add exact zeros.
#pragma once
#include <stdint.h>

#include <cstring>
#include <vector>

#include "kernels/ref/formats.h"
#include "xk/dtype.h"

namespace xk::cuda_kernels {

inline constexpr int kI8TileN = 64;    // weight rows per i8 tile
inline constexpr int kI8BK = 32;       // K per i8 block (one Q8_0 activation block)
inline constexpr int kFp4TileN = 128;  // weight rows per fp4 tile
inline constexpr int kFp4BK = 128;     // K per fp4 tile (two m16n8k64 steps)

struct I8Layout {
  int64_t n_tiles, k_blocks;
  int code_bytes;        // per row per 32-block: 16 (4-bit) or 32 (Q8_0)
  int scales_per_block;  // floats per row per 32-block: 2 (NVFP4) or 1
  size_t codes_bytes() const { return static_cast<size_t>(n_tiles * k_blocks) * kI8TileN * code_bytes; }
  size_t scales_offset() const { return (codes_bytes() + 255) / 256 * 256; }
  size_t total_bytes() const {
    return scales_offset() +
           static_cast<size_t>(n_tiles * k_blocks) * kI8TileN * scales_per_block * sizeof(float);
  }
};
inline I8Layout i8_layout(DType w, int64_t n, int64_t k) {
  return {(n + kI8TileN - 1) / kI8TileN, k / kI8BK, w == DType::Q8_0 ? 32 : 16, w == DType::NVFP4 ? 2 : 1};
}

struct Fp4Layout {
  int64_t n_tiles, k_tiles;
  size_t codes_bytes() const { return static_cast<size_t>(n_tiles * k_tiles) * kFp4TileN * (kFp4BK / 2); }
  size_t scales_offset() const { return codes_bytes(); }
  size_t total_bytes() const {
    return codes_bytes() + static_cast<size_t>(n_tiles * k_tiles) * kFp4TileN * 2 * 4;
  }
};
inline Fp4Layout fp4_layout(int64_t rows, int64_t k, int tile_rows = kFp4TileN) {
  return {(rows + tile_rows - 1) / tile_rows, (k + kFp4BK - 1) / kFp4BK};
}

// ---- host repack: GGUF rows [n, k] -> the layouts above ----

// The 32 (value-integer, code) pairs of 32-block b of a weight row, in element order, plus
// the scale(s) of that block. Only used by the repacks below.
namespace detail {
struct Block32 {
  uint8_t code[32];      // 4-bit code (Q4_0 q, E2M1) or the int8 bit pattern (Q8_0)
  float scale[2];        // per 32 (scale[1] unused) or per 16 (NVFP4)
  uint8_t raw_scale[2];  // E8M0 / UE4M3 scale codes (fp4 layout)
};
inline Block32 block32(DType w, const uint8_t* row, int64_t b, float tensor_scale) {
  Block32 o{};
  switch (w) {
    case DType::Q4_0: {
      const auto& blk = reinterpret_cast<const ref::block_q4_0*>(row)[b];
      for (int j = 0; j < 32; ++j) o.code[j] = static_cast<uint8_t>(ref::q4_0_get(blk, j) + 8);
      o.scale[0] = ref::q4_0_scale(blk);
      break;
    }
    case DType::Q8_0: {
      const auto& blk = reinterpret_cast<const ref::block_q8_0*>(row)[b];
      for (int j = 0; j < 32; ++j) o.code[j] = static_cast<uint8_t>(blk.qs[j]);
      o.scale[0] = ref::q8_0_scale(blk);
      break;
    }
    case DType::MXFP4: {
      const auto& blk = reinterpret_cast<const ref::block_mxfp4*>(row)[b];
      for (int j = 0; j < 32; ++j) o.code[j] = ref::mxfp4_code(blk, j);
      o.scale[0] = ref::mxfp4_scale_half(blk);
      o.raw_scale[0] = blk.e;
      break;
    }
    case DType::NVFP4: {  // a 64-block holds two 32-blocks: b even = first half
      const auto& blk = reinterpret_cast<const ref::block_nvfp4*>(row)[b / 2];
      const int base = static_cast<int>(b % 2) * 32;
      for (int j = 0; j < 32; ++j) o.code[j] = ref::nvfp4_code(blk, base + j);
      for (int s = 0; s < 2; ++s) {
        o.raw_scale[s] = blk.d[base / 16 + s];
        o.scale[s] = ref::nvfp4_scale_half(blk, base / 16 + s) * tensor_scale;
      }
      break;
    }
    default:
      break;
  }
  return o;
}
}  // namespace detail

inline std::vector<uint8_t> repack_i8(DType w, const void* gguf, int64_t n, int64_t k, float tensor_scale) {
  const I8Layout L = i8_layout(w, n, k);
  std::vector<uint8_t> out(L.total_bytes(), 0);
  auto* scales = reinterpret_cast<float*>(out.data() + L.scales_offset());
  const size_t row_bytes = xk::row_bytes(w, k);
  for (int64_t r = 0; r < n; ++r) {
    const auto* row = static_cast<const uint8_t*>(gguf) + static_cast<size_t>(r) * row_bytes;
    const int64_t nt = r / kI8TileN, rr = r % kI8TileN;
    for (int64_t b = 0; b < L.k_blocks; ++b) {
      const detail::Block32 blk = detail::block32(w, row, b, tensor_scale);
      const size_t slot = static_cast<size_t>((nt * L.k_blocks + b) * kI8TileN + rr);
      uint8_t* codes = out.data() + slot * L.code_bytes;
      if (w == DType::Q8_0) {
        std::memcpy(codes, blk.code, 32);
      } else {
        for (int j = 0; j < 16; ++j) codes[j] = static_cast<uint8_t>(blk.code[j] | (blk.code[j + 16] << 4));
      }
      for (int s = 0; s < L.scales_per_block; ++s) scales[slot * L.scales_per_block + s] = blk.scale[s];
    }
  }
  return out;
}

inline std::vector<uint8_t> repack_fp4(DType w, const void* gguf, int64_t n, int64_t k) {
  const Fp4Layout L = fp4_layout(n, k);
  std::vector<uint8_t> out(L.total_bytes(), 0);
  auto* scales = reinterpret_cast<uint32_t*>(out.data() + L.scales_offset());
  const size_t row_bytes = xk::row_bytes(w, k);
  for (int64_t r = 0; r < n; ++r) {
    const auto* row = static_cast<const uint8_t*>(gguf) + static_cast<size_t>(r) * row_bytes;
    const int64_t nt = r / kFp4TileN, rr = r % kFp4TileN;
    for (int64_t b = 0; b < k / 32; ++b) {
      const detail::Block32 blk = detail::block32(w, row, b, 1.0f);
      const int64_t kt = b / 4, step = (b % 4) / 2, half = b % 2;  // 4 blocks of 32 per k-tile
      const size_t slot = static_cast<size_t>((nt * L.k_tiles + kt) * kFp4TileN + rr);
      uint8_t* codes = out.data() + slot * (kFp4BK / 2) + (b % 4) * 16;
      for (int i = 0; i < 16; ++i)
        codes[i] = static_cast<uint8_t>(blk.code[2 * i] | (blk.code[2 * i + 1] << 4));
      uint32_t& sc = scales[slot * 2 + step];
      if (w == DType::NVFP4)  // bytes 2*half, 2*half+1: the two 16-chunks of this 32-block
        sc |= (uint32_t(blk.raw_scale[0]) | (uint32_t(blk.raw_scale[1]) << 8)) << (16 * half);
      else  // MXFP4, scale_vec::2X byte-id 0: byte `half` = this 32-chunk
        sc |= uint32_t(blk.raw_scale[0]) << (8 * half);
    }
  }
  return out;
}

}  // namespace xk::cuda_kernels

// ---- cached copies (host) -------------------------------------------------------------------
// The repacked weights live with the tensor (xk::packed), made once per layout.
#include "backends/core/variant_row.h"

namespace xk::cuda_kernels {

inline int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }
// The activation dtype reaches the quantizer kernels as its xk::DType value: F32 = 0,
// F16 = 1, BF16 = 2, the values common.cuh's ActType keeps.
inline int act_code(DType x) { return static_cast<int>(x); }

inline const Buffer& packed_i8(const Tensor& w) {
  return xk::packed(w, "cuda.i8", [&](const std::vector<uint8_t>& gguf) {
    return repack_i8(w.dtype, gguf.data(), w.shape[0], w.shape[1], w.tensor_scale);
  });
}
inline const Buffer& packed_fp4(const Tensor& w) {
  return xk::packed(w, "cuda.fp4", [&](const std::vector<uint8_t>& gguf) {
    return repack_fp4(w.dtype, gguf.data(), w.shape[0], w.shape[1]);
  });
}
// At upload: every layout a variant may read the format in.
inline void prepare_weights(const Tensor& w) {
  if (w.shape.size() != 2) return;
  const bool fp4 = w.dtype == DType::MXFP4 || w.dtype == DType::NVFP4;
  if (fp4 || w.dtype == DType::Q4_0 || w.dtype == DType::Q8_0) packed_i8(w);
  if (fp4) packed_fp4(w);
}

}  // namespace xk::cuda_kernels
