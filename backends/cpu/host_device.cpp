#include "host_device.h"

#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <new>
#include <string>

#include "xk/error.h"

namespace xk::host {

HostBuffer::HostBuffer(size_t n) {
  bytes = n;
  // 64-byte aligned like a cache line; at least one line so data() is never null.
  const size_t rounded = ((n + 63) / 64) * 64;
  data_ = static_cast<uint8_t*>(std::aligned_alloc(64, rounded ? rounded : 64));
  if (!data_) throw Error("alloc", "bytes", "out of host memory allocating " + std::to_string(n) + " bytes");
}

HostBuffer::~HostBuffer() { std::free(data_); }

// Host memory needs nothing of the device to be freed: no keep_alive.
std::unique_ptr<BufferImpl> HostDevice::allocate(size_t bytes) {
  if (bytes > info_.memory_bytes)
    throw Error("alloc", "bytes",
                "out of device memory: " + std::to_string(bytes) + " bytes requested, " + info_.name +
                    " has " + std::to_string(info_.memory_bytes));
  return std::make_unique<HostBuffer>(bytes);
}

void HostDevice::write_bytes(Buffer& dst, size_t offset, const void* src, size_t bytes) {
  if (bytes) std::memcpy(data(dst) + offset, src, bytes);
}

void HostDevice::read_bytes(const Buffer& src, size_t offset, void* dst, size_t bytes) {
  if (bytes) std::memcpy(dst, data(src) + offset, bytes);
}

uint64_t host_memory_bytes() {
  const long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGE_SIZE);
  return pages > 0 && page > 0 ? static_cast<uint64_t>(pages) * static_cast<uint64_t>(page) : 0;
}

std::string host_cpu_name() {
  std::ifstream in("/proc/cpuinfo");
  for (std::string line; std::getline(in, line);)
    if (line.rfind("model name", 0) == 0) {
      auto p = line.find(':');
      return p == std::string::npos ? line : line.substr(p + 2);
    }
  return "unknown CPU";
}

std::string host_arch() {
#if defined(__x86_64__)
  return "x86_64";
#elif defined(__aarch64__)
  return "aarch64";
#else
  return "unknown";
#endif
}

}  // namespace xk::host
