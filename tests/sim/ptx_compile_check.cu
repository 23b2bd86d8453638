#include "kernels/cuda/ptx.cuh"
__global__ void every_wrapper(float* out, const uint4* g) {
  __shared__ __align__(16) uint16_t tile[16 * 16];
  uint32_t a[4] = {1, 2, 3, 4}, b[2] = {5, 6};
  float c[4] = {0, 0, 0, 0}, d[4];
  int32_t ci[4] = {0, 0, 0, 0}, di[4];
  using namespace xk::ptx;
  cp_async_16(tile + 8 * (threadIdx.x % 32), g + threadIdx.x);
  cp_async_16_zfill(tile, g, 8);
  cp_async_commit();
  cp_async_wait<0>();
  __syncthreads();
  uint32_t r1[1], r2[2], r4[4];
  ldmatrix_x1(r1, tile);
  ldmatrix_x2(r2, tile);
  ldmatrix_x4(r4, tile);
  ldmatrix_x1_trans(r1, tile);
  ldmatrix_x2_trans(r2, tile);
  ldmatrix_x4_trans(r4, tile);
  mma_m16n8k16_f16_f32(d, a, b, c);
  mma_m16n8k16_bf16_f32(d, r4, r2, d);
  mma_m16n8k32_s8_s32(di, a, b, ci);
  mma_m16n8k32_u8_s32(di, a, b, di);
  mma_m16n8k64_nvf4_ue4m3_4x(d, a, b, d, r1[0], a[0]);
  mma_m16n8k64_nvf4_ue4m3_4x<0, 1, 0, 3>(d, a, b, d, r1[0], a[0]);
  mma_m16n8k64_mxf4_ue8m0_2x<2, 1, 2, 2>(d, a, b, d, r1[0], a[0]);
  mma_m16n8k64_mxf4_kind_mxf4<0, 0, 2, 1>(d, a, b, d, r1[0], a[0]);
  float* dyn = dynamic_smem<float>();
  dyn[threadIdx.x] = f16_lo(pack_f16x2(d[0], d[1])) + f16_hi(pack_bf16x2(d[2], d[3]));
  st_global(out + threadIdx.x, d[0] + di[0] + lane_id() + warp_id() + ld_global(out) + dyn[0]);
}
