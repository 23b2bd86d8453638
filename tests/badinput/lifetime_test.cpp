// The lifetime rule (include/xk/device.h, README "Contracts"): a Tensor or Buffer that
// outlives its Device is an xk::Error on every use, never a crash, and destroying it then is
// safe. Run on one device (--device / XK_DEVICE) per CTest test; under the asan preset the
// destruction of every orphaned buffer is checked for double frees, and, on the host-memory
// devices, for leaks (tests/badinput/CMakeLists.txt turns the leak checker on there).
#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "badinput_common.h"
#include "xk/xk.h"

namespace xk::badinput {
namespace {

class Lifetime : public DeviceTest {
 protected:
  Device& live() { return dev(); }
};

std::vector<float> ramp(size_t n) {
  std::vector<float> v(n);
  for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<float>(i % 7) * 0.25f - 0.5f;
  return v;
}

// Every tensor kind an op takes, made on a device that is then destroyed: weights (with the
// backend's repacked copies, which vulkan:0 and cuda keep as further buffers), activations,
// outputs, attention inputs, and a bare buffer.
struct Orphans {
  static constexpr int64_t M = 4, N = 32, K = 64, T = 8, D = 64;
  Tensor W, X, Y, Q, Kc, Vc, O;
  Buffer raw;
  std::string device_name;

