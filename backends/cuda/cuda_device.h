// The CUDA device: one GPU seen through the CUDA runtime API. Owns one stream; buffers are
// stream-ordered allocations (cudaMallocAsync) so per-launch scratch is cheap; events time
// launches when Device::timing() is on. Compiled by g++ (no kernels here: see kernels.cu).
#pragma once
#include <cuda_runtime_api.h>

#include <memory>
#include <string>
#include <vector>

#include "backends/core/buffer_impl.h"
#include "xk/device.h"
#include "xk/registry.h"

namespace xk::cuda {

// Throws xk::Error(op, "<call> failed: <cudaGetErrorString>") when status is not cudaSuccess.
void check(cudaError_t status, const char* op, const char* call);

class CudaBuffer : public BufferImpl {
 public:
  CudaBuffer(size_t n, cudaStream_t stream);
  ~CudaBuffer() override;  // cudaFreeAsync on the owning stream
  CudaBuffer(const CudaBuffer&) = delete;
  CudaBuffer& operator=(const CudaBuffer&) = delete;
  void* data() const { return ptr_; }

 private:
  void* ptr_ = nullptr;
  cudaStream_t stream_;
};

// Move-only owner of a cudaEvent_t.
class Event {
 public:
  Event();
  ~Event();
  Event(const Event&) = delete;
  Event& operator=(const Event&) = delete;
  cudaEvent_t get() const { return ev_; }

 private:
  cudaEvent_t ev_ = nullptr;
};

class Launcher;  // launcher.h

class CudaDevice : public Device {
 public:
  explicit CudaDevice(int ordinal);
  ~CudaDevice() override;
  const DeviceInfo& info() const override { return info_; }
  void synchronize() override;

  cudaStream_t stream() const { return stream_; }
  int ordinal() const { return ordinal_; }
  // "sm_121a": the arch string this build can run on this GPU ("a" when the arch-specific
  // target was compiled), and whether the FP4 block-scaled MMA kernels are usable.
  static std::string arch_string(int major, int minor);

 protected:
  std::unique_ptr<BufferImpl> allocate(size_t bytes) override;
  void write_bytes(Buffer& dst, size_t offset, const void* src, size_t bytes) override;
  void read_bytes(const Buffer& src, size_t offset, void* dst, size_t bytes) override;
  // Repacks NVFP4/MXFP4/Q4_0/Q8_0 weights into the MMA-friendly layouts at upload.
  void prepare_weights(Tensor& w) override;

 private:
  int ordinal_;
  cudaStream_t stream_ = nullptr;
  // Owns stream_ and is shared with every buffer (their keep_alive): a buffer that outlives
  // this device frees itself (cudaFreeAsync) on a stream that still exists; the last one
  // synchronizes and destroys it.
  std::shared_ptr<CUstream_st> stream_owner_;
  DeviceInfo info_;
  std::unique_ptr<Launcher> launcher_;  // what the variant table launches through
};

// What the runtime sees: one entry per GPU, or one unavailable entry with the reason.
std::vector<DeviceEntry> enumerate();

}  // namespace xk::cuda
