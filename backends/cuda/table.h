// The CUDA kernel-variant table: rows of data plus one `supports` policy per kernel family.
// Written once and instantiated twice, over any Launcher (backends/core/launcher.h):
//   backends/cuda/kernels.cu  with xk::cuda::Launcher (nvcc, real launches on cuda:N);
//   backends/sim              with the simulator's launcher (g++, the same kernels on cuda-sim).
// The launch code (grid, scratch, packing) sits at the end of each kernel file.
// `kernels` names each row's __global__ function as ncu's --kernel-name-base function shows it;
// tests/cuda/static_test checks every name against the symbols of the sm_121a cubin.
#pragma once
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "backends/core/launcher.h"
#include "backends/core/variant_row.h"
#include "kernels/cuda/flash_attn.cuh"
#include "kernels/cuda/mmq_fp4.cuh"
#include "kernels/cuda/mmq_i8.cuh"
#include "kernels/cuda/mmvq.cuh"
#include "kernels/cuda/packing.h"

namespace xk::cuda_table {

namespace ck = ::xk::cuda_kernels;

// "sm_121a" -> 121; 0 when the arch string is not an sm_ name.
inline int sm_number(const std::string& arch) {
  if (arch.rfind("sm_", 0) != 0) return 0;
  return std::atoi(arch.c_str() + 3);
}
inline std::string need_sm(const DeviceInfo& info, int min_sm) {
  if (sm_number(info.arch) >= min_sm) return "";
  return "needs sm_" + std::to_string(min_sm) + "+, device is " + info.arch;
}

// ---- supports policies, one per kernel family ----

inline std::string supports_mmq_i8(const MatmulArgs& a, const DeviceInfo& info) {
  // Int8 mma.sync m16n8k32 exists from sm_80 (PTX ISA 9.7.14.5.14, target ISA notes).
  if (std::string why = need_sm(info, 80); !why.empty()) return why;
  // grid.y = N tiles (<= 65535, CUDA C++ Programming Guide "Compute Capabilities"); M*K and
  // N*K stay inside the 32-bit element offsets used per block.
  if (ck::ceil_div(a.N(), ck::kI8TileN) > 65535)
    return "N=" + std::to_string(a.N()) + " exceeds 65535 tiles of 64";
  if (a.M() * a.K() >= (int64_t{1} << 31) || a.N() * a.K() >= (int64_t{1} << 31)) return "M*K or N*K >= 2^31";
  return "";
}

inline std::string supports_mmvq(const MatmulArgs& a, const DeviceInfo& info) {
  if (std::string why = need_sm(info, 61); !why.empty()) return why;  // __dp4a
  if (a.M() > ck::kMmvqMaxM) return "M=" + std::to_string(a.M()) + " > 8: use a GEMM variant";
  if (a.N() > (int64_t{1} << 30) || a.K() > (int64_t{1} << 30)) return "shape beyond 32-bit indexing";
  return "";
}

inline std::string supports_mmq_fp4(const MatmulArgs& a, const DeviceInfo& info) {
  // .kind::mxf4nvf4 / .kind::mxf4 exist only on sm_120a/sm_121a (PTX ISA 9.7.14.5.14);
  // the device reports "fp4_mma" when its arch-specific cubin is in this build.
  if (!info.has("fp4_mma"))
    return "needs the block-scaled FP4 MMA (sm_120a/sm_121a build and GPU), device is " + info.arch;
  if (ck::ceil_div(a.N(), ck::kFp4TileN) > 65535)
    return "N=" + std::to_string(a.N()) + " exceeds 65535 tiles of 128";
  if (a.M() * a.K() >= (int64_t{1} << 31) || a.N() * a.K() >= (int64_t{1} << 31)) return "M*K or N*K >= 2^31";
  return "";
}

inline std::string supports_flash_attn(const AttentionArgs& a, const DeviceInfo& info, bool split) {
  if (std::string why = need_sm(info, 80); !why.empty()) return why;  // mma.m16n8k16 f16
  if (a.D() != 64 && a.D() != 128)
    return "head dim " + std::to_string(a.D()) + " (kernels exist for 64 and 128)";
  // Decode: one query per head; splitting the keys is what fills the GPU at S = 1.
  if (split && a.S() != 1) return "split-K decode kernel takes S = 1, got S=" + std::to_string(a.S());
  if (a.B() * a.Hq() * a.S() * a.D() > (int64_t{1} << 31) || a.T() > (int64_t{1} << 30))
    return "shape beyond the 32-bit indexing of this kernel";
  return "";
}

// ---- the table ----

template <Launcher L>
std::vector<Variant> cuda_variants(L& launcher) {
  std::vector<Variant> v;
  auto matmul = [&](Variant row, auto supports, auto run) {
    v.push_back(matmul_row(launcher, std::move(row), supports, run));
  };
  using ck::I8Weights;

  // mmq_i8: every block format x Q8 activations on the int8 tensor cores.
  auto mmq_i8 = [&]<I8Weights kW>(DType fmt) {
    matmul({.op = Op::Matmul,
            .family = "mmq",
            .formats = {fmt},
            .acts = {ActPrecision::Q8},
            .tile = {ck::kI8TileM, ck::kI8TileN, ck::kI8BK},
            .technique = "mma",
            .min_arch = "sm_80",
            .priority = 10,
            .kernels = {"mmq_i8_64x64_mma_sm80"},
            .helpers = {"quantize_act_q8"}},
           supports_mmq_i8,
           [](L& l, const char* n, const MatmulArgs& a, LaunchRecord& r) { ck::run_mmq_i8<kW>(l, n, a, r); });
  };
  mmq_i8.template operator()<I8Weights::Q4_0>(DType::Q4_0);
  mmq_i8.template operator()<I8Weights::Q8_0>(DType::Q8_0);
  mmq_i8.template operator()<I8Weights::E2M1>(DType::MXFP4);
  mmq_i8.template operator()<I8Weights::E2M1x16>(DType::NVFP4);

  // mmvq: token generation (M <= 8); for M <= 8 a GEMM tile wastes >= 7/8 of its MMA rows,
  // so stream W instead (priority above every GEMM).
  auto mmvq = [&]<I8Weights kW>(DType fmt) {
    matmul({.op = Op::Matmul,
            .family = "mmvq",
            .formats = {fmt},
            .acts = {ActPrecision::Q8},
            .tile = {ck::kMmvqMaxM, 64, 128},
            .technique = "dp4a",
            .min_arch = "sm_61",
            .priority = 30,
            .kernels = {"mmvq_8x64_dp4a_sm61"},
            .helpers = {"quantize_act_q8"}},
           supports_mmvq,
           [](L& l, const char* n, const MatmulArgs& a, LaunchRecord& r) { ck::run_mmvq<kW>(l, n, a, r); });
  };
  mmvq.template operator()<I8Weights::Q4_0>(DType::Q4_0);
  mmvq.template operator()<I8Weights::Q8_0>(DType::Q8_0);
  mmvq.template operator()<I8Weights::E2M1>(DType::MXFP4);
  mmvq.template operator()<I8Weights::E2M1x16>(DType::NVFP4);

  // mmq_fp4: NVFP4 / MXFP4 x FP4 activations on the block-scaled MMA (W4A4 at the FP4 rate
  // beats the int8 path on the same weights). Listed only when the build has an sm_120a/121a
  // cubin (XK_CUDA_FP4_BUILT, set by CMake) or on the simulator (which emulates the MMA).
#if !defined(XK_CUDA_FP4_BUILT) || XK_CUDA_FP4_BUILT
  auto mmq_fp4 = [&]<bool kNvfp4>(DType fmt) {
    matmul({.op = Op::Matmul,
            .family = "mmq",
            .formats = {fmt},
            .acts = {ActPrecision::FP4},
            .tile = {ck::kFp4TileM, ck::kFp4TileN, ck::kFp4BK},
            .technique = "mma",
            .min_arch = "sm_120a",
            .priority = 20,
            .kernels = {"mmq_fp4_128x128_mma_sm120a"},
            .helpers = {"quantize_act_fp4"}},
           supports_mmq_fp4, [](L& l, const char* n, const MatmulArgs& a, LaunchRecord& r) {
             ck::run_mmq_fp4<kNvfp4>(l, n, a, r);
           });
  };
  mmq_fp4.template operator()<true>(DType::NVFP4);
  mmq_fp4.template operator()<false>(DType::MXFP4);
#endif

  // flash attention: prefill (any S) and split-K decode (S = 1), F16 K/V.
  for (const bool split : {false, true}) {
    Variant row{.op = Op::Attention,
                .family = "attn",
                .formats = {DType::F16},
                .acts = {ActPrecision::F16},
                .tile = {ck::kFaRows, ck::kFaKeys, 0},
                .technique = split ? "splitk_mma" : "mma",
                .min_arch = "sm_80",
                .priority = split ? 20 : 10,
                .kernels = {"flash_attn_64xD_mma_sm80"}};
    if (split) row.helpers = {"flash_attn_combine"};
    v.push_back(attention_row(
        launcher, std::move(row),
        [split](const AttentionArgs& a, const DeviceInfo& info) {
          return supports_flash_attn(a, info, split);
        },
        [split](L& l, const char* n, const AttentionArgs& a, LaunchRecord& r) {
          ck::run_flash_attn(l, n, a, r, split);
        }));
  }
  return v;
}

}  // namespace xk::cuda_table

namespace xk {
using cuda_table::cuda_variants;
}
