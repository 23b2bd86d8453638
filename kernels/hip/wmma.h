// xk::wmma — the ONLY place with WMMA builtins. Every HIP kernel includes this header.
//
// Two branches, one API (destination first):
//  - real build (clang-19 HIP for gfx1151/gfx1100): <hip/hip_runtime.h> and the
//    __builtin_amdgcn_wmma_*_w32 builtins (RDNA3 ISA 7.9, wave32);
//  - simulator build (XK_SIM, g++): backends/sim/hip_sim.h provides the HIP dialect and
//    each wrapper is a wave-collective emulation with kernels/hip/wmma_layouts.h.
//
// How the real branch was checked to compile here (Debian clang-19 + HIP 5.2 headers in
// /usr/include/hip, no ROCm install):
//   clang++-19 -x hip --offload-arch=gfx1151 -nogpulib --cuda-device-only -S
//       -I<repo> tests/sim/wmma_compile_check.hip -o out.s
// (no -D__HIP_PLATFORM_AMD__ or --rocm-path needed for device-only -S; linking a full
// program additionally needs the device libs: backends/hip/CMakeLists.txt generates
// oclc_isa_version_1151.bc).
// The output contains v_wmma_f32_16x16x16_f16 / _bf16 / v_wmma_i32_16x16x16_iu8 / _iu4.
//
// Rules for kernel authors: dynamic shared memory via `xk::wmma::dynamic_smem<T>()`;
// all 32 lanes of a wave reach every WMMA with lanes 16-31 holding copies of A/B of lanes
// 0-15 (the simulator reports a mismatch as an error); the static `__shared__` arrays of a
// kernel template named in `xk::wmma::sim_poison_shared(a, b)` before first use, so the
// simulator poisons them per block.
#pragma once
#include <cstdint>

#include "kernels/hip/wmma_fragments.h"
#include "kernels/hip/wmma_layouts.h"

#if defined(XK_SIM)
#include "backends/sim/hip_sim.h"
#else
#include <hip/hip_runtime.h>
#endif

namespace xk::wmma {

#if defined(XK_SIM)
using half16 = sim::half16;
using bf16x16 = sim::short16;  // bf16 bit patterns
using float8 = sim::float8;
using int8v = sim::int8v;
using int4v = sim::int4v;
using int2v = sim::int2v;

inline void wmma_f32_16x16x16_f16(float8& d, const half16& a, const half16& b, const float8& c) {
  sim::wmma(sim::WmmaKind::F16, &d, &a, &b, &c, false, false, false);
}
inline void wmma_f32_16x16x16_bf16(float8& d, const bf16x16& a, const bf16x16& b, const float8& c) {
  sim::wmma(sim::WmmaKind::BF16, &d, &a, &b, &c, false, false, false);
}
inline void wmma_i32_16x16x16_iu8(int8v& d, bool a_signed, const int4v& a, bool b_signed, const int4v& b,
                                  const int8v& c, bool clamp) {
  sim::wmma(sim::WmmaKind::IU8, &d, &a, &b, &c, a_signed, b_signed, clamp);
}
inline void wmma_i32_16x16x16_iu4(int8v& d, bool a_signed, const int2v& a, bool b_signed, const int2v& b,
                                  const int8v& c, bool clamp) {
  sim::wmma(sim::WmmaKind::IU4, &d, &a, &b, &c, a_signed, b_signed, clamp);
}
inline unsigned lane_id() { return sim::lane_id(); }
template <class T>
inline T* dynamic_smem() {
  return static_cast<T*>(sim::dynamic_smem());
}
// Static __shared__ arrays of a kernel template: hip-sim fills them with 0xFF (NaN) at the
// first call of each block, so an uninitialised read shows; g++ cannot put a template's
// static locals in the section the simulator poisons at block start. Call it first thing.
template <class... A>
inline void sim_poison_shared(A&... arrays) {
  (sim::static_shared(&arrays, sizeof(arrays)), ...);
}
template <class T>
inline T ld_global(const T* p) {
  sim::global_read(p, sizeof(T), alignof(T));
  return *p;
}
template <class T>
inline void st_global(T* p, const T& v) {
  sim::global_write(p, sizeof(T), alignof(T));
  *p = v;
}

#else  // ------------------------------------------------------------------ real builtins
typedef _Float16 half16 __attribute__((ext_vector_type(16)));
typedef short bf16x16 __attribute__((ext_vector_type(16)));  // clang-19 takes bf16 as i16
typedef float float8 __attribute__((ext_vector_type(8)));
typedef int int8v __attribute__((ext_vector_type(8)));
typedef int int4v __attribute__((ext_vector_type(4)));
typedef int int2v __attribute__((ext_vector_type(2)));

// The signedness and clamp flags must be compile-time constants for the builtin; the
// wrappers are force-inlined so literal arguments fold.
__device__ __forceinline__ void wmma_f32_16x16x16_f16(float8& d, const half16& a, const half16& b,
                                                      const float8& c) {
  d = __builtin_amdgcn_wmma_f32_16x16x16_f16_w32(a, b, c);
}
__device__ __forceinline__ void wmma_f32_16x16x16_bf16(float8& d, const bf16x16& a, const bf16x16& b,
                                                       const float8& c) {
  d = __builtin_amdgcn_wmma_f32_16x16x16_bf16_w32(a, b, c);
}
#define XK_WMMA_IU(BUILTIN)                                                                     \
  if (a_signed) {                                                                               \
    if (b_signed)                                                                               \
      d = clamp ? BUILTIN(true, a, true, b, c, true) : BUILTIN(true, a, true, b, c, false);     \
    else                                                                                        \
      d = clamp ? BUILTIN(true, a, false, b, c, true) : BUILTIN(true, a, false, b, c, false);   \
  } else {                                                                                      \
    if (b_signed)                                                                               \
      d = clamp ? BUILTIN(false, a, true, b, c, true) : BUILTIN(false, a, true, b, c, false);   \
    else                                                                                        \
      d = clamp ? BUILTIN(false, a, false, b, c, true) : BUILTIN(false, a, false, b, c, false); \
  }
__device__ __forceinline__ void wmma_i32_16x16x16_iu8(int8v& d, bool a_signed, const int4v& a, bool b_signed,
                                                      const int4v& b, const int8v& c, bool clamp){
    XK_WMMA_IU(__builtin_amdgcn_wmma_i32_16x16x16_iu8_w32)} __device__ __forceinline__
    void wmma_i32_16x16x16_iu4(int8v& d, bool a_signed, const int2v& a, bool b_signed, const int2v& b,
                               const int8v& c,
                               bool clamp){XK_WMMA_IU(__builtin_amdgcn_wmma_i32_16x16x16_iu4_w32)}
#undef XK_WMMA_IU
__device__ __forceinline__ unsigned lane_id() {
  return __lane_id();
}
template <class T>
__device__ __forceinline__ T* dynamic_smem() {
  extern __shared__ __attribute__((aligned(16))) unsigned char xk_dynamic_smem[];
  return reinterpret_cast<T*>(xk_dynamic_smem);
}
template <class... A>
__device__ __forceinline__ void sim_poison_shared(A&...) {}  // the GPU leaves them as they are
template <class T>
__device__ __forceinline__ T ld_global(const T* p) {
  return *p;
}
template <class T>
__device__ __forceinline__ void st_global(T* p, const T& v) {
  *p = v;
}
#endif

}  // namespace xk::wmma
