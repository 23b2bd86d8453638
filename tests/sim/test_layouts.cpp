// Cross-check of the layout tables in kernels/cuda/mma_layouts.h against a second,
// independent source (CUTLASS CuTe layouts, sim_test_util.h), and of the ldmatrix emulation
// against the PTX ISA description of ldmatrix.
#include <gtest/gtest.h>

#include <cstring>

#include "kernels/cuda/ptx.cuh"
#include "sim_test_util.h"

namespace {

namespace ml = xk::mma_layout;
namespace st = xk::simtest;

// Every (lane, value) of a CuTe layout must land where the header says.
template <class F>
void expect_same(const char* what, const st::CuteLayout& L, int values, int per_reg, bool b_operand, F header) {
  for (int lane = 0; lane < 32; ++lane)
    for (int v = 0; v < values; ++v) {
      int r, c;
      L.coord(lane, v, r, c);
      if (b_operand) std::swap(r, c);  // CuTe B is (N, K); the header gives (k, n)
      const ml::RowCol h = header(lane, v / per_reg, v % per_reg);
      ASSERT_TRUE(h.row == r && h.col == c) << what << ": lane " << lane << " register " << v / per_reg << " element "
                                            << v % per_reg << ": header (" << h.row << "," << h.col << "), CuTe (" << r
                                            << "," << c << ")";
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
                << "ldmatrix x" << count << (trans ? ".trans" : "") << " lane " << l << " reg " << i << " half " << h;
          }
    }
}

}  // namespace
