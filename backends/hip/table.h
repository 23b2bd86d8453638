// The HIP kernel-variant table, written once and instantiated twice: by backends/hip
// (clang -x hip, the real Launcher in variants.hip) and by backends/sim (g++, the hip-sim
// launcher). A Launcher L provides (contract in the simulator issue):
//   const xk::DeviceInfo& info() const;
//   void* ptr(const xk::Buffer&) const;            device address of a buffer
//   xk::Buffer scratch(size_t bytes);              temporary device buffer (RAII)
//   launch(variant, kernel, grid, block, dyn_smem, rec, args...)
//
// Selection (ops.cpp picks the highest priority whose supports() says yes):
//   mmvq  (30)  M <= 8: token generation, memory-bound, every format, FP32 activations
//   mmq   (20)  Q4_0/Q8_0/MXFP4/NVFP4 x Q8 activations, int8 WMMA: the prefill path
//   mm    (10)  every format x F16 activations, f16 WMMA: the comparison path
//   attn  (20)  FA2 prefill with f16 WMMA;  attn decode (30) split-K for S = 1
#pragma once
#include <string>
#include <vector>

#include "kernels/hip/flash_attn.h"
#include "kernels/hip/mm_wmma_f16.h"
#include "kernels/hip/mmq_wmma_i8.h"
#include "kernels/hip/mmvq.h"
#include "xk/variant.h"

