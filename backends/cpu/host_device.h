// Host-memory device base: buffers in ordinary memory, copies are memcpy, launches are
// synchronous. Used by cpu-ref and by the simulator devices (cuda-sim, hip-sim).
#pragma once
#include <cstdint>
#include <memory>

#include "backends/core/buffer_impl.h"
#include "xk/device.h"

namespace xk::host {

class HostBuffer : public BufferImpl {
 public:
  explicit HostBuffer(size_t n);
  ~HostBuffer() override;
  uint8_t* data() const { return data_; }

 private:
  uint8_t* data_ = nullptr;
};

// Raw host pointer of a tensor living on a host-memory device.
inline uint8_t* data(const Buffer& b) { return impl_as<HostBuffer>(b)->data(); }
template <class T>
T* data_as(const Tensor& t) {
  return reinterpret_cast<T*>(data(t.buf));
}

class HostDevice : public Device {
 public:
  explicit HostDevice(DeviceInfo info) : info_(std::move(info)) {}
  const DeviceInfo& info() const override { return info_; }
  void synchronize() override {}

 protected:
  std::unique_ptr<BufferImpl> allocate(size_t bytes) override;
  void write_bytes(Buffer& dst, size_t offset, const void* src, size_t bytes) override;
  void read_bytes(const Buffer& src, size_t offset, void* dst, size_t bytes) override;
  DeviceInfo info_;
};

// Host memory size (for DeviceInfo::memory_bytes) and a short CPU description.
uint64_t host_memory_bytes();
std::string host_cpu_name();
std::string host_arch();

}  // namespace xk::host