  explicit Orphans(const std::string& name) {
    std::unique_ptr<Device> dev = open_device(name);
    device_name = dev->info().name;
    const std::vector<float> w = ramp(N * K);
    const std::vector<uint8_t> q8 = quantize(DType::Q8_0, w.data(), N, K);
    W = upload_weights(*dev, DType::Q8_0, N, K, q8.data());
    const std::vector<float> x = ramp(M * K);
    X = upload(*dev, DType::F32, {M, K}, x.data());
    Y = matmul(*dev, W, X);  // the device has launched, cached pipelines, made scratch
    const std::vector<float> q = ramp(D), kv = ramp(T * D);
    std::vector<uint16_t> kv16(kv.size());
    for (size_t i = 0; i < kv.size(); ++i) kv16[i] = f32_to_f16(kv[i]);
    Q = upload(*dev, DType::F32, {1, 1, 1, D}, q.data());
    Kc = upload(*dev, DType::F16, {1, 1, T, D}, kv16.data());
    Vc = upload(*dev, DType::F16, {1, 1, T, D}, kv16.data());
    O = attention(*dev, Q, Kc, Vc);
    raw = dev->alloc(100);
  }  // the device goes here; every member outlives it
};

std::string gone(const std::string& name, const char* what) {
  return "device '" + name + "' was destroyed before this " + what;
}

TEST_F(Lifetime, TensorsOutlivingTheirDeviceAreAnErrorOnDownload) {
  Orphans o(g_device_name);
  const std::string tensor = gone(o.device_name, "tensor");
  EXPECT_XK_ERROR(download_f32(o.Y), "download_f32", "tensor", tensor);
  std::vector<float> host(static_cast<size_t>(Orphans::M * Orphans::N));
  EXPECT_XK_ERROR(download(o.Y, host.data(), host.size() * sizeof(float)), "download", "tensor", tensor);
  EXPECT_XK_ERROR(download(o.W, host.data(), host.size() * sizeof(float)), "download", "tensor", tensor);
}

TEST_F(Lifetime, TensorsOutlivingTheirDeviceAreAnErrorInEveryOp) {
  Orphans o(g_device_name);
  const std::string tensor = gone(o.device_name, "tensor");
  // A live device (another instance of the same name) given the orphans: the dead device is
  // named, not dereferenced.
  Tensor X = make_tensor(live(), DType::F32, {Orphans::M, Orphans::K});
  Tensor Y = make_tensor(live(), DType::F32, {Orphans::M, Orphans::N});
  EXPECT_XK_ERROR(matmul(live(), o.W, X, Y), "matmul", "W", tensor);
  EXPECT_XK_ERROR(matmul(live(), o.W, X), "matmul", "W", tensor);
  EXPECT_XK_ERROR(select_matmul(live(), o.W, X, Y, {}), "matmul", "W", tensor);
  const std::vector<float> w = ramp(Orphans::N * Orphans::K);
  const std::vector<uint8_t> q8 = quantize(DType::Q8_0, w.data(), Orphans::N, Orphans::K);
  Tensor W = upload_weights(live(), DType::Q8_0, Orphans::N, Orphans::K, q8.data());
  EXPECT_XK_ERROR(matmul(live(), W, o.X, Y), "matmul", "X", tensor);
  EXPECT_XK_ERROR(matmul(live(), W, X, o.Y), "matmul", "Y", tensor);
  Tensor O = make_tensor(live(), DType::F32, o.Q.shape);
  EXPECT_XK_ERROR(attention(live(), o.Q, o.Kc, o.Vc, O), "attention", "Q", tensor);
  EXPECT_XK_ERROR(attention(live(), o.Q, o.Kc, o.Vc), "attention", "Q", tensor);
  EXPECT_XK_ERROR(attention(live(), o.Q, o.Kc, o.Vc, o.O), "attention", "Q", tensor);
  // The live device still works after refusing them.
  EXPECT_NO_THROW(matmul(live(), W, X, Y));
}

TEST_F(Lifetime, BuffersOutlivingTheirDeviceAreAnErrorOnReadWriteAndDevice) {
  Orphans o(g_device_name);
  const std::string buffer = gone(o.device_name, "buffer");
  EXPECT_EQ(o.raw.size(), 100u) << "the size is the buffer's own, still known";
  EXPECT_TRUE(o.raw.valid());
  std::vector<uint8_t> host(100);
  EXPECT_XK_ERROR(live().write(o.raw, 0, host.data(), host.size()), "write", "dst", buffer);
  EXPECT_XK_ERROR(live().read(o.raw, 0, host.data(), host.size()), "read", "src", buffer);
  EXPECT_XK_ERROR(live().write(o.Y.buf, 0, host.data(), 4), "write", "dst", buffer);
  EXPECT_XK_ERROR((void)o.raw.device(), "buffer", "device", buffer);
  EXPECT_XK_ERROR((void)o.Y.device(), "tensor", "device", gone(o.device_name, "tensor"));
}

TEST_F(Lifetime, DestroyingOrphansInAnyOrderFreesEachOnce) {
  // Under ASan a double free or a use of the dead device's state aborts here.
  for (int order = 0; order < 2; ++order) {
    auto o = std::make_unique<Orphans>(g_device_name);
    if (order == 0) {
      o->W = Tensor{};  // weights and their repacked copies first
      o->raw = Buffer{};
    } else {
      o->raw = Buffer{};
      o->O = Tensor{};
      o->Y = Tensor{};
    }
    o.reset();
  }
  // A moved-from orphan and its new owner: one free between them.
  Buffer kept;
  {
    Orphans o(g_device_name);
    kept = std::move(o.raw);
  }
  EXPECT_EQ(kept.size(), 100u);
}

TEST_F(Lifetime, ReadAndWriteRefuseABufferOfAnotherLiveDevice) {
  std::unique_ptr<Device> other = open_device(g_device_name);
  Buffer b = other->alloc(64);
  std::vector<uint8_t> host(64);
  EXPECT_XK_ERROR(live().write(b, 0, host.data(), 64), "write", "dst", "belongs to another device");
  EXPECT_XK_ERROR(live().read(b, 0, host.data(), 64), "read", "src", "belongs to another device");
  EXPECT_XK_ERROR(other->write(b, 60, host.data(), 8), "write", "dst", "outside the buffer of 64 bytes");
  EXPECT_XK_ERROR(other->read(b, 65, host.data(), 0), "read", "src", "outside the buffer of 64 bytes");
  EXPECT_XK_ERROR(other->read(b, 0, host.data(), SIZE_MAX), "read", "src", "outside the buffer");
  EXPECT_NO_THROW(other->write(b, 0, host.data(), 64));
  EXPECT_NO_THROW(other->read(b, 64, host.data(), 0));
}

}  // namespace
}  // namespace xk::badinput

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  if (const int rc = xk::badinput::open_device_under_test(argc, argv, "xk_badinput_lifetime")) return rc;
  const int rc = RUN_ALL_TESTS();
  xk::badinput::g_device.reset();
  return rc;
}
