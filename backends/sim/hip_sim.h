// The HIP device dialect for g++ (hip-sim). Included only by kernels/hip/wmma.h when XK_SIM
// is defined; see simt_dialect.h for the shared part and engine.h for the execution model.
// The WMMA emulation lives in wmma_emu.cpp.
#pragma once
#include "backends/sim/simt_dialect.h"

#define HIP_DYNAMIC_SHARED(type, var) type* var = static_cast<type*>(::xk::sim::dynamic_smem())
#define hipThreadIdx_x (threadIdx.x)
#define hipThreadIdx_y (threadIdx.y)
#define hipBlockIdx_x (blockIdx.x)
#define hipBlockIdx_y (blockIdx.y)
#define hipBlockDim_x (blockDim.x)
#define hipBlockDim_y (blockDim.y)

// HIP's warp functions without masks operate on the whole wave (wave32 on RDNA).
template <class T>
inline T __shfl(T var, int src, int width = 32) {
  return __shfl_sync(::xk::sim::warp_present_mask(), var, src, width);
}
template <class T>
inline T __shfl_xor(T var, int lane_mask, int width = 32) {
  return __shfl_xor_sync(::xk::sim::warp_present_mask(), var, lane_mask, width);
}
template <class T>
inline T __shfl_down(T var, unsigned delta, int width = 32) {
  return __shfl_down_sync(::xk::sim::warp_present_mask(), var, delta, width);
}
template <class T>
inline T __shfl_up(T var, unsigned delta, int width = 32) {
  return __shfl_up_sync(::xk::sim::warp_present_mask(), var, delta, width);
}
inline unsigned long long __ballot(int pred) {
  return ::xk::sim::ballot(::xk::sim::warp_present_mask(), pred != 0);
}
inline int __any(int pred) { return __ballot(pred) != 0; }
inline int __all(int pred) { return __ballot(pred) == ::xk::sim::warp_present_mask(); }
inline unsigned __lane_id() { return ::xk::sim::lane_id(); }
// __builtin_amdgcn_sdot4 / udot4 style packed dot products (v_dot4_i32_i8, RDNA ISA).
inline int __builtin_amdgcn_sdot4(int a, int b, int c, bool) {
  for (int i = 0; i < 4; ++i) c += int(int8_t(a >> (8 * i))) * int(int8_t(b >> (8 * i)));
  return c;
}

namespace xk::sim {

// The vector types of the WMMA builtins, with GCC's vector extension (same size, indexable).
typedef _Float16 half16 __attribute__((vector_size(32)));
typedef short short16 __attribute__((vector_size(32)));
typedef float float8 __attribute__((vector_size(32)));
typedef int int8v __attribute__((vector_size(32)));
typedef int int4v __attribute__((vector_size(16)));
typedef int int2v __attribute__((vector_size(8)));

enum class WmmaKind : uint8_t { F16, BF16, IU8, IU4 };
const char* counter_name(WmmaKind k);  // "wmma.f32.16x16x16.f16" ...
// Wave-collective emulation of v_wmma_*_16x16x16 (wave32); d/c are 8 x 32-bit per lane,
// a/b are 16 elements (32, 16 or 8 bytes) per lane.
void wmma(WmmaKind kind, void* d, const void* a, const void* b, const void* c, bool a_signed, bool b_signed,
          bool clamp);

}  // namespace xk::sim