namespace xk::hip_table {

// The kernels use the RDNA 3 / 3.5 WMMA builtins and their wave32 layouts (gfx11 only:
// gfx12 changed the operand layouts and builtin names).
inline std::string needs_gfx11(const DeviceInfo& d) {
  if (d.arch.rfind("gfx11", 0) == 0) return "";
  return "needs RDNA 3/3.5 WMMA (gfx11), device is " + d.arch;
}

using MmqKernel = void (*)(const uint8_t*, int64_t, float, const int8_t*, const float*, float*, int64_t, int64_t,
                           int64_t);
using QuantKernel = void (*)(const void*, int8_t*, float*, int64_t, int64_t);
using MmF16Kernel = void (*)(const uint8_t*, int64_t, float, const void*, float*, int64_t, int64_t, int64_t);
using MmvqKernel = void (*)(const uint8_t*, int64_t, float, const void*, float*, int64_t, int64_t, int64_t);

inline QuantKernel quant_kernel(DType x) {
  return x == DType::F32 ? mmq_actq8_xf32_gfx11 : x == DType::F16 ? mmq_actq8_xf16_gfx11 : mmq_actq8_xbf16_gfx11;
}

// One kernel per activation dtype (F32, F16, BF16).
struct PerX {
  MmF16Kernel f32, f16, bf16;
  MmF16Kernel pick(DType x) const { return x == DType::F32 ? f32 : x == DType::F16 ? f16 : bf16; }
};

using AttnKernel = void (*)(hipk::AttnParams);
using DecodeKernel = void (*)(hipk::AttnParams, float*, float*, float*, int64_t);
using CombineKernel = void (*)(hipk::AttnParams, const float*, const float*, const float*, int64_t);

// Kernels by (D, Q dtype, KV dtype).
struct AttnKernels {
  AttnKernel fa2;
  DecodeKernel decode;
};
inline AttnKernels attn_kernels(const AttentionArgs& a) {
  const bool d64 = a.D() == 64, qh = a.Q.dtype == DType::F16, kvh = a.K.dtype == DType::F16;
  if (d64) {
    if (kvh) return qh ? AttnKernels{attn_fa2_64x32_wmmaf16_gfx11_d64_qf16_kvf16, attn_decode_splitk256_valu_gfx11_d64_qf16_kvf16}
                       : AttnKernels{attn_fa2_64x32_wmmaf16_gfx11_d64_qf32_kvf16, attn_decode_splitk256_valu_gfx11_d64_qf32_kvf16};
    return qh ? AttnKernels{attn_fa2_64x32_wmmaf16_gfx11_d64_qf16_kvf32, attn_decode_splitk256_valu_gfx11_d64_qf16_kvf32}
              : AttnKernels{attn_fa2_64x32_wmmaf16_gfx11_d64_qf32_kvf32, attn_decode_splitk256_valu_gfx11_d64_qf32_kvf32};
  }
  if (kvh) return qh ? AttnKernels{attn_fa2_64x32_wmmaf16_gfx11_d128_qf16_kvf16, attn_decode_splitk256_valu_gfx11_d128_qf16_kvf16}
                     : AttnKernels{attn_fa2_64x32_wmmaf16_gfx11_d128_qf32_kvf16, attn_decode_splitk256_valu_gfx11_d128_qf32_kvf16};
  return qh ? AttnKernels{attn_fa2_64x32_wmmaf16_gfx11_d128_qf16_kvf32, attn_decode_splitk256_valu_gfx11_d128_qf16_kvf32}
            : AttnKernels{attn_fa2_64x32_wmmaf16_gfx11_d128_qf32_kvf32, attn_decode_splitk256_valu_gfx11_d128_qf32_kvf32};
}

inline std::string needs_d64_or_128(const AttentionArgs& a, const DeviceInfo& d) {
  if (a.D() != 64 && a.D() != 128) return "head dim D=" + std::to_string(a.D()) + " (kernels exist for 64 and 128)";
  return needs_gfx11(d);
}

inline hipk::AttnParams attn_params(const AttentionArgs& a, const void* q, const void* k, const void* v, float* o) {
  return {q, k, v, o, a.B(), a.Hq(), a.Hkv(), a.S(), a.T(), a.scale, a.causal ? 1 : 0, a.q_offset};
}

template <class L>
void add_attention(L& launcher, std::vector<Variant>& out) {
  {
    Variant v;
    v.name = "attn_fa2_64x32_wmmaf16_gfx11";
    v.op = Op::Attention;
    v.formats = {DType::F16, DType::F32};
    v.min_arch = "gfx11";
    v.tile = "64x32";
    v.priority = 20;
    v.supports_attention = needs_d64_or_128;
    v.run_attention = [&launcher](Device&, const AttentionArgs& a, LaunchRecord& rec) {
      const auto p = attn_params(a, launcher.ptr(a.Q.buf), launcher.ptr(a.K.buf), launcher.ptr(a.V.buf),
                                 static_cast<float*>(launcher.ptr(a.O.buf)));
      const unsigned q_tiles = static_cast<unsigned>((a.S() + hipk::Fa2Tile::kBQ - 1) / hipk::Fa2Tile::kBQ);
      launcher.launch("attn_fa2_64x32_wmmaf16_gfx11", attn_kernels(a).fa2,
                      dim3(q_tiles, static_cast<unsigned>(a.Hq()), static_cast<unsigned>(a.B())),
                      dim3(hipk::Fa2Tile::kThreads), 0, rec, p);
    };
    out.push_back(std::move(v));
  }
  {
    // S = 1 only: the split over T replaces the parallelism that 64-row query tiles give prefill.
    Variant v;
    v.name = "attn_decode_splitk256_valu_gfx11";
    v.op = Op::Attention;
    v.formats = {DType::F16, DType::F32};
    v.min_arch = "gfx11";
    v.tile = "1x256";
    v.priority = 30;
    v.supports_attention = [](const AttentionArgs& a, const DeviceInfo& d) -> std::string {
      if (a.S() != 1) return "decode kernel: S=" + std::to_string(a.S()) + " (needs S = 1)";
      return needs_d64_or_128(a, d);
    };
    v.run_attention = [&launcher](Device&, const AttentionArgs& a, LaunchRecord& rec) {
      const auto p = attn_params(a, launcher.ptr(a.Q.buf), launcher.ptr(a.K.buf), launcher.ptr(a.V.buf),
                                 static_cast<float*>(launcher.ptr(a.O.buf)));
      const int64_t visible = a.causal && a.q_offset + 1 < a.T() ? a.q_offset + 1 : a.T();
      const int64_t chunks = (visible + hipk::DecodeTile::kChunk - 1) / hipk::DecodeTile::kChunk;
      const int64_t heads = a.B() * a.Hq();
      Buffer m = launcher.scratch(static_cast<size_t>(heads * chunks) * sizeof(float));
      Buffer l = launcher.scratch(static_cast<size_t>(heads * chunks) * sizeof(float));
      Buffer o = launcher.scratch(static_cast<size_t>(heads * chunks * a.D()) * sizeof(float));
      auto* mp = static_cast<float*>(launcher.ptr(m));
      auto* lp = static_cast<float*>(launcher.ptr(l));
      auto* op = static_cast<float*>(launcher.ptr(o));
      launcher.launch("attn_decode_splitk256_valu_gfx11", attn_kernels(a).decode,
                      dim3(static_cast<unsigned>(chunks), static_cast<unsigned>(a.Hq()), static_cast<unsigned>(a.B())),
                      dim3(hipk::DecodeTile::kThreads), 0, rec, p, mp, lp, op, chunks);
      CombineKernel combine = a.D() == 64 ? attn_decode_splitk256_valu_gfx11_combine_d64
                                          : attn_decode_splitk256_valu_gfx11_combine_d128;
      launcher.launch("attn_decode_splitk256_valu_gfx11", combine,
                      dim3(static_cast<unsigned>(a.Hq()), static_cast<unsigned>(a.B())), dim3(128), 0, rec, p,
                      static_cast<const float*>(mp), static_cast<const float*>(lp), static_cast<const float*>(op), chunks);
    };
    out.push_back(std::move(v));
  }
}

}  // namespace xk::hip_table

