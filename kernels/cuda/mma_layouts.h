// Lane -> element layouts of the warp-level MMA fragments, written once.
//
// Used by the simulator's emulation (backends/sim/mma_emu.cpp), by the layout tests
// (tests/sim/test_mma.cpp, test_layouts.cpp) and by the kernels' fragment loaders
// (kernels/cuda/fragments.cuh), so they cannot drift apart.
// Source: PTX ISA 9.0, "Matrix Fragments for mma.m16n8k16 with
// floating point type", "... mma.m16n8k32" (.s8/.u8), "... mma.m16n8k64" (.e2m1), and
// "Block Scaling for mma.sync" (scale-factor lanes and bytes).
// Second, independent source checked against: CUTLASS cute/atom/mma_traits_sm80.hpp
// (SM80_16x8x16_F32F16F16F32_TN: ALayout ((4,8),(2,2,2)):((32,1),(16,8,128)), BLayout
// ((4,8),(2,2)):((16,1),(8,64)), CLayout SM80_16x8_Row ((4,8),(2,2)):((32,1),(16,8)))
// and mma_traits_sm120.hpp (SM120_16x8x64_TN_VS: ALayout ((4,8),(8,2,2)):((128,1),(16,8,512)),
// BLayout ((4,8),(8,2)):((64,1),(8,256)), SFALayout ((2,2,8),64):((8,0,1),16), SFBLayout
// ((4,8),64):((0,1),8)). tests/sim/test_layouts.cpp compares every entry; the instruction
// tests build their operands from the CuTe layouts, never from this header.
//
// Notation (PTX ISA): groupID g = lane >> 2, threadID_in_group t = lane & 3.
// A is M x K row-major ("row"), B is K x N column-major ("col"), C/D are M x N.
#pragma once
#include <cstdint>

#if defined(__CUDACC__) || defined(__HIPCC__)
#define XK_LAYOUT_HD __host__ __device__
#else
#define XK_LAYOUT_HD
#endif

namespace xk::mma_layout {

struct RowCol {
  int row, col;
};

XK_LAYOUT_HD constexpr int group_id(int lane) { return lane >> 2; }
XK_LAYOUT_HD constexpr int tid_in_group(int lane) { return lane & 3; }

// ---- Accumulator C/D of every m16n8kX shape: 4 x 32-bit per lane ------------------------
// c[i]: row g + 8*(i>=2), col 2t + (i&1).
XK_LAYOUT_HD constexpr RowCol cd_m16n8(int lane, int i) {
  return {group_id(lane) + 8 * (i >> 1), 2 * tid_in_group(lane) + (i & 1)};
}

// ---- m16n8k16, 16-bit A/B (.f16/.bf16): A 4 regs x 2 halves, B 2 regs x 2 halves ---------
// a[i] half h (h=0 is the low 16 bits): row g + 8*(i&1), col 2t + h + 8*(i>>1).
XK_LAYOUT_HD constexpr RowCol a_m16n8k16(int lane, int i, int h) {
  return {group_id(lane) + 8 * (i & 1), 2 * tid_in_group(lane) + h + 8 * (i >> 1)};
}
// b[i] half h: row (k) 2t + h + 8*i, col (n) g.
XK_LAYOUT_HD constexpr RowCol b_m16n8k16(int lane, int i, int h) {
  return {2 * tid_in_group(lane) + h + 8 * i, group_id(lane)};
}

// ---- m16n8k32, 8-bit A/B (.s8/.u8): A 4 regs x 4 bytes, B 2 regs x 4 bytes ---------------
// a[i] byte j (j=0 is the low byte): row g + 8*(i&1), col 4t + j + 16*(i>>1).
XK_LAYOUT_HD constexpr RowCol a_m16n8k32(int lane, int i, int j) {
  return {group_id(lane) + 8 * (i & 1), 4 * tid_in_group(lane) + j + 16 * (i >> 1)};
}
// b[i] byte j: row (k) 4t + j + 16*i, col g.
XK_LAYOUT_HD constexpr RowCol b_m16n8k32(int lane, int i, int j) {
  return {4 * tid_in_group(lane) + j + 16 * i, group_id(lane)};
}

// ---- m16n8k64, 4-bit A/B (.e2m1): A 4 regs x 8 nibbles, B 2 regs x 8 nibbles -------------
// a[i] nibble j (j=0 is bits 3:0): row g + 8*(i&1), col 8t + j + 32*(i>>1).
XK_LAYOUT_HD constexpr RowCol a_m16n8k64(int lane, int i, int j) {
  return {group_id(lane) + 8 * (i & 1), 8 * tid_in_group(lane) + j + 32 * (i >> 1)};
}
// b[i] nibble j: row (k) 8t + j + 32*i, col g.
XK_LAYOUT_HD constexpr RowCol b_m16n8k64(int lane, int i, int j) {
  return {8 * tid_in_group(lane) + j + 32 * i, group_id(lane)};
}

// ---- Block scaling for mma.sync (m16n8k64 e2m1) -------------------------------------------
// scale_A is 16 x V (V = scale_vec 1/2/4 scales per row), scale_B is V x 8. Every lane passes
// a 32-bit register; only some lanes' registers are read, chosen by the immediate selectors:
//   A: row m is read from lane 4*(m % 8) + 2*thread_id_a + m / 8   (thread_id_a in {0,1})
//   B: col n is read from lane 4*n + thread_id_b                    (thread_id_b in {0..3})
// and inside that register the scale of K-block v (v < V) is byte byte_id + v
// (scale_vec::1X: byte_id 0..3; 2X: byte_id 0 or 2; 4X: byte_id 0).
XK_LAYOUT_HD constexpr int scale_a_lane(int row, int thread_id_a) {
  return 4 * (row % 8) + 2 * thread_id_a + row / 8;
}
XK_LAYOUT_HD constexpr int scale_b_lane(int col, int thread_id_b) { return 4 * col + thread_id_b; }
// The row a lane's scale register feeds for selector thread_id_a, or -1 when it is not read.
XK_LAYOUT_HD constexpr int scale_a_row_of_lane(int lane, int thread_id_a) {
  return (lane & 3) / 2 == thread_id_a ? (lane >> 2) + 8 * (lane & 1) : -1;
}
XK_LAYOUT_HD constexpr int scale_b_col_of_lane(int lane, int thread_id_b) {
  return (lane & 3) == thread_id_b ? lane >> 2 : -1;
}
// K elements covered by one scale for a scale_vec of V on the k64 shape.
XK_LAYOUT_HD constexpr int scale_block_k(int scale_vec) { return 64 / scale_vec; }

// ---- ldmatrix (PTX ISA "ldmatrix"): 8x8 b16 matrices ---------------------------------------
// Lanes 8*i .. 8*i+7 give the row addresses of matrix i. Destination register i of lane l
// holds two b16 elements of matrix i: without .trans row l/4, cols 2*(l%4) + {0,1};
// with .trans the same elements of the transposed matrix: rows 2*(l%4) + {0,1}, col l/4.
XK_LAYOUT_HD constexpr RowCol ldmatrix_elem(int lane, int h, bool trans) {
  return trans ? RowCol{2 * (lane & 3) + h, lane >> 2} : RowCol{lane >> 2, 2 * (lane & 3) + h};
}

}  // namespace xk::mma_layout
