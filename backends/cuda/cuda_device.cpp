// CUDA host runtime: discovery, buffers, copies, synchronisation (CUDA Runtime API).
#include "backends/cuda/cuda_device.h"

#include <cstdlib>
#include <sstream>
#include <string>

#include "backends/cuda/launcher.h"
#include "kernels/cuda/packing.h"
#include "xk/error.h"

namespace xk::cuda {

void check(cudaError_t status, const char* op, const char* call) {
  if (status == cudaSuccess) return;
  cudaGetLastError();  // clear the sticky non-fatal error so the next call starts clean
  throw Error(op, std::string(call) + " failed: " + cudaGetErrorName(status) + " (" +
                      cudaGetErrorString(status) + ")");
}

CudaBuffer::CudaBuffer(size_t n, cudaStream_t stream) : stream_(stream) {
  bytes = n;
  if (n == 0) return;
  const cudaError_t st = cudaMallocAsync(&ptr_, n, stream);
  if (st == cudaErrorMemoryAllocation) {
    cudaGetLastError();
    throw Error("alloc", "bytes", "out of device memory allocating " + std::to_string(n) + " bytes");
  }
  check(st, "alloc", "cudaMallocAsync");
}

CudaBuffer::~CudaBuffer() {
  if (ptr_) cudaFreeAsync(ptr_, stream_);  // errors here cannot be reported from a destructor
}

Event::Event() { check(cudaEventCreate(&ev_), "timing", "cudaEventCreate"); }
Event::~Event() {
  if (ev_) cudaEventDestroy(ev_);
}

namespace {

// Which arch-specific ("a") targets were compiled (XK_CUDA_ARCHS from CMake).
bool built_for(const std::string& target) {
  std::stringstream ss(XK_CUDA_ARCHS_CSV);
  for (std::string a; std::getline(ss, a, ',');)
    if (a == target) return true;
  return false;
}

// Whether a cubin of this build loads on compute capability major.minor. The fatbin holds
// SASS only (code=sm_XX, no PTX to JIT): an "a" cubin runs on exactly its own capability, a
// plain one on the same major and any minor at least its own (CUDA C++ Programming Guide,
// "Binary Compatibility").
bool has_cubin_for(int major, int minor) {
  std::stringstream ss(XK_CUDA_ARCHS_CSV);
  for (std::string a; std::getline(ss, a, ',');) {
    const bool specific = !a.empty() && a.back() == 'a';
    const int num = std::atoi(a.c_str());
    if (specific ? num == major * 10 + minor : (num / 10 == major && num % 10 <= minor)) return true;
  }
  return false;
}

}  // namespace

std::string CudaDevice::arch_string(int major, int minor) {
  const std::string num = std::to_string(major * 10 + minor);
  return "sm_" + num + (built_for(num + "a") ? "a" : "");
}

CudaDevice::CudaDevice(int ordinal) : ordinal_(ordinal) {
  check(cudaSetDevice(ordinal), "open_device", "cudaSetDevice");
  cudaDeviceProp p{};
  check(cudaGetDeviceProperties(&p, ordinal), "open_device", "cudaGetDeviceProperties");
  check(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking), "open_device", "cudaStreamCreate");
  stream_owner_ = std::shared_ptr<CUstream_st>(stream_, [](cudaStream_t s) {
    cudaStreamSynchronize(s);  // errors here cannot be reported from a destructor
    cudaStreamDestroy(s);
  });
  info_.name = "cuda:" + std::to_string(ordinal);
  info_.api = "cuda";
  info_.arch = arch_string(p.major, p.minor);
  info_.description = std::string(p.name) + " (compute capability " + std::to_string(p.major) + "." +
                      std::to_string(p.minor) + ", " + std::to_string(p.multiProcessorCount) + " SMs)";
  info_.memory_bytes = p.totalGlobalMem;
  info_.unified_memory = p.integrated != 0;
  info_.subgroup_size = p.warpSize;
  info_.compute_units = p.multiProcessorCount;
  info_.features = {"fp16", "bf16"};
  if (p.major >= 8) info_.features.push_back("int8_mma");
  // mma.sync .kind::mxf4nvf4 block_scale: sm_120a / sm_121a only, and only when that
  // arch-specific cubin is in the fatbin (XK_CUDA_ARCHS).
  if (p.major == 12 && built_for(std::to_string(p.major * 10 + p.minor) + "a") && XK_CUDA_FP4_BUILT)
    info_.features.push_back("fp4_mma");
  launcher_ = std::make_unique<Launcher>(*this);
  DeviceAccess::variants(*this) = make_variants(*launcher_);
}

