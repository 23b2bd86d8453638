// xk_harness: the generic op test (in the spirit of ggml's test-backend-ops).
//
//   xk_harness --device vulkan:0          (or XK_DEVICE=vulkan:0 xk_harness)
//
// For the chosen device, every registered kernel variant x every case of cases.cpp is one
// GoogleTest test ("matmul/<variant>/<case>"), plus one test per case through automatic
// selection ("matmul/auto/<case>"). A variant whose formats, precisions or supports()
// exclude a case skips with the selection's reason. Results are compared with the oracle
// (kernels/ref) run directly on the same host data, by normalised mean squared error and
// per element (bounds.h): matmul against c*u*sum|w x|, attention against 2x the error of a
// reference that rounds where the kernels round.
// A device that cannot be opened skips the whole program with the registry's reason.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "bounds.h"
#include "cases.h"
#include "inputs.h"
#include "kernels/ref/ref.h"
#include "xk/xk.h"

namespace xk::harness {
namespace {

std::unique_ptr<Device> g_device;
std::map<std::string, int> g_cases_run;  // variant name -> cases it ran (forced or selected)
// Forced variant -> its refusal when it names hardware the device lacks ("device lacks ..."):
// such a variant is skipped with that reason instead of failing EveryVariantRanACase.
std::map<std::string, std::string> g_lacks;

std::vector<float> nan_filled(int64_t n) {  // output sentinel: an unwritten element stays NaN
  return std::vector<float>(static_cast<size_t>(n), std::numeric_limits<float>::quiet_NaN());
}

// ---- comparison -------------------------------------------------------------------------

using test::compare;
using test::Comparison;
using test::index_str;

void expect_close(const char* out_name, const std::vector<int64_t>& shape, const std::vector<float>& y,
                  const std::vector<float>& ref, double max_nmse, const std::string& variant,
                  const std::string& case_name, const std::string& extra) {
  ASSERT_EQ(y.size(), ref.size());
  if (ref.empty()) return;
  const Comparison c = compare(y, ref);
  std::ostringstream os;
  os.precision(7);
  os << "device " << g_device->info().name << ", variant " << variant << ", case " << case_name << extra
     << ": NMSE " << c.nmse << " (max " << max_nmse << "); worst element " << out_name
     << index_str(c.worst, shape) << " (flat " << c.worst << "): expected " << ref[c.worst] << ", actual "
     << y[c.worst] << "; " << c.non_finite << " non-finite outputs";
  if (!(c.nmse <= max_nmse)) ADD_FAILURE() << os.str();  // NaN NMSE fails too
  testing::Test::RecordProperty("nmse", std::to_string(c.nmse));
}

// ---- matmul -----------------------------------------------------------------------------

struct MatmulData {
  std::vector<uint8_t> w, x;    // GGUF-canonical W[N, K]; X[M, K] in the case's storage dtype
  float w_scale = 1.0f;         // NVFP4 per-tensor scale
  std::vector<double> abs_sum;  // sum_k |w x| per output (dequantized W, widened X)
  std::vector<double> q8_flip;  // one Q8 activation rounding flip per output
  std::map<ActPrecision, std::vector<float>> ref;  // oracle Y per resolved precision
};

// Inputs depend on formats and shape only, so every precision and variant of a shape
// sees the same numbers; the oracle runs once per resolved precision.
MatmulData& matmul_data(const MatmulCase& c) {
  static std::map<std::string, MatmulData> cache;
  const std::string key = std::string(name(c.w)) + "_x" + name(c.x) + "_" + std::to_string(c.M) + "_" +
                          std::to_string(c.N) + "_" + std::to_string(c.K);
  auto it = cache.find(key);
  if (it != cache.end()) return it->second;
  MatmulData d;
  Rng rng(seed_of(key));
  const std::vector<float> w = weights(rng, c.N, c.K), x = activations(rng, c.M, c.K);
  d.w = quantize(c.w, w.data(), c.N, c.K, c.w == DType::NVFP4 ? &d.w_scale : nullptr);
  d.x = quantize(c.x, x.data(), c.M, c.K);
  const std::vector<float> w_deq = dequantize(c.w, d.w.data(), c.N, c.K, d.w_scale),
                           x_deq = dequantize(c.x, d.x.data(), c.M, c.K);
  d.abs_sum = abs_products(w_deq, x_deq, c.M, c.N, c.K);
  d.q8_flip = q8_flip_allowance(w_deq, x_deq, c.M, c.N, c.K);
  return cache.emplace(key, std::move(d)).first->second;
}

const std::vector<float>& matmul_ref(const MatmulCase& c, MatmulData& d, ActPrecision act) {
  auto it = d.ref.find(act);
  if (it != d.ref.end()) return it->second;
  std::vector<float> y(static_cast<size_t>(c.M * c.N));
  if (!y.empty()) ref::matmul({c.w, d.w.data(), d.w_scale, c.x, d.x.data(), y.data(), c.M, c.N, c.K, act});
  return d.ref.emplace(act, std::move(y)).first->second;
}

class MatmulTest : public testing::Test {
 public:
  MatmulTest(MatmulCase c, std::string variant) : c_(c), variant_(std::move(variant)) {}

