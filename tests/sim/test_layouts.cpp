// Cross-check of the layout tables in kernels/cuda/mma_layouts.h against a second,
// independent source (CUTLASS CuTe layouts, sim_test_util.h), of the ldmatrix emulation
// against the PTX ISA description of ldmatrix, and of the kernels' fragment helpers
// (kernels/cuda/fragments.cuh, kernels/hip/wmma_fragments.h) against the layout functions:
// every register element a helper fills must be the tile element the layout names.
#include <gtest/gtest.h>

#include <cstring>
#include <random>

#include "kernels/cuda/fragments.cuh"
#include "kernels/cuda/ptx.cuh"
#include "kernels/hip/wmma_fragments.h"
#include "sim_test_util.h"

namespace {

namespace ml = xk::mma_layout;
namespace wl = xk::wmma_layout;
namespace ck = xk::cuda_kernels;
namespace st = xk::simtest;

// Every (lane, value) of a CuTe layout must land where the header says.
template <class F>
void expect_same(const char* what, const st::CuteLayout& L, int values, int per_reg, bool b_operand,
                 F header) {
  for (int lane = 0; lane < 32; ++lane)
    for (int v = 0; v < values; ++v) {
      int r, c;
      L.coord(lane, v, r, c);
      if (b_operand) std::swap(r, c);  // CuTe B is (N, K); the header gives (k, n)
      const ml::RowCol h = header(lane, v / per_reg, v % per_reg);
      ASSERT_TRUE(h.row == r && h.col == c)
          << what << ": lane " << lane << " register " << v / per_reg << " element " << v % per_reg
          << ": header (" << h.row << "," << h.col << "), CuTe (" << r << "," << c << ")";
    }
}

TEST(MmaLayouts, HeaderTablesAgreeWithCutlassCute) {
  expect_same("A m16n8k16", st::kCuteA_k16, 8, 2, false, ml::a_m16n8k16);
  expect_same("B m16n8k16", st::kCuteB_k16, 4, 2, true, ml::b_m16n8k16);
  expect_same("A m16n8k32", st::kCuteA_k32, 16, 4, false, ml::a_m16n8k32);
  expect_same("B m16n8k32", st::kCuteB_k32, 8, 4, true, ml::b_m16n8k32);
  expect_same("A m16n8k64", st::kCuteA_k64, 32, 8, false, ml::a_m16n8k64);
  expect_same("B m16n8k64", st::kCuteB_k64, 16, 8, true, ml::b_m16n8k64);
  expect_same("C m16n8", st::kCuteC, 4, 1, false, [](int lane, int i, int) { return ml::cd_m16n8(lane, i); });
}

TEST(MmaLayouts, ScaleLanesAgreeWithPtxIsaAndCuteSelectorZero) {
  for (int tid = 0; tid < 2; ++tid)
    for (int m = 0; m < 16; ++m) {
      EXPECT_EQ(ml::scale_a_lane(m, tid), st::ptx_scale_a_lane(m, tid));
      EXPECT_EQ(ml::scale_a_row_of_lane(ml::scale_a_lane(m, tid), tid), m);
    }
  for (int tid = 0; tid < 4; ++tid)
    for (int n = 0; n < 8; ++n) EXPECT_EQ(ml::scale_b_col_of_lane(ml::scale_b_lane(n, tid), tid), n);
  // CuTe SFALayout ((2,2,8),64):((8,0,1),16): thread t -> row (t/4) + 8*(t%2), for t%4 < 2.
  for (int lane = 0; lane < 32; ++lane) {
    if (lane % 4 < 2) {
      EXPECT_EQ(ml::scale_a_row_of_lane(lane, 0), lane / 4 + 8 * (lane % 2));
    }
  }
}

// ldmatrix: lane l receives, in register i, elements (l/4, 2*(l%4) + {0,1}) of matrix i,
// or of its transpose with .trans; lanes 8i..8i+7 give the row addresses of matrix i.
TEST(Ldmatrix, X1X2X4AndTransDeliverPtxIsaFragments) {
  static uint16_t smem[4][8][8];  // matrix, row, col
  for (int i = 0; i < 4; ++i)
    for (int r = 0; r < 8; ++r)
      for (int c = 0; c < 8; ++c) smem[i][r][c] = uint16_t(1000 * i + 10 * r + c);
  for (int count : {1, 2, 4})
    for (bool trans : {false, true}) {
      static uint32_t got[32][4];
      const auto counters = st::run(1, 32, [&] {
        const int l = threadIdx.x;
        const void* row = &smem[(l / 8) % count][l % 8][0];
        uint32_t r4[4] = {};
        if (count == 1) {
          uint32_t r[1];
          trans ? xk::ptx::ldmatrix_x1_trans(r, row) : xk::ptx::ldmatrix_x1(r, row);
          std::memcpy(r4, r, sizeof r);
        } else if (count == 2) {
          uint32_t r[2];
          trans ? xk::ptx::ldmatrix_x2_trans(r, row) : xk::ptx::ldmatrix_x2(r, row);
          std::memcpy(r4, r, sizeof r);
        } else {
          trans ? xk::ptx::ldmatrix_x4_trans(r4, row) : xk::ptx::ldmatrix_x4(r4, row);
        }
        std::memcpy(got[l], r4, sizeof r4);
      });
      EXPECT_EQ(counters.shared_bytes, uint64_t(count) * 128);
      for (int l = 0; l < 32; ++l)
        for (int i = 0; i < count; ++i)
          for (int h = 0; h < 2; ++h) {
            const int r = trans ? 2 * (l % 4) + h : l / 4, c = trans ? l / 4 : 2 * (l % 4) + h;
            EXPECT_EQ((got[l][i] >> (16 * h)) & 0xffff, smem[i][r][c])
                << "ldmatrix x" << count << (trans ? ".trans" : "") << " lane " << l << " reg " << i
                << " half " << h;
          }
    }
}

// ---- Fragment helpers (kernels/cuda/fragments.cuh) vs mma_layouts.h --------------------
// Tiles are filled with fixed-seed random codes, so a helper that reads any other element
// than the layout names disagrees somewhere (a zero or constant fill would hide it).

template <size_t N>
void random_fill(uint8_t (&t)[N], unsigned seed) {
  std::mt19937 rng(seed);
  for (auto& b : t) b = static_cast<uint8_t>(rng());
}
int nibble(uint32_t w, int j) { return static_cast<int>((w >> (4 * j)) & 15); }
int byte_of(uint32_t w, int j) { return static_cast<int>((w >> (8 * j)) & 255); }

TEST(FragmentHelpers, CudaE2m1LoadersReadTheNibblesOfMmaLayoutM16n8k64) {
  constexpr int kStride = 80;  // mmq_fp4's padded row, 64 B of codes
  alignas(16) static uint8_t tile[16 * kStride];
  random_fill(tile, 1);
  auto code = [&](int row, int k) { return (tile[row * kStride + k / 2] >> (4 * (k % 2))) & 15; };
  for (int lane = 0; lane < 32; ++lane) {
    uint32_t a[4], b[2];
    ck::load_a_m16n8k64(a, tile, kStride, lane);
    ck::load_b_m16n8k64(b, tile, kStride, lane);  // the same bytes read as 8 B columns
    for (int i = 0; i < 4; ++i)
      for (int j = 0; j < 8; ++j) {
        const ml::RowCol rc = ml::a_m16n8k64(lane, i, j);
        ASSERT_EQ(nibble(a[i], j), code(rc.row, rc.col))
            << "A lane " << lane << " reg " << i << " nibble " << j;
      }
    for (int i = 0; i < 2; ++i)
      for (int j = 0; j < 8; ++j) {
        const ml::RowCol kn = ml::b_m16n8k64(lane, i, j);
        ASSERT_EQ(nibble(b[i], j), code(kn.col, kn.row))
            << "B lane " << lane << " reg " << i << " nibble " << j;
      }
  }
}

TEST(FragmentHelpers, CudaS8LoadersReadTheBytesOfMmaLayoutM16n8k32) {
  constexpr int kStride = 48;  // mmq_i8's padded X row
  alignas(16) static uint8_t tile[16 * kStride];
  random_fill(tile, 2);
  for (int lane = 0; lane < 32; ++lane) {
    uint32_t a[4], b[2], bn[2];
    ck::load_a_m16n8k32(a, tile, kStride, lane);
    ck::load_b_m16n8k32(b, tile, kStride, lane);
    // 4-bit rows (16 B per 32 k): byte j holds k = j (low nibble) and k = 16 + j (high).
    ck::load_b_m16n8k32_nibbles(bn, tile, kStride, lane, [](uint32_t nib) { return nib; });
    for (int i = 0; i < 4; ++i)
      for (int j = 0; j < 4; ++j) {
        const ml::RowCol rc = ml::a_m16n8k32(lane, i, j);
        ASSERT_EQ(byte_of(a[i], j), tile[rc.row * kStride + rc.col]) << "A lane " << lane << " reg " << i;
      }
    for (int i = 0; i < 2; ++i)
      for (int j = 0; j < 4; ++j) {
        const ml::RowCol kn = ml::b_m16n8k32(lane, i, j);
        ASSERT_EQ(byte_of(b[i], j), tile[kn.col * kStride + kn.row]) << "B lane " << lane << " reg " << i;
        const int packed = (tile[kn.col * kStride + kn.row % 16] >> (4 * (kn.row / 16))) & 15;
        ASSERT_EQ(byte_of(bn[i], j), packed) << "B (nibbles) lane " << lane << " reg " << i << " byte " << j;
      }
  }
}

TEST(FragmentHelpers, CudaF16LoadersAndRepackFollowMmaLayoutM16n8k16) {
  constexpr int kStride = 24;  // halves per row (flash_attn pads D by 8)
  alignas(16) static uint16_t tile[16 * kStride];
  for (int i = 0; i < 16 * kStride; ++i) tile[i] = static_cast<uint16_t>(i);  // each half names its slot
  auto half = [](uint32_t w, int h) { return static_cast<int>((w >> (16 * h)) & 0xffff); };
  for (int lane = 0; lane < 32; ++lane) {
    uint32_t b[2];
    ck::load_b_m16n8k16(b, tile, kStride, lane);
    for (int i = 0; i < 2; ++i)
      for (int h = 0; h < 2; ++h) {
        const ml::RowCol kn = ml::b_m16n8k16(lane, i, h);
        ASSERT_EQ(half(b[i], h), tile[kn.col * kStride + kn.row]) << "B lane " << lane << " reg " << i;
      }
    // C of two n8 tiles -> A of one k16 step: value row * 16 + col, exact in f16.
    float c0[4], c1[4];
    for (int q = 0; q < 4; ++q) {
      const ml::RowCol rc = ml::cd_m16n8(lane, q);
      c0[q] = static_cast<float>(rc.row * 16 + rc.col);
      c1[q] = static_cast<float>(rc.row * 16 + rc.col + 8);
    }
    uint32_t a[4];
    ck::cd_to_a_m16n8k16(a, 0, c0);
    ck::cd_to_a_m16n8k16(a, 1, c1);
    for (int i = 0; i < 4; ++i)
      for (int h = 0; h < 2; ++h) {
        const ml::RowCol rc = ml::a_m16n8k16(lane, i, h);
        ASSERT_EQ(xk::sim::f16_to_f32(static_cast<uint16_t>(half(a[i], h))), float(rc.row * 16 + rc.col))
            << "P repack lane " << lane << " reg " << i << " half " << h;
      }
  }
  // V tile (k rows, n contiguous) through ldmatrix.x4.trans: B of n8 tiles 0 and 1.
  static uint32_t got[32][4];
  st::run(1, 32, [&] {
    const int l = threadIdx.x;
    uint32_t b0[2], b1[2];
    ck::ldmatrix_b_m16n8k16_x2_trans(b0, b1, tile, kStride, l);
    got[l][0] = b0[0], got[l][1] = b0[1], got[l][2] = b1[0], got[l][3] = b1[1];
  });
  for (int lane = 0; lane < 32; ++lane)
    for (int t = 0; t < 2; ++t)
      for (int i = 0; i < 2; ++i)
        for (int h = 0; h < 2; ++h) {
          const ml::RowCol kn = ml::b_m16n8k16(lane, i, h);
          EXPECT_EQ(half(got[lane][2 * t + i], h), tile[kn.row * kStride + 8 * t + kn.col])
              << "ldmatrix B lane " << lane << " n8 tile " << t << " reg " << i << " half " << h;
        }
}

TEST(FragmentHelpers, CudaAccumulatorAndScaleCoordinatesAreTheLayouts) {
  for (int lane = 0; lane < 32; ++lane) {
    const ck::CdCoords cd = ck::cd_m16n8_coords(lane);
    for (int q = 0; q < 4; ++q) {
      EXPECT_EQ(cd.row[q / 2], ml::cd_m16n8(lane, q).row) << "lane " << lane << " c[" << q << "]";
      EXPECT_EQ(cd.col[q % 2], ml::cd_m16n8(lane, q).col) << "lane " << lane << " c[" << q << "]";
    }
    // Lanes the instruction reads feed exactly the layout's row / column; the others load a
    // real (in-range) one.
    const int row = ck::scale_a_row_fed(lane, 0), col = ck::scale_b_col_fed(lane, 0);
    if (ml::scale_a_row_of_lane(lane, 0) >= 0) {
      EXPECT_EQ(row, ml::scale_a_row_of_lane(lane, 0)) << "lane " << lane;
    }
    if (ml::scale_b_col_of_lane(lane, 0) >= 0) {
      EXPECT_EQ(col, ml::scale_b_col_of_lane(lane, 0)) << "lane " << lane;
    }
    EXPECT_TRUE(row >= 0 && row < 16 && col >= 0 && col < 8) << "lane " << lane;
  }
  for (int m = 0; m < 16; ++m) EXPECT_EQ(ck::scale_a_row_fed(ml::scale_a_lane(m, 0), 0), m);
  for (int n = 0; n < 8; ++n) EXPECT_EQ(ck::scale_b_col_fed(ml::scale_b_lane(n, 0), 0), n);
}

// ---- Fragment helpers (kernels/hip/wmma_fragments.h) vs wmma_layouts.h ------------------

TEST(FragmentHelpers, HipLoadersReadTheElementsOfWmmaLayout16x16x16) {
  constexpr int kStride = 40;  // mm_wmma_f16's padded row (halves)
  static uint16_t tile[16 * kStride];
  for (int i = 0; i < 16 * kStride; ++i) tile[i] = static_cast<uint16_t>(i);
  alignas(16) static uint8_t bytes[16 * 48];  // mmq_wmma_i8's padded row (bytes)
  random_fill(bytes, 3);
  const auto* s8 = reinterpret_cast<const int8_t*>(bytes);
  auto same = [](uint16_t h) { return static_cast<int>(h); };
  for (int lane = 0; lane < 32; ++lane) {
    int a[16], b[16];
    int32_t a8[4], b8[4];
    xk::wmma::load_a_16x16x16(a, tile, kStride, lane, same);
    xk::wmma::load_b_16x16x16(b, tile, kStride, lane, same);
    xk::wmma::load_a_16x16x16_iu8(a8, s8, 48, lane);
    xk::wmma::load_b_16x16x16_iu8(b8, s8, 48, lane);
    for (int e = 0; e < 16; ++e) {
      const wl::RowCol ra = wl::a_16x16x16(lane, e), kn = wl::b_16x16x16(lane, e);
      ASSERT_EQ(a[e], tile[ra.row * kStride + ra.col]) << "A lane " << lane << " element " << e;
      ASSERT_EQ(b[e], tile[kn.col * kStride + kn.row]) << "B lane " << lane << " element " << e;
      ASSERT_EQ(byte_of(static_cast<uint32_t>(a8[e / 4]), e % 4), bytes[ra.row * 48 + ra.col])
          << "A iu8 lane " << lane;
      ASSERT_EQ(byte_of(static_cast<uint32_t>(b8[e / 4]), e % 4), bytes[kn.col * 48 + kn.row])
          << "B iu8 lane " << lane;
    }
  }
}

TEST(FragmentHelpers, HipAccumulatorVisitCoversTheTileOnceInOneColumnPerLane) {
  int seen[16][16] = {};
  for (int lane = 0; lane < 32; ++lane) {
    int visits = 0;
    xk::wmma::for_each_cd_16x16x16(lane, [&](int e, int row, int col) {
      EXPECT_EQ(e, visits++);
      EXPECT_EQ(row, wl::cd_16x16x16(lane, e).row);
      EXPECT_EQ(col, wl::cd_16x16x16(lane, e).col);
      // mmq_wmma_i8 loads one W scale per lane: every D element of a lane is in one column.
      EXPECT_EQ(col, wl::cd_16x16x16(lane, 0).col) << "lane " << lane << " element " << e;
      ++seen[row][col];
    });
    EXPECT_EQ(visits, 8);
  }
  for (int r = 0; r < 16; ++r)
    for (int c = 0; c < 16; ++c) EXPECT_EQ(seen[r][c], 1) << "D(" << r << "," << c << ")";
}

}  // namespace