template <class L>
std::vector<xk::Variant> hip_variants(L& launcher) {
  using namespace xk;
  using namespace xk::hip_table;
  std::vector<Variant> out;

  // ---- mmq: quantized weights x Q8 activations, v_wmma_i32_16x16x16_iu8 -------------------
  struct MmqRow {
    const char* name;
    DType w;
    MmqKernel kernel;
  };
  const MmqRow mmq_rows[] = {
      {"mmq_q4_0_q8_64x128x32_wmmai8_gfx11", DType::Q4_0, mmq_q4_0_q8_64x128x32_wmmai8_gfx11},
      {"mmq_q8_0_q8_64x128x32_wmmai8_gfx11", DType::Q8_0, mmq_q8_0_q8_64x128x32_wmmai8_gfx11},
      {"mmq_mxfp4_q8_64x128x32_wmmai8_gfx11", DType::MXFP4, mmq_mxfp4_q8_64x128x32_wmmai8_gfx11},
      {"mmq_nvfp4_q8_64x128x32_wmmai8_gfx11", DType::NVFP4, mmq_nvfp4_q8_64x128x32_wmmai8_gfx11},
  };
  for (const MmqRow& row : mmq_rows) {
    Variant v;
    v.name = row.name;
    v.op = Op::Matmul;
    v.formats = {row.w};
    v.acts = {ActPrecision::Q8};
    v.min_arch = "gfx11";
    v.tile = "64x128x32";
    v.priority = 20;
    v.supports_matmul = [](const MatmulArgs&, const DeviceInfo& d) { return needs_gfx11(d); };
    const char* name = row.name;
    MmqKernel kernel = row.kernel;
    v.run_matmul = [&launcher, name, kernel](Device&, const MatmulArgs& a, LaunchRecord& rec) {
      const int64_t M = a.M(), N = a.N(), K = a.K();
      // Activations quantized once per call: int8 [M, K] + FP32 scales [M, K/32].
      Buffer xq = launcher.scratch(static_cast<size_t>(M * K));
      Buffer xd = launcher.scratch(static_cast<size_t>(M * (K / 32)) * sizeof(float));
      auto* xq_p = static_cast<int8_t*>(launcher.ptr(xq));
      auto* xd_p = static_cast<float*>(launcher.ptr(xd));
      const auto qp = hipk::quantize_q8_plan(M, K);
      if (qp.grid_x && qp.grid_y)
        launcher.launch(name, quant_kernel(a.X.dtype), dim3(qp.grid_x, qp.grid_y), dim3(qp.threads), 0, rec,
                        static_cast<const void*>(launcher.ptr(a.X.buf)), xq_p, xd_p, M, K);
      const auto gp = hipk::mmq_wmma_i8_plan(M, N);
      launcher.launch(name, kernel, dim3(gp.grid_x, gp.grid_y), dim3(gp.threads), 0, rec,
                      static_cast<const uint8_t*>(launcher.ptr(a.W.buf)),
                      static_cast<int64_t>(row_bytes(a.W.dtype, K)), a.W.tensor_scale,
                      static_cast<const int8_t*>(xq_p), static_cast<const float*>(xd_p),
                      static_cast<float*>(launcher.ptr(a.Y.buf)), M, N, K);
    };
    out.push_back(std::move(v));
  }

  // ---- mm: every format x F16 activations, v_wmma_f32_16x16x16_f16 -----------------------
  struct MmRow {
    const char* name;
    DType w;
    PerX kernels;
  };
  const MmRow mm_rows[] = {
      {"mm_f32_f16_64x128x32_wmmaf16_gfx11", DType::F32,
       {mm_f32_f16_64x128x32_wmmaf16_gfx11_xf32, mm_f32_f16_64x128x32_wmmaf16_gfx11_xf16, mm_f32_f16_64x128x32_wmmaf16_gfx11_xbf16}},
      {"mm_f16_f16_64x128x32_wmmaf16_gfx11", DType::F16,
       {mm_f16_f16_64x128x32_wmmaf16_gfx11_xf32, mm_f16_f16_64x128x32_wmmaf16_gfx11_xf16, mm_f16_f16_64x128x32_wmmaf16_gfx11_xbf16}},
      {"mm_bf16_f16_64x128x32_wmmaf16_gfx11", DType::BF16,
       {mm_bf16_f16_64x128x32_wmmaf16_gfx11_xf32, mm_bf16_f16_64x128x32_wmmaf16_gfx11_xf16, mm_bf16_f16_64x128x32_wmmaf16_gfx11_xbf16}},
      {"mm_q8_0_f16_64x128x32_wmmaf16_gfx11", DType::Q8_0,
       {mm_q8_0_f16_64x128x32_wmmaf16_gfx11_xf32, mm_q8_0_f16_64x128x32_wmmaf16_gfx11_xf16, mm_q8_0_f16_64x128x32_wmmaf16_gfx11_xbf16}},
      {"mm_q4_0_f16_64x128x32_wmmaf16_gfx11", DType::Q4_0,
       {mm_q4_0_f16_64x128x32_wmmaf16_gfx11_xf32, mm_q4_0_f16_64x128x32_wmmaf16_gfx11_xf16, mm_q4_0_f16_64x128x32_wmmaf16_gfx11_xbf16}},
      {"mm_mxfp4_f16_64x128x32_wmmaf16_gfx11", DType::MXFP4,
       {mm_mxfp4_f16_64x128x32_wmmaf16_gfx11_xf32, mm_mxfp4_f16_64x128x32_wmmaf16_gfx11_xf16, mm_mxfp4_f16_64x128x32_wmmaf16_gfx11_xbf16}},
      {"mm_nvfp4_f16_64x128x32_wmmaf16_gfx11", DType::NVFP4,
       {mm_nvfp4_f16_64x128x32_wmmaf16_gfx11_xf32, mm_nvfp4_f16_64x128x32_wmmaf16_gfx11_xf16, mm_nvfp4_f16_64x128x32_wmmaf16_gfx11_xbf16}},
  };
  for (const MmRow& row : mm_rows) {
    Variant v;
    v.name = row.name;
    v.op = Op::Matmul;
    v.formats = {row.w};
    v.acts = {ActPrecision::F16};
    v.min_arch = "gfx11";
    v.tile = "64x128x32";
    v.priority = 10;
    v.supports_matmul = [](const MatmulArgs&, const DeviceInfo& d) { return needs_gfx11(d); };
    const char* name = row.name;
    PerX kernels = row.kernels;
    v.run_matmul = [&launcher, name, kernels](Device&, const MatmulArgs& a, LaunchRecord& rec) {
      const int64_t M = a.M(), N = a.N(), K = a.K();
      const auto gp = hipk::mm_wmma_f16_plan(M, N);
      launcher.launch(name, kernels.pick(a.X.dtype), dim3(gp.grid_x, gp.grid_y), dim3(gp.threads), 0, rec,
                      static_cast<const uint8_t*>(launcher.ptr(a.W.buf)),
                      static_cast<int64_t>(row_bytes(a.W.dtype, K)), a.W.tensor_scale,
                      static_cast<const void*>(launcher.ptr(a.X.buf)), static_cast<float*>(launcher.ptr(a.Y.buf)),
                      M, N, K);
    };
    out.push_back(std::move(v));
  }

  // ---- mmvq: M <= 8, every format, FP32 activations ---------------------------------------
  struct MmvqRow {
    const char* name;
    DType w;
    PerX kernels;
  };
  const MmvqRow mmvq_rows[] = {
      {"mmvq_f32_f32_32rows_valu_gfx11", DType::F32,
       {mmvq_f32_f32_32rows_valu_gfx11_xf32, mmvq_f32_f32_32rows_valu_gfx11_xf16, mmvq_f32_f32_32rows_valu_gfx11_xbf16}},
      {"mmvq_f16_f32_32rows_valu_gfx11", DType::F16,
       {mmvq_f16_f32_32rows_valu_gfx11_xf32, mmvq_f16_f32_32rows_valu_gfx11_xf16, mmvq_f16_f32_32rows_valu_gfx11_xbf16}},
      {"mmvq_bf16_f32_32rows_valu_gfx11", DType::BF16,
       {mmvq_bf16_f32_32rows_valu_gfx11_xf32, mmvq_bf16_f32_32rows_valu_gfx11_xf16, mmvq_bf16_f32_32rows_valu_gfx11_xbf16}},
      {"mmvq_q8_0_f32_32rows_valu_gfx11", DType::Q8_0,
       {mmvq_q8_0_f32_32rows_valu_gfx11_xf32, mmvq_q8_0_f32_32rows_valu_gfx11_xf16, mmvq_q8_0_f32_32rows_valu_gfx11_xbf16}},
      {"mmvq_q4_0_f32_32rows_valu_gfx11", DType::Q4_0,
       {mmvq_q4_0_f32_32rows_valu_gfx11_xf32, mmvq_q4_0_f32_32rows_valu_gfx11_xf16, mmvq_q4_0_f32_32rows_valu_gfx11_xbf16}},
      {"mmvq_mxfp4_f32_32rows_valu_gfx11", DType::MXFP4,
       {mmvq_mxfp4_f32_32rows_valu_gfx11_xf32, mmvq_mxfp4_f32_32rows_valu_gfx11_xf16, mmvq_mxfp4_f32_32rows_valu_gfx11_xbf16}},
      {"mmvq_nvfp4_f32_32rows_valu_gfx11", DType::NVFP4,
       {mmvq_nvfp4_f32_32rows_valu_gfx11_xf32, mmvq_nvfp4_f32_32rows_valu_gfx11_xf16, mmvq_nvfp4_f32_32rows_valu_gfx11_xbf16}},
  };
  for (const MmvqRow& row : mmvq_rows) {
    Variant v;
    v.name = row.name;
    v.op = Op::Matmul;
    v.formats = {row.w};
    v.acts = {ActPrecision::F32};
    v.min_arch = "gfx11";
    v.tile = "8x32";
    v.priority = 30;
    // Above 8 rows of X the weights would be streamed once per 8 rows; the GEMMs reuse them.
    v.supports_matmul = [](const MatmulArgs& a, const DeviceInfo& d) -> std::string {
      if (a.M() > hipk::MmvqTile::kMaxM) return "M=" + std::to_string(a.M()) + " > 8 (GEMV kernel for token generation)";
      return needs_gfx11(d);
    };
    const char* name = row.name;
    PerX kernels = row.kernels;
    v.run_matmul = [&launcher, name, kernels](Device&, const MatmulArgs& a, LaunchRecord& rec) {
      const int64_t M = a.M(), N = a.N(), K = a.K();
      const auto plan = hipk::mmvq_plan(N);
      launcher.launch(name, kernels.pick(a.X.dtype), dim3(plan.grid_x), dim3(plan.threads), 0, rec,
                      static_cast<const uint8_t*>(launcher.ptr(a.W.buf)),
                      static_cast<int64_t>(row_bytes(a.W.dtype, K)), a.W.tensor_scale,
                      static_cast<const void*>(launcher.ptr(a.X.buf)), static_cast<float*>(launcher.ptr(a.Y.buf)),
                      M, N, K);
    };
    out.push_back(std::move(v));
  }

  add_attention(launcher, out);
  return out;
}
