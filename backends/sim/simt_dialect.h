// The part of the CUDA / HIP device dialect both simulators share, for g++ builds of the
// kernel sources (XK_SIM). Included by cuda_sim.h and hip_sim.h, never by kernels directly.
//
// __shared__ is `static thread_local`: a block runs on one OS worker at a time, so the
// worker's copy of a function-scope static array is that block's shared memory. Every such
// array lives in the TLS section XK_SIM_SHARED_SECTION, which the engine fills with 0xFF
// before each block (engine.cpp poison_static_shared), as it does dynamic shared memory.
// g++ (12) ignores the section attribute on static locals of function templates: those
// arrays land in .tbss and are not poisoned.
#pragma once
#include <atomic>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "backends/sim/engine.h"

#define __global__
#define __device__
#define __host__
#define __forceinline__ inline __attribute__((always_inline))
#define __noinline__ __attribute__((noinline))
#define __launch_bounds__(...)
#define __shared__ __attribute__((section(XK_SIM_SHARED_SECTION))) static thread_local
#define __constant__
#define __align__(n) __attribute__((aligned(n)))

struct dim3 {
  unsigned x, y, z;
  constexpr dim3(unsigned x_ = 1, unsigned y_ = 1, unsigned z_ = 1) : x(x_), y(y_), z(z_) {}
};
using uint3 = ::xk::sim::Dim3;

// Vector types (CUDA "Built-in Vector Types", same in HIP), with the GPU's alignment so
// 64/128-bit loads through them keep their meaning.
struct __attribute__((aligned(8))) float2 {
  float x, y;
};
struct __attribute__((aligned(16))) float4 {
  float x, y, z, w;
};
struct __attribute__((aligned(8))) int2 {
  int x, y;
};
struct __attribute__((aligned(16))) int4 {
  int x, y, z, w;
};
struct __attribute__((aligned(8))) uint2 {
  unsigned x, y;
};
struct __attribute__((aligned(16))) uint4 {
  unsigned x, y, z, w;
};
struct __attribute__((aligned(4))) char4 {
  signed char x, y, z, w;
};
struct __attribute__((aligned(4))) uchar4 {
  unsigned char x, y, z, w;
};
inline float2 make_float2(float x, float y) { return {x, y}; }
inline float4 make_float4(float x, float y, float z, float w) { return {x, y, z, w}; }
inline int2 make_int2(int x, int y) { return {x, y}; }
inline int4 make_int4(int x, int y, int z, int w) { return {x, y, z, w}; }
inline uint2 make_uint2(unsigned x, unsigned y) { return {x, y}; }
inline uint4 make_uint4(unsigned x, unsigned y, unsigned z, unsigned w) { return {x, y, z, w}; }

#define threadIdx (::xk::sim::thread_idx())
#define blockIdx (::xk::sim::block_idx())
#define blockDim (::xk::sim::block_dim())
#define gridDim (::xk::sim::grid_dim())
#define warpSize 32

