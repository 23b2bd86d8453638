// Registration and the timed loop. Each benchmark builds its tensors once (Google Benchmark
// calls the function again for every trial iteration count), runs one untimed warm-up call
// (weight repacking, pipeline creation and first-touch page faults stay out of the
// figures), then times each call with the device's timer.
//
// Caches are not scrubbed between calls: the host cannot evict a GPU's L2 through the Device
// interface, and the models set's weights (a Llama-3 70B gate_up in Q4_0 is 264 MB) dwarf
// every L2 in the device database (GB10: 24 MB), so only the small set's shapes can run warm.
#include <benchmark/benchmark.h>

#include <chrono>
#include <cstring>
#include <functional>
#include <new>
#include <nlohmann/json.hpp>
#include <random>
#include <set>

#include "bench/bench.h"
#include "xk/formats.h"
#include "xk/ops.h"
#include "xk/registry.h"

namespace xk::bench {

namespace {

// Tensors of the benchmark now running. One at a time: the models set's weights reach
// hundreds of MB, so the previous case's tensors go before the next case's are made.
struct Fixture {
  std::string key;
  Tensor W, X, Y;       // matmul
  Tensor Q, K, V, O;    // attention
  std::string skip;     // set when the warm-up call failed: every trial skips with it
  std::string variant;  // what the warm-up call ran (LaunchRecord::variant)
  ActPrecision act = ActPrecision::Auto;
};
std::unique_ptr<Fixture> g_live;

// Distinct random rows, repeated to fill the tensor: quantizing a 57344 x 8192 weight row by
// row would cost more than the benchmark. 61 rows (a prime) never lines up with a tile.
constexpr int64_t kDistinctRows = 61;

std::vector<float> random_rows(int64_t rows, int64_t cols, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  std::vector<float> v(static_cast<size_t>(rows * cols));
  for (float& x : v) x = u(rng);
  return v;
}

template <class T>
std::vector<T> tile_rows(const std::vector<T>& distinct, int64_t distinct_rows, size_t row_elems,
                         int64_t rows) {
  std::vector<T> out(static_cast<size_t>(rows) * row_elems);
  for (int64_t r = 0; r < rows; ++r)
    std::memcpy(out.data() + static_cast<size_t>(r) * row_elems,
                distinct.data() + static_cast<size_t>(r % distinct_rows) * row_elems, row_elems * sizeof(T));
  return out;
}

Tensor random_f32(Device& dev, std::vector<int64_t> shape, uint32_t seed) {
  const int64_t cols = shape.back();
  int64_t rows = 1;
  for (size_t i = 0; i + 1 < shape.size(); ++i) rows *= shape[i];
  const int64_t distinct = std::max<int64_t>(1, std::min(rows, kDistinctRows));
  auto x = tile_rows(random_rows(distinct, cols, seed), distinct, static_cast<size_t>(cols), rows);
  return upload(dev, DType::F32, std::move(shape), x.data());
}

Tensor random_f16(Device& dev, std::vector<int64_t> shape, uint32_t seed) {
  const int64_t cols = shape.back();
  int64_t rows = 1;
  for (size_t i = 0; i + 1 < shape.size(); ++i) rows *= shape[i];
  const int64_t distinct = std::max<int64_t>(1, std::min(rows, kDistinctRows));
  const auto x = random_rows(distinct, cols, seed);
  std::vector<uint16_t> h(x.size());
  for (size_t i = 0; i < x.size(); ++i) h[i] = f32_to_f16(x[i]);
  auto all = tile_rows(h, distinct, static_cast<size_t>(cols), rows);
  return upload(dev, DType::F16, std::move(shape), all.data());
}

Tensor random_weights(Device& dev, DType format, int64_t N, int64_t K, uint32_t seed) {
  const int64_t distinct = std::max<int64_t>(1, std::min(N, kDistinctRows));
  const auto w = random_rows(distinct, K, seed);
  float tensor_scale = 1.0f;
  const auto q = quantize(format, w.data(), distinct, K, &tensor_scale);
  const auto all = tile_rows(q, distinct, row_bytes(format, K), N);
  return upload_weights(dev, format, N, K, all.data(), tensor_scale);
}

// Builds (or reuses) the fixture for `key`; the builder fills the tensors and runs the
// warm-up call. An xk::Error on the way becomes the fixture's skip reason.
Fixture& fixture(const std::string& key, const std::function<void(Fixture&)>& build) {
  if (g_live && g_live->key == key) return *g_live;
  g_live.reset();
  auto f = std::make_unique<Fixture>();
  f->key = key;
  try {
    build(*f);
  } catch (const std::bad_alloc&) {  // std::bad_alloc's own what() says only that
    f->skip =
        "out of host memory while building this case's operands (the shape is too large for this machine)";
  } catch (const std::exception& e) {
    f->skip = e.what();
  }
  g_live = std::move(f);
  return *g_live;
}

// The timed loop: each call's own device duration, or wall time around launch +
// synchronize when the backend has no device timer.
template <class Call>
bool timed_loop(benchmark::State& st, Device& dev, Call call, bool* used_wall) {
  for (auto _ : st) {
    const auto t0 = std::chrono::steady_clock::now();
    try {
      call();
      dev.synchronize();
    } catch (const std::exception& e) {
      st.SkipWithError(e.what());
      return false;
    }
    const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    double secs = dev.last_launch().device_seconds;
    if (secs < 0) {
      secs = wall;
      *used_wall = true;
    }
    st.SetIterationTime(secs);
  }
  return true;
}

void set_counters(benchmark::State& st, const Work& w, const LaunchRecord& rec) {
  using benchmark::Counter;
  st.counters["flops"] = w.flops;
  st.counters["bytes"] = w.bytes;
  st.counters["tokens"] = w.tokens;
  st.counters["FLOP/s"] = Counter(w.flops, Counter::kIsIterationInvariantRate);
  st.counters["bytes/s"] = Counter(w.bytes, Counter::kIsIterationInvariantRate);
  st.counters["tok/s"] = Counter(w.tokens, Counter::kIsIterationInvariantRate);
  if (!rec.has_counters) return;
  // Per launch, as the simulator counted them in the real kernel (the gap model's input).
  uint64_t mma = 0;
  for (const auto& [kind, n] : rec.mma_by_kind) {
    st.counters["mma:" + kind] = static_cast<double>(n);
    mma += n;
  }
  st.counters["mma"] = static_cast<double>(mma);
  st.counters["global_bytes_read"] = static_cast<double>(rec.global_bytes_read);
  st.counters["global_bytes_written"] = static_cast<double>(rec.global_bytes_written);
  st.counters["shared_bytes"] = static_cast<double>(rec.shared_bytes);
  st.counters["barriers"] = static_cast<double>(rec.barriers);
}

std::string label(const Fixture& f, bool matmul, bool used_wall) {
  std::string s = "variant=" + f.variant;
  if (matmul) s += std::string(" act=") + name(f.act);
  return s + (used_wall ? " timer=wall(device timer unavailable)" : " timer=device");
}

// XNNPACK-style: a device without the format skips before any tensor is made (a models-set
// weight is hundreds of MB to quantize and upload for nothing).
std::string lacks_format(const Device& dev, Op op, DType format) {
  for (const Variant& v : dev.variants())
    if (v.op == op && v.handles(format)) return "";
  return dev.info().name + " has no " + name(op) + " variant for " + xk::name(format);
}

void run_matmul(benchmark::State& st, Device& dev, const MatmulCase& c) {
  if (const std::string why = lacks_format(dev, Op::Matmul, c.format); !why.empty()) {
    st.SkipWithError(why.c_str());
    return;
  }
  MatmulOptions opt;
  opt.act = c.act;
  opt.variant = c.variant;
  Fixture& f = fixture(c.name, [&](Fixture& f) {
    f.W = random_weights(dev, c.format, c.N, c.K, 1);
    f.X = random_f32(dev, {c.M, c.K}, 2);
    f.Y = make_tensor(dev, DType::F32, {c.M, c.N});
    dev.set_timing(true);
    matmul(dev, f.W, f.X, f.Y, opt);
    dev.synchronize();
    f.variant = dev.last_launch().variant;
    f.act = dev.last_launch().act;
  });
  if (!f.skip.empty()) {
    st.SkipWithError(f.skip.c_str());
    return;
  }
  dev.set_timing(true);
  bool used_wall = false;
  if (!timed_loop(st, dev, [&] { matmul(dev, f.W, f.X, f.Y, opt); }, &used_wall)) return;
  set_counters(st, matmul_work(c.M, c.N, c.K, c.format, f.X.dtype), dev.last_launch());
  st.SetLabel(label(f, true, used_wall));
}

void run_attention(benchmark::State& st, Device& dev, const AttentionCase& c) {
  if (const std::string why = lacks_format(dev, Op::Attention, c.kv_dtype); !why.empty()) {
    st.SkipWithError(why.c_str());
    return;
  }
  const AttentionShape& s = c.shape;
  AttentionOptions opt;
  opt.causal = s.causal;
  opt.q_offset = s.q_offset;
  opt.variant = c.variant;
  Fixture& f = fixture(c.name, [&](Fixture& f) {
    f.Q = random_f32(dev, {s.B, s.Hq, s.S, s.D}, 3);
    auto kv = [&](uint32_t seed) {
      return c.kv_dtype == DType::F16 ? random_f16(dev, {s.B, s.Hkv, s.T, s.D}, seed)
                                      : random_f32(dev, {s.B, s.Hkv, s.T, s.D}, seed);
    };
    f.K = kv(4);
    f.V = kv(5);
    f.O = make_tensor(dev, DType::F32, {s.B, s.Hq, s.S, s.D});
    dev.set_timing(true);
    attention(dev, f.Q, f.K, f.V, f.O, opt);
    dev.synchronize();
    f.variant = dev.last_launch().variant;
  });
  if (!f.skip.empty()) {
    st.SkipWithError(f.skip.c_str());
    return;
  }
  dev.set_timing(true);
  bool used_wall = false;
  if (!timed_loop(st, dev, [&] { attention(dev, f.Q, f.K, f.V, f.O, opt); }, &used_wall)) return;
  set_counters(st, attention_work(s, c.q_dtype, c.kv_dtype), dev.last_launch());
  st.SetLabel(label(f, false, used_wall));
}

}  // namespace

Session::Session(RunOptions run) : run_(run) {}

Session::~Session() {
  g_live.reset();  // tensors die before the devices that own their buffers
  benchmark::ClearRegisteredBenchmarks();
}

std::string device_info_json(const DeviceInfo& i) {
  const nlohmann::ordered_json j = {{"name", i.name},
                                    {"api", i.api},
                                    {"arch", i.arch},
                                    {"description", i.description},
                                    {"memory_bytes", i.memory_bytes},
                                    {"unified_memory", i.unified_memory},
                                    {"subgroup_size", i.subgroup_size},
                                    {"compute_units", i.compute_units},
                                    {"features", i.features}};
  return j.dump();
}

namespace {

// Each device's description goes into the JSON's "context" as "xk_device:<name>" (a JSON
// string), so `xk compare` can tell which GPU and driver produced a file.
void describe_in_context(const DeviceInfo& i) {
  static std::set<std::string> added;  // Google Benchmark's context is per process
  const std::string key = "xk_device:" + i.name;
  if (!added.insert(key).second) return;
  benchmark::AddCustomContext(key, device_info_json(i));
}

}  // namespace

Device& Session::open(const std::string& device_name) {
  for (const auto& d : devices_)
    if (d->info().name == device_name) return *d;
  devices_.push_back(open_device(device_name));
  describe_in_context(devices_.back()->info());
  return *devices_.back();
}

namespace {
void configure(benchmark::internal::Benchmark* b, const RunOptions& run) {
  b->UseManualTime()->Unit(benchmark::kMicrosecond);
  if (run.iterations > 0) b->Iterations(run.iterations);
}
}  // namespace

void Session::add(Device& dev, const MatmulCase& c) {
  Device* d = &dev;
  configure(
      benchmark::RegisterBenchmark(c.name.c_str(), [d, c](benchmark::State& st) { run_matmul(st, *d, c); }),
      run_);
  names_.push_back(c.name);
}

void Session::add(Device& dev, const AttentionCase& c) {
  Device* d = &dev;
  configure(benchmark::RegisterBenchmark(c.name.c_str(),
                                         [d, c](benchmark::State& st) { run_attention(st, *d, c); }),
            run_);
  names_.push_back(c.name);
}

std::vector<std::string> available_device_names() {
  std::vector<std::string> out;
  for (const DeviceEntry& e : list_devices())
    if (e.available && e.api != "sim" && e.name.find("-sim") == std::string::npos) out.push_back(e.name);
  return out;
}

}  // namespace xk::bench
