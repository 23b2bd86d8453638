// Devices, buffers and tensors: the part of the dispatch interface every backend implements.
//
//   auto dev = xk::open_device("vulkan:0");            // registry.h
//   xk::Tensor W = xk::upload_weights(*dev, DType::Q4_0, N, K, gguf_bytes);
//   xk::Tensor X = xk::upload(*dev, DType::F32, {M, K}, x.data());
//   xk::Tensor Y = xk::matmul(*dev, W, X);              // ops.h
//   std::vector<float> y = xk::download_f32(Y);
//
// Lifetime: a Device must outlive every Buffer/Tensor it allocated.
//
// Threads: a Device, and every Buffer/Tensor it allocated, is used by one thread at a time
// (the caller serialises; nothing inside locks). Distinct Devices, each with its own
// tensors, may be used from different threads in parallel, two instances of the same
// device name included. last_launch() is per-Device state under the same rule: read it
// from the thread that made the call, before that thread's next call.
//
// Weights: a Tensor returned by upload_weights is immutable. Backends keep repacked copies
// of it (vulkan:0, cuda), so later writes into its buffer are not seen by every device:
// upload new weights as a new tensor instead.
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "xk/tensor.h"
#include "xk/variant.h"

namespace xk {

struct DeviceAccess;

class Device {
 public:
  virtual ~Device() = default;
  virtual const DeviceInfo& info() const = 0;
  // Allocates `bytes` (0 allowed). Throws xk::Error("alloc", "bytes", "out of device memory ...").
  virtual Buffer alloc(size_t bytes) = 0;
  // Host <-> device copies of [offset, offset+bytes). Callers have checked the range.
  virtual void write(Buffer& dst, size_t offset, const void* src, size_t bytes) = 0;
  virtual void read(const Buffer& src, size_t offset, void* dst, size_t bytes) = 0;
  virtual void synchronize() = 0;

  // The kernel-variant table of this device (variant.h); filled once by the backend.
  const std::vector<Variant>& variants() const { return variants_; }
  // Device timers: when on, launches record device_seconds (events / timestamp queries).
  void set_timing(bool on) { timing_ = on; }
  bool timing() const { return timing_; }
  // What the last matmul / attention call on this device ran.
  const LaunchRecord& last_launch() const { return last_; }

 protected:
  // Optional repack of a freshly uploaded weight tensor into the backend's layouts
  // (upload_weights calls it).
  virtual void prepare_weights(Tensor& /*w*/) {}

 private:
  friend struct DeviceAccess;  // backends and ops.cpp (backends/core/variant_row.h)
  std::vector<Variant> variants_;
  bool timing_ = false;
  LaunchRecord last_;
};

// Host helpers over the Device interface (argument checks included).
Tensor make_tensor(Device& dev, DType dtype, std::vector<int64_t> shape);
Tensor upload(Device& dev, DType dtype, std::vector<int64_t> shape, const void* data);
// Uploads a [N, K] weight matrix in GGUF-canonical bytes, then lets the backend repack it.
Tensor upload_weights(Device& dev, DType dtype, int64_t n, int64_t k, const void* data,
                      float tensor_scale = 1.0f);
void download(const Tensor& t, void* dst, size_t dst_bytes);
std::vector<float> download_f32(const Tensor& t);  // F32 tensors only

}  // namespace xk
