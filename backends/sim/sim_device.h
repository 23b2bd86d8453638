// The simulator devices cuda-sim and hip-sim: host memory with guard regions.
//
// Every buffer is allocated as [guard | data | guard] (256 bytes of 0xA5 each side; fresh
// data is 0xFF-filled so unwritten output reads as NaN). After each launch the launcher calls
// check_guards(); a changed guard byte is an out-of-bounds write, reported as xk::Error
// naming the kernel, the buffer and how far outside it the write landed. Writes of exactly
// 0xA5 bytes, writes further than 256 bytes away, and out-of-bounds reads are not detected.
#pragma once
#include <cstdint>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "xk/device.h"

namespace xk::sim {

class SimBuffer : public BufferImpl {
 public:
  static constexpr size_t kGuard = 256;
  static constexpr uint8_t kGuardByte = 0xA5;
  explicit SimBuffer(size_t n);
  ~SimBuffer() override;
  uint8_t* data() const { return base_ + kGuard; }
  // "" when both guards are intact; otherwise a description (and the guards are restored).
  std::string check_and_restore();

 private:
  uint8_t* base_ = nullptr;
};

class SimDevice : public Device {
 public:
  explicit SimDevice(DeviceInfo info);
  ~SimDevice() override;
  const DeviceInfo& info() const override { return info_; }
  Buffer alloc(size_t bytes) override;
  void write(Buffer& dst, size_t offset, const void* src, size_t bytes) override;
  void read(const Buffer& src, size_t offset, void* dst, size_t bytes) override;
  void synchronize() override {}
  // Throws xk::Error when a launch of `kernel` wrote outside any live buffer. `args` are the
  // launch's pointer arguments, to name the kernel argument that points into the buffer.
  void check_guards(const std::string& kernel, const std::vector<const void*>& args);
  void forget(SimBuffer* b);

 private:
  DeviceInfo info_;
  std::mutex m_;
  std::set<SimBuffer*> live_;
};

inline uint8_t* data(const Buffer& b) { return b.valid() ? b.impl<SimBuffer>()->data() : nullptr; }

}  // namespace xk::sim
