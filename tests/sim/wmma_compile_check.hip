#include "kernels/hip/wmma.h"
using namespace xk::wmma;
__global__ void every_wrapper(float8* o, int8v* oi, const half16* a, const bf16x16* bb, const int4v* i4,
                              const int2v* i2) {
  float8 c = {};
  wmma_f32_16x16x16_f16(c, a[threadIdx.x], a[threadIdx.x], c);
  wmma_f32_16x16x16_bf16(c, bb[threadIdx.x], bb[threadIdx.x], c);
  int8v ci = {};
  wmma_i32_16x16x16_iu8(ci, true, i4[threadIdx.x], false, i4[threadIdx.x], ci, true);
  wmma_i32_16x16x16_iu4(ci, false, i2[threadIdx.x], true, i2[threadIdx.x], ci, false);
  float* s = dynamic_smem<float>();
  s[lane_id()] = c[0];
  st_global(o + threadIdx.x, c);
  st_global(oi + threadIdx.x, ci);
  c[1] = ld_global(&s[1]);
}
