// The CUDA device dialect for g++ (cuda-sim). Included only by kernels/cuda/ptx.cuh when
// XK_SIM is defined; see simt_dialect.h for what is shared with hip-sim and engine.h for the
// execution model. The PTX wrappers' emulations are declared here and live in mma_emu.cpp.
#pragma once
#include "backends/sim/simt_dialect.h"

// CUDA's half types, as far as the kernels use them: storage + conversions.
struct __half {
  uint16_t bits;
};
struct __half2 {
  __half x, y;
};
struct __nv_bfloat16 {
  uint16_t bits;
};
using half = __half;
inline __half __float2half(float f) { return {::xk::sim::f32_to_f16(f)}; }
inline __half __float2half_rn(float f) { return {::xk::sim::f32_to_f16(f)}; }
inline float __half2float(__half h) { return ::xk::sim::f16_to_f32(h.bits); }
inline __half2 __floats2half2_rn(float a, float b) { return {__float2half(a), __float2half(b)}; }
inline float __low2float(__half2 h) { return __half2float(h.x); }
inline float __high2float(__half2 h) { return __half2float(h.y); }
inline __half __ushort_as_half(unsigned short u) { return {u}; }
inline unsigned short __half_as_ushort(__half h) { return h.bits; }
inline __nv_bfloat16 __float2bfloat16(float f) { return {::xk::sim::f32_to_bf16(f)}; }
inline float __bfloat162float(__nv_bfloat16 b) { return ::xk::sim::bf16_to_f32(b.bits); }

// __ldg: a read-only global load, counted as global bytes read.
template <class T>
inline T __ldg(const T* p) {
  ::xk::sim::global_read(p, sizeof(T), alignof(T));
  return *p;
}
// __dp4a (sm_61+): four 8-bit products accumulated into 32 bits.
inline int __dp4a(int a, int b, int c) {
  for (int i = 0; i < 4; ++i) c += int(int8_t(a >> (8 * i))) * int(int8_t(b >> (8 * i)));
  return c;
}
inline unsigned __dp4a(unsigned a, unsigned b, unsigned c) {
  for (int i = 0; i < 4; ++i) c += ((a >> (8 * i)) & 0xff) * ((b >> (8 * i)) & 0xff);
  return c;
}

namespace xk::sim {

enum class MmaKind : uint8_t {
  F16_M16N8K16,       // mma.m16n8k16 .f32.f16.f16.f32
  BF16_M16N8K16,      // mma.m16n8k16 .f32.bf16.bf16.f32
  S8_M16N8K32,        // mma.m16n8k32 .s32.s8.s8.s32
  U8_M16N8K32,        // mma.m16n8k32 .s32.u8.u8.s32
  NVF4_UE4M3_4X,      // m16n8k64 kind::mxf4nvf4 block_scale scale_vec::4X e2m1 ue4m3
  MXF4NVF4_UE8M0_2X,  // m16n8k64 kind::mxf4nvf4 block_scale scale_vec::2X e2m1 ue8m0
  MXF4_UE8M0_2X,      // m16n8k64 kind::mxf4 block_scale scale_vec::2X e2m1 ue8m0
};
const char* counter_name(MmaKind k);  // "mma.m16n8k16.f16" ...
constexpr uint32_t selectors(int byte_a, int tid_a, int byte_b, int tid_b) {
  return uint32_t(byte_a) | uint32_t(tid_a) << 4 | uint32_t(byte_b) << 8 | uint32_t(tid_b) << 12;
}

// Warp-collective emulations (mma_emu.cpp). Fragments are the PTX register lists.
void mma(MmaKind kind, void* d, const uint32_t* a, const uint32_t* b, const void* c, uint32_t scale_a,
         uint32_t scale_b, uint32_t selectors);
void ldmatrix(uint32_t* r, int count, bool trans, const void* smem_row);
// cp.async: `src_bytes` of `bytes` come from global, the rest is zero; visible at the wait
// that retires its group (engine.h async_copy).
void cp_async(void* smem_dst, const void* gmem_src, int bytes, int src_bytes);

}  // namespace xk::sim
