// `xk predict`: each kernel a bench JSON measured, beside the gap model's prediction of the
// same kernel on a named device-database entry.
//
// The device kit's `xk bench` entries and the PyTorch peers share one naming scheme
// (bench/bench.h): the shape is in the name (matmul/custom/M512_N6144_K4096/<w>/<act>/...,
// attention/custom/prefill_B1_Hq32_Hkv8_S512_T512_D128_causal/<kv>/...), so each entry can be
// predicted on its own, without a model preset.
//
// Prediction of one entry (a single-kernel roofline, model.h):
//   class      attention: f16_mma_f32acc with the database's "attention" efficiency;
//              matmul by the activation entering the kernel: f16/bf16 -> f16_mma_f32acc,
//              fp8 -> fp8_mma, fp4 -> fp4_mma, f32 -> f32_fma; q8/i8 -> int8_mma, except a
//              dp4a GEMV (variant names "dp4a" or "mmvq", or M = 1 without an MMA variant)
//              -> int8_dot
//   FLOPs      matmul 2*M*N*K; attention 4*B*Hq*D*pairs (attention_pairs, q_offset T - S
//              when causal, as xk bench and the peers run it)
//   bytes      each operand once (compulsory traffic, no re-reads):
//              matmul N*K*wbits/8 + M*K*ab + M*N*yb; wbits from the weight format (i8: 8),
//              ab = 4 for xkern (its ops take F32 activations and quantize them inside
//              the timed call, as bench/accounting.cpp counts), the peers' activation
//              size otherwise (i8: 1, f16/bf16: 2); yb = 2 for the torch peers' f16/bf16
//              outputs, else 4 (xkern's F32, as bench/accounting.cpp counts it, or
//              int32 from torch._int_mm)
//              attention B*Hq*S*D*(q + o) + 2*B*Hkv*T*D*kv; q = o = 2 (f16) for the torch
//              peers, 4 (F32) for xkern's kernels; kv from the K/V format segment
//   time       max(FLOPs / (peak * eff), bytes / (bandwidth * eff_memory)); no launch
//              overhead, because both sides time the kernel with device timers
// Every figure is the database's, printed with its source; nothing is fitted to the
// measurements it is set beside.
#pragma once
#include <iosfwd>
#include <string>
#include <vector>

#include "devices.h"
#include "model.h"

namespace CLI {
class App;
}

namespace xk::gap {

struct KernelPrediction {
  std::string file, name;              // bench JSON and the entry's full name
  std::string op, shape, format, act;  // op, shape tag, weight (or K/V) format, activation
  std::string variant, device;         // variant that ran, bench device ("cuda:0", "torch:cuda:0")
  std::string cls, eff_key;            // instruction class, efficiency key used for compute
  int64_t m = 0, n = 0, k = 0;         // matmul
  int64_t b = 0, hq = 0, hkv = 0, s = 0, t = 0, d = 0;  // attention
  bool causal = false;
  double flops = 0, bytes = 0;
  Roofline predicted;
  double measured_s = 0;      // 0 when the entry has no timing
  std::string not_measured;   // why (the entry's error_message)
  std::string not_predicted;  // why no prediction (e.g. the device lacks the class)
};

// Reads the shape, format, activation, variant and device from a benchmark name (and the
// label xk bench writes, "variant=<v> act=<a> ..."). False when the name carries no shape
// (model-preset entries: `xk explain --bench` predicts those).
bool parse_kernel_name(const std::string& name, const std::string& label, KernelPrediction& row);

// Class, FLOPs, bytes and the roofline of a parsed row on a device (see the header comment).
void predict_row(const DeviceSpec& dev, KernelPrediction& row);

struct PredictionTable {
  std::string device_key, device_name, database;
  std::vector<std::string> files;
  std::vector<KernelPrediction> rows;
  int skipped_presets = 0;  // entries whose names carry no shape
};

// Every benchmark entry of the files, predicted on `dev`. Throws xk::Error naming the file
// and the field for a file that cannot be read, is not JSON, or has a malformed entry.
PredictionTable predict_files(const DeviceSpec& dev, const std::vector<std::string>& paths);

// Markdown: one row per entry (predicted and measured time, their ratio), then the sources
// of every figure used.
void print_prediction_table(std::ostream& out, const PredictionTable& t, const DeviceSpec& dev);

void add_predict_command(CLI::App& app);

}  // namespace xk::gap
