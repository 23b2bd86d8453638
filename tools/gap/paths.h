// Which instruction path llama.cpp's backend takes for a weight type at a given build, on a
// given device. The figures being explained were made by particular builds, so the path is
// a function of (backend, device arch, build date), each switch dated by the pull request
// that introduced it:
//   CUDA  MMQ: int8 dot products (dp4a) until llama.cpp PR 7676 ("CUDA: use tensor cores
//         for MMQ", opened 2024-05-31, merged June 2024), for fewer than 64 tokens only
//         (more went to cuBLAS as f16, ggml_cuda_should_use_mmq), then int8 mma.sync on q8_1
//         activations for every block type, MXFP4 included;
//         native block-scaled FP4 MMA for MXFP4 on Blackwell sm_12x since llama.cpp PR
//         17906 ("CUDA: experimental native mxfp4 support for blackwell", Dec 2025).
//   HIP   MMQ on RDNA3/3.5: int8 dot products (v_dot4) until PR 17576 ("HIP: enable
//         WMMA-MMQ INT kernels for RDNA 3", opened 2025-11-28), for fewer than 64 tokens
//         only (more went to hipBLAS as f16, as on CUDA), WMMA iu8 after.
//   Vulkan mul_mm with KHR_cooperative_matrix (f16 operands) where the driver offers it
//         (RADV on RDNA3, NVIDIA), else the scalar shader; q4_0/q8_0-class types may take
//         the integer-dot mul_mmq shader (assumed here for devices without coopmat). A run
//         held to one shader by its flags (scalar, int-dot, coopmat1, NV coopmat2) takes
//         that shader (BuildRef::vk_shader).
//   MUL_MAT_ID (CUDA and HIP): the batched MMQ with ids, or, where ggml does not take it,
//         one GEMM per expert (InstrPath::per_expert).
//   Vulkan mul_mm tiles: on AMD GPUs ggml_vk_get_device keeps the large 128x128 tile off
//         for MUL_MAT_ID at every build and for MUL_MAT until PR 18749 (2026-01-11), so those
//         run the 64x64 one. Elsewhere a MUL_MAT_ID of over 64 tokens takes the large tile
//         when it fits the driver's shared memory, else the 64x64 one
//         (ggml_vk_guess_matmul_id_pipeline); before PR 15427 (2025-08-23) the shader staged
//         4096 row ids in shared memory, so the large tile needed 37 KB and drivers with 32 KB
//         ran the medium one (ggml_vk_matmul_shmem_support).
//   F16/BF16/F32 weights: the vendor BLAS (cuBLAS / hipBLAS) or mul_mm, f16 MMA class.
// Dates are approximate merge dates (a row's date is when it was measured, not built).
#pragma once
#include <set>
#include <string>

#include "devices.h"

