// cpu-ref: the reference backend. One matmul variant covering every format and activation
// precision, one attention variant; both call the scalar oracle in kernels/ref.
#include <chrono>

#include "backends/core/backend_list.h"
#include "host_device.h"
#include "kernels/ref/ref.h"
#include "xk/variant.h"

namespace xk::backends {

namespace {

class CpuRefDevice : public host::HostDevice {
 public:
  CpuRefDevice() : HostDevice(make_info()) {
    Variant mm;
    mm.name = "mm_all_all_scalar_ref_cpu";
    mm.op = Op::Matmul;
    mm.formats.assign(std::begin(kAllDTypes), std::end(kAllDTypes));
    mm.acts = {ActPrecision::F32, ActPrecision::F16, ActPrecision::Q8, ActPrecision::FP4, ActPrecision::FP8};
    mm.min_arch = "any";
    mm.tile = "1x1x1";
    mm.run_matmul = [](Device& dev, const MatmulArgs& a, LaunchRecord& rec) {
      const auto t0 = std::chrono::steady_clock::now();
      ref::matmul({a.W.dtype, host::data(a.W.buf), a.W.tensor_scale, a.X.dtype, host::data(a.X.buf),
                   host::data_as<float>(a.Y), a.M(), a.N(), a.K(), a.act});
      if (dev.timing()) rec.device_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    };
    variants_.push_back(std::move(mm));

    Variant at;
    at.name = "attn_all_f64_scalar_ref_cpu";
    at.op = Op::Attention;
    at.formats = {DType::F16, DType::F32};
    at.min_arch = "any";
    at.tile = "1x1";
    at.run_attention = [](Device& dev, const AttentionArgs& a, LaunchRecord& rec) {
      const auto t0 = std::chrono::steady_clock::now();
      ref::attention({a.Q.dtype, host::data(a.Q.buf), a.K.dtype, host::data(a.K.buf), host::data(a.V.buf),
                      host::data_as<float>(a.O), a.B(), a.Hq(), a.Hkv(), a.S(), a.T(), a.D(), a.scale, a.causal,
                      a.q_offset});
      if (dev.timing()) rec.device_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    };
    variants_.push_back(std::move(at));
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
  return Backend{"cpu-ref",
                 [] { return std::vector<DeviceEntry>{{"cpu-ref", "cpu-ref", true, "", "scalar reference on " + host::host_cpu_name()}}; },
                 [](const std::string&) -> std::unique_ptr<Device> { return std::make_unique<CpuRefDevice>(); }};
}

}  // namespace xk::backends
