// cpu-ref: the reference backend. One matmul variant covering every format and activation
// precision, one attention variant; both call the scalar oracle in kernels/ref.
// Names: mm_all_all_1x1_scalar_ref_cpu, attn_all_all_1x1_scalar_ref_cpu.
#include <chrono>

#include "backends/core/backend_list.h"
#include "backends/core/variant_row.h"
#include "host_device.h"
#include "kernels/ref/ref.h"
#include "xk/variant.h"

namespace xk::backends {

namespace {

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

class CpuRefDevice : public host::HostDevice {
 public:
  CpuRefDevice() : HostDevice(make_info()) {
    auto& table = DeviceAccess::variants(*this);
    table.push_back(make_row({.op = Op::Matmul,
                              .family = "mm",
                              .formats = {std::begin(kAllDTypes), std::end(kAllDTypes)},
                              .acts = {ActPrecision::F32, ActPrecision::F16, ActPrecision::Q8,
                                       ActPrecision::FP4, ActPrecision::FP8},
                              .tile = {1, 1, 1},
                              .technique = "scalar_ref",
                              .min_arch = "any",
                              .kernels = {"xk::ref::matmul"}},
                             {.run_matmul = [](Device& dev, const MatmulArgs& a, LaunchRecord& rec) {
                               const auto t0 = std::chrono::steady_clock::now();
                               ref::matmul({a.W.dtype, host::data(a.W.buf), a.W.tensor_scale, a.X.dtype,
                                            host::data(a.X.buf), host::data_as<float>(a.Y), a.M(), a.N(),
                                            a.K(), a.act});
                               if (dev.timing()) add_device_time(rec, seconds_since(t0));
                             }}));
    // Softmax and both products in FP64: the oracle the FP32 kernels are held to.
    table.push_back(make_row({.op = Op::Attention,
                              .family = "attn",
                              .formats = {DType::F16, DType::F32},
                              .acts = {ActPrecision::F32, ActPrecision::F16},
                              .tile = {1, 1, 0},
                              .technique = "scalar_ref",
                              .min_arch = "any",
                              .kernels = {"xk::ref::attention"}},
                             {.run_attention = [](Device& dev, const AttentionArgs& a, LaunchRecord& rec) {
                               const auto t0 = std::chrono::steady_clock::now();
                               ref::attention({a.Q.dtype, host::data(a.Q.buf), a.K.dtype, host::data(a.K.buf),
                                               host::data(a.V.buf), host::data_as<float>(a.O), a.B(), a.Hq(),
                                               a.Hkv(), a.S(), a.T(), a.D(), a.scale, a.causal, a.q_offset});
                               if (dev.timing()) add_device_time(rec, seconds_since(t0));
                             }}));
  }

 private:
  static DeviceInfo make_info() {
    DeviceInfo i;
    i.name = "cpu-ref";
    i.api = "cpu";
    i.arch = host::host_arch();
    i.description = "scalar reference (oracle) on " + host::host_cpu_name();
    i.memory_bytes = host::host_memory_bytes();
    i.unified_memory = true;
    i.subgroup_size = 1;
    i.compute_units = 1;
    i.features = {"fp16", "bf16", "int8", "fp4", "fp8", "fp64"};
    return i;
  }
};

}  // namespace

Backend cpu_ref() {
  return Backend{
      "cpu-ref",
      [] {
        return std::vector<DeviceEntry>{
            {"cpu-ref", "cpu-ref", true, "", "scalar reference on " + host::host_cpu_name()}};
      },
      [](const std::string&) -> std::unique_ptr<Device> { return std::make_unique<CpuRefDevice>(); }};
}

}  // namespace xk::backends
