#include "backends/sim/sim_device.h"

#include <cstdlib>
#include <cstring>

#include "backends/sim/engine.h"
#include "xk/error.h"

namespace xk::sim {

SimBuffer::SimBuffer(size_t n, std::shared_ptr<LiveBuffers> live) : live_(std::move(live)) {
  bytes = n;
  const size_t data_bytes = (n + kGuard - 1) / kGuard * kGuard;
  base_ = static_cast<uint8_t*>(std::aligned_alloc(kGuard, data_bytes + 2 * kGuard));
  if (!base_) throw Error("alloc", "bytes", "out of host memory allocating " + std::to_string(n) + " bytes");
  std::memset(base_, kGuardByte, kGuard);
  std::memset(base_ + kGuard, 0xFF, n);
  std::memset(base_ + kGuard + n, kGuardByte, data_bytes - n + kGuard);
  register_allocation(data(), n);  // kernel reads outside it are reported (engine.h)
  if (!live_) return;
  std::lock_guard<std::mutex> g(live_->m);
  live_->buffers.insert(this);
}

SimBuffer::~SimBuffer() {
  unregister_allocation(data());
  if (live_) {
    std::lock_guard<std::mutex> g(live_->m);
    live_->buffers.erase(this);
  }
  std::free(base_);
}

std::string SimBuffer::check_and_restore() {
  const size_t data_bytes = (bytes + kGuard - 1) / kGuard * kGuard;
  const size_t tail = data_bytes - bytes + kGuard;
  long first_before = -1, last_after = -1;
  for (size_t i = 0; i < kGuard; ++i)
    if (base_[i] != kGuardByte) {
      first_before = long(kGuard - i);
      break;
    }
  const uint8_t* end = base_ + kGuard + bytes;
  for (size_t i = tail; i-- > 0;)
    if (end[i] != kGuardByte) {
      last_after = long(i);
      break;
    }
  if (first_before < 0 && last_after < 0) return "";
  std::string what;
  if (first_before >= 0) what += "up to " + std::to_string(first_before) + " bytes before its start";
  if (last_after >= 0)
    what += std::string(what.empty() ? "" : " and ") + "at byte offset " +
            std::to_string(bytes + size_t(last_after)) + " (" + std::to_string(last_after + 1) +
            " bytes past its end)";
  std::memset(base_, kGuardByte, kGuard);
  std::memset(base_ + kGuard + bytes, kGuardByte, tail);
  return what;
}

// XK_SIM_COMPUTE_UNITS=<n> makes the device report n SMs / CUs, so split-K and other
// occupancy-dependent choices take the paths a real GPU takes (GB10: 48 SMs, gfx1151: 40 CUs).
SimDevice::SimDevice(DeviceInfo info) : info_(std::move(info)) {
  if (const char* v = std::getenv("XK_SIM_COMPUTE_UNITS"); v && std::atoi(v) > 0)
    info_.compute_units = std::atoi(v);
}

std::unique_ptr<BufferImpl> SimDevice::allocate(size_t bytes) {
  if (bytes > info_.memory_bytes)
    throw Error("alloc", "bytes",
                "out of device memory: " + std::to_string(bytes) + " bytes requested, " + info_.name +
                    " has " + std::to_string(info_.memory_bytes));
  return std::make_unique<SimBuffer>(bytes, live_);
}

void SimDevice::write_bytes(Buffer& dst, size_t offset, const void* src, size_t bytes) {
  if (bytes) std::memcpy(data(dst) + offset, src, bytes);
}

void SimDevice::read_bytes(const Buffer& src, size_t offset, void* dst, size_t bytes) {
  if (bytes) std::memcpy(dst, data(src) + offset, bytes);
}

void SimDevice::restore_guards() {
  std::lock_guard<std::mutex> g(live_->m);
  for (SimBuffer* b : live_->buffers) (void)b->check_and_restore();
}

void SimDevice::check_guards(const std::string& kernel, const std::vector<const void*>& args) {
  std::lock_guard<std::mutex> g(live_->m);
  for (SimBuffer* b : live_->buffers) {
    const std::string what = b->check_and_restore();
    if (what.empty()) continue;
    std::string arg = "no pointer argument points into it";
    for (size_t i = 0; i < args.size(); ++i) {
      const auto* p = static_cast<const uint8_t*>(args[i]);
      if (p >= b->data() - SimBuffer::kGuard && p <= b->data() + b->bytes + SimBuffer::kGuard) {
        arg = "kernel argument #" + std::to_string(i);
        break;
      }
    }
    throw Error(info_.name, "kernel '" + kernel + "' wrote outside a buffer of " + std::to_string(b->bytes) +
                                " bytes (" + arg + "): " + what);
  }
}

}  // namespace xk::sim
