// The CUDA on-device activation quantizers (quantize_act_q8 of mmq_i8.cuh, quantize_act_fp4
// of mmq_fp4.cuh) byte for byte against the oracle's (kernels/ref/act_quant.cpp), on rows
// whose K is not a multiple of the tile (64-row / 128-K tiles) and whose magnitudes span
// every binade of FP32 from the smallest subnormal (1.4e-45) to 3e38.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "kernels/cuda/mmq_fp4.cuh"
#include "kernels/cuda/mmq_i8.cuh"
#include "kernels/ref/formats.h"
#include "kernels/ref/ref.h"
#include "sim_test_util.h"

namespace {

namespace ck = xk::cuda_kernels;
namespace st = xk::simtest;

TEST(SimQuantizers, CudaQ8MatchesOracleBytesAtEveryMagnitudeWithKNotATileMultiple) {
  const int M = 5, K = 160, tile_rows = 64, m_padded = 64, k_blocks = K / 32;  // K: 5 blocks, not 64 or 128
  const std::vector<float> x = st::rows_of_every_magnitude(K, 1234);
  std::vector<int8_t> codes(static_cast<size_t>(m_padded) * K, 0x55);
  std::vector<float> scales(static_cast<size_t>(m_padded) * k_blocks, -1.0f);
  const unsigned blocks = (m_padded * k_blocks + 127) / 128;
  xk::sim::run_grid({"quantize_act_q8", {blocks, 1, 1}, {128, 1, 1}, 0}, [&] {
    ck::quantize_act_q8(x.data(), int(ck::ActType::F32), codes.data(), scales.data(), M, K, tile_rows,
                        m_padded);
  });
  for (int row = 0; row < M; ++row) {
    std::vector<xk::ref::block_q8_0> want(static_cast<size_t>(k_blocks));
    xk::ref::quantize_act_q8(&x[static_cast<size_t>(row) * K], K, want.data());
    for (int kb = 0; kb < k_blocks; ++kb) {
      const size_t slot =
          (static_cast<size_t>(row / tile_rows) * k_blocks + kb) * tile_rows + row % tile_rows;
      EXPECT_TRUE(xk::simtest::same_scale(scales[slot], xk::num::f16_to_f32(want[kb].d)))
          << scales[slot] << " vs " << xk::num::f16_to_f32(want[kb].d) << ", " << "row " << row << " block "
          << kb;
      EXPECT_EQ(0, std::memcmp(&codes[slot * 32], want[kb].qs, 32)) << "row " << row << " block " << kb;
    }
  }
}

void check_fp4(xk::DType w, int K) {
  const int M = 5, m_padded = 128, k_tiles = (K + 127) / 128;
  const bool nvfp4 = w == xk::DType::NVFP4;
  const std::vector<float> x = st::rows_of_every_magnitude(K, 1234);
  std::vector<uint8_t> codes(static_cast<size_t>(m_padded) * k_tiles * 64, 0x55);
  std::vector<uint32_t> scales(static_cast<size_t>(m_padded) * k_tiles * 2, 0x55555555u);
  std::vector<float> row_scale(m_padded, -1.0f);
  xk::sim::run_grid({"quantize_act_fp4", {unsigned(m_padded / 4), 1, 1}, {128, 1, 1}, 0}, [&] {
    ck::quantize_act_fp4(x.data(), int(ck::ActType::F32), nvfp4, codes.data(), scales.data(),
                         row_scale.data(), M, K, m_padded, k_tiles);
  });
  const int block = nvfp4 ? 64 : 32;
  for (int row = 0; row < M; ++row) {
    std::vector<uint8_t> want(static_cast<size_t>(K / block) * xk::traits(w).block_bytes);
    const float s = xk::ref::quantize_act_fp4(w, &x[static_cast<size_t>(row) * K], K, want.data());
    EXPECT_EQ(row_scale[row], s) << "row " << row;
    for (int k = 0; k < k_tiles * 128; ++k) {
      const size_t r = static_cast<size_t>(k / 128) * 128 + row;  // (k_tile, row) of tile 0
      const uint8_t byte = codes[r * 64 + (k % 128) / 2];
      const int got = (k % 2) ? byte >> 4 : byte & 15;
      uint8_t scale_byte;
      std::memcpy(&scale_byte,
                  reinterpret_cast<const uint8_t*>(&scales[r * 2 + (k % 128) / 64]) +
                      (nvfp4 ? (k % 64) / 16 : (k % 64) / 32),
                  1);
      int want_code = 0, want_scale = 0;  // zero padding past K
      if (k < K) {
        if (nvfp4) {
          const auto& b = reinterpret_cast<const xk::ref::block_nvfp4*>(want.data())[k / 64];
          want_code = xk::ref::nvfp4_code(b, k % 64);
          want_scale = b.d[(k % 64) / 16];
        } else {
          const auto& b = reinterpret_cast<const xk::ref::block_mxfp4*>(want.data())[k / 32];
          want_code = xk::ref::mxfp4_code(b, k % 32);
          want_scale = b.e;
        }
      }
      ASSERT_EQ(got, want_code) << xk::name(w) << " row " << row << " k " << k;
      ASSERT_EQ(int(scale_byte), want_scale) << xk::name(w) << " row " << row << " k " << k;
    }
  }
}

TEST(SimQuantizers, CudaFp4MatchesOracleBytesAtEveryMagnitudeWithKNotATileMultiple) {
  check_fp4(xk::DType::MXFP4, 160);  // 1.25 k-tiles of 128
  check_fp4(xk::DType::NVFP4, 192);  // NVFP4 blocks are 64: 1.5 k-tiles
}

}  // namespace
