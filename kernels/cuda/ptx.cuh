// xk::ptx — the ONLY place with inline PTX. Every CUDA kernel includes this header.
//
// Two branches, one API (destination first, fragments are the PTX ISA register lists):
//  - real build (nvcc): CUDA headers + inline asm, one instruction per wrapper;
//  - simulator build (XK_SIM defined by backends/sim/CMakeLists.txt, compiled by g++):
//    backends/sim/cuda_sim.h provides the CUDA dialect (__global__, threadIdx, __shfl_sync,
//    __syncthreads, ...) and every wrapper below is a warp-collective emulation with the
//    lane layouts of kernels/cuda/mma_layouts.h.
// Kernel files never test XK_SIM themselves.
//
// Rules for kernel authors (both branches behave the same only if these hold):
//  - dynamic shared memory: `T* smem = xk::ptx::dynamic_smem<T>();` (16-byte aligned), not
//    a raw `extern __shared__` array (the simulator cannot bind an arbitrary extern name).
//  - static `__shared__` arrays at function scope are fine (per block in both branches); a
//    kernel template names them in `xk::ptx::sim_poison_shared(a, b)` before first use, so
//    the simulator poisons them per block (it does so for non-template functions by itself).
//  - global loads you want counted by cuda-sim: xk::ptx::ld_global / cp_async_16.
//  - every warp collective (mma, ldmatrix, shuffles, votes, __syncwarp) must be reached
//    by all lanes named in its mask; the simulator reports a deadlock otherwise.
//
// Verified real branch: nvcc 13.0 `-std=c++17 -gencode arch=compute_121a,code=sm_121a -c`
// on tests/sim/ptx_compile_check.cu (every wrapper instantiated).
#pragma once
#include <cstdint>

#include "kernels/cuda/mma_layouts.h"

#if defined(XK_SIM)
#include "backends/sim/cuda_sim.h"
#else
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>
#endif

