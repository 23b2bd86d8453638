// The CUDA kernel-variant table, written once and instantiated twice:
//   backends/cuda/kernels.cu  with xk::cuda::Launcher (nvcc, real launches on cuda:N);
//   backends/sim              with the simulator's launcher (g++, the same kernels on cuda-sim).
// A Launcher L provides: info(), ptr(Buffer), scratch(bytes) and
//   launch(variant, kernel, grid, block, dyn_smem, rec, args...)   (see the sim contract).
//
// Stable names: <op>_<weights>_<acts>_<tile>_<technique>_<minarch>. The __global__ function
// each variant launches is named in README.md (ncu --kernel-name regex:<that name>).
// Why a variant is (not) chosen lives in its supports() below.
#pragma once
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "kernels/cuda/flash_attn.cuh"
#include "kernels/cuda/mmq_fp4.cuh"
#include "kernels/cuda/mmq_i8.cuh"
#include "kernels/cuda/mmvq.cuh"
#include "kernels/cuda/packing.h"
#include "xk/device.h"
#include "xk/variant.h"

namespace xk::cuda_table {

namespace ck = ::xk::cuda_kernels;

// "sm_121a" -> 121; 0 when the arch string is not an sm_ name.
inline int sm_number(const std::string& arch) {
  if (arch.rfind("sm_", 0) != 0) return 0;
  return std::atoi(arch.c_str() + 3);
}
inline std::string need_sm(const DeviceInfo& info, int min_sm) {
  const int sm = sm_number(info.arch);
  if (sm >= min_sm) return "";
  return "needs sm_" + std::to_string(min_sm) + "+, device is " + info.arch;
}
inline int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }
inline int act_type(DType x) { return x == DType::F32 ? 0 : (x == DType::F16 ? 1 : 2); }

// The repacked copy of W in `layout` ("cuda.i8" or "cuda.fp4"), made on first use (cuda-sim)
// or at upload (cuda:N calls prepare_weights, which lands here too).
inline const Buffer& packed_weights(const Tensor& W, const std::string& layout) {
  auto it = W.packed.find(layout);
  if (it != W.packed.end()) return it->second;
  Device& dev = *W.device();
  std::vector<uint8_t> host(W.bytes());
  dev.read(W.buf, 0, host.data(), host.size());
  const int64_t n = W.shape[0], k = W.shape[1];
  std::vector<uint8_t> packed = layout == "cuda.fp4" ? ck::repack_fp4(W.dtype, host.data(), n, k)
                                                     : ck::repack_i8(W.dtype, host.data(), n, k, W.tensor_scale);
  Buffer b = dev.alloc(packed.size());
  dev.write(b, 0, packed.data(), packed.size());
  return W.packed.emplace(layout, std::move(b)).first->second;
}
inline void prepare_weights(const Tensor& W) {
  if (W.shape.size() != 2) return;
  const bool fp4 = W.dtype == DType::MXFP4 || W.dtype == DType::NVFP4;
  if (fp4 || W.dtype == DType::Q4_0 || W.dtype == DType::Q8_0) packed_weights(W, "cuda.i8");
  if (fp4) packed_weights(W, "cuda.fp4");
}

// Y = X W^T on the int8 tensor cores (kernels/cuda/mmq_i8.cuh).
template <ck::I8Weights kW, class L>
void run_mmq_i8(L& l, const char* name, const MatmulArgs& a, LaunchRecord& rec) {
  const int64_t M = a.M(), N = a.N(), K = a.K();
  const ck::I8Layout wl = ck::i8_layout(a.W.dtype, N, K);
  const Buffer& wp = packed_weights(a.W, "cuda.i8");
  const auto* wbase = static_cast<const uint8_t*>(l.ptr(wp));
  const int64_t m_tiles = ceil_div(M, ck::kI8TileM), m_pad = m_tiles * ck::kI8TileM, k_blocks = K / 32;
  const size_t codes_bytes = static_cast<size_t>(m_pad * K), scales_at = (codes_bytes + 255) / 256 * 256;
  Buffer xq = l.scratch(scales_at + static_cast<size_t>(m_pad * k_blocks) * sizeof(float));
  auto* xcodes = static_cast<int8_t*>(l.ptr(xq));
  auto* xscales = reinterpret_cast<float*>(static_cast<uint8_t*>(l.ptr(xq)) + scales_at);
  l.launch(name, ck::quantize_act_q8, dim3(static_cast<unsigned>(ceil_div(m_pad * k_blocks, 128))), dim3(128), 0, rec,
           l.ptr(a.X.buf), act_type(a.X.dtype), xcodes, xscales, static_cast<int>(M), static_cast<int>(K),
           ck::kI8TileM, static_cast<int>(m_pad));
  l.launch(name, ck::mmq_i8_64x64_mma_sm80<kW>, dim3(static_cast<unsigned>(m_tiles), static_cast<unsigned>(wl.n_tiles)),
           dim3(ck::kI8Threads), 0, rec, xcodes, xscales, wbase,
           reinterpret_cast<const float*>(wbase + wl.scales_offset()), static_cast<float*>(l.ptr(a.Y.buf)),
           static_cast<int>(M), static_cast<int>(N), static_cast<int>(k_blocks));
}

