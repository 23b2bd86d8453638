// Calibration from kernel-level measurements only (kernels.csv, test-backend-ops perf).
//
// Each row becomes one point: the achieved fraction of the peak of the instruction class
// its path issues (paths.h), with the tile and wave quantization of its own shape divided
// out, at x = the tokens the kernel's tiles see:
//   MUL_MAT         x = n (tokens)             eff = flops / t / peak[cls] / wave(m, n)
//   MUL_MAT_ID      x = n * n_used / n_mats    (tokens per expert: the expert batch)
//   FLASH_ATTN_EXT  x = nb (queries)           flops = 4 * hsk * nh * nr * kv * nb
//   elementwise     GB/s rows: fraction of the theoretical bandwidth (class "memory")
// Points are grouped by (device, backend, path, kind) and, inside a group, by weight type
// and build date (the build era): a curve is the median efficiency at each x, interpolated
// linearly in log2(x) and clamped at the ends; a prediction uses the curve of its weight
// type at the nearest build date (the unpacking of each block type costs differently: on
// one DGX Spark build, q8_0 / q4_K / q6_K MMQ reach 67 / 62 / 48 TFLOPS at the same shape),
// else all types' rows. A prediction multiplies it back by the target shape's wave factor.
// A curve stands only for its own regime: points at x <= 8 (ggml's vector kernels, mmvq /
// mmvf, and the small-batch flash-attention kernels, which are bound by streaming the
// weights or the KV cache) never stand for x > 8 (the tiled MMQ / BLAS / prompt kernels,
// bound by the matrix units), nor the reverse; a group without points in the target's
// regime is passed over as if absent.
// Where a device/backend/path has no group, in order: for MUL_MAT_ID the same path's
// MUL_MAT curve (ggml runs expert GEMMs with the same MMQ kernel, over gathered rows); the
// same device and backend on another path of the same family (another build era), scaled
// by the two classes' peaks; the same device on another backend, scaled by a kernel-level
// ratio of the two backends measured on that machine at one build (BackendRatio); the same
// backend and path measured on another device, as a fraction of that device's peak; else
// the roofline default of devices.json. Wherever a MUL_MAT curve stands in for a
// MUL_MAT_ID, the same backend and path's MUL_MAT_ID / MUL_MAT ratio of one build on
// another device multiplies it, where some device has both. The lookup says which.
#pragma once
#include <map>
#include <set>
#include <string>
#include <vector>

#include "devices.h"
#include "measurements.h"
#include "paths.h"
#include "tiles.h"