  void TestBody() override {
    Device& dev = *g_device;
    MatmulData& d = matmul_data(c_);
    Tensor W = upload_weights(dev, c_.w, c_.N, c_.K, d.w.data(), d.w_scale);
    Tensor X = upload(dev, c_.x, {c_.M, c_.K}, d.x.data());
    Tensor Y = upload(dev, DType::F32, {c_.M, c_.N}, nan_filled(c_.M * c_.N).data());
    MatmulOptions opt;
    opt.act = c_.act;
    opt.variant = variant_;
    const Selection sel = select_matmul(dev, W, X, Y, opt);
    if (!sel.variant && !variant_.empty() && sel.reason.find("device lacks") != std::string::npos)
      g_lacks[variant_] = sel.reason;
    if (!sel.variant) GTEST_SKIP() << sel.reason;
    RecordProperty("flops", std::to_string(c_.flops()));
    RecordProperty("bytes", std::to_string(c_.bytes()));

    ++g_cases_run[sel.variant->name];
    matmul(dev, W, X, Y, opt);
    dev.synchronize();
    const LaunchRecord& rec = dev.last_launch();
    EXPECT_EQ(rec.variant, sel.variant->name)
        << "the launch record names another variant than selection chose";
    ASSERT_NE(rec.act, ActPrecision::Auto)
        << "variant " << rec.variant << " left the activation precision unresolved";
    const std::vector<float> y = download_f32(Y);
    const std::vector<float>& ref = matmul_ref(c_, d, rec.act);
    expect_close("Y", {c_.M, c_.N}, y, ref, max_nmse_matmul(rec.act), rec.variant, c_.name(),
                 std::string(" (act ") + name(rec.act) + ")");
    if (ref.empty()) return;
    const ElementCheck e = check_elements(y, ref, d.abs_sum, matmul_bound_scale(c_.K),
                                          rec.act == ActPrecision::Q8 ? d.q8_flip : std::vector<double>{});
    RecordProperty("worst_bound_ratio", std::to_string(e.worst_ratio));
    if (e.violations)
      ADD_FAILURE() << "device " << g_device->info().name << ", variant " << rec.variant << ", case "
                    << c_.name() << " (act " << name(rec.act) << "): " << e.violations
                    << " elements exceed |y - ref| <= " << matmul_bound_scale(c_.K)
                    << " * sum|w x| + floor; worst Y" << index_str(e.worst, {c_.M, c_.N}) << ": expected "
                    << ref[e.worst] << ", actual " << y[e.worst] << ", bound " << e.worst_bound << " ("
                    << e.worst_ratio << "x)";
  }

 private:
  MatmulCase c_;
  std::string variant_;  // "" = automatic selection
};

// ---- attention --------------------------------------------------------------------------

struct AttentionData {
  std::vector<uint8_t> q, k, v;    // in the case's dtypes
  float scale = 0;                 // resolved softmax scale
  std::vector<float> ref;          // oracle O
  double low_precision_error = 0;  // max |O - ref| of the FP16-rounding reference
};

AttentionData& attention_data(const AttentionCase& c) {
  static std::map<std::string, AttentionData> cache;
  const std::string key = c.name();
  auto it = cache.find(key);
  if (it != cache.end()) return it->second;
  AttentionData d;
  Rng rng(seed_of(key));
  // Q, K, V ~ N(0, 1): scores q.k/sqrt(D) ~ N(0, 1), the regime of trained models.
  const std::vector<float> q = activations(rng, c.B * c.Hq * c.S, c.D),
                           k = activations(rng, c.B * c.Hkv * c.T, c.D),
                           v = activations(rng, c.B * c.Hkv * c.T, c.D);
  d.q = quantize(c.q, q.data(), c.B * c.Hq * c.S, c.D);
  d.k = quantize(c.kv, k.data(), c.B * c.Hkv * c.T, c.D);
  d.v = quantize(c.kv, v.data(), c.B * c.Hkv * c.T, c.D);
  // The same float expression as ops.cpp uses for scale = 0, passed explicitly to both.
  d.scale = c.scale != 0.0f ? c.scale : 1.0f / std::sqrt(static_cast<float>(c.D));
  d.ref.resize(static_cast<size_t>(c.B * c.Hq * c.S * c.D));
  if (!d.ref.empty())
    ref::attention({c.q, d.q.data(), c.kv, d.k.data(), d.v.data(), d.ref.data(), c.B, c.Hq, c.Hkv, c.S, c.T,
                    c.D, d.scale, c.causal, c.q_offset});
  const std::vector<float> low =
      attention_low_precision(dequantize(c.q, d.q.data(), c.B * c.Hq * c.S, c.D),
                              dequantize(c.kv, d.k.data(), c.B * c.Hkv * c.T, c.D),
                              dequantize(c.kv, d.v.data(), c.B * c.Hkv * c.T, c.D), c.B, c.Hq, c.Hkv, c.S,
                              c.T, c.D, d.scale, c.causal, c.q_offset);
  d.low_precision_error = max_abs_error(low, d.ref);
  return cache.emplace(key, std::move(d)).first->second;
}

class AttentionTest : public testing::Test {
 public:
  AttentionTest(AttentionCase c, std::string variant) : c_(c), variant_(std::move(variant)) {}