// Skinny-M Y = X W^T (kernels/cuda/mmvq.cuh): X rows quantized into one 8-row Q8 tile.
template <ck::I8Weights kW, class L>
void run_mmvq(L& l, const char* name, const MatmulArgs& a, LaunchRecord& rec) {
  const int64_t M = a.M(), N = a.N(), K = a.K(), k_blocks = K / 32;
  const ck::I8Layout wl = ck::i8_layout(a.W.dtype, N, K);
  const Buffer& wp = packed_weights(a.W, "cuda.i8");
  const auto* wbase = static_cast<const uint8_t*>(l.ptr(wp));
  constexpr int64_t rows = ck::kMmvqMaxM;
  const size_t scales_at = (static_cast<size_t>(rows * K) + 255) / 256 * 256;
  Buffer xq = l.scratch(scales_at + static_cast<size_t>(rows * k_blocks) * sizeof(float));
  auto* xcodes = static_cast<int8_t*>(l.ptr(xq));
  auto* xscales = reinterpret_cast<float*>(static_cast<uint8_t*>(l.ptr(xq)) + scales_at);
  l.launch(name, ck::quantize_act_q8, dim3(static_cast<unsigned>(ceil_div(rows * k_blocks, 128))), dim3(128), 0, rec,
           l.ptr(a.X.buf), act_type(a.X.dtype), xcodes, xscales, static_cast<int>(M), static_cast<int>(K),
           static_cast<int>(rows), static_cast<int>(rows));
  l.launch(name, ck::mmvq_8x64_dp4a_sm61<kW>, dim3(static_cast<unsigned>(wl.n_tiles)), dim3(ck::kMmvqThreads), 0, rec,
           static_cast<const int8_t*>(xcodes), static_cast<const float*>(xscales), wbase,
           reinterpret_cast<const float*>(wbase + wl.scales_offset()), static_cast<float*>(l.ptr(a.Y.buf)),
           static_cast<int>(M), static_cast<int>(N), static_cast<int>(k_blocks));
}

// Y = X W^T on the block-scaled FP4 tensor cores (kernels/cuda/mmq_fp4.cuh).
template <bool kNvfp4, class L>
void run_mmq_fp4(L& l, const char* name, const MatmulArgs& a, LaunchRecord& rec) {
  const int64_t M = a.M(), N = a.N(), K = a.K();
  const ck::Fp4Layout wl = ck::fp4_layout(N, K), xl = ck::fp4_layout(M, K, ck::kFp4TileM);
  const Buffer& wp = packed_weights(a.W, "cuda.fp4");
  const auto* wbase = static_cast<const uint8_t*>(l.ptr(wp));
  const int64_t m_pad = xl.n_tiles * ck::kFp4TileM;
  const size_t row_scale_at = (xl.total_bytes() + 255) / 256 * 256;
  Buffer xq = l.scratch(row_scale_at + static_cast<size_t>(m_pad) * sizeof(float));
  auto* xbase = static_cast<uint8_t*>(l.ptr(xq));
  auto* xscales = reinterpret_cast<uint32_t*>(xbase + xl.scales_offset());
  auto* xrow = reinterpret_cast<float*>(xbase + row_scale_at);
  l.launch(name, ck::quantize_act_fp4, dim3(static_cast<unsigned>(m_pad / 4)), dim3(128), 0, rec, l.ptr(a.X.buf),
           act_type(a.X.dtype), kNvfp4 ? 1 : 0, xbase, xscales, xrow, static_cast<int>(M), static_cast<int>(K),
           static_cast<int>(m_pad), static_cast<int>(xl.k_tiles));
  l.launch(name, ck::mmq_fp4_128x128_mma_sm120a<kNvfp4>,
           dim3(static_cast<unsigned>(xl.n_tiles), static_cast<unsigned>(wl.n_tiles)), dim3(ck::kFp4Threads),
           static_cast<size_t>(ck::kFp4SmemBytes), rec, static_cast<const uint8_t*>(xbase),
           static_cast<const uint32_t*>(xscales), static_cast<const float*>(xrow), wbase,
           reinterpret_cast<const uint32_t*>(wbase + wl.scales_offset()), a.W.tensor_scale,
           static_cast<float*>(l.ptr(a.Y.buf)), static_cast<int>(M), static_cast<int>(N),
           static_cast<int>(wl.k_tiles));
}