namespace xk::sim {

// ---- f16 / bf16 bit conversions (round to nearest even) ---------------------------------
inline uint16_t f32_to_f16(float f) {
  _Float16 h = static_cast<_Float16>(f);
  uint16_t u;
  std::memcpy(&u, &h, 2);
  return u;
}
inline float f16_to_f32(uint16_t u) {
  _Float16 h;
  std::memcpy(&h, &u, 2);
  return static_cast<float>(h);
}
inline uint16_t f32_to_bf16(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  if ((u & 0x7fffffffu) > 0x7f800000u) return uint16_t((u >> 16) | 0x40);  // quiet NaN
  u += 0x7fffu + ((u >> 16) & 1u);
  return uint16_t(u >> 16);
}
inline float bf16_to_f32(uint16_t b) {
  uint32_t u = uint32_t(b) << 16;
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

// ---- Warp collectives shared by both dialects --------------------------------------------

void syncwarp(uint32_t mask);
// Shuffle of an 8-byte payload: each lane names its source lane; a source outside the mask
// yields the caller's own value, or all-ones under XK_SIM_STRICT (the result is undefined
// on the GPU). The dialect below maps out-of-range down/up/xor to the own lane first.
uint64_t shfl(uint32_t mask, uint64_t value, int src_lane);
uint32_t ballot(uint32_t mask, bool pred);
int64_t reduce_add(uint32_t mask, int64_t v);
void thread_fence();  // a sequentially consistent fence between the OS workers running blocks

template <class T>
inline T shfl_any(uint32_t mask, T var, int src_lane) {
  static_assert(std::is_trivially_copyable_v<T> && sizeof(T) <= 8, "shuffle of a type wider than 8 bytes");
  uint64_t bits = 0;
  std::memcpy(&bits, &var, sizeof(T));
  bits = shfl(mask, bits, src_lane);
  T out;
  std::memcpy(&out, &bits, sizeof(T));
  return out;
}
// Source lane of a shuffle inside a `width`-lane segment (CUDA Programming Guide, "Warp
// Shuffle Functions"): idx wraps in the segment; down/up out of range keep the own value.
inline int seg_base(int width) { return int(lane_id()) & ~(width - 1); }

}  // namespace xk::sim

inline void __syncthreads() { ::xk::sim::syncthreads(); }
inline void __syncwarp(unsigned mask = 0xffffffffu) { ::xk::sim::syncwarp(mask); }
inline unsigned __ballot_sync(unsigned mask, int pred) { return ::xk::sim::ballot(mask, pred != 0); }
inline int __any_sync(unsigned mask, int pred) { return ::xk::sim::ballot(mask, pred != 0) != 0; }
inline int __all_sync(unsigned mask, int pred) { return ::xk::sim::ballot(mask, pred != 0) == mask; }
inline unsigned __activemask() { return ::xk::sim::warp_present_mask(); }
inline int __reduce_add_sync(unsigned mask, int v) { return int(::xk::sim::reduce_add(mask, v)); }
inline unsigned __reduce_add_sync(unsigned mask, unsigned v) {
  return unsigned(::xk::sim::reduce_add(mask, v));
}

// A fence out of line (engine.cpp): g++ warns about fences in code instrumented for the race check.
inline void __threadfence() { ::xk::sim::thread_fence(); }
inline void __threadfence_block() {}

template <class T>
inline T __shfl_sync(unsigned mask, T var, int src, int width = 32) {
  return ::xk::sim::shfl_any(mask, var, ::xk::sim::seg_base(width) + (src & (width - 1)));
}
template <class T>
inline T __shfl_xor_sync(unsigned mask, T var, int lane_mask, int width = 32) {
  const int l = int(::xk::sim::lane_id()), s = l ^ lane_mask;
  return ::xk::sim::shfl_any(mask, var, (s & ~(width - 1)) == (l & ~(width - 1)) ? s : l);
}
template <class T>
inline T __shfl_down_sync(unsigned mask, T var, unsigned delta, int width = 32) {
  const int l = int(::xk::sim::lane_id()), s = l + int(delta);
  return ::xk::sim::shfl_any(mask, var, s < ::xk::sim::seg_base(width) + width ? s : l);
}
template <class T>
inline T __shfl_up_sync(unsigned mask, T var, unsigned delta, int width = 32) {
  const int l = int(::xk::sim::lane_id()), s = l - int(delta);
  return ::xk::sim::shfl_any(mask, var, s >= ::xk::sim::seg_base(width) ? s : l);
}

// ---- Atomics: blocks run on several OS threads, so these are real atomics --------------
template <class T>
inline T xk_sim_atomic_max(T* p, T v) {
  std::atomic_ref<T> r(*p);
  T old = r.load(std::memory_order_relaxed);
  while (old < v && !r.compare_exchange_weak(old, v, std::memory_order_relaxed)) {
  }
  return old;
}
template <class T>
inline T xk_sim_atomic_min(T* p, T v) {
  std::atomic_ref<T> r(*p);
  T old = r.load(std::memory_order_relaxed);
  while (v < old && !r.compare_exchange_weak(old, v, std::memory_order_relaxed)) {
  }
  return old;
}
inline float atomicAdd(float* p, float v) {
  return std::atomic_ref<float>(*p).fetch_add(v, std::memory_order_relaxed);
}
inline int atomicAdd(int* p, int v) {
  return std::atomic_ref<int>(*p).fetch_add(v, std::memory_order_relaxed);
}
inline unsigned atomicAdd(unsigned* p, unsigned v) {
  return std::atomic_ref<unsigned>(*p).fetch_add(v, std::memory_order_relaxed);
}
inline unsigned long long atomicAdd(unsigned long long* p, unsigned long long v) {
  return std::atomic_ref<unsigned long long>(*p).fetch_add(v, std::memory_order_relaxed);
}
inline int atomicMax(int* p, int v) { return xk_sim_atomic_max(p, v); }
inline unsigned atomicMax(unsigned* p, unsigned v) { return xk_sim_atomic_max(p, v); }
inline int atomicMin(int* p, int v) { return xk_sim_atomic_min(p, v); }
inline unsigned atomicMin(unsigned* p, unsigned v) { return xk_sim_atomic_min(p, v); }
inline int atomicExch(int* p, int v) {
  return std::atomic_ref<int>(*p).exchange(v, std::memory_order_relaxed);
}
inline unsigned atomicExch(unsigned* p, unsigned v) {
  return std::atomic_ref<unsigned>(*p).exchange(v, std::memory_order_relaxed);
}
inline int atomicCAS(int* p, int cmp, int v) {
  std::atomic_ref<int>(*p).compare_exchange_strong(cmp, v, std::memory_order_relaxed);
  return cmp;
}
inline unsigned atomicCAS(unsigned* p, unsigned cmp, unsigned v) {
  std::atomic_ref<unsigned>(*p).compare_exchange_strong(cmp, v, std::memory_order_relaxed);
  return cmp;
}

// ---- Integer and float intrinsics ----------------------------------------------------------
inline int __popc(unsigned x) { return __builtin_popcount(x); }
inline int __popcll(unsigned long long x) { return __builtin_popcountll(x); }
inline int __clz(int x) { return x ? __builtin_clz(unsigned(x)) : 32; }
inline int __ffs(int x) { return __builtin_ffs(x); }
inline unsigned __byte_perm(unsigned x, unsigned y, unsigned s) {
  const uint64_t v = (uint64_t(y) << 32) | x;
  unsigned r = 0;
  for (int i = 0; i < 4; ++i) r |= unsigned((v >> (8 * ((s >> (4 * i)) & 7))) & 0xff) << (8 * i);
  return r;
}
inline float __int_as_float(int x) {
  float f;
  std::memcpy(&f, &x, 4);
  return f;
}
inline int __float_as_int(float f) {
  int x;
  std::memcpy(&x, &f, 4);
  return x;
}
inline float __uint_as_float(unsigned x) {
  float f;
  std::memcpy(&f, &x, 4);
  return f;
}
inline unsigned __float_as_uint(float f) {
  unsigned x;
  std::memcpy(&x, &f, 4);
  return x;
}
inline float __expf(float x) { return std::exp(x); }
inline float __logf(float x) { return std::log(x); }
inline float __fdividef(float a, float b) { return a / b; }
inline float rsqrtf(float x) { return 1.0f / std::sqrt(x); }
inline float __saturatef(float x) { return x < 0.0f ? 0.0f : (x > 1.0f ? 1.0f : x); }
inline int __float2int_rn(float x) { return int(std::nearbyint(x)); }
inline float __fmaf_rn(float a, float b, float c) { return std::fma(a, b, c); }
inline int min(int a, int b) { return a < b ? a : b; }
inline int max(int a, int b) { return a > b ? a : b; }
inline unsigned min(unsigned a, unsigned b) { return a < b ? a : b; }
inline unsigned max(unsigned a, unsigned b) { return a > b ? a : b; }
inline long long min(long long a, long long b) { return a < b ? a : b; }
inline long long max(long long a, long long b) { return a > b ? a : b; }
inline float min(float a, float b) { return std::fmin(a, b); }
inline float max(float a, float b) { return std::fmax(a, b); }
