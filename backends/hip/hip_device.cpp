#include "hip_device.h"

#include "backends/hip/launcher.h"

#include <dlfcn.h>

#include <sstream>
#include <string>

#include "backends/core/variant_row.h"
#include "xk/error.h"

namespace xk::hip {

void check(hipError_t rc, const char* what) {
  if (rc == hipSuccess) return;
  throw Error("hip", std::string(what) + ": " + hipGetErrorName(rc) + ": " + hipGetErrorString(rc));
}

// ---- buffers ---------------------------------------------------------------------------

HipBuffer::HipBuffer(int device, size_t n) : device_(device) {
  bytes = n;
  if (n == 0) return;
  check(hipSetDevice(device), "hipSetDevice");
  const hipError_t rc = hipMalloc(&ptr, n);
  if (rc == hipErrorOutOfMemory || rc == hipErrorMemoryAllocation) {
    (void)hipGetLastError();  // clear the sticky error so later calls are not poisoned
    throw Error(
        "alloc", "bytes",
        "out of device memory allocating " + std::to_string(n) + " bytes on hip:" + std::to_string(device));
  }
  check(rc, "hipMalloc");
}

HipBuffer::~HipBuffer() {
  if (ptr) {
    (void)hipSetDevice(device_);
    (void)hipFree(ptr);  // a destructor must not throw; a failing free leaks at worst
  }
}

// ---- device ----------------------------------------------------------------------------

std::vector<std::string> built_archs() {
  std::vector<std::string> out;
  std::stringstream in(XK_HIP_ARCHS_BUILT);
  for (std::string a; std::getline(in, a, ',');)
    if (!a.empty()) out.push_back(a);
  return out;
}

DeviceInfo query_info(int index) {
  hipDeviceProp_t p{};
  check(hipGetDeviceProperties(&p, index), "hipGetDeviceProperties");
  DeviceInfo i;
  i.name = "hip:" + std::to_string(index);
  i.api = "hip";
  std::string arch = p.gcnArchName;
  i.arch = arch.substr(0, arch.find(':'));
  i.description = std::string(p.name) + " (" + arch + ", " + std::to_string(p.multiProcessorCount) + " CUs)";
  i.memory_bytes = p.totalGlobalMem;
  i.unified_memory = p.integrated != 0;
  i.subgroup_size = p.warpSize;
  i.compute_units = p.multiProcessorCount;
  i.features = {"fp16", "bf16", "int8"};
  // RDNA 3 / 3.5 (gfx11): WMMA 16x16x16 f16/bf16/iu8/iu4 in wave32 (RDNA3 ISA section 7.9).
  if (i.arch.rfind("gfx11", 0) == 0) i.features.push_back("wmma");
  return i;
}

HipDevice::HipDevice(int index) : index_(index), info_(query_info(index)) {
  make_current();
  check(hipStreamCreateWithFlags(&stream_, hipStreamNonBlocking), "hipStreamCreate");
  launcher_ = std::make_unique<Launcher>(*this);
  DeviceAccess::variants(*this) = make_variants(*launcher_);
}

HipDevice::~HipDevice() {
  DeviceAccess::variants(*this).clear();  // the rows refer to the launcher
  launcher_.reset();
  if (stream_) {
    (void)hipSetDevice(index_);
    (void)hipStreamSynchronize(stream_);
    (void)hipStreamDestroy(stream_);
  }
}

void HipDevice::make_current() const { check(hipSetDevice(index_), "hipSetDevice"); }

std::unique_ptr<BufferImpl> HipDevice::allocate(size_t bytes) {
  return std::make_unique<HipBuffer>(index_, bytes);
}

void HipDevice::write_bytes(Buffer& dst, size_t offset, const void* src, size_t bytes) {
  if (!bytes) return;
  make_current();
  auto* p = static_cast<char*>(impl_as<HipBuffer>(dst)->ptr) + offset;
  check(hipMemcpyAsync(p, src, bytes, hipMemcpyHostToDevice, stream_), "hipMemcpyAsync(HtoD)");
  check(hipStreamSynchronize(stream_), "hipStreamSynchronize");
}

void HipDevice::read_bytes(const Buffer& src, size_t offset, void* dst, size_t bytes) {
  if (!bytes) return;
  make_current();
  const auto* p = static_cast<const char*>(impl_as<HipBuffer>(src)->ptr) + offset;
  check(hipMemcpyAsync(dst, p, bytes, hipMemcpyDeviceToHost, stream_), "hipMemcpyAsync(DtoH)");
  check(hipStreamSynchronize(stream_), "hipStreamSynchronize");
}

void HipDevice::synchronize() {
  make_current();
  check(hipStreamSynchronize(stream_), "hipStreamSynchronize");
}

// ---- roctx -----------------------------------------------------------------------------

namespace {
struct Roctx {
  int (*push)(const char*) = nullptr;
  int (*pop)() = nullptr;
  Roctx() {
    void* lib = dlopen("libroctx64.so", RTLD_NOW | RTLD_LOCAL);
    if (!lib) lib = dlopen("libroctx64.so.4", RTLD_NOW | RTLD_LOCAL);
    if (!lib) return;
    push = reinterpret_cast<int (*)(const char*)>(dlsym(lib, "roctxRangePushA"));
    pop = reinterpret_cast<int (*)()>(dlsym(lib, "roctxRangePop"));
    if (!push || !pop) push = nullptr, pop = nullptr;
  }
};
const Roctx& roctx() {
  static const Roctx r;
  return r;
}
}  // namespace

RoctxRange::RoctxRange(const char* name) {
  if (roctx().push) pushed_ = roctx().push(name) >= 0;
}
RoctxRange::~RoctxRange() {
  if (pushed_) roctx().pop();
}

// ---- events ----------------------------------------------------------------------------

EventTimer::EventTimer(hipStream_t s) : stream_(s) {
  check(hipEventCreate(&start_), "hipEventCreate");
  check(hipEventCreate(&stop_), "hipEventCreate");
  check(hipEventRecord(start_, stream_), "hipEventRecord");
}
EventTimer::~EventTimer() {
  (void)hipEventDestroy(start_);
  (void)hipEventDestroy(stop_);
}
void EventTimer::stop() { check(hipEventRecord(stop_, stream_), "hipEventRecord"); }
double EventTimer::seconds() {
  check(hipEventSynchronize(stop_), "hipEventSynchronize");
  float ms = 0;
  check(hipEventElapsedTime(&ms, start_, stop_), "hipEventElapsedTime");
  return ms * 1e-3;
}

}  // namespace xk::hip
