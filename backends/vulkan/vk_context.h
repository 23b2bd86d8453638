// One logical Vulkan device: queue, memory, pipelines and the command batch that launches
// kernels. Every handle is held by a Unique (vk_api.h), so no destructor here frees one by
// hand, and a constructor that throws at any step leaves nothing behind
// (tests/vulkan/vk_raii_test.cpp throws from each step in turn).
//
// A launch reads in two lines:
//   Batch b = ctx.batch("mm_q4_0_f32_64x64_simt_vk", timing);
//   b.dispatch("mul_mm_q4_0_f32", {256, 64, 64, 4, 4}, {&w, &x, &y}, push, {gx, gy, 1});
//   rec.device_seconds = b.run();
// Batches are synchronous (submit, wait on a fence): an op returns with its result ready,
// like cpu-ref, which keeps the harness and the staging copies simple. A Context is not
// thread-safe; one thread uses one device at a time (as with every xkern device).
#pragma once
#include <array>
#include <cstring>
#include <initializer_list>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "backends/core/buffer_impl.h"
#include "spirv.h"
#include "vk_instance.h"
#include "xk/device.h"

namespace xk::vk {

class Context;

// Device memory behind an xk::Buffer. Host-mapped when the device's memory is unified.
class VkBuf : public BufferImpl {
 public:
  VkBuf(Context& ctx, size_t bytes, bool host_visible);
  VkBuffer buffer() const { return buffer_.get(); }
  void* mapped = nullptr;     // non-null for host-visible allocations (unmapped by the free)
  VkDeviceSize capacity = 0;  // allocated size (>= bytes, >= 16: Vulkan has no empty buffers)

 private:
  UniqueMemory memory_;  // declared first: the buffer bound to it goes before it
  UniqueBuffer buffer_;
};

inline VkBuf& vkbuf(const Buffer& b) { return *impl_as<VkBuf>(b); }

struct Pipeline {
  std::string name;  // the shader's name, in debug labels
  UniquePipeline pipeline;
  VkPipelineLayout layout = VK_NULL_HANDLE;  // owned by the Context (one per binding count)
  VkDescriptorSetLayout set_layout = VK_NULL_HANDLE;
  uint32_t bindings = 0;
};

// A command buffer being recorded; run() submits it and waits. At most one per Context.
class Batch {
 public:
  Batch(Context& ctx, std::string label, bool timing);
  ~Batch();
  Batch(const Batch&) = delete;
  Batch& operator=(const Batch&) = delete;

  // Binds `buffers` to bindings 0..n-1, pushes `push` (<= 128 bytes), dispatches `groups`.
  // `spec` fills specialization constants 0..k-1 (uint32 each). Commands are serialised by
  // a compute->compute memory barrier in between.
  template <class Push>
  void dispatch(const char* shader, std::initializer_list<uint32_t> spec,
                std::initializer_list<const VkBuf*> buffers, const Push& push,
                std::array<uint32_t, 3> groups) {
    static_assert(sizeof(Push) <= 128,
                  "push constants: 128 bytes is the guaranteed minimum (Vulkan spec, Limits)");
    dispatch_raw(pipeline_for(shader, std::vector<uint32_t>(spec), static_cast<uint32_t>(buffers.size())),
                 std::vector<const VkBuf*>(buffers), &push, sizeof(Push), groups);
  }
  // The same with a pipeline from Context::pipeline (e.g. one made from a test's SPIR-V).
  template <class Push>
  void dispatch(const Pipeline& p, std::initializer_list<const VkBuf*> buffers, const Push& push,
                std::array<uint32_t, 3> groups) {
    static_assert(sizeof(Push) <= 128,
                  "push constants: 128 bytes is the guaranteed minimum (Vulkan spec, Limits)");
    dispatch_raw(p, std::vector<const VkBuf*>(buffers), &push, sizeof(Push), groups);
  }
  void copy(const VkBuf& src, size_t src_off, const VkBuf& dst, size_t dst_off, size_t bytes);
  // Submits, waits, checks validation. Returns device seconds from timestamps, or -1.
  double run();

 private:
  const Pipeline& pipeline_for(const char* shader, const std::vector<uint32_t>& spec, uint32_t bindings);
  void dispatch_raw(const Pipeline& p, const std::vector<const VkBuf*>& buffers, const void* push,
                    size_t push_bytes, std::array<uint32_t, 3> groups);
  void barrier();
  Context& ctx_;
  std::string label_;
  VkCommandBuffer cmd_ = VK_NULL_HANDLE;
  bool timing_ = false, recorded_any_ = false, submitted_ = false;
};

class Context {
 public:
  Context(std::shared_ptr<Instance> instance, const PhysicalDevice& pd);
  ~Context();
  Context(const Context&) = delete;
  Context& operator=(const Context&) = delete;

  const PhysicalDevice& physical() const { return pd_; }
  VkDevice device() const { return device_.get(); }
  Instance& instance() const { return *instance_; }
  // True when buffers live in host-visible device-local memory (no staging copies).
  bool unified() const { return unified_; }
  uint64_t device_local_bytes() const { return device_local_bytes_; }

  std::unique_ptr<VkBuf> alloc(size_t bytes) { return std::make_unique<VkBuf>(*this, bytes, unified_); }
  void write(VkBuf& dst, size_t offset, const void* src, size_t bytes);
  void read(const VkBuf& src, size_t offset, void* dst, size_t bytes);
  // A device buffer reused across launches for intermediate data (quantized activations,
  // split-K partials); grows on demand. `slot` names the use.
  VkBuf& scratch(const std::string& slot, size_t bytes);

  Batch batch(std::string label, bool timing) { return Batch(*this, std::move(label), timing); }
  // The compute pipeline of an embedded shader (spirv.h) with specialization constants `spec`
  // (0..k-1, uint32 each) and `bindings` storage buffers; made once, then cached.
  const Pipeline& pipeline(const char* shader, const std::vector<uint32_t>& spec, uint32_t bindings);
  // The same from SPIR-V words the caller holds (a test's own shader), cached under `name`.
  const Pipeline& pipeline(const char* name, Spirv code, const std::vector<uint32_t>& spec,
                           uint32_t bindings);

 private:
  friend class VkBuf;
  friend class Batch;
  uint32_t memory_type(uint32_t type_bits, bool host_visible) const;
  struct Layouts {
    UniqueSetLayout set;
    UniquePipelineLayout pipeline;
  };
  const Layouts& layouts(uint32_t bindings);

  // Declaration order is destruction order reversed: the instance outlives the device, the
  // device outlives everything made from it.
  std::shared_ptr<Instance> instance_;  // keeps the VkInstance alive while the device exists
  PhysicalDevice pd_;
  UniqueDevice device_;
  VkQueue queue_ = VK_NULL_HANDLE;  // owned by the device
  UniqueCommandPool cmd_pool_;
  UniqueDescriptorPool desc_pool_;
  UniqueQueryPool query_pool_;
  UniqueFence fence_;
  bool unified_ = false;
  uint64_t device_local_bytes_ = 0;
  std::map<uint32_t, Layouts> layouts_;
  std::map<std::string, Pipeline> pipelines_;
  std::map<std::string, std::unique_ptr<VkBuf>> scratch_;
};

}  // namespace xk::vk
