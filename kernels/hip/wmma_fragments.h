// Fragment loaders and accumulator coordinates of the RDNA3 wave32 WMMA 16x16x16, built on
// the lane tables of kernels/hip/wmma_layouts.h: every index below comes from a layout
// function, so a kernel that loads through these helpers cannot disagree with hip-sim's
// emulation or the layout tests. tests/sim/test_layouts.cpp runs each helper for all 32 lanes
// and checks every element it places against the layout functions.
//
// Tiles are described by a pointer to their (row 0, k 0) element and a row stride `ld` in
// elements. A is M x K row-major; B is given as B^T, N x K row-major (a weight row, a key
// row, a V^T row): both operands are K-contiguous, so a lane reads one contiguous run.
// Templates over the fragment type: the kernels pass clang ext_vector types, the tests plain
// arrays; `convert` turns a stored element into a fragment element (e.g. f16 bits -> _Float16).
#pragma once
#include <stdint.h>

#include "kernels/hip/wmma_layouts.h"
#if defined(XK_SIM)
#include "backends/sim/engine.h"
#endif

namespace xk::wmma {

namespace wl = xk::wmma_layout;

// A fragment of one element per entry (f16 / bf16: 16 entries): a[e] = A[row][col] at
// (row, col) = a_16x16x16(lane, e).
template <class Frag, class T, class Convert>
XK_WMMA_LAYOUT_HD inline void load_a_16x16x16(Frag& a, const T* tile, int ld, int lane, Convert convert) {
#pragma GCC unroll 16
  for (int e = 0; e < 16; ++e) {
    const wl::RowCol rc = wl::a_16x16x16(lane, e);
    a[e] = convert(tile[rc.row * ld + rc.col]);
  }
}
// B fragment from B^T (N x K): b[e] = B[k][n] = tile[n * ld + k] at (k, n) = b_16x16x16(lane, e).
template <class Frag, class T, class Convert>
XK_WMMA_LAYOUT_HD inline void load_b_16x16x16(Frag& b, const T* tile_t, int ld, int lane, Convert convert) {
#pragma GCC unroll 16
  for (int e = 0; e < 16; ++e) {
    const wl::RowCol rc = wl::b_16x16x16(lane, e);
    b[e] = convert(tile_t[rc.col * ld + rc.row]);
  }
}

// iu8 fragments: 16 bytes in 4 ints, byte e = element e (byte 0 the low byte of int 0). A
// lane's 16 elements are 16 consecutive k (a_16x16x16 / b_16x16x16), so the fragment is
// the 4 aligned words that start at its element 0.
// The run is read as dwords (ds_load_b32, or b128 where the compiler can prove 16 bytes),
// which must start on a dword boundary: hip-sim reports a run that does not (a padded row
// of a byte count not a multiple of 4), where the GPU would read the wrong bytes or fault.
XK_WMMA_LAYOUT_HD inline const int32_t* iu8_dword_run(const int8_t* run) {
#if defined(XK_SIM)
  ::xk::sim::check_aligned(run, sizeof(int32_t), "WMMA iu8 operand load from LDS");
#endif
  return reinterpret_cast<const int32_t*>(run);
}
template <class Frag>
XK_WMMA_LAYOUT_HD inline void load_a_16x16x16_iu8(Frag& a, const int8_t* tile, int ld, int lane) {
  const wl::RowCol rc = wl::a_16x16x16(lane, 0);
  const int32_t* src = iu8_dword_run(tile + rc.row * ld + rc.col);
#pragma GCC unroll 4
  for (int w = 0; w < 4; ++w) a[w] = src[w];
}
template <class Frag>
XK_WMMA_LAYOUT_HD inline void load_b_16x16x16_iu8(Frag& b, const int8_t* tile_t, int ld, int lane) {
  const wl::RowCol rc = wl::b_16x16x16(lane, 0);
  const int32_t* src = iu8_dword_run(tile_t + rc.col * ld + rc.row);
#pragma GCC unroll 4
  for (int w = 0; w < 4; ++w) b[w] = src[w];
}

// Calls f(e, row, col) for each of the lane's 8 C/D elements, (row, col) = cd_16x16x16(lane, e)
// within the 16 x 16 tile.
template <class F>
XK_WMMA_LAYOUT_HD inline void for_each_cd_16x16x16(int lane, F&& f) {
#pragma GCC unroll 8
  for (int e = 0; e < 8; ++e) {
    const wl::RowCol rc = wl::cd_16x16x16(lane, e);
    f(e, rc.row, rc.col);
  }
}

}  // namespace xk::wmma
