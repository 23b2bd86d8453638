// xk::Device over one Vulkan physical device (vulkan:N).
#pragma once
#include <memory>

#include "vk_context.h"
#include "xk/device.h"

namespace xk::vk {

class VulkanDevice : public Device {
 public:
  VulkanDevice(std::shared_ptr<Instance> instance, const PhysicalDevice& pd, int index);
  ~VulkanDevice() override;

  const DeviceInfo& info() const override { return info_; }
  void synchronize() override;

  Context& ctx() { return *ctx_; }
  // W in the shaders' layout (weights_pack.h); repacked on first use when the tensor did not
  // come through upload_weights. Weights are treated as immutable once packed.
  const VkBuf& packed_weights(const Tensor& w);

 protected:
  std::unique_ptr<BufferImpl> allocate(size_t bytes) override;
  void write_bytes(Buffer& dst, size_t offset, const void* src, size_t bytes) override;
  void read_bytes(const Buffer& src, size_t offset, void* dst, size_t bytes) override;
  void prepare_weights(Tensor& w) override;

 private:
  // Shared with every buffer allocated here (their keep_alive): a buffer that outlives this
  // device destroys its VkBuffer and memory through a live VkDevice, then lets the context go.
  std::shared_ptr<Context> ctx_;
  DeviceInfo info_;
};

// One cooperative-matrix shape the device reports with FP16 A/B, FP32 C/result, subgroup
// scope (VkCooperativeMatrixPropertiesKHR): an M x K by K x N product into M x N.
struct CoopmatShape {
  uint32_t m = 0, n = 0, k = 0;
};
// Those shapes ({} without VK_KHR_cooperative_matrix or its query entry point).
std::vector<CoopmatShape> coopmat_f16_shapes(VkInstance instance, const PhysicalDevice& pd);
// Why no cooperative-matrix row can run on `pd` ("device lacks ...", which the harness reports
// as a skip for want of hardware), or "": the extension, Vulkan 1.3, shaderFloat16 and at
// least one of `shapes`. Each row adds the checks of its own tiles.
std::string coopmat_device_lacks(const PhysicalDevice& pd, const std::vector<CoopmatShape>& shapes);

// Variant tables (mm_variants.cpp, attn_variants.cpp).
void add_matmul_variants(const PhysicalDevice& pd, const std::vector<CoopmatShape>& coopmat,
                         std::vector<Variant>& out);
void add_attention_variants(const PhysicalDevice& pd, const std::vector<CoopmatShape>& coopmat,
                            std::vector<Variant>& out);

// DeviceInfo of a physical device as `xk devices` and the tests see it.
DeviceInfo describe_device(const PhysicalDevice& pd, int index, bool unified, bool validation);

}  // namespace xk::vk
