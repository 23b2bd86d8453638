// What a backend's variant table is made of (internal: backends and ops.cpp only).
//
// Every backend lists its kernels as rows of one type: the descriptive fields of xk::Variant
// plus the row's behaviour. A table is a plain list of rows; the reasoning for choosing a
// row lives in its family's `supports` policy, and the choice itself in ops.cpp.
#pragma once
#include <functional>
#include <mutex>
#include <string>

#include "xk/device.h"
#include "xk/variant.h"

namespace xk {

// A row sets the entries of its op by designated initializers; the `{}` defaults leave the
// others empty without a -Wmissing-field-initializers warning per row.
struct VariantOps {
  // "" when the variant can run the call on this device; otherwise why not.
  std::function<std::string(const MatmulArgs&, const DeviceInfo&)> supports_matmul{};
  std::function<std::string(const AttentionArgs&, const DeviceInfo&)> supports_attention{};
  // Runs the call; fills rec.device_seconds when dev.timing() and counters when it can.
  std::function<void(Device&, const MatmulArgs&, LaunchRecord&)> run_matmul{};
  std::function<void(Device&, const AttentionArgs&, LaunchRecord&)> run_attention{};
};

// The stable name of a row: <family>_<weights>_<acts>_<m>x<n>_<technique>_<arch>, where
// weights / acts are the one format / precision the row takes or "all", and arch is
// min_arch without punctuation ("sm_120a" -> "sm120a", "vk1.2" -> "vk", "any" -> "cpu").
// Throws std::logic_error naming the field when a row breaks the rule, so a table cannot
// be built with a malformed name.
std::string variant_name(const Variant& row);

// Completes a row: derives its name and attaches its behaviour.
Variant make_row(Variant fields, VariantOps ops);

// The Device internals that backends and ops.cpp reach and users do not.
struct DeviceAccess {
  static std::vector<Variant>& variants(Device& d) { return d.variants_; }
  static void set_last_launch(Device& d, LaunchRecord r) {
    std::lock_guard<std::mutex> lock(d.last_mutex_);  // last_launch() may be read meanwhile
    d.last_ = std::move(r);
  }
  static void prepare_weights(Device& d, Tensor& w) { d.prepare_weights(w); }
};

// Adds one launch's device time to a record that may hold earlier launches of the same call
// (a quantizer before a GEMM, a combine after split-K attention).
inline void add_device_time(LaunchRecord& rec, double seconds) {
  rec.device_seconds = (rec.device_seconds < 0 ? 0.0 : rec.device_seconds) + seconds;
}

// The backend's copy of weight tensor `w` in layout `key`, made on first use: `repack` turns
// the canonical (GGUF) bytes into the layout's bytes, which are uploaded to w's device and
// kept with the tensor. Weights are treated as immutable once packed.
const Buffer& packed(
    const Tensor& w, const std::string& key,
    const std::function<std::vector<uint8_t>(const std::vector<uint8_t>& canonical)>& repack);

}  // namespace xk
