// Fragment loaders and accumulator coordinates of the warp-level MMAs, built on the lane
// tables of kernels/cuda/mma_layouts.h: every offset below comes from a layout function, so
// a kernel that loads through these helpers cannot disagree with the simulator's emulation
// or the layout tests. tests/sim/test_layouts.cpp runs each helper on cuda-sim and checks
// the registers it fills against the layout functions, element by element.
//
// Shared-memory tiles are described by a pointer to their (row 0, k 0) element and a row
// stride; "rows" are the M rows of A and the N columns of B (both operands K-contiguous, the
// .row.col MMA forms), so one 32-bit register is one aligned word of a row.
#pragma once
#include <stdint.h>

#include "kernels/cuda/mma_layouts.h"
#include "kernels/cuda/ptx.cuh"

namespace xk::cuda_kernels {

namespace ml = xk::mma_layout;

// The lane's C/D positions of an m16n8 accumulator: c[q] sits at (row[q / 2], col[q % 2]),
// i.e. two rows and two adjacent columns per lane (mma_layout::cd_m16n8).
struct CdCoords {
  int row[2], col[2];
};
XK_LAYOUT_HD constexpr CdCoords cd_m16n8_coords(int lane) {
  return {{ml::cd_m16n8(lane, 0).row, ml::cd_m16n8(lane, 2).row},
          {ml::cd_m16n8(lane, 0).col, ml::cd_m16n8(lane, 1).col}};
}

// The row whose scale register this lane supplies under selector thread_id_a. Lanes the
// instruction does not read (mma_layout::scale_a_row_of_lane = -1) get their pair lane's row,
// so every lane loads an in-range scale and no load needs a branch.
XK_LAYOUT_HD constexpr int scale_a_row_fed(int lane, int thread_id_a) {
  return ml::scale_a_row_of_lane((lane & ~2) | (2 * thread_id_a), thread_id_a);
}
XK_LAYOUT_HD constexpr int scale_b_col_fed(int lane, int thread_id_b) {
  return ml::scale_b_col_of_lane((lane & ~3) | thread_id_b, thread_id_b);
}

__device__ __forceinline__ uint32_t ld_smem_u32(const void* p) { return *static_cast<const uint32_t*>(p); }

// ---- m16n8k64 e2m1: 8 nibbles of one register are 8 consecutive k (natural nibble order:
// element 2i is the low nibble of byte i), so each register is one word at byte k/2.
__device__ __forceinline__ void load_a_m16n8k64(uint32_t (&a)[4], const uint8_t* tile, int row_bytes,
                                                int lane) {
#pragma unroll
  for (int i = 0; i < 4; ++i) {
    const ml::RowCol rc = ml::a_m16n8k64(lane, i, 0);
    a[i] = ld_smem_u32(tile + rc.row * row_bytes + rc.col / 2);
  }
}
__device__ __forceinline__ void load_b_m16n8k64(uint32_t (&b)[2], const uint8_t* tile, int col_bytes,
                                                int lane) {
#pragma unroll
  for (int i = 0; i < 2; ++i) {
    const ml::RowCol rc = ml::b_m16n8k64(lane, i, 0);  // (k, n)
    b[i] = ld_smem_u32(tile + rc.col * col_bytes + rc.row / 2);
  }
}

// ---- m16n8k32 s8: 4 bytes of one register are 4 consecutive k, one word at byte k.
__device__ __forceinline__ void load_a_m16n8k32(uint32_t (&a)[4], const uint8_t* tile, int row_bytes,
                                                int lane) {
#pragma unroll
  for (int i = 0; i < 4; ++i) {
    const ml::RowCol rc = ml::a_m16n8k32(lane, i, 0);
    a[i] = ld_smem_u32(tile + rc.row * row_bytes + rc.col);
  }
}
__device__ __forceinline__ void load_b_m16n8k32(uint32_t (&b)[2], const uint8_t* tile, int col_bytes,
                                                int lane) {
#pragma unroll
  for (int i = 0; i < 2; ++i) {
    const ml::RowCol rc = ml::b_m16n8k32(lane, i, 0);
    b[i] = ld_smem_u32(tile + rc.col * col_bytes + rc.row);
  }
}
// The same B registers from a 4-bit row of 16 bytes per 32 k in the "i8 nibble" packing of
// packing.h: byte j holds k = j (low nibble) and k = 16 + j (high nibble). b[1]'s k are b[0]'s
// plus 16 (mma_layout::b_m16n8k32), so one word at byte k(b[0]) holds both registers'
// nibbles; `expand` turns four 4-bit codes (one per byte) into four int8.
template <class Expand>
__device__ __forceinline__ void load_b_m16n8k32_nibbles(uint32_t (&b)[2], const uint8_t* tile, int col_bytes,
                                                        int lane, Expand expand) {
  const ml::RowCol rc = ml::b_m16n8k32(lane, 0, 0);
  const uint32_t v = ld_smem_u32(tile + rc.col * col_bytes + rc.row);
  b[0] = expand(v & 0x0F0F0F0Fu);
  b[1] = expand((v >> 4) & 0x0F0F0F0Fu);
}

// ---- m16n8k16 f16: 2 halves of one register are 2 consecutive k, one word at half k.
__device__ __forceinline__ void load_b_m16n8k16(uint32_t (&b)[2], const uint16_t* tile, int col_halves,
                                                int lane) {
#pragma unroll
  for (int i = 0; i < 2; ++i) {
    const ml::RowCol rc = ml::b_m16n8k16(lane, i, 0);
    b[i] = ld_smem_u32(tile + rc.col * col_halves + rc.row);
  }
}
// B fragments of two adjacent n8 tiles (n 0..7 -> b0, 8..15 -> b1) from a K-major tile (row =
// k, n contiguous, `row_halves` apart) with one ldmatrix.x4.trans: matrix m covers k rows
// 8*(m & 1) .. +7 and n columns 8*(m >> 1) .. +7, so its transposed 8x8 pieces are exactly
// b[m & 1] of tile m >> 1 (mma_layout::ldmatrix_elem with trans = b_m16n8k16).
__device__ __forceinline__ void ldmatrix_b_m16n8k16_x2_trans(uint32_t (&b0)[2], uint32_t (&b1)[2],
                                                             const uint16_t* tile, int row_halves, int lane) {
  const int mat = lane >> 3, mrow = lane & 7;
  uint32_t r[4];
  ptx::ldmatrix_x4_trans(r, tile + (mrow + 8 * (mat & 1)) * row_halves + 8 * (mat >> 1));
  b0[0] = r[0];
  b0[1] = r[1];
  b1[0] = r[2];
  b1[1] = r[3];
}
// The accumulators of one n8 tile as half of the A operand of an m16n8k16 step, rounded to
// f16: tile k8 = 0 gives k 0..7 (a[0], a[1]), k8 = 1 gives k 8..15 (a[2], a[3]). A C fragment
// holds, per row, the two adjacent columns that an A register holds, so no data crosses
// lanes. Packing each tile as soon as it is ready keeps 4 floats live, not 8.
__device__ __forceinline__ void cd_to_a_m16n8k16(uint32_t (&a)[4], int k8, const float (&c)[4]) {
  a[2 * k8 + 0] = ptx::pack_f16x2(c[0], c[1]);  // row cd.row[0]
  a[2 * k8 + 1] = ptx::pack_f16x2(c[2], c[3]);  // row cd.row[1]
}

}  // namespace xk::cuda_kernels