namespace xk::ptx {

#if defined(XK_SIM)
using sim::MmaKind;

// ---- Matrix multiply-accumulate (PTX ISA "Warp-level matrix instructions: mma") -------
inline void mma_m16n8k16_f16_f32(float (&d)[4], const uint32_t (&a)[4], const uint32_t (&b)[2],
                                 const float (&c)[4]) {
  sim::mma(MmaKind::F16_M16N8K16, d, a, b, c, 0, 0, 0);
}
inline void mma_m16n8k16_bf16_f32(float (&d)[4], const uint32_t (&a)[4], const uint32_t (&b)[2],
                                  const float (&c)[4]) {
  sim::mma(MmaKind::BF16_M16N8K16, d, a, b, c, 0, 0, 0);
}
inline void mma_m16n8k32_s8_s32(int32_t (&d)[4], const uint32_t (&a)[4], const uint32_t (&b)[2],
                                const int32_t (&c)[4]) {
  sim::mma(MmaKind::S8_M16N8K32, d, a, b, c, 0, 0, 0);
}
inline void mma_m16n8k32_u8_s32(int32_t (&d)[4], const uint32_t (&a)[4], const uint32_t (&b)[2],
                                const int32_t (&c)[4]) {
  sim::mma(MmaKind::U8_M16N8K32, d, a, b, c, 0, 0, 0);
}
template <int BYTE_A = 0, int TID_A = 0, int BYTE_B = 0, int TID_B = 0>
inline void mma_m16n8k64_nvf4_ue4m3_4x(float (&d)[4], const uint32_t (&a)[4], const uint32_t (&b)[2],
                                       const float (&c)[4], uint32_t scale_a, uint32_t scale_b) {
  static_assert(BYTE_A == 0 && BYTE_B == 0, "scale_vec::4X uses all four bytes: byte-id must be 0");
  static_assert(TID_A >= 0 && TID_A <= 1 && TID_B >= 0 && TID_B <= 3,
                "thread-id-a in 0..1, thread-id-b in 0..3");
  sim::mma(MmaKind::NVF4_UE4M3_4X, d, a, b, c, scale_a, scale_b,
           sim::selectors(BYTE_A, TID_A, BYTE_B, TID_B));
}
template <int BYTE_A = 0, int TID_A = 0, int BYTE_B = 0, int TID_B = 0>
inline void mma_m16n8k64_mxf4_ue8m0_2x(float (&d)[4], const uint32_t (&a)[4], const uint32_t (&b)[2],
                                       const float (&c)[4], uint32_t scale_a, uint32_t scale_b) {
  static_assert((BYTE_A == 0 || BYTE_A == 2) && (BYTE_B == 0 || BYTE_B == 2),
                "scale_vec::2X: byte-id 0 or 2");
  static_assert(TID_A >= 0 && TID_A <= 1 && TID_B >= 0 && TID_B <= 3,
                "thread-id-a in 0..1, thread-id-b in 0..3");
  sim::mma(MmaKind::MXF4NVF4_UE8M0_2X, d, a, b, c, scale_a, scale_b,
           sim::selectors(BYTE_A, TID_A, BYTE_B, TID_B));
}
// .kind::mxf4 (MXFP4 only; scale_vec::2X, ue8m0): same numbers as the mxf4nvf4 2X form.
template <int BYTE_A = 0, int TID_A = 0, int BYTE_B = 0, int TID_B = 0>
inline void mma_m16n8k64_mxf4_kind_mxf4(float (&d)[4], const uint32_t (&a)[4], const uint32_t (&b)[2],
                                        const float (&c)[4], uint32_t scale_a, uint32_t scale_b) {
  static_assert((BYTE_A == 0 || BYTE_A == 2) && (BYTE_B == 0 || BYTE_B == 2),
                "scale_vec::2X: byte-id 0 or 2");
  static_assert(TID_A >= 0 && TID_A <= 1 && TID_B >= 0 && TID_B <= 3,
                "thread-id-a in 0..1, thread-id-b in 0..3");
  sim::mma(MmaKind::MXF4_UE8M0_2X, d, a, b, c, scale_a, scale_b,
           sim::selectors(BYTE_A, TID_A, BYTE_B, TID_B));
}

// ---- ldmatrix (PTX ISA "ldmatrix"): lanes 8i..8i+7 address the rows of matrix i -------
inline void ldmatrix_x1(uint32_t (&r)[1], const void* smem_row) { sim::ldmatrix(r, 1, false, smem_row); }
inline void ldmatrix_x2(uint32_t (&r)[2], const void* smem_row) { sim::ldmatrix(r, 2, false, smem_row); }
inline void ldmatrix_x4(uint32_t (&r)[4], const void* smem_row) { sim::ldmatrix(r, 4, false, smem_row); }
inline void ldmatrix_x1_trans(uint32_t (&r)[1], const void* smem_row) { sim::ldmatrix(r, 1, true, smem_row); }
inline void ldmatrix_x2_trans(uint32_t (&r)[2], const void* smem_row) { sim::ldmatrix(r, 2, true, smem_row); }
inline void ldmatrix_x4_trans(uint32_t (&r)[4], const void* smem_row) { sim::ldmatrix(r, 4, true, smem_row); }

// ---- cp.async (PTX ISA "cp.async"): the simulator holds the data until the wait that
// retires its group (backends/sim/engine.h async_copy) and counts the bytes.
inline void cp_async_16(void* smem_dst, const void* gmem_src) { sim::cp_async(smem_dst, gmem_src, 16, 16); }
// Copies src_bytes (0..16) and zero-fills the rest of the 16 bytes (the "src-size" form).
inline void cp_async_16_zfill(void* smem_dst, const void* gmem_src, int src_bytes) {
  sim::cp_async(smem_dst, gmem_src, 16, src_bytes);
}
inline void cp_async_commit() { sim::async_commit(); }
template <int N>
inline void cp_async_wait() {
  sim::async_wait(N);
}

// ---- Counted global memory access and small lane helpers -----------------------------
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
inline unsigned lane_id() { return sim::lane_id(); }
inline unsigned warp_id() { return sim::warp_id(); }
template <class T>
inline T* dynamic_smem() {
  return static_cast<T*>(sim::dynamic_smem());
}
// Static __shared__ arrays of a kernel template: cuda-sim fills them with 0xFF (NaN) at the
// first call of each block, so an uninitialised read shows; g++ cannot put a template's
// static locals in the section the simulator poisons at block start. Call it first thing.
template <class... A>
inline void sim_poison_shared(A&... arrays) {
  (sim::static_shared(&arrays, sizeof(arrays)), ...);
}
inline uint32_t pack_f16x2(float lo, float hi) {
  return sim::f32_to_f16(lo) | (uint32_t(sim::f32_to_f16(hi)) << 16);
}
inline uint32_t pack_bf16x2(float lo, float hi) {
  return sim::f32_to_bf16(lo) | (uint32_t(sim::f32_to_bf16(hi)) << 16);
}
inline float f16_lo(uint32_t x) { return sim::f16_to_f32(uint16_t(x)); }
inline float f16_hi(uint32_t x) { return sim::f16_to_f32(uint16_t(x >> 16)); }

#else  // ------------------------------------------------------------------ real PTX

__device__ __forceinline__ void mma_m16n8k16_f16_f32(float (&d)[4], const uint32_t (&a)[4],
                                                     const uint32_t (&b)[2], const float (&c)[4]) {
  asm volatile(
      "mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, "
      "{%10,%11,%12,%13};\n"
      : "=f"(d[0]), "=f"(d[1]), "=f"(d[2]), "=f"(d[3])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]), "f"(c[0]), "f"(c[1]), "f"(c[2]),
        "f"(c[3]));
}
__device__ __forceinline__ void mma_m16n8k16_bf16_f32(float (&d)[4], const uint32_t (&a)[4],
                                                      const uint32_t (&b)[2], const float (&c)[4]) {
  asm volatile(
      "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, "
      "{%10,%11,%12,%13};\n"
      : "=f"(d[0]), "=f"(d[1]), "=f"(d[2]), "=f"(d[3])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]), "f"(c[0]), "f"(c[1]), "f"(c[2]),
        "f"(c[3]));
}
__device__ __forceinline__ void mma_m16n8k32_s8_s32(int32_t (&d)[4], const uint32_t (&a)[4],
                                                    const uint32_t (&b)[2], const int32_t (&c)[4]) {
  asm volatile(
      "mma.sync.aligned.m16n8k32.row.col.s32.s8.s8.s32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, "
      "{%10,%11,%12,%13};\n"
      : "=r"(d[0]), "=r"(d[1]), "=r"(d[2]), "=r"(d[3])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]), "r"(c[0]), "r"(c[1]), "r"(c[2]),
        "r"(c[3]));
}
__device__ __forceinline__ void mma_m16n8k32_u8_s32(int32_t (&d)[4], const uint32_t (&a)[4],
                                                    const uint32_t (&b)[2], const int32_t (&c)[4]) {
  asm volatile(
      "mma.sync.aligned.m16n8k32.row.col.s32.u8.u8.s32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, "
      "{%10,%11,%12,%13};\n"
      : "=r"(d[0]), "=r"(d[1]), "=r"(d[2]), "=r"(d[3])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]), "r"(c[0]), "r"(c[1]), "r"(c[2]),
        "r"(c[3]));
}

