// The HIP kernel-variant table: rows of data plus one `supports` policy per kernel family,
// instantiated over any Launcher (backends/core/launcher.h): by backends/hip (clang -x hip,
// the real launcher in variants.hip) and by backends/sim (g++, the hip-sim launcher). The
// launch code sits at the end of each kernel header; each row's `kernels` come from the
// header's entry-point table, which takes symbol and function from one token.
//
// Selection (ops.cpp picks the highest priority whose supports() says yes):
//   mmvq  (30)  M <= 8: token generation, memory-bound, every format, FP32 activations
//   mmq   (20)  Q4_0/Q8_0/MXFP4/NVFP4 x Q8 activations, int8 WMMA: the prefill path
//   mm    (10)  every format x F16 activations, f16 WMMA: the comparison path
//   attn  (20)  FA2 prefill with f16 WMMA;  attn decode (30) split-K for S = 1
#pragma once
#include <string>
#include <vector>

#include "backends/core/launcher.h"
#include "backends/core/variant_row.h"
#include "kernels/hip/flash_attn.h"
#include "kernels/hip/mm_wmma_f16.h"
#include "kernels/hip/mmq_wmma_i8.h"
#include "kernels/hip/mmvq.h"

namespace xk::hip_table {

// ---- supports policies, one per kernel family ----

// The kernels use the RDNA 3 / 3.5 WMMA builtins and their wave32 layouts (gfx11 only:
// gfx12 changed the operand layouts and builtin names).
inline std::string needs_gfx11(const DeviceInfo& d) {
  if (d.arch.rfind("gfx11", 0) == 0) return "";
  return "needs RDNA 3/3.5 WMMA (gfx11), device is " + d.arch;
}
inline std::string supports_gemm(const MatmulArgs&, const DeviceInfo& d) { return needs_gfx11(d); }
// Above 8 rows of X the weights would be streamed once per 8 rows; the GEMMs reuse them.
inline std::string supports_mmvq(const MatmulArgs& a, const DeviceInfo& d) {
  if (a.M() > hipk::MmvqTile::kMaxM)
    return "M=" + std::to_string(a.M()) + " > 8 (GEMV kernel for token generation)";
  return needs_gfx11(d);
}
inline std::string supports_fa2(const AttentionArgs& a, const DeviceInfo& d) {
  if (a.D() != 64 && a.D() != 128)
    return "head dim D=" + std::to_string(a.D()) + " (kernels exist for 64 and 128)";
  return needs_gfx11(d);
}
// S = 1 only: the split over T replaces the parallelism that 64-row query tiles give prefill.
inline std::string supports_decode(const AttentionArgs& a, const DeviceInfo& d) {
  if (a.S() != 1) return "decode kernel: S=" + std::to_string(a.S()) + " (needs S = 1)";
  return supports_fa2(a, d);
}

// ---- the table ----

template <Launcher L>
std::vector<Variant> hip_variants(L& launcher) {
  using hipk::symbols;
  std::vector<Variant> out;
  auto matmul = [&](Variant row, auto supports, auto run) {
    out.push_back(matmul_row(launcher, std::move(row), supports, run));
  };
  auto attention = [&](Variant row, auto supports, auto run) {
    out.push_back(attention_row(launcher, std::move(row), supports, run));
  };
  using hipk::MmF16Tile, hipk::MmqTile, hipk::MmvqTile;

  // mmq: quantized weights x Q8 activations, v_wmma_i32_16x16x16_iu8.
  for (DType w : {DType::Q4_0, DType::Q8_0, DType::MXFP4, DType::NVFP4})
    matmul({.op = Op::Matmul,
            .family = "mmq",
            .formats = {w},
            .acts = {ActPrecision::Q8},
            .tile = {MmqTile::kBM, MmqTile::kBN, MmqTile::kBK},
            .technique = "wmmai8",
            .min_arch = "gfx11",
            .priority = 20,
            .kernels = symbols(hipk::kMmqEntries, &w),
            .helpers = symbols(hipk::kQuantQ8Entries)},
           supports_gemm, [](L& l, const char* n, const MatmulArgs& a, LaunchRecord& r) {
             hipk::run_mmq_wmma_i8(l, n, a, r);
           });

  // mm: every format x F16 activations, v_wmma_f32_16x16x16_f16.
  for (DType w : kAllDTypes)
    matmul({.op = Op::Matmul,
            .family = "mm",
            .formats = {w},
            .acts = {ActPrecision::F16},
            .tile = {MmF16Tile::kBM, MmF16Tile::kBN, MmF16Tile::kBK},
            .technique = "wmmaf16",
            .min_arch = "gfx11",
            .priority = 10,
            .kernels = symbols(hipk::kMmF16Entries, &w)},
           supports_gemm, [](L& l, const char* n, const MatmulArgs& a, LaunchRecord& r) {
             hipk::run_mm_wmma_f16(l, n, a, r);
           });

  // mmvq: M <= 8, every format, FP32 activations.
  for (DType w : kAllDTypes)
    matmul({.op = Op::Matmul,
            .family = "mmvq",
            .formats = {w},
            .acts = {ActPrecision::F32},
            .tile = {MmvqTile::kMaxM, MmvqTile::kRows, MmvqTile::kChunk},
            .technique = "valu",
            .min_arch = "gfx11",
            .priority = 30,
            .kernels = symbols(hipk::kMmvqEntries, &w)},
           supports_mmvq,
           [](L& l, const char* n, const MatmulArgs& a, LaunchRecord& r) { hipk::run_mmvq(l, n, a, r); });

  attention({.op = Op::Attention,
             .family = "attn",
             .formats = {DType::F16, DType::F32},
             .acts = {ActPrecision::F16},
             .tile = {hipk::Fa2Tile::kBQ, hipk::Fa2Tile::kBKV, 0},
             .technique = "fa2_wmmaf16",
             .min_arch = "gfx11",
             .priority = 20,
             .kernels = symbols(hipk::kFa2Entries)},
            supports_fa2,
            [](L& l, const char* n, const AttentionArgs& a, LaunchRecord& r) { hipk::run_fa2(l, n, a, r); });
  attention({.op = Op::Attention,
             .family = "attn",
             .formats = {DType::F16, DType::F32},
             .acts = {ActPrecision::F32},
             .tile = {1, hipk::DecodeTile::kChunk, 0},
             .technique = "splitk_valu",
             .min_arch = "gfx11",
             .priority = 30,
             .kernels = symbols(hipk::kDecodeEntries),
             .helpers = symbols(hipk::kCombineEntries)},
            supports_decode, [](L& l, const char* n, const AttentionArgs& a, LaunchRecord& r) {
              hipk::run_decode(l, n, a, r);
            });
  return out;
}

}  // namespace xk::hip_table

namespace xk {
using hip_table::hip_variants;
}
