// One-kernel probe for the CUDA backend's AUTO decision (cmake/XkToolchainProbe.cmake):
// nvcc must compile a kernel for every XK_CUDA_ARCHS target and link it with cudart.
__global__ void xk_probe_kernel(float a, const float* x, float* y) { y[threadIdx.x] += a * x[threadIdx.x]; }
int main() {
  xk_probe_kernel<<<1, 32>>>(2.0f, nullptr, nullptr);
  return 0;
}