// Block-scaled FP4 (PTX ISA "Block Scaling for mma.sync"): the selectors are immediates
// {byte-id, thread-id}; which lane/byte feeds which row/col is in mma_layouts.h.
// The instruction assembles only for the arch-specific sm_120a / sm_121a targets (PTX ISA
// 9.7.14.5.14 target notes); in a fatbin that also holds sm_80/89/90a cubins those get a trap
// instead. The CUDA variant table offers these kernels only where the device reports
// "fp4_mma", i.e. an sm_120a/121a cubin runs (backends/cuda/cuda_device.cpp).
#if defined(__CUDA_ARCH_FEAT_SM120_ALL) || defined(__CUDA_ARCH_FEAT_SM121_ALL)
#define XK_PTX_MMA_K64_FP4(QUALIFIERS)                                                                     \
  asm volatile(                                                                                            \
      "mma.sync.aligned.m16n8k64.row.col." QUALIFIERS                                                      \
      " {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%10,%11,%12,%13}, %14, {%16, %17}, %15, {%18, %19};\n"     \
      : "=f"(d[0]), "=f"(d[1]), "=f"(d[2]), "=f"(d[3])                                                     \
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]), "f"(c[0]), "f"(c[1]), "f"(c[2]), \
        "f"(c[3]), "r"(scale_a), "r"(scale_b), "n"(BYTE_A), "n"(TID_A), "n"(BYTE_B), "n"(TID_B))
