// Lane -> element layouts of the RDNA3 wave32 WMMA 16x16x16 fragments, written once.
//
// Used by the simulator's emulation (backends/sim/wmma_emu.cpp), the layout tests
// (tests/sim/test_wmma.cpp, test_layouts.cpp) and the kernels' fragment loaders
// (kernels/hip/wmma_fragments.h).
// Source: AMD "RDNA3 Instruction Set Architecture Reference Guide", section 7.9
// "Wave Matrix Multiply Accumulate (WMMA)" (wave32 operand layouts; lanes 16-31 must hold a
// copy of lanes 0-15 for A and B). Cross-checked against two independent published uses of
// the builtin: AMD GPUOpen "How to accelerate AI applications on RDNA 3 using WMMA"
// (row-major host arrays: a_frag[e] = a[16*lane + e], b_frag[e] = b[16*e + lane],
// c[16*(2e + lane/16) + lane] = c_frag[e]) and AMD Composable Kernel's gfx11 WMMA test
// (B held as N x K: b_frag[e] = b[16*lane + e]); both give: lane -> row of A / column of B,
// element -> k. The C/D interleave (row 2e + lane/16) also matches Modular's RDNA fragment
// layout documentation. tests/sim/test_wmma.cpp builds operands from those formulas.
#pragma once

#if defined(__HIPCC__) || defined(__CUDACC__)
#define XK_WMMA_LAYOUT_HD __host__ __device__
#else
#define XK_WMMA_LAYOUT_HD
#endif

namespace xk::wmma_layout {

struct RowCol {
  int row, col;
};

// A (16 x 16, M x K): element e of lane l is A[l % 16][e]; e counts halves (f16/bf16),
// bytes (iu8: 16 bytes in 4 ints, byte 0 = low byte of int 0) or nibbles (iu4: 16 nibbles
// in 2 ints, nibble 0 = bits 3:0 of int 0).
XK_WMMA_LAYOUT_HD constexpr RowCol a_16x16x16(int lane, int e) { return {lane % 16, e}; }
// B (16 x 16, K x N): element e of lane l is B[e][l % 16].
XK_WMMA_LAYOUT_HD constexpr RowCol b_16x16x16(int lane, int e) { return {e, lane % 16}; }
// C/D with 32-bit elements (f32 / i32): 8 per lane, element e of lane l is D[2e + l/16][l % 16].
XK_WMMA_LAYOUT_HD constexpr RowCol cd_16x16x16(int lane, int e) { return {2 * e + lane / 16, lane % 16}; }
// Lanes 16..31 must replicate A and B of lanes 0..15 (wave32); the simulator checks it.
XK_WMMA_LAYOUT_HD constexpr int replica_source_lane(int lane) { return lane % 16; }

}  // namespace xk::wmma_layout