  void TestBody() override {
    Device& dev = *g_device;
    const AttentionData& d = attention_data(c_);
    Tensor Q = upload(dev, c_.q, {c_.B, c_.Hq, c_.S, c_.D}, d.q.data());
    Tensor K = upload(dev, c_.kv, {c_.B, c_.Hkv, c_.T, c_.D}, d.k.data());
    Tensor V = upload(dev, c_.kv, {c_.B, c_.Hkv, c_.T, c_.D}, d.v.data());
    Tensor O = upload(dev, DType::F32, Q.shape, nan_filled(Q.numel()).data());
    const Selection sel = select_attention(dev, {Q, K, V, O, d.scale, c_.causal, c_.q_offset}, variant_);
    if (!sel.variant && !variant_.empty() && sel.reason.find("device lacks") != std::string::npos)
      g_lacks[variant_] = sel.reason;
    if (!sel.variant) GTEST_SKIP() << sel.reason;
    RecordProperty("flops", std::to_string(c_.flops()));
    RecordProperty("bytes", std::to_string(c_.bytes()));

    AttentionOptions opt;
    opt.scale = d.scale;
    opt.causal = c_.causal;
    opt.q_offset = c_.q_offset;
    opt.variant = variant_;
    ++g_cases_run[sel.variant->name];
    attention(dev, Q, K, V, O, opt);
    dev.synchronize();
    EXPECT_EQ(dev.last_launch().variant, sel.variant->name);
    const std::vector<float> o = download_f32(O);
    expect_close("O", O.shape, o, d.ref, kMaxNmseAttention, sel.variant->name, c_.name(), "");
    const double err = max_abs_error(o, d.ref),
                 allowed = kAttentionErrorRatio * d.low_precision_error + kBoundFloor;
    RecordProperty("error_vs_fp16_reference", std::to_string(err / (d.low_precision_error + kBoundFloor)));
    EXPECT_LE(err, allowed) << "device " << g_device->info().name << ", variant " << sel.variant->name
                            << ", case " << c_.name() << ": max |O - ref| " << err << " exceeds "
                            << kAttentionErrorRatio << "x the FP16-rounding reference's "
                            << d.low_precision_error;
  }

 private:
  AttentionCase c_;
  std::string variant_;
};

// ---- registration -----------------------------------------------------------------------

class SkipWholeDevice : public testing::Test {
 public:
  explicit SkipWholeDevice(std::string reason) : reason_(std::move(reason)) {}
  void TestBody() override { GTEST_SKIP() << reason_; }