#else
#define XK_PTX_MMA_K64_FP4(QUALIFIERS) __trap()
#endif

template <int BYTE_A = 0, int TID_A = 0, int BYTE_B = 0, int TID_B = 0>
__device__ __forceinline__ void mma_m16n8k64_nvf4_ue4m3_4x(float (&d)[4], const uint32_t (&a)[4],
                                                           const uint32_t (&b)[2], const float (&c)[4],
                                                           uint32_t scale_a, uint32_t scale_b) {
  static_assert(BYTE_A == 0 && BYTE_B == 0, "scale_vec::4X uses all four bytes: byte-id must be 0");
  XK_PTX_MMA_K64_FP4("kind::mxf4nvf4.block_scale.scale_vec::4X.f32.e2m1.e2m1.f32.ue4m3");
}
template <int BYTE_A = 0, int TID_A = 0, int BYTE_B = 0, int TID_B = 0>
__device__ __forceinline__ void mma_m16n8k64_mxf4_ue8m0_2x(float (&d)[4], const uint32_t (&a)[4],
                                                           const uint32_t (&b)[2], const float (&c)[4],
                                                           uint32_t scale_a, uint32_t scale_b) {
  static_assert((BYTE_A == 0 || BYTE_A == 2) && (BYTE_B == 0 || BYTE_B == 2),
                "scale_vec::2X: byte-id 0 or 2");
  XK_PTX_MMA_K64_FP4("kind::mxf4nvf4.block_scale.scale_vec::2X.f32.e2m1.e2m1.f32.ue8m0");
}
template <int BYTE_A = 0, int TID_A = 0, int BYTE_B = 0, int TID_B = 0>
__device__ __forceinline__ void mma_m16n8k64_mxf4_kind_mxf4(float (&d)[4], const uint32_t (&a)[4],
                                                            const uint32_t (&b)[2], const float (&c)[4],
                                                            uint32_t scale_a, uint32_t scale_b) {
  static_assert((BYTE_A == 0 || BYTE_A == 2) && (BYTE_B == 0 || BYTE_B == 2),
                "scale_vec::2X: byte-id 0 or 2");
  XK_PTX_MMA_K64_FP4("kind::mxf4.block_scale.scale_vec::2X.f32.e2m1.e2m1.f32.ue8m0");
}
#undef XK_PTX_MMA_K64_FP4

