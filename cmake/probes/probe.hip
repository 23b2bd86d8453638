// One-kernel probe for the HIP backend's AUTO decision (cmake/XkToolchainProbe.cmake).
// Compiled with -nogpuinc -nogpulib: the device libraries are checked (and fixed up) by
// backends/hip itself; this probes the steps a header cannot vouch for: device code
// generation and lld for every --offload-arch, clang-offload-bundler, and linking the host
// side against libamdhip64. The three declarations are what clang's kernel stub calls.
struct dim3 {
  unsigned x, y, z;
};
typedef struct ihipStream_t* hipStream_t;
extern "C" int hipLaunchKernel(const void*, dim3, dim3, void**, unsigned long, hipStream_t);
extern "C" __attribute__((global)) void xk_probe_kernel(float* y) { *y = 1.0f; }
int main() { return 0; }
