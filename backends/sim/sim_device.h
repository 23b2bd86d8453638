// The simulator devices cuda-sim and hip-sim: host memory with guard regions.
//
// Every buffer is allocated as [guard | data | guard] (256 bytes of 0xA5 each side; fresh
// data is 0xFF-filled so unwritten output reads as NaN). After each launch the launcher calls
// check_guards(); a changed guard byte is an out-of-bounds write, reported as xk::Error
// naming the kernel, the buffer and how far outside it the write landed. Writes of exactly
// 0xA5 bytes, writes further than 256 bytes away, and out-of-bounds reads are not detected.
#pragma once
#include <cstdint>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "backends/core/buffer_impl.h"
#include "xk/device.h"

namespace xk::sim {

class SimBuffer;

// The live buffers of one device, which check_guards() inspects after each launch. Each buffer
// shares ownership of it, so a buffer that outlives its device still leaves it safely.
struct LiveBuffers {
  std::mutex m;
  std::set<SimBuffer*> buffers;
};

class SimBuffer : public BufferImpl {
 public:
  static constexpr size_t kGuard = 256;
  static constexpr uint8_t kGuardByte = 0xA5;
  // `live`: the device's set to join (none for a standalone buffer, as some tests make).
  explicit SimBuffer(size_t n, std::shared_ptr<LiveBuffers> live = nullptr);
  ~SimBuffer() override;
  uint8_t* data() const { return base_ + kGuard; }
  // "" when both guards are intact; otherwise a description (and the guards are restored).
  std::string check_and_restore();

 private:
  uint8_t* base_ = nullptr;
  std::shared_ptr<LiveBuffers> live_;
};

class SimDevice : public Device {
 public:
  explicit SimDevice(DeviceInfo info);
  const DeviceInfo& info() const override { return info_; }
  void synchronize() override {}
  // Throws xk::Error when a launch of `kernel` wrote outside any live buffer. `args` are the
  // launch's pointer arguments, to name the kernel argument that points into the buffer.
  void check_guards(const std::string& kernel, const std::vector<const void*>& args);
  // After a launch that failed: guards put back without a report (the error is already one).
  void restore_guards();

 protected:
  std::unique_ptr<BufferImpl> allocate(size_t bytes) override;
  void write_bytes(Buffer& dst, size_t offset, const void* src, size_t bytes) override;
  void read_bytes(const Buffer& src, size_t offset, void* dst, size_t bytes) override;

 private:
  DeviceInfo info_;
  std::shared_ptr<LiveBuffers> live_ = std::make_shared<LiveBuffers>();
};

inline uint8_t* data(const Buffer& b) { return b.valid() ? impl_as<SimBuffer>(b)->data() : nullptr; }

}  // namespace xk::sim