__device__ __forceinline__ uint32_t smem_addr(const void* p) {
  return static_cast<uint32_t>(__cvta_generic_to_shared(p));
}
__device__ __forceinline__ void ldmatrix_x1(uint32_t (&r)[1], const void* p) {
  asm volatile("ldmatrix.sync.aligned.m8n8.x1.shared.b16 {%0}, [%1];\n" : "=r"(r[0]) : "r"(smem_addr(p)));
}
__device__ __forceinline__ void ldmatrix_x2(uint32_t (&r)[2], const void* p) {
  asm volatile("ldmatrix.sync.aligned.m8n8.x2.shared.b16 {%0,%1}, [%2];\n"
               : "=r"(r[0]), "=r"(r[1])
               : "r"(smem_addr(p)));
}
__device__ __forceinline__ void ldmatrix_x4(uint32_t (&r)[4], const void* p) {
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0,%1,%2,%3}, [%4];\n"
               : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
               : "r"(smem_addr(p)));
}
__device__ __forceinline__ void ldmatrix_x1_trans(uint32_t (&r)[1], const void* p) {
  asm volatile("ldmatrix.sync.aligned.m8n8.x1.trans.shared.b16 {%0}, [%1];\n"
               : "=r"(r[0])
               : "r"(smem_addr(p)));
}
__device__ __forceinline__ void ldmatrix_x2_trans(uint32_t (&r)[2], const void* p) {
  asm volatile("ldmatrix.sync.aligned.m8n8.x2.trans.shared.b16 {%0,%1}, [%2];\n"
               : "=r"(r[0]), "=r"(r[1])
               : "r"(smem_addr(p)));
}
__device__ __forceinline__ void ldmatrix_x4_trans(uint32_t (&r)[4], const void* p) {
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0,%1,%2,%3}, [%4];\n"
               : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
               : "r"(smem_addr(p)));
}

__device__ __forceinline__ void cp_async_16(void* smem_dst, const void* gmem_src) {
  asm volatile("cp.async.cg.shared.global [%0], [%1], 16;\n" ::"r"(smem_addr(smem_dst)), "l"(gmem_src));
}
__device__ __forceinline__ void cp_async_16_zfill(void* smem_dst, const void* gmem_src, int src_bytes) {
  asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(smem_addr(smem_dst)), "l"(gmem_src),
               "r"(src_bytes));
}
__device__ __forceinline__ void cp_async_commit() { asm volatile("cp.async.commit_group;\n" ::); }
template <int N>
__device__ __forceinline__ void cp_async_wait() {
  asm volatile("cp.async.wait_group %0;\n" ::"n"(N));
}

template <class T>
__device__ __forceinline__ T ld_global(const T* p) {
  return *p;
}
template <class T>
__device__ __forceinline__ void st_global(T* p, const T& v) {
  *p = v;
}
__device__ __forceinline__ unsigned lane_id() {
  unsigned l;
  asm volatile("mov.u32 %0, %%laneid;\n" : "=r"(l));
  return l;
}
__device__ __forceinline__ unsigned warp_id() {
  return (threadIdx.x + blockDim.x * (threadIdx.y + blockDim.y * threadIdx.z)) / 32;
}
template <class T>
__device__ __forceinline__ T* dynamic_smem() {
  extern __shared__ __align__(16) unsigned char xk_dynamic_smem[];
  return reinterpret_cast<T*>(xk_dynamic_smem);
}
template <class... A>
__device__ __forceinline__ void sim_poison_shared(A&...) {}  // the GPU leaves them as they are
__device__ __forceinline__ uint32_t pack_f16x2(float lo, float hi) {
  __half2 h = __floats2half2_rn(lo, hi);
  return *reinterpret_cast<uint32_t*>(&h);
}
__device__ __forceinline__ uint32_t pack_bf16x2(float lo, float hi) {
  __nv_bfloat162 h = __floats2bfloat162_rn(lo, hi);
  return *reinterpret_cast<uint32_t*>(&h);
}
__device__ __forceinline__ float f16_lo(uint32_t x) { return __half2float(__ushort_as_half(uint16_t(x))); }
__device__ __forceinline__ float f16_hi(uint32_t x) {
  return __half2float(__ushort_as_half(uint16_t(x >> 16)));
}
#endif

}  // namespace xk::ptx
