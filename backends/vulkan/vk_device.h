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
  Buffer alloc(size_t bytes) override;
  void write(Buffer& dst, size_t offset, const void* src, size_t bytes) override;
  void read(const Buffer& src, size_t offset, void* dst, size_t bytes) override;
  void synchronize() override;
  void prepare_weights(Tensor& w) override;

  Context& ctx() { return *ctx_; }
  // W in the shaders' layout (weights_pack.h); repacked on first use when the tensor did not
  // come through upload_weights. Weights are treated as immutable once packed.
  const VkBuf& packed_weights(const Tensor& w);

 private:
  std::unique_ptr<Context> ctx_;
  DeviceInfo info_;
};

// Variant tables (mm_variants.cpp, attn_variants.cpp).
void add_matmul_variants(const PhysicalDevice& pd, std::vector<Variant>& out);
void add_attention_variants(const PhysicalDevice& pd, std::vector<Variant>& out);

// DeviceInfo of a physical device as `xk devices` and the tests see it.
DeviceInfo describe_device(const PhysicalDevice& pd, int index, bool unified, bool validation);

}  // namespace xk::vk