CudaDevice::~CudaDevice() {
  DeviceAccess::variants(*this).clear();  // the rows refer to the launcher
  launcher_.reset();
  // Without buffers still alive, releasing stream_owner_ (a member) destroys the stream.
}

std::unique_ptr<BufferImpl> CudaDevice::allocate(size_t bytes) {
  auto b = std::make_unique<CudaBuffer>(bytes, stream_);
  b->keep_alive = stream_owner_;
  return b;
}

void CudaDevice::write_bytes(Buffer& dst, size_t offset, const void* src, size_t bytes) {
  if (!bytes) return;
  auto* p = static_cast<char*>(impl_as<CudaBuffer>(dst)->data()) + offset;
  check(cudaMemcpyAsync(p, src, bytes, cudaMemcpyHostToDevice, stream_), "write", "cudaMemcpyAsync");
  check(cudaStreamSynchronize(stream_), "write", "cudaStreamSynchronize");  // src may die after return
}

void CudaDevice::read_bytes(const Buffer& src, size_t offset, void* dst, size_t bytes) {
  if (!bytes) return;
  const auto* p = static_cast<const char*>(impl_as<CudaBuffer>(src)->data()) + offset;
  check(cudaMemcpyAsync(dst, p, bytes, cudaMemcpyDeviceToHost, stream_), "read", "cudaMemcpyAsync");
  check(cudaStreamSynchronize(stream_), "read", "cudaStreamSynchronize");
}

void CudaDevice::synchronize() {
  check(cudaStreamSynchronize(stream_), "synchronize", "cudaStreamSynchronize");
}

void CudaDevice::prepare_weights(Tensor& w) { cuda_kernels::prepare_weights(w); }

std::vector<DeviceEntry> enumerate() {
  int n = 0;
  const cudaError_t st = cudaGetDeviceCount(&n);
  if (st != cudaSuccess) {
    cudaGetLastError();
    std::string why = std::string("CUDA runtime: ") + cudaGetErrorString(st);
    if (st == cudaErrorInsufficientDriver || st == cudaErrorNoDevice)
      why = std::string(st == cudaErrorNoDevice ? "no NVIDIA GPU" : "no NVIDIA driver (libcuda.so)") +
            " — cudaGetDeviceCount: " + cudaGetErrorName(st);
    return {{"cuda", "cuda", false, why, ""}};
  }
  if (n == 0) return {{"cuda", "cuda", false, "no NVIDIA GPU (cudaGetDeviceCount = 0)", ""}};
  std::vector<DeviceEntry> out;
  for (int i = 0; i < n; ++i) {
    cudaDeviceProp p{};
    if (cudaGetDeviceProperties(&p, i) != cudaSuccess) {
      cudaGetLastError();
      out.push_back({"cuda:" + std::to_string(i), "cuda", false, "cudaGetDeviceProperties failed", ""});
      continue;
    }
    DeviceEntry e{"cuda:" + std::to_string(i), "cuda", true, "", ""};
    e.description = std::string(p.name) + ", " + CudaDevice::arch_string(p.major, p.minor);
    if (!has_cubin_for(p.major, p.minor)) {
      e.available = false;
      e.reason = "this build has no cubin for compute capability " + std::to_string(p.major) + "." +
                 std::to_string(p.minor) + " (XK_CUDA_ARCHS=" + XK_CUDA_ARCHS_CSV + "; add " +
                 std::to_string(p.major * 10 + p.minor) + " and rebuild)";
    } else if (p.major < 8) {
      e.available = false;
      e.reason = "compute capability " + std::to_string(p.major) + "." + std::to_string(p.minor) +
                 " < 8.0: xkern's CUDA kernels need mma.sync m16n8k16/m16n8k32 (sm_80+)";
    }
    out.push_back(e);
  }
  return out;
}

}  // namespace xk::cuda
