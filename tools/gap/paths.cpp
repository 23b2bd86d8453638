// Instruction path and fusion rules per backend and build (dates cited in paths.h).
#include "paths.h"

#include <regex>

#include "render.h"
#include "text.h"
#include "xk/error.h"

namespace xk::gap {
namespace {

// A date is compared as text (YYYY-MM-DD); an unknown date takes the build number (the
// numbers beside the dates below are approximate, about a dozen builds a day); a run with
// neither is today's build.
bool since(const BuildRef& b, const char* date, int number) {
  if (b.date.size() >= 10) return b.date.substr(0, 10) >= date;
  return b.number < 0 || b.number >= number;
}

// since() for a rule that pull request `pr` introduced, where the build text says which side
// of it a run is on (BuildRef::prs_in / prs_not_in), whatever the date.
bool since_pr(const BuildRef& b, int pr, const char* date, int number) {
  if (b.prs_not_in.count(pr)) return false;
  if (b.prs_in.count(pr)) return true;
  return since(b, date, number);
}

// ggml_cuda_mul_mat_q sizes a MUL_MAT_ID's token tile from the tokens one expert receives on
// average (ncols_opt = ceil(ne12 * n_expert_used / ne02)) instead of the whole batch, on
// RDNA3.0 and RDNA4 since PR 28552 (2026-09-07, the recreated PR 24546, whose head kept it
// off on RDNA3.5: mmq-config-rdna3-5.cuh `use_typical_moe_ncols = false`) and on RDNA3.5
// since PR 28935 (opened 2026-09-15). The build numbers are approximate: build 10909 was
// current on 2026-09-11 (llama.cpp issue 27360). The pull request that brought the rule to
// this device and build, 0 where it does not hold.
bool rdna35(const DeviceSpec& d) { return d.arch.rfind("gfx115", 0) == 0; }
int expert_width_tile_pr(const DeviceSpec& dev, const BuildRef& b) {
  if (rdna35(dev)) return since_pr(b, 28935, "2026-09-15", 10950) ? 28935 : 0;
  return dev.arch.rfind("gfx110", 0) == 0 && since_pr(b, 28552, "2026-09-07", 10850) ? 28552 : 0;
}

bool blackwell_consumer(const DeviceSpec& d) { return d.arch.rfind("sm_12", 0) == 0; }
bool rdna3(const DeviceSpec& d) { return d.arch.rfind("gfx11", 0) == 0; }
bool has_coopmat(const DeviceSpec& d) { return d.api == "cuda" || rdna3(d); }

// ggml-cuda's ggml_cuda_should_use_mmq (mmq.cu): where MMQ has no int8 matrix-unit path but
// the GPU has f16 matrix units, a GEMM of MMQ_DP4A_MAX_BATCH_SIZE (64) tokens or more is
// dequantized to f16 and run by the BLAS library instead (NVIDIA Volta+: `ne11 <
// MMQ_DP4A_MAX_BATCH_SIZE`; AMD RDNA3: `cc < GGML_CUDA_CC_RDNA3 || ne11 <
// MMQ_DP4A_MAX_BATCH_SIZE`). MUL_MAT_ID outside the batched MMQ path runs one GEMM per
// expert, so its token count is the expert batch.
bool blas_instead_of_dp4a(double tokens) { return tokens >= kBlasFromTokens; }

// ggml-cuda's cuBLAS GEMM (ggml_cuda_op_mul_mat_cublas, ggml_cuda_mul_mat_batched_cublas;
// batched_mul_mat_traits since July 2026) multiplies F16 operands with CUBLAS_COMPUTE_16F on
// NVIDIA GPUs from Volta on at the default precision: weights expanded to f16 and F16
// weights accumulate in f16, at the F16-accumulate tensor rate (twice the F32-accumulate one
// on GeForce parts). BF16 weights take CUBLAS_COMPUTE_32F (instruction_path). AMD keeps the
// F32-accumulate class: the f16 WMMA rate does not depend on the accumulator there.
const char* blas_class(const std::string& backend) {
  return backend == "cuda" ? "f16_mma_f16acc" : "f16_mma_f32acc";
}

InstrPath blas_path(const std::string& backend, const char* why) {
  return {backend + "_blas_f16", blas_class(backend), 128, 128, why, "float"};
}

// ggml_cuda_should_use_mmq on RDNA3 since PR 18537 (ggml 2026-01-06), retuned for RDNA3.5 by PR
// 18666 (2026-01-10): a dense MUL_MAT of some types takes hipBLAS above a token count, where
// their MMQ peaks below it (MUL_MAT_ID with 64 experts or more stays on MMQ; the model's expert
// GEMMs keep MMQ). Q2_K above 128 tokens; Q6_K above 128, above 256 on RDNA3.5 from PR 18666;
// IQ2_XS/IQ2_S above 128, on RDNA3.5 never from PR 18666.
bool rdna3_blas_for_type(const DeviceSpec& dev, const BuildRef& b, const std::string& type, double tokens) {
  if (!rdna3(dev) || !since(b, "2026-01-06", 7650)) return false;
  const bool retuned_rdna35 = rdna35(dev) && since(b, "2026-01-10", 7690);
  if (type == "q2_k") return tokens > 128;
  if (type == "q6_k") return tokens > (retuned_rdna35 ? 256 : 128);
  if (type == "iq2_xs" || type == "iq2_s") return !retuned_rdna35 && tokens > 128;
  return false;
}

InstrPath instruction_path_cuda(const DeviceSpec& dev, const BuildRef& b, const std::string& family,
                                double tokens) {
  if (family == "fp4" && blackwell_consumer(dev) && since_pr(b, 17906, "2025-12-15", 7400))
    return {"cuda_mmq_mxfp4_mma", "fp4_mma", 128, 128,
            "MXFP4 on sm_12x since PR 17906 (Dec 2025): block-scaled FP4 MMA"};
  if (!since(b, "2024-06-10", 3130)) {
    if (blas_instead_of_dp4a(tokens))
      return blas_path("cuda",
                       "before tensor-core MMQ (PR 7676), 64+ tokens: dequantized to f16 for cuBLAS "
                       "(ggml_cuda_should_use_mmq)");
    return {"cuda_mmq_dp4a", "int8_dot", 64, 128, "MMQ on dp4a before tensor-core MMQ (PR 7676, June 2024)"};
  }
  return {"cuda_mmq_int8", "int8_mma", 128, 128,
          "MMQ: weights unpacked to int8, activations q8_1, int8 mma.sync"};
}

// `type`: the weight's GGML type name in lower case ("" when unknown).
InstrPath instruction_path_for(const DeviceSpec& dev, const std::string& backend, const BuildRef& b,
                               const std::string& kind, const std::string& family, double tokens,
                               const std::string& type) {
  if (backend == "cuda" && dev.api != "cuda")
    throw Error("gap", "backend", dev.key + " is not an NVIDIA GPU: no cuda backend");
  if (backend == "hip" && dev.api != "hip")
    throw Error("gap", "backend", dev.key + " is not an AMD GPU: no hip backend");
  if (backend != "cuda" && backend != "hip" && backend != "vulkan")
    throw Error("gap", "backend", "backend '" + backend + "' has no kernel model (cuda, hip, vulkan)");
  InstrPath p;
  if (kind == "fa") {
    p = {backend + "_flash_attn", "f16_mma_f32acc", 64, 64, "flash attention on the f16 matrix path", "fa"};
    const bool vk_scalar =
        backend == "vulkan" && (!has_coopmat(dev) || b.vk_shader == "scalar" || b.vk_shader == "int-dot");
    if (backend == "hip" || vk_scalar) p.cls = "f32_fma", p.why = "flash attention without matrix cores";
    if (vk_scalar && has_coopmat(dev)) p.name += "_scalar";
    if (backend == "vulkan" && b.vk_shader == "coopmat2")
      p.name += "_coopmat2", p.why = "flash attention with NV_cooperative_matrix2";
    return p;
  }
  if (family == "float") {
    // F16 weights take the F16-accumulate class where cuBLAS or coopmat2 give it (see
    // blas_class and the coopmat2 path below); BF16 weights accumulate in f32.
    const char* f16_cls = backend == "vulkan"
                              ? (b.vk_shader == "coopmat2" ? "f16_mma_f16acc" : "f16_mma_f32acc")
                              : blas_class(backend);
    const bool bf16_f32acc = type == "bf16" && std::string(f16_cls) == "f16_mma_f16acc";
    p = {backend == "vulkan" ? "vulkan_mul_mm_f16" : backend + "_blas_f16",
         bf16_f32acc ? "f16_mma_f32acc" : f16_cls,
         128,
         128,
         "f16/bf16 weights: BLAS / mul_mm",
         "float"};
    if (bf16_f32acc) p.why += "; BF16 weights accumulate in f32 (cuBLAS: CUBLAS_COMPUTE_32F)";
    return p;
  }
  if (backend == "cuda") {
    p = instruction_path_cuda(dev, b, family, tokens);
    p.stream_k = true;
    return p;
  }
  if (backend == "hip") {
    if (rdna3(dev) && since(b, "2025-12-01", 7230)) {
      if (kind == "mm" && rdna3_blas_for_type(dev, b, type, tokens))
        return blas_path(
            "hip",
            "RDNA3, a type whose MMQ peaks below hipBLAS: dequantized to f16 for hipBLAS at this "
            "many tokens (ggml_cuda_should_use_mmq, PRs 18537/18666, January 2026)");
      return {"hip_mmq_wmma", "int8_mma", 128, 128,
              "MMQ with WMMA iu8 on RDNA3 since PR 17576 (late Nov 2025)"};
    }
    if (rdna3(dev) && blas_instead_of_dp4a(tokens))
      return blas_path("hip",
                       "RDNA3 before WMMA MMQ (PR 17576), 64+ tokens: dequantized to f16 for hipBLAS "
                       "(ggml_cuda_should_use_mmq)");
    return {"hip_mmq_dp4a", "int8_dot", 64, 128,
            "MMQ on int8 dot products (no WMMA on RDNA3 before PR 17576)"};
  }
  // Vulkan: the shader a run was held to, else the device's default. Each is its own
  // kernel, so none stands in for another's calibration (own family).
  const std::string& vk = b.vk_shader;
  if (vk == "scalar")
    return {"vulkan_mul_mm_scalar",
            "f32_fma",
            64,
            64,
            "mul_mm scalar shader (cooperative matrices switched off)",
            "vk_scalar"};
  // ggml_vk_get_mul_mat_mat_pipeline: with coopmat2 a GEMM at the default precision takes the
  // f16acc pipeline, so it runs at the F16-accumulate rate (twice the F32 one on GeForce parts).
  // KHR_coopmat takes f16acc only where the driver lists an f16-accumulate shape
  // (coopmat_acc_f16_support), which the database does not record: it keeps the F32 class.
  if (vk == "coopmat2")
    return {"vulkan_mul_mm_coopmat2",
            "f16_mma_f16acc",
            128,
            128,
            "mul_mm with NV_cooperative_matrix2 (NVIDIA drivers; f16 accumulators)",
            "vk_coopmat2"};
  if (vk != "int-dot" && has_coopmat(dev))
    return {"vulkan_mul_mm_coopmat", "f16_mma_f32acc", 128, 128,
            "mul_mm with KHR_cooperative_matrix (weights dequantized to f16)"};
  return {"vulkan_mul_mmq_int_dot",
          "int8_dot",
          64,
          64,
          vk == "int-dot" ? "integer-dot mul_mmq shader (cooperative matrices switched off)"
                          : "no cooperative matrix: integer-dot mul_mmq shader",
          "vk_int_dot"};
}

// ggml_cuda_mul_mat_id's per-expert loop (paths.h, InstrPath::per_expert): the batched MMQ
// is not taken for this MUL_MAT_ID of `batch_tokens` tokens.
bool expert_loop(const DeviceSpec& dev, const std::string& backend, const BuildRef& b, double batch_tokens) {
  if (batch_tokens <= 8) return false;  // vector kernels (mmvq) take small batches whole
  if (backend == "cuda") return !since(b, "2025-05-01", 5250);
  if (backend == "hip")
    return rdna3(dev) && !since(b, "2025-12-01", 7230) && blas_instead_of_dp4a(batch_tokens);
  return false;
}

// ggml-vulkan's mul_mm tile for a MUL_MAT_ID of over 64 tokens on the cooperative-matrix or
// scalar shaders (coopmat2 has its own rule), where the vendor leaves the large tile on
// (vulkan_amd_tile below): ggml_vk_guess_matmul_id_pipeline takes the
// large tile, or the medium one where the large one does not fit the driver's shared memory
// (ggml_vk_matmul_shmem_support). Smaller batches keep the token tile of tiles.h. Its sizes for
// the quantized (mmq) warptiles, 64-wide subgroups, 16x16 cooperative matrices: load
// buffers (BM + BN) x (BK 32 + 8) f16, the coopmat staging 16 x 16 / warps floats, and
// before PR 15427 (ggml commit b238604c, 2025-08-23) 4096 row ids of 4 bytes + 4: the large
// tile 20480 + 512 + 16388 = 37380 bytes, the medium one 10240 + 512 + 16388 = 27140. After
// it the row ids take 2 x BN x 2 bytes and every tile fits 32 KB.
// The driver's shared memory per workgroup: the run's device line, else the device's LDS.
double vulkan_shared_bytes(const DeviceSpec& dev, const BuildRef& b) {
  const auto lds = dev.units.find("lds_per_workgroup");
  return b.vk_shared_bytes > 0    ? b.vk_shared_bytes
         : lds != dev.units.end() ? lds->second.value * 1024
                                  : 65536;
}

int vulkan_mm_id_tile(const DeviceSpec& dev, const BuildRef& b) {
  const double large_needs = since(b, "2025-08-23", 6250) ? 20480 + 512 + 2 * 128 * 2 : 37380;
  return vulkan_shared_bytes(dev, b) >= large_needs ? 128 : 64;
}

// Before that check, ggml_vk_get_device turns tiles off per GPU vendor (its "Disable matmul
// tile sizes early" switch): on AMD, mul_mat_id_l is false at every build through ggml
// d99724f2 (2026-08-21), and mul_mat_l was false until PR 18749 (ggml 3febb7ea, 2026-01-11)
// set it to the driver's cooperative-matrix support (PR 18763, 2026-01-12, then keeps it off
// on AMD's proprietary driver, which no database run used). ggml_vk_guess_matmul_pipeline and
// its _id twin take the medium tile for over 32 tokens wherever the large one is off. The
// medium tile of AMD's Vulkan GEMMs, or 0 where this switch leaves the choice to the shared
// memory (vulkan_mm_id_tile) or to the path's own tile.
int vulkan_amd_tile(const DeviceSpec& dev, const BuildRef& b, const std::string& kind) {
  if (dev.api != "hip") return 0;  // the database's AMD GPUs are its HIP devices
  if (kind == "mm_id") return 64;
  if (kind == "mm" && !since_pr(b, 18749, "2026-01-11", 7700)) return 64;
  return 0;
}

}  // namespace

int vulkan_shared_memory_of(const std::string& text) {
  static const std::regex shared(R"(shared memory:\s*(\d+))");
  std::smatch m;
  if (std::regex_search(text, m, shared)) return std::stoi(m[1]);
  return lower(text).find("amdvlk") != std::string::npos ? 32768 : 0;
}

BuildRef parse_build(const std::string& build, const std::string& date) {
  if (!date.empty() && lower(date) != "unknown" && !iso_date(date))
    throw Error("gap", "date", "'" + date + "' is not a date (YYYY-MM-DD) of build '" + build + "'");
  BuildRef b;
  b.text = build;
  b.date = date;
  // "b6918" or "(6918)" as llama-bench prints it; a bare number may be a PR number.
  static const std::regex num(R"((?:\bb|\()(\d{3,5})\b)");
  std::smatch m;
  if (std::regex_search(build, m, num)) b.number = std::stoi(m[1]);
  // "before PR #18749" / "before #17906": not in the build; any other "PR #N": in it.
  const std::string t = lower(build);
  static const std::regex before(R"(before (?:pr )?#(\d{1,9})(?!\d))"), pr(R"(pr #(\d{1,9})(?!\d))");
  for (auto it = std::sregex_iterator(t.begin(), t.end(), before); it != std::sregex_iterator(); ++it)
    b.prs_not_in.insert(std::stoi((*it)[1]));
  for (auto it = std::sregex_iterator(t.begin(), t.end(), pr); it != std::sregex_iterator(); ++it)
    if (const int n = std::stoi((*it)[1]); !b.prs_not_in.count(n)) b.prs_in.insert(n);
  return b;
}

std::string vulkan_shader_of(const std::string& text) {
  const std::string t = " " + lower(text) + " ";
  auto has = [&](const char* s) { return t.find(s) != std::string::npos; };
  // Flag tokens of e2e.csv, and the phrases kernels.csv notes use for a PR table's section
  // or column. A ggml_vulkan device line's "matrix cores: NV_coopmat2" says the run took
  // coopmat2 by default; its "KHR_coopmat", "fp16: 1" and "int dot: 1" say nothing.
  if (has(" coopmat2 ") || has("coopmat2 shader") || has("coopmat2 column") || has("nv_coopmat2"))
    return "coopmat2";
  if (has(" fp16 ") || has("fp16 column") || has("scalar") || has("without coopmat")) return "scalar";
  if (has(" int-dot ") || has("int dot column")) return "int-dot";
  if (has("coopmat1") || has("(khr_coopmat) section")) return "coopmat1";
  return "";
}

InstrPath instruction_path(const DeviceSpec& dev, const std::string& backend, const BuildRef& b,
                           const std::string& kind, const std::string& family, double tokens,
                           double batch_tokens, const std::string& weight_type) {
  InstrPath p = instruction_path_for(dev, backend, b, kind, family, tokens, lower(weight_type));
  p.per_expert = kind == "mm_id" && expert_loop(dev, backend, b, batch_tokens);
  if (kind == "mm_id" && !p.per_expert && p.name.rfind("hip_mmq", 0) == 0)
    if (const int pr = expert_width_tile_pr(dev, b)) {
      p.expert_width_tile = true;
      p.why += strf(
          "; the expert GEMM's token tile sized for one expert's average share of the batch (ncols_opt, PR "
          "%d)",
          pr);
    }
  const bool vk_mm = backend == "vulkan" && p.name.find("coopmat2") == std::string::npos;
  const int amd_tile = vk_mm ? vulkan_amd_tile(dev, b, kind) : 0;
  if (amd_tile > 0) {
    if (amd_tile < p.tile_m) {
      p.tile_m = p.tile_n = amd_tile;
      p.why += strf(
          "; the %dx%d tile: ggml-vulkan keeps the large one off on AMD (%s), priced at the efficiency "
          "its curve gives (no kernel row times the medium tile)",
          amd_tile, amd_tile,
          kind == "mm_id" ? "MUL_MAT_ID at every build" : "MUL_MAT before PR 18749, 2026-01-11");
    }
  } else if (kind == "mm_id" && vk_mm && batch_tokens > 64 && p.family != "float") {
    const int tile = vulkan_mm_id_tile(dev, b);
    if (tile < p.tile_m) {
      p.tile_m = p.tile_n = tile;
      p.why += strf(
          "; MUL_MAT_ID on the %dx%d tile: the large one does not fit the driver's %.0f bytes of shared "
          "memory",
          tile, tile, vulkan_shared_bytes(dev, b));
    }
  }
  return p;
}

bool expands_to_f16(const InstrPath& path, const std::string& weight_family) {
  return path.family == "float" && path.name.size() > 9 &&
         path.name.compare(path.name.size() - 9, 9, "_blas_f16") == 0 && weight_family != "float";
}

double tile_units(const DeviceSpec& dev, const std::string& backend) {
  for (const char* k : {"sm_count", "cu_count", "gpu_cores"}) {
    auto it = dev.units.find(k);
    if (it == dev.units.end()) continue;
    const bool wgp = (backend == "hip" || backend == "vulkan") && std::string(k) == "cu_count" &&
                     dev.arch.rfind("gfx1", 0) == 0;
    return wgp ? it->second.value / 2 : it->second.value;
  }
  return 1;
}

double score_bytes_unfused(const std::string& backend) {
  if (backend == "cuda" || backend == "hip") return 4 + 8 + 6 + 2;
  if (backend == "vulkan") return 4 + 8 + 4;
  return 12;
}

bool rms_norm_mul_fused(const std::string& backend, const BuildRef& b) {
  if (backend == "cuda" || backend == "hip") return since(b, "2025-08-01", 6000);
  return backend == "vulkan" && since(b, "2025-07-05", 5830);
}

Fusion elementwise_fusion(const std::string& backend, const BuildRef& b, bool moe) {
  // Unfused per layer: 2x (rms_norm, mul by weight), rope q, rope k, 2 residual adds, KV
  // copies: about 10 activation passes and 10 launches. The FFN's GLU runs at the FFN's
  // width (glu_elementwise, expert_elementwise), not here. A MoE layer's router adds 4
  // launches (softmax, argsort for top-k, get_rows of the weights, their normalisation) on
  // [n_expert, tokens] tensors, whose bytes are negligible next to these.
  Fusion f{10, 10, "unfused ggml graph"};
  if (moe) f.launches_per_layer += 4;
  // The HIP backend is ggml-cuda's sources compiled for AMD (ggml/src/ggml-hip builds
  // ../ggml-cuda/*.cu), so it takes the same graph fusions on the same dates.
  if ((backend == "cuda" || backend == "hip") && rms_norm_mul_fused(backend, b)) {
    f.passes_per_layer -= 3, f.launches_per_layer -= 3;
    f.why = "ggml-cuda (CUDA and HIP) fuses rms_norm+mul and add chains";
    if (moe && since(b, "2025-09-25", 6600)) f.launches_per_layer -= 3, f.why += ", top-k MoE softmax";
    // K's rope writes straight into the KV cache (ROPE, VIEW, SET_ROWS: PR 16884).
    if (since(b, "2025-11-13", 7040))
      f.passes_per_layer -= 1, f.launches_per_layer -= 1, f.why += ", rope+set_rows";
  }
  // Vulkan fuses RMS_NORM+MUL since llama.cpp PR 14366 (merged before its fix, PR 14545 of
  // 2025-07-05): the two norms of a layer each lose their separate multiply pass.
  if (backend == "vulkan" && rms_norm_mul_fused(backend, b)) {
    f.passes_per_layer -= 2, f.launches_per_layer -= 2;
    f.why = "Vulkan fuses rms_norm+mul (PR 14366)";
    // Then the two fusions ggml-cuda already had, as ggml-vulkan shaders: add chains (PR
    // 15252, 2025-08-16) and the top-k MoE softmax, ported from CUDA (PR 16641, 2025-10-18;
    // gpt-oss's late softmax from PR 16656, 2025-10-29). Build numbers approximate the dates.
    if (since(b, "2025-08-16", 6170))
      f.passes_per_layer -= 1, f.launches_per_layer -= 1, f.why += ", add chains";
    if (moe && since(b, "2025-10-29", 6880)) f.launches_per_layer -= 3, f.why += ", top-k MoE softmax";
    // K's rope writes straight into the KV cache (PR 16769, 2025-10-29).
    if (since(b, "2025-10-29", 6880))
      f.passes_per_layer -= 1, f.launches_per_layer -= 1, f.why += ", rope+set_rows";
  }
  return f;
}

ElementwiseWork qk_norm_elementwise(const std::string& backend, const BuildRef& b, double q_width,
                                    double k_width) {
  ElementwiseWork e;
  const bool cuda_sources = backend == "cuda" || backend == "hip";
  if ((backend == "vulkan" && since(b, "2025-11-08", 6980)) ||
      (cuda_sources && since(b, "2026-08-08", 9900))) {
    e.why = "q/k norms in the rope";
  } else if (rms_norm_mul_fused(backend, b)) {
    e.floats = 2 * (q_width + k_width), e.launches = 2, e.why = "q/k rms_norm+mul";
  } else {
    e.floats = 4 * (q_width + k_width), e.launches = 4, e.why = "q/k rms_norm, mul";
  }
  return e;
}

bool gemv_fusion(const std::string& backend, const BuildRef& b) {
  return (backend == "cuda" || backend == "hip") && since(b, "2025-10-26", 6850);
}

ElementwiseWork glu_elementwise(const std::string& backend, const BuildRef& b, double width, bool gemv) {
  ElementwiseWork e;
  if (gemv && gemv_fusion(backend, b)) {
    e.why = "GLU in the GEMV";
  } else if (since(b, "2025-06-29", 5780)) {
    e.floats = 3 * width, e.launches = 1, e.why = "GLU";
  } else {
    e.floats = 5 * width, e.launches = 2, e.why = "silu + mul";
  }
  return e;
}

ElementwiseWork expert_elementwise(const std::string& backend, const BuildRef& b, double n_embd, double n_ff,
                                   double used, bool bias, bool gemv) {
  const double F = used * n_ff, D = used * n_embd;
  const bool vulkan = backend == "vulkan";
  // Decode only: ggml-cuda's GEMV fusion (PR 16715) runs gate, up, their biases and the GLU
  // as one mat-vec; ggml-vulkan folds the bias (PR 16868), then the weights mul (PR 17095),
  // into its mat-vec shaders.
  const bool cuda_gemv = gemv && gemv_fusion(backend, b);
  const bool vk_bias = gemv && vulkan && since(b, "2025-11-01", 6910);
  const bool vk_mul = gemv && vulkan && since(b, "2025-11-09", 6990);
  ElementwiseWork e = glu_elementwise(backend, b, F, gemv);
  if (bias && !cuda_gemv && !vk_bias)
    e.floats += 2 * F + 2 * F + 2 * D, e.launches += 3, e.why += ", 3 bias add_id";
  if (!vk_mul) e.floats += 2 * D, e.launches += 1, e.why += ", weights mul";
  const bool sum_fused = vulkan ? since(b, "2025-08-16", 6170) : since(b, "2025-08-29", 6310);
  if (sum_fused) {
    e.floats += (used + 1) * n_embd, e.launches += 1, e.why += ", fused expert sum";
  } else {
    e.floats += 3 * (used - 1) * n_embd, e.launches += used - 1, e.why += ", expert sum of used-1 adds";
  }
  e.why = "expert-width " + e.why;
  return e;
}

KvCells attention_kv_cells(const std::string& backend, const BuildRef& b, bool flash_attn) {
  if (!flash_attn) return KvCells::all;
  if (backend == "vulkan") return since(b, "2025-11-15", 7060) ? KvCells::blocks : KvCells::all;
  if (backend == "cuda" || backend == "hip")
    return since(b, "2025-07-30", 5990) ? KvCells::tail : KvCells::all;
  return KvCells::blocks;
}

}  // namespace xk::gap