// FlashAttention-2 (kernels/cuda/flash_attn.cuh). split_keys: spread the keys over enough
// blocks to fill the GPU (decode), each writing partials merged by flash_attn_combine.
template <class L>
void run_flash_attn(L& l, const char* name, const AttentionArgs& a, LaunchRecord& rec, bool split_keys) {
  ck::FaParams p{};
  p.q = l.ptr(a.Q.buf);
  p.q_f16 = a.Q.dtype == DType::F16;
  p.k = static_cast<const uint16_t*>(l.ptr(a.K.buf));
  p.v = static_cast<const uint16_t*>(l.ptr(a.V.buf));
  p.o = static_cast<float*>(l.ptr(a.O.buf));
  p.B = static_cast<int>(a.B());
  p.Hq = static_cast<int>(a.Hq());
  p.Hkv = static_cast<int>(a.Hkv());
  p.S = static_cast<int>(a.S());
  p.T = static_cast<int>(a.T());
  p.causal = a.causal;
  p.q_offset = static_cast<int>(a.q_offset);
  p.scale_log2 = a.scale * 1.4426950408889634f;
  const int64_t row_blocks = ceil_div((a.Hq() / a.Hkv()) * a.S(), ck::kFaRows), heads = a.B() * a.Hkv();
  const int64_t key_tiles = ceil_div(a.T(), ck::kFaKeys);
  int64_t splits = 1;
  if (split_keys) {  // ~2 blocks per SM, each at least one key tile
    const int64_t want = 2 * std::max(l.info().compute_units, 1);
    splits = std::clamp<int64_t>(ceil_div(want, row_blocks * heads), 1, std::max<int64_t>(key_tiles, 1));
  }
  const int64_t keys_per_split = ceil_div(key_tiles, splits) * ck::kFaKeys;
  splits = std::max<int64_t>(ceil_div(a.T(), keys_per_split), 1);
  p.keys_per_split = static_cast<int>(keys_per_split);
  p.splits = static_cast<int>(splits);
  const int64_t rows = a.B() * a.Hq() * a.S();
  Buffer part;
  if (splits > 1) {
    part = l.scratch(static_cast<size_t>(splits * rows) * (a.D() + 2) * sizeof(float));
    p.part_o = static_cast<float*>(l.ptr(part));
    p.part_ml = p.part_o + splits * rows * a.D();
  }
  const dim3 grid(static_cast<unsigned>(row_blocks), static_cast<unsigned>(heads), static_cast<unsigned>(splits));
  if (a.D() == 64) l.launch(name, ck::flash_attn_64xD_mma_sm80<64>, grid, dim3(ck::kFaThreads), 0, rec, p);
  else l.launch(name, ck::flash_attn_64xD_mma_sm80<128>, grid, dim3(ck::kFaThreads), 0, rec, p);
  if (splits > 1)
    l.launch(name, ck::flash_attn_combine, dim3(static_cast<unsigned>(rows)), dim3(static_cast<unsigned>(a.D())), 0, rec,
             static_cast<const float*>(p.part_o), static_cast<const float*>(p.part_ml), p.o, rows,
             static_cast<int>(a.D()), static_cast<int>(splits));
}