namespace xk::gap {

struct BuildRef {
  std::string text;  // "llama.cpp b6918"
  int number = -1;   // 6918, -1 when the text holds none
  std::string date;  // YYYY-MM-DD (of the build or, failing that, of the measurement)
  // The Vulkan matmul shader a run was held to (GGML_VK_DISABLE_COOPMAT, _COOPMAT2,
  // _INTEGER_DOT_PRODUCT, or a PR table's column): "scalar", "int-dot", "coopmat1",
  // "coopmat2"; empty: the one the device takes by default.
  std::string vk_shader;
  // The Vulkan driver's shared memory per workgroup (maxComputeSharedMemorySize) as the run's
  // ggml_vulkan device line printed it ("shared memory: 32768"); 0: the device's LDS.
  int vk_shared_bytes = 0;
  // Pull requests the text places the run after ("PR #18749 branch") or before ("master
  // before PR #18749", "master before #17906"): a PR table's two columns share one date.
  std::set<int> prs_in, prs_not_in;
};
BuildRef parse_build(const std::string& build, const std::string& date);
// The shared memory a ggml_vulkan device line in `text` prints ("shared memory: 65536"), else
// AMDVLK's 32768 where the text names that driver (every AMDVLK device line of the database's
// Strix Halo logs prints it: SOURCES.md E5), else 0.
int vulkan_shared_memory_of(const std::string& text);
// The Vulkan shader named in a row's flags or notes ("fp16"/"scalar"/"without coopmat",
// "int-dot"/"int dot", "coopmat1"/"KHR_coopmat", "coopmat2"/"NV_coopmat2"), empty when none.
std::string vulkan_shader_of(const std::string& text);

struct InstrPath {
  std::string name;  // "cuda_mmq_int8", "cuda_mmq_mxfp4_mma", "hip_mmq_dp4a", ...
  std::string cls;   // peak class in devices.json: int8_mma, fp4_mma, int8_dot, f16_mma_f32acc,
                     // f16_mma_f16acc (cuBLAS on NVIDIA, Vulkan coopmat2), f32_fma
  int tile_m = 128;  // tokens per block (mmq_x)
  int tile_n = 128;  // weight rows per block (mmq_y)
  std::string why;   // the rule that chose it
  // "quant" (MMQ-like kernels of block-quantized weights), "float" (BLAS / f16 mul_mm),
  // "fa": paths of one family are the same kernel's build eras, so a calibration of one
  // may stand in for another (calibrate.h).
  std::string family = "quant";
  // Stream-K: the K loop of the last wave is split over the idle SMs, so only tile padding
  // is lost, not wave quantization. ggml-cuda's MMQ uses it on NVIDIA GPUs since Volta
  // (ggml-cuda/mmq.cuh, use_stream_k); RDNA and Vulkan keep whole tiles per workgroup.
  bool stream_k = false;
  // MUL_MAT_ID as one GEMM per expert (ggml-cuda.cu, ggml_cuda_mul_mat_id's fallback: ids
  // copied to the host with a stream synchronize, src1 rows gathered per expert, then
  // ggml_cuda_mul_mat on each expert's c tokens, which picks MMQ or BLAS and the token tile
  // for c alone). Taken where the batched MMQ is not: ggml_cuda_should_use_mmq(type, cc,
  // ne12) false for the whole batch (RDNA3 before PR 17576 with 64 or more tokens), and on
  // CUDA before PR 13199 ("batched+noncont MMQ, refactor bs>1 MoE code", 2025-05-01).
  bool per_expert = false;
  // MUL_MAT_ID's token tile chosen for the tokens one expert receives on average,
  // ceil(ne12 * n_expert_used / ne02), instead of for the whole batch (ggml-cuda/mmq.cu,
  // ggml_cuda_mul_mat_q's ncols_opt; the launch grid still spans the batch): on RDNA3.0
  // since PR 28552 (2026-09-07) and on RDNA3.5 since PR 28935 (opened 2026-09-15).
  bool expert_width_tile = false;
};

// kind: "mm" (prompt GEMM), "mm_id" (MoE expert GEMM), "fa" (flash attention).
// family: GgmlType::family of the weight ("quant", "mxfp4", "float"). Throws xk::Error
// when the backend cannot run on the device (e.g. hip on an NVIDIA GPU).
// tokens: the GEMM's token count (the expert batch for "mm_id"): before the int8 matrix
// paths (CUDA PR 7676, HIP RDNA3 PR 17576) ggml sends 64 tokens or more to the BLAS library
// as f16 instead of the dp4a MMQ. batch_tokens ("mm_id" only): the tokens of the whole
// MUL_MAT_ID (ne12), which decide between the batched MMQ and the per-expert loop; 0 when
// unknown (then the batched path). weight_type: the GGML type name, where the family does
// not settle the class (cuBLAS accumulates F16 in f16 but BF16 in f32 on NVIDIA).
InstrPath instruction_path(const DeviceSpec& dev, const std::string& backend, const BuildRef& build,
                           const std::string& kind, const std::string& family, double tokens = 512,
                           double batch_tokens = 0, const std::string& weight_type = "");
// MMQ_DP4A_MAX_BATCH_SIZE: from this many tokens a GEMM without an int8 matrix-unit MMQ goes
// to the BLAS library (ggml_cuda_should_use_mmq; see `tokens` above).
constexpr double kBlasFromTokens = 64;
// ggml_cuda_mul_mat_cublas (CUDA and HIP): weights of a block-quantized `weight_family`
// bound for the BLAS library are first expanded to f16 by their to_fp16 kernel, a memory
// pass of its own (2 bytes written per weight), after which the GEMM reads the f16 copy.
bool expands_to_f16(const InstrPath& path, const std::string& weight_family);

// The units a GEMM's tiles (one workgroup each) are spread over, for the wave count
// (tiles.h): the database's SMs or CUs, except on RDNA (gfx10 and later), where compute
// kernels run in WGP mode: a workgroup's waves share both CUs of a work-group processor, so
// the WGP (two CUs) is the unit. HIP: LLVM AMDGPUUsage (`cumode` off by default on GFX10+;
// its tests emit `.amdhsa_workgroup_processor_mode 1` for gfx1100), Linux amdkfd commit
// cff35798 ("WGP mode is the native compile mode"). Vulkan: RADV's radv_should_use_wgp_mode
// returns true for compute shaders from GFX10 (src/amd/vulkan/radv_shader.c); AMDVLK's
// choice is not established and taken to be the same. A lone tile of gfx1151's own MMQ rows
// runs at more than one CU's peak, which only the WGP allows.
double tile_units(const DeviceSpec& dev, const std::string& backend);

// Bytes one KQ score moves through memory when attention runs unfused (llama-bench -fa 0):
// ggml-cuda (CUDA and HIP, ggml_cuda_mul_mat_batched_cublas): the KQ product written in F32
// (4), read and written by the softmax (8), converted to F16 for the KQV GEMM (4 read, 2
// written) and read by it (2): 20. A KQ product left at the default precision is written in
// F16 and widened to F32 by a pass of its own (4 more): not separated here, llama.cpp's
// per-architecture KQ precision is not modelled. ggml-vulkan reads the F32 softmax straight
// into its f16 x f32 mul_mm: 16. Other backends: the three F32 passes (12).
double score_bytes_unfused(const std::string& backend);

// Elementwise fusion (RMS norm + mul, add chains, MoE top-k softmax, rope + KV store) per
// backend and build: the launches and DRAM passes of the elementwise ops of one layer.
// ggml-cuda's fusions (rms_norm+mul, add chains, top-k MoE softmax, rope+set_rows) landed
// through 2025 (dates approximate) and apply to HIP too (the same sources); Vulkan fuses
// rms_norm+mul since July 2025 and rope+set_rows since October 2025.
struct Fusion {
  double passes_per_layer = 0;  // activation-sized read+write passes
  double launches_per_layer = 0;
  std::string why;
};
Fusion elementwise_fusion(const std::string& backend, const BuildRef& build, bool moe);

// The elementwise work a MoE layer does on the expert-width tensors, per token, as
// llama.cpp's build_moe_ffn (src/llama-graph.cpp) lays it out for a prompt: the GLU of gate
// and up ([n_ff, used] each: one GGML_OP_GLU reading two and writing one since ggml PR 14158
// of 2025-06-29, before it silu then mul), the per-expert biases where the model has them
// (ggml_add_id after each of the three expert GEMMs, gpt-oss), the multiply by the routing
// weights ([n_embd, used]) and the sum of the `used` expert outputs (used - 1 ggml_add
// nodes; one fused pass on ggml-cuda/HIP since PR 15631 of 2025-08-29 and on ggml-vulkan
// since PR 15252 of 2025-08-16). None of these is fused into a prompt GEMM; the fusions into
// the expert GEMMs are mat-vec shaders, for up to 8 tokens (`gemv` true): ggml-cuda's GEMV
// fusion (PR 16715, 2025-10-26) takes gate, up, their biases and the GLU into one kernel;
// ggml-vulkan takes the bias (PR 16868, 2025-11-01) and then the weights mul (PR 17095,
// 2025-11-09) into its mat-vec shaders. Dates are ggml's sync dates; build numbers
// approximate them.
struct ElementwiseWork {
  double floats = 0;    // F32 values read plus written per token and layer
  double launches = 0;  // kernels per layer
  std::string why;
};
// The per-head RMS norms of q and k that some architectures apply before rope (Qwen3,
// Gemma 3: llama.cpp's graph runs ggml_rms_norm then ggml_mul by the attn_q_norm /
// attn_k_norm weight on the q-wide and k-wide tensors): two norms and two multiplies per
// layer unfused; one kernel per norm where the backend fuses rms_norm+mul
// (rms_norm_mul_fused); none where the norm runs inside the rope kernel that the model
// already counts: ggml-vulkan's rms_norm+mul+rope fusion (PR 16977, ggml 33bd4e72,
// 2025-11-08; skipped since PR 17134, ggml 4f143c27, on devices without fp16
// round-to-nearest-even float controls, taken here to include no database GPU) and
// ggml-cuda's (PR 26767, ggml cf214b1d, 2026-08-08; HIP the same). Build numbers approximate
// the dates.
ElementwiseWork qk_norm_elementwise(const std::string& backend, const BuildRef& build, double q_width,
                                    double k_width);
// RMS norm and the multiply by its weight run as one kernel: ggml-cuda (HIP too) from
// 2025-08-01, ggml-vulkan from PR 14366 (2025-07-05).
bool rms_norm_mul_fused(const std::string& backend, const BuildRef& build);
// ggml-cuda's GEMV fusion (PR 16715, 2025-10-26; HIP builds the same sources): in decode the
// gate and up mat-vecs, their biases and the GLU run as one kernel.
bool gemv_fusion(const std::string& backend, const BuildRef& build);

// The GLU of a gate and an up projection `width` floats wide per token (a dense FFN's n_ff;
// used x n_ff for a MoE layer): one GGML_OP_GLU reading two and writing one from ggml PR
// 14158 (2025-06-29), silu then mul before; none in decode on ggml-cuda/HIP from its GEMV
// fusion (PR 16715, 2025-10-26), which applies it inside the gate/up mat-vec.
ElementwiseWork glu_elementwise(const std::string& backend, const BuildRef& build, double width, bool gemv);
ElementwiseWork expert_elementwise(const std::string& backend, const BuildRef& build, double n_embd,
                                   double n_ff, double used, bool bias, bool gemv);

// Which KV cells an attention kernel computes (multiplies and exponentiates) for a prompt,
// masked ones included:
//   all      every cell of the layer's cache the ubatch sees (n_kv): the unfused path (the
//            KQ ggml_mul_mat spans n_kv; -fa 0), ggml-cuda's/HIP's flash attention before
//            PR 14924 (2025-07-30) and ggml-vulkan's before PR 17186 (2025-11-15);
//   tail     up to the last unmasked cell of each query tile: ggml-cuda/HIP since PR 14924
//            (flash_attn_mask_to_KV_max, fattn-common.cuh, still the only skip in 2026), so
//            a sliding-window layer still computes the masked cells at the window's start;
//   blocks   every block whose mask is not all -inf: ggml-vulkan since PR 17186
//            (flash_attn*.comp: subgroupAll over the mask block), i.e. causal and windowed.
enum class KvCells { all, tail, blocks };
KvCells attention_kv_cells(const std::string& backend, const BuildRef& build, bool flash_attn);

}  // namespace xk::gap