 private:
  std::string reason_;
};

// Registered last: a variant that no case reaches is a variant nobody tests. Either its
// supports() refuses more than it should, or the case table lacks a shape it serves.
class EveryVariantRanACase : public testing::Test {
 public:
  void TestBody() override {
    if (testing::GTEST_FLAG(filter) != "*" || testing::GTEST_FLAG(shuffle))
      GTEST_SKIP() << "needs every case to run in order (a --gtest_filter or --gtest_shuffle is set)";
    for (const Variant& v : g_device->variants()) {
      if (g_cases_run[v.name] == 0 && g_lacks.count(v.name)) {
        std::printf("[ SKIPPED  ] %s: %s\n", v.name.c_str(), g_lacks[v.name].c_str());
        continue;
      }
      EXPECT_GT(g_cases_run[v.name], 0) << "variant " << v.name << " on " << g_device->info().name
                                        << " ran none of the harness cases: every one skipped";
    }
  }
};

// True when the registry knows the name (available or not): "cuda:0" on a machine without
// a driver is known, "cuda0" is a typo that must fail rather than skip.
bool registry_knows(const std::string& device) {
  for (const DeviceEntry& e : list_devices())
    if (e.name == device || device.rfind(e.api + ":", 0) == 0 || device == e.api) return true;
  return false;
}

void register_cases(ShapeSet set) {
  const Device& dev = *g_device;
  std::vector<std::string> mm_variants{""}, at_variants{""};  // "" = automatic selection
  for (const Variant& v : dev.variants()) (v.op == Op::Matmul ? mm_variants : at_variants).push_back(v.name);

  for (const MatmulCase& c : matmul_cases(set))
    for (const std::string& v : mm_variants) {
      // Auto rows check the device's own default; a forced variant resolves Auto to its
      // preferred precision, which an explicit row of the same format already covers.
      if (!v.empty() && c.act == ActPrecision::Auto) continue;
      const std::string suite = "matmul/" + (v.empty() ? std::string("auto") : v);
      testing::RegisterTest(suite.c_str(), c.name().c_str(), nullptr, nullptr, __FILE__, __LINE__,
                            [c, v]() -> MatmulTest* { return new MatmulTest(c, v); });
    }
  for (const AttentionCase& c : attention_cases(set))
    for (const std::string& v : at_variants) {
      const std::string suite = "attention/" + (v.empty() ? std::string("auto") : v);
      testing::RegisterTest(suite.c_str(), c.name().c_str(), nullptr, nullptr, __FILE__, __LINE__,
                            [c, v]() -> AttentionTest* { return new AttentionTest(c, v); });
    }
  testing::RegisterTest("harness", "EveryVariantRanACase", nullptr, nullptr, __FILE__, __LINE__,
                        []() -> EveryVariantRanACase* { return new EveryVariantRanACase(); });
  std::printf(
      "xk_harness: device %s (api %s, arch %s): %zu matmul + %zu attention variants, shape set %s, "
      "%zu matmul + %zu attention cases\n",
      dev.info().name.c_str(), dev.info().api.c_str(), dev.info().arch.c_str(), mm_variants.size() - 1,
      at_variants.size() - 1, name(set), matmul_cases(set).size(), attention_cases(set).size());
}

}  // namespace
}  // namespace xk::harness

int main(int argc, char** argv) {
  using namespace xk::harness;
  testing::InitGoogleTest(&argc, argv);
  const char* env_device = std::getenv("XK_DEVICE");
  std::string device = env_device && *env_device ? env_device : "cpu-ref";
  std::string shapes;  // "" = by device: small for simulators, small+m512 for cpu-ref, full otherwise
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--device" && i + 1 < argc)
      device = argv[++i];
    else if (a.rfind("--device=", 0) == 0)
      device = a.substr(9);
    else if (a == "--shapes" && i + 1 < argc)
      shapes = argv[++i];
    else {
      std::fprintf(stderr,
                   "usage: xk_harness [--device NAME] [--shapes small|full] [gtest flags]\n"
                   "unknown argument: %s\n",
                   a.c_str());
      return 2;
    }
  }

  try {
    g_device = xk::open_device(device);
  } catch (const xk::Error& e) {
    if (!registry_knows(device)) {
      std::fprintf(stderr, "xk_harness: %s\n", e.what());
      return 2;
    }
    // ctest's SKIP_REGULAR_EXPRESSION matches this line (tests/harness/CMakeLists.txt).
    std::printf("xk_harness: device unavailable: %s\n", e.what());
    const std::string reason = e.what();
    testing::RegisterTest("harness", "device_available", nullptr, nullptr, __FILE__, __LINE__,
                          [reason]() -> SkipWholeDevice* { return new SkipWholeDevice(reason); });
    return RUN_ALL_TESTS();
  }

  ShapeSet set = shape_set_for(g_device->info().api, g_device->info().name);
  if (shapes == "small")
    set = ShapeSet::Small;
  else if (shapes == "full")
    set = ShapeSet::Full;
  else if (!shapes.empty()) {
    std::fprintf(stderr, "xk_harness: --shapes must be small or full, got '%s'\n", shapes.c_str());
    return 2;
  }
  register_cases(set);
  const int rc = RUN_ALL_TESTS();
  std::printf("xk_harness: cases run per variant on %s:", g_device->info().name.c_str());
  for (const xk::Variant& v : g_device->variants())
    std::printf(" %s=%d", v.name.c_str(), g_cases_run[v.name]);
  std::printf("\n");
  g_device.reset();  // before static destructors: no tensor outlives its device
  return rc;
}
