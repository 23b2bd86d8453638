// Buffers, tensors, device descriptions and launch records (no Device yet: see device.h).
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "xk/dtype.h"
#include "xk/error.h"

namespace xk {

class Device;
struct PackedCopies;  // backends/core/tensor.cpp

struct DeviceInfo {
  std::string name;           // "cpu-ref", "vulkan:0", "cuda:0", "cuda-sim", ...
  std::string api;            // "cpu", "vulkan", "cuda", "hip", "sim"
  std::string arch;           // "sm_121a", "gfx1151", "llvmpipe", "x86_64", ...
  std::string description;    // driver / product string
  uint64_t memory_bytes = 0;  // device memory (or host memory for CPU-backed devices)
  bool unified_memory = false;
  int subgroup_size = 1;              // warp / wave / subgroup width; 1 for scalar CPU
  int compute_units = 0;              // SMs / CUs / cores
  std::vector<std::string> features;  // "fp16", "int8_dot", "coopmat", "fp4_mma", ...
  bool has(const std::string& f) const;
};

// What one launch did. Backends fill what they can measure.
struct LaunchRecord {
  std::string variant;                    // stable kernel-variant name that ran
  ActPrecision act = ActPrecision::Auto;  // activation precision actually used (matmul)
  double device_seconds = -1;             // device-timed duration; < 0 when timing is off/unavailable
  // Counters (the simulator fills these from the real kernel's execution).
  bool has_counters = false;
  std::map<std::string, uint64_t> mma_by_kind;  // e.g. "mma.m16n8k64.mxf4nvf4" -> count
  uint64_t global_bytes_read = 0, global_bytes_written = 0;
  uint64_t shared_bytes = 0, barriers = 0;
};

class BufferImpl;  // the backend's storage: backends/core/buffer_impl.h

// Move-only owner of device memory (RAII: freed when the Buffer goes). Made by Device::alloc.
// A Buffer may outlive its Device: it then still frees its memory safely, and every use of it
// (device(), read/write, passing its tensor to an op) throws xk::Error instead of crashing.
class Buffer {
 public:
  Buffer() noexcept;
  ~Buffer();
  Buffer(Buffer&&) noexcept;
  Buffer& operator=(Buffer&&) noexcept;
  size_t size() const;
  bool valid() const { return impl_ != nullptr; }
  // The device that allocated this buffer; nullptr for an empty Buffer. Throws
  // xk::Error("buffer", "device", ...) when that device has been destroyed.
  Device* device() const;

 private:
  friend struct BufferAccess;  // backends/core/buffer_impl.h
  std::unique_ptr<BufferImpl> impl_;
};

// A typed view over a Buffer. Row-major; shape[0] is the slowest dimension.
// Quantized tensors hold GGUF-canonical rows of blocks along the last dimension.
struct Tensor {
  DType dtype = DType::F32;
  std::vector<int64_t> shape;
  Buffer buf;
  float tensor_scale = 1.0f;  // NVFP4 per-tensor FP32 scale (1 for every other format)
  // The backend's repacked copies of a weight tensor (made by xk::packed at upload or on
  // first use; opaque here).
  mutable std::shared_ptr<PackedCopies> packed;

  int64_t numel() const;
  size_t bytes() const;  // bytes the shape needs in this dtype
  // Buffer::device(), but a destroyed device is reported as
  // xk::Error("tensor", "device", "device 'NAME' was destroyed before this tensor").
  Device* device() const;
  std::string shape_str() const;  // "[512, 4096]"
};

}  // namespace xk
