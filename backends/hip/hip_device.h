// hip:N — one AMD GPU through the HIP runtime (libamdhip64): buffers, one stream, events.
//
// Compiled by the host C++ compiler (g++) against the HIP runtime API only; the kernel
// launches live in variants.hip (clang -x hip), reached through make_variants() (launcher.h).
#pragma once
#include <hip/hip_runtime_api.h>

#include <memory>
#include <string>
#include <vector>

#include "backends/core/buffer_impl.h"
#include "xk/device.h"
#include "xk/registry.h"

namespace xk::hip {

// Throws xk::Error("hip", "<what>: <hipErrorName>: <string>") when rc is not hipSuccess.
void check(hipError_t rc, const char* what);

class HipBuffer : public BufferImpl {
 public:
  HipBuffer(int device, size_t n);
  ~HipBuffer() override;
  HipBuffer(const HipBuffer&) = delete;
  HipBuffer& operator=(const HipBuffer&) = delete;
  void* ptr = nullptr;  // device address (nullptr for 0 bytes)

 private:
  int device_;
};

class Launcher;  // launcher.h

class HipDevice : public Device {
 public:
  explicit HipDevice(int index);
  ~HipDevice() override;
  const DeviceInfo& info() const override { return info_; }
  void synchronize() override;

  int index() const { return index_; }
  hipStream_t stream() const { return stream_; }
  void make_current() const;  // hipSetDevice(index)

 protected:
  // hipFree needs only the device index, so a HipBuffer that outlives this device frees
  // itself without a keep_alive.
  std::unique_ptr<BufferImpl> allocate(size_t bytes) override;
  void write_bytes(Buffer& dst, size_t offset, const void* src, size_t bytes) override;
  void read_bytes(const Buffer& src, size_t offset, void* dst, size_t bytes) override;

 private:
  int index_;
  DeviceInfo info_;
  hipStream_t stream_ = nullptr;
  std::unique_ptr<Launcher> launcher_;  // what the variant table launches through
};

// DeviceInfo of GPU `index` from hipGetDeviceProperties (arch = gcnArchName without the
// ":sramecc-:xnack-" feature suffix).
DeviceInfo query_info(int index);

// The archs libxk carries code objects for (XK_HIP_ARCHS at build time).
std::vector<std::string> built_archs();

// roctx ranges around launches: libroctx64 is loaded at run time when present (ROCm's
// roctracer), so the build needs no roctracer headers and a machine without it runs
// unchanged, only without ranges.
class RoctxRange {
 public:
  explicit RoctxRange(const char* name);
  ~RoctxRange();
  RoctxRange(const RoctxRange&) = delete;
  RoctxRange& operator=(const RoctxRange&) = delete;

 private:
  bool pushed_ = false;
};

// Device-timed interval on the device's stream (hipEvent pair); seconds() synchronizes.
class EventTimer {
 public:
  explicit EventTimer(hipStream_t s);
  ~EventTimer();
  EventTimer(const EventTimer&) = delete;
  EventTimer& operator=(const EventTimer&) = delete;
  void stop();
  double seconds();

 private:
  hipStream_t stream_;
  hipEvent_t start_ = nullptr, stop_ = nullptr;
};

}  // namespace xk::hip