namespace xk::gap {

struct CalPoint {
  double x = 0, eff = 0;
  int line = 0;
  std::string build, source, date;
  bool branch = false;  // an unmerged pull request's branch (is_branch_build)
  std::string type;     // the weight type (type_a), lower case; "" for attention and memory
};

struct CalGroup {
  std::string device, backend, path, kind, cls, family;
  double ops_per_byte = 0;  // the device's peak of `cls` / its bandwidth (0 for memory rows)
  std::vector<CalPoint> points;
  std::map<double, double> curve;                              // x -> median efficiency, all builds
  std::map<std::string, std::map<double, double>> era_curves;  // build date -> x -> median
  std::set<std::string> builds;
  bool upstream_only = false;   // branch rows left out of the curves: upstream rows exist
  double at(double x) const;    // interpolated in log2(x), clamped, within x's regime
  bool covers(double x) const;  // some point lies in x's regime (x <= 8 or x > 8)
  // covers(x) and, for x <= 8 and a weight type, a point of that type in that regime.
  bool covers(double x, const std::string& type) const;
  // The curve of the build date nearest `date` (the latest dated one when `date` is "").
  double at(double x, const std::string& date) const;
  // x > 0: only build dates with points in x's regime.
  std::string nearest_date(const std::string& date, double x = 0) const;
  // The efficiency at x for a weight type: the curve of that type's rows at their nearest
  // build date; without rows of the type, the curve of all types and dates (one type's rows
  // at one date do not make a build era for the others); with type "", at(x, date).
  // `rows` says which rows answered.
  double eval(double x, const std::string& date, const std::string& type, std::string& rows) const;
  double median() const, lo() const, hi() const;
};

struct CalLookup {
  double eff = 0;   // fraction of the peak of `cls` (wave factor not yet applied)
  std::string how;  // "calibrated: ...", "fallback: nearest build ...", "fallback: roofline default ..."
  bool calibrated = false, fallback_default = false;
};

// The same test-backend-ops cases timed on two backends of one machine at one build date:
// time(from) / time(to), the median over the weight types both timed. A time per run
// (or the geometric mean of the times of one case list) is comparable across backends only
// for the same cases, so a ratio is formed only from rows whose params text is identical.
struct BackendRatio {
  std::string device, from, to, date, source;
  std::string kind = "mm", family = "quant";
  double ratio = 0;  // achieved rate of `to` / achieved rate of `from`
  int pairs = 0;
};

// The cost of one dispatch inside a graph, per device and backend, from test-backend-ops
// perf times of elementwise ops too small for their bytes to matter (test-backend-ops
// repeats the op in one graph and divides the graph's time by the count, as a model's graph
// runs them back to back): an op of at most kDispatchMaxElements elements (its data stays
// in the L2) whose bytes (kDispatchBytesPerElement: two f32 sources and an f32 result) take
// at most half its time at the device's bandwidth gives the per-kernel cost as its time
// less that byte time.
constexpr double kDispatchMaxElements = 65536;
constexpr double kDispatchBytesPerElement = 12;
struct DispatchPoint {
  double us = 0;
  int line = 0;
  std::string op, build, date;
};

struct SkippedRow {
  int line = 0;
  std::string why;
};

struct Calibration {
  std::map<std::string, CalGroup> groups;  // key: device|backend|path|kind
  std::vector<BackendRatio> ratios;
  std::map<std::string, std::vector<DispatchPoint>> dispatch;  // key: device|backend
  std::vector<SkippedRow> skipped;
  std::set<std::string> sources;  // documents the fit used (source_document)
  size_t rows_used = 0;
  // cls: the class the prediction's path issues (for scaling a neighbour's efficiency).
  // date: the run's build date; rows of the nearest build date are used (build era).
  CalLookup lookup(const DeviceSpec& dev, const std::string& backend, const InstrPath& path,
                   const std::string& kind, double x, const std::string& date = "",
                   const std::string& type = "") const;

  // The per-kernel cost on this device and backend: the median of the dispatch points of
  // the build date nearest `date`; false (us untouched) when none was measured.
  bool dispatch_us(const std::string& device, const std::string& backend, const std::string& date, double& us,
                   std::string& how) const;

 private:
  void expert_ratio(const DeviceSpec& dev, const std::string& backend, const InstrPath& path, double x,
                    const std::string& date, const std::string& type, CalLookup& out) const;
};

// Rows whose device the database lacks, whose op has no kind, or whose path cannot be
// decided are skipped with a reason (Calibration::skipped), never guessed.
Calibration calibrate(const Database& db, const std::vector<KernelRow>& rows);

// The document a source cell names: its first word, the URL or repository path, without
// the annotation that follows ("https://.../pull/17906 (review by ...)" -> the URL).
std::string source_document(const std::string& source);

// A published run used an upstream build's kernels, not an unmerged pull request's or a
// fork's: a row whose build names a PR ("PR #123 branch") and not "master"/"base", or any
// build of a fork (is_fork_build: its base line included, since a fork's kernels are not
// the ones upstream builds ran), stands in for the curves only where its group has no
// upstream rows.
bool is_branch_build(const std::string& build);
// "unslothai/llama.cpp base", "AMD-Ecosystem/llama.cpp ... (fork of llama.cpp)".
bool is_fork_build(const std::string& build);

// The kind of an op: "mm", "mm_id", "fa", "mem", or "" (not a kernel the model uses).
std::string kernel_kind(const std::string& op);

void print_calibration(std::ostream& out, const Calibration& c);

}  // namespace xk::gap