template <class L>
std::vector<Variant> cuda_variants(L& launcher) {
  L* l = &launcher;  // the launcher outlives the table (owned by the device)
  std::vector<Variant> v;

  // ---- mmq_i8: every block format x Q8 activations, sm_80+ ----
  auto add_i8 = [&](DType fmt, const char* name, auto runner) {
    Variant x;
    x.name = name;
    x.op = Op::Matmul;
    x.formats = {fmt};
    x.acts = {ActPrecision::Q8};
    x.min_arch = "sm_80";
    x.tile = "64x64x32";
    x.priority = 10;
    x.supports_matmul = [](const MatmulArgs& a, const DeviceInfo& info) -> std::string {
      // Int8 mma.sync m16n8k32 exists from sm_80 (PTX ISA 9.7.14.5.14, target ISA notes).
      if (std::string why = need_sm(info, 80); !why.empty()) return why;
      if (a.X.dtype != DType::F32 && a.X.dtype != DType::F16 && a.X.dtype != DType::BF16) return "X must be f32/f16/bf16";
      // grid.y = N tiles (<= 65535, CUDA C++ Programming Guide "Compute Capabilities"); M*K and
      // N*K stay inside the 32-bit element offsets used per block.
      if (ceil_div(a.N(), ck::kI8TileN) > 65535) return "N=" + std::to_string(a.N()) + " exceeds 65535 tiles of 64";
      if (a.M() * a.K() >= (int64_t{1} << 31) || a.N() * a.K() >= (int64_t{1} << 31)) return "M*K or N*K >= 2^31";
      return "";
    };
    x.run_matmul = [l, name, runner](Device&, const MatmulArgs& a, LaunchRecord& rec) { runner(*l, name, a, rec); };
    v.push_back(std::move(x));
  };
  add_i8(DType::Q4_0, "mmq_q4_0_q8_64x64_mma_sm80",
         [](L& l, const char* n, const MatmulArgs& a, LaunchRecord& r) { run_mmq_i8<ck::I8Weights::Q4_0>(l, n, a, r); });
  add_i8(DType::Q8_0, "mmq_q8_0_q8_64x64_mma_sm80",
         [](L& l, const char* n, const MatmulArgs& a, LaunchRecord& r) { run_mmq_i8<ck::I8Weights::Q8_0>(l, n, a, r); });
  add_i8(DType::MXFP4, "mmq_mxfp4_q8_64x64_mma_sm80",
         [](L& l, const char* n, const MatmulArgs& a, LaunchRecord& r) { run_mmq_i8<ck::I8Weights::E2M1>(l, n, a, r); });
  add_i8(DType::NVFP4, "mmq_nvfp4_q8_64x64_mma_sm80",
         [](L& l, const char* n, const MatmulArgs& a, LaunchRecord& r) { run_mmq_i8<ck::I8Weights::E2M1x16>(l, n, a, r); });

  // ---- mmvq: token generation (M <= 8), every block format x Q8 activations ----
  auto add_mmvq = [&](DType fmt, const char* name, auto runner) {
    Variant x;
    x.name = name;
    x.op = Op::Matmul;
    x.formats = {fmt};
    x.acts = {ActPrecision::Q8};
    x.min_arch = "sm_61";
    x.tile = "8x64x128";
    x.priority = 30;  // for M <= 8 a GEMM tile wastes >= 7/8 of its MMA rows: stream W instead
    x.supports_matmul = [](const MatmulArgs& a, const DeviceInfo& info) -> std::string {
      if (std::string why = need_sm(info, 61); !why.empty()) return why;  // __dp4a
      if (a.M() > ck::kMmvqMaxM) return "M=" + std::to_string(a.M()) + " > 8: use a GEMM variant";
      if (a.N() > (int64_t{1} << 30) || a.K() > (int64_t{1} << 30)) return "shape beyond 32-bit indexing";
      return "";
    };
    x.run_matmul = [l, name, runner](Device&, const MatmulArgs& a, LaunchRecord& rec) { runner(*l, name, a, rec); };
    v.push_back(std::move(x));
  };
  add_mmvq(DType::Q4_0, "mmvq_q4_0_q8_8x64_dp4a_sm61",
           [](L& l, const char* n, const MatmulArgs& a, LaunchRecord& r) { run_mmvq<ck::I8Weights::Q4_0>(l, n, a, r); });
  add_mmvq(DType::Q8_0, "mmvq_q8_0_q8_8x64_dp4a_sm61",
           [](L& l, const char* n, const MatmulArgs& a, LaunchRecord& r) { run_mmvq<ck::I8Weights::Q8_0>(l, n, a, r); });
  add_mmvq(DType::MXFP4, "mmvq_mxfp4_q8_8x64_dp4a_sm61",
           [](L& l, const char* n, const MatmulArgs& a, LaunchRecord& r) { run_mmvq<ck::I8Weights::E2M1>(l, n, a, r); });
  add_mmvq(DType::NVFP4, "mmvq_nvfp4_q8_8x64_dp4a_sm61",
           [](L& l, const char* n, const MatmulArgs& a, LaunchRecord& r) { run_mmvq<ck::I8Weights::E2M1x16>(l, n, a, r); });

  // ---- mmq_fp4: NVFP4 / MXFP4 x FP4 activations, block-scaled MMA, sm_120a / sm_121a ----
  // Listed only when the build has an sm_120a/121a cubin (XK_CUDA_FP4_BUILT, set by CMake) or
  // on the simulator (which defines no XK_CUDA_FP4_BUILT and emulates the instruction).
#if !defined(XK_CUDA_FP4_BUILT) || XK_CUDA_FP4_BUILT
  auto add_fp4 = [&](DType fmt, const char* name, auto runner) {
    Variant x;
    x.name = name;
    x.op = Op::Matmul;
    x.formats = {fmt};
    x.acts = {ActPrecision::FP4};
    x.min_arch = "sm_120a";
    x.tile = "128x128x128";
    x.priority = 20;  // W4A4 at the FP4 rate beats the int8 path on the same weights
    x.supports_matmul = [](const MatmulArgs& a, const DeviceInfo& info) -> std::string {
      // .kind::mxf4nvf4 / .kind::mxf4 exist only on sm_120a/sm_121a (PTX ISA 9.7.14.5.14);
      // the device reports "fp4_mma" when its arch-specific cubin is in this build.
      if (!info.has("fp4_mma")) return "needs the block-scaled FP4 MMA (sm_120a/sm_121a build and GPU), device is " + info.arch;
      if (ceil_div(a.N(), ck::kFp4TileN) > 65535) return "N=" + std::to_string(a.N()) + " exceeds 65535 tiles of 128";
      if (a.M() * a.K() >= (int64_t{1} << 31) || a.N() * a.K() >= (int64_t{1} << 31)) return "M*K or N*K >= 2^31";
      return "";
    };
    x.run_matmul = [l, name, runner](Device&, const MatmulArgs& a, LaunchRecord& rec) { runner(*l, name, a, rec); };
    v.push_back(std::move(x));
  };
  add_fp4(DType::NVFP4, "mmq_nvfp4_fp4_128x128_mma_sm120a",
          [](L& l, const char* n, const MatmulArgs& a, LaunchRecord& r) { run_mmq_fp4<true>(l, n, a, r); });
  add_fp4(DType::MXFP4, "mmq_mxfp4_fp4_128x128_mma_sm120a",
          [](L& l, const char* n, const MatmulArgs& a, LaunchRecord& r) { run_mmq_fp4<false>(l, n, a, r); });
#endif

  // ---- flash attention: prefill (any S) and split-K decode (S = 1), F16 K/V, sm_80+ ----
  auto add_attn = [&](const char* name, bool split, int priority) {
    Variant x;
    x.name = name;
    x.op = Op::Attention;
    x.formats = {DType::F16};
    x.min_arch = "sm_80";
    x.tile = split ? "64x64/splitk" : "64x64";
    x.priority = priority;
    x.supports_attention = [split](const AttentionArgs& a, const DeviceInfo& info) -> std::string {
      if (std::string why = need_sm(info, 80); !why.empty()) return why;  // mma.m16n8k16 f16
      if (a.D() != 64 && a.D() != 128) return "head dim " + std::to_string(a.D()) + " (kernels exist for 64 and 128)";
      // Decode: one query per head; splitting the keys is what fills the GPU at S = 1.
      if (split && a.S() != 1) return "split-K decode kernel takes S = 1, got S=" + std::to_string(a.S());
      if (a.B() * a.Hq() * a.S() * a.D() > (int64_t{1} << 31) || a.T() > (int64_t{1} << 30))
        return "shape beyond the 32-bit indexing of this kernel";
      return "";
    };
    x.run_attention = [l, name, split](Device&, const AttentionArgs& a, LaunchRecord& rec) {
      run_flash_attn(*l, name, a, rec, split);
    };
    v.push_back(std::move(x));
  };
  add_attn("attn_f16_f16_64x64_mma_sm80", false, 10);
  add_attn("attn_f16_f16_64x64_splitk_mma_sm80", true, 20);
  return v;
}

}  // namespace xk::cuda_table

// The contract's spelling (backends/sim calls cuda_variants(launcher) unqualified or xk::).
namespace xk {
using cuda_table::cuda_variants;
}
