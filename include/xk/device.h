// Devices, buffers and tensors: the part of the dispatch interface every backend implements.
//
//   auto dev = xk::open_device("vulkan:0");            // registry.h
//   xk::Tensor W = xk::upload_weights(*dev, DType::Q4_0, N, K, gguf_bytes);
//   xk::Tensor X = xk::upload(*dev, DType::F32, {M, K}, x.data());
//   xk::Tensor Y = xk::matmul(*dev, W, X);              // ops.h
//   std::vector<float> y = xk::download_f32(Y);
//
// Lifetime: a Buffer/Tensor may outlive the Device that allocated it. Destroying it then is
// safe (its memory is freed once, by the backend state it keeps alive), and every other use
// of it (download, Device::read/write, passing it to an op) throws
// xk::Error(op, argument, "device 'NAME' was destroyed before this tensor"). Using a Device
// reference after the Device itself is destroyed is, as for any C++ object, undefined.
//
// Threads: a Device, and every Buffer/Tensor it allocated, is used by one thread at a time
// (the caller serialises; nothing inside locks). Distinct Devices, each with its own
// tensors, may be used from different threads in parallel, two instances of the same
// device name included. The const queries info(), variants(), timing() and last_launch()
// are safe from any thread at any time, also while another thread runs an op on the device.
// Each op call returns its own LaunchRecord (ops.h): that is the record to use; last_launch()
// is a copy of whichever call on this device finished last, from any thread.
//
// Weights: a Tensor returned by upload_weights is immutable. Backends keep repacked copies
// of it (vulkan:0, cuda), so later writes into its buffer are not seen by every device:
// upload new weights as a new tensor instead.
#pragma once
#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "xk/tensor.h"
#include "xk/variant.h"

namespace xk {

struct DeviceAccess;

class Device {
 public:
  Device() : token_(std::make_shared<Device*>(this)) {}
  virtual ~Device() { *token_ = nullptr; }  // tells the buffers still alive that this device is gone
  Device(const Device&) = delete;
  Device& operator=(const Device&) = delete;

  virtual const DeviceInfo& info() const = 0;
  // Allocates `bytes` (0 allowed). Throws xk::Error("alloc", "bytes", "out of device memory ...").
  Buffer alloc(size_t bytes);
  // Host <-> device copies of [offset, offset+bytes) of a buffer this device allocated. Throws
  // xk::Error("write"/"read", ...) for a buffer of another device or of a destroyed one, and
  // for a range outside the buffer.
  void write(Buffer& dst, size_t offset, const void* src, size_t bytes);
  void read(const Buffer& src, size_t offset, void* dst, size_t bytes);
  virtual void synchronize() = 0;

  // The kernel-variant table of this device (variant.h); filled once by the backend.
  const std::vector<Variant>& variants() const { return variants_; }
  // Device timers: when on, launches record device_seconds (events / timestamp queries).
  void set_timing(bool on) { timing_ = on; }
  bool timing() const { return timing_; }
  // A copy of the record of the matmul / attention call on this device that finished last.
  // Prefer the record each call returns (ops.h), which is that call's own.
  LaunchRecord last_launch() const;

 protected:
  // What each backend implements; the public functions above check arguments first, so these
  // see only a buffer of this device and an in-range [offset, offset + bytes).
  virtual std::unique_ptr<BufferImpl> allocate(size_t bytes) = 0;
  virtual void write_bytes(Buffer& dst, size_t offset, const void* src, size_t bytes) = 0;
  virtual void read_bytes(const Buffer& src, size_t offset, void* dst, size_t bytes) = 0;
  // Optional repack of a freshly uploaded weight tensor into the backend's layouts
  // (upload_weights calls it).
  virtual void prepare_weights(Tensor& /*w*/) {}

 private:
  friend struct DeviceAccess;  // backends and ops.cpp (backends/core/variant_row.h)
  void check_own(const char* op, const char* arg, const Buffer& b, size_t offset, size_t bytes) const;
  std::vector<Variant> variants_;
  std::atomic<bool> timing_{false};
  // This device while it lives, nullptr after: shared with every buffer it allocated
  // (backends/core/buffer_impl.h).
  std::shared_ptr<Device*> token_;
  mutable std::mutex last_mutex_;
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
