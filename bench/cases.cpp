// The shape sets: "small" (a quick look that keeps a cpu-ref run near a minute), "models"
// (every layer GEMM and the attention of the presets in bench/models.h at pp512, pp2048 and
// tg128), "custom" (one shape from the command line, used by `xk profile`) and
// "vkpeer" (the shapes of the ggml-vulkan comparison in backends/vulkan/README.md).
#include <algorithm>
#include <string>

#include "bench/bench.h"
#include "bench/models.h"
#include "xk/error.h"
#include "xk/variant.h"

namespace xk::bench {

namespace {

// Small set. M = 1 is the token-generation GEMV, M = 64 a short prefill tile; N = K = 1024
// is large enough that weights dominate the GEMV's bytes and small enough that the scalar
// reference runs each M = 64 call in well under a second.
constexpr int64_t kSmallM[] = {1, 64};
constexpr int64_t kSmallNK = 1024;

// vkpeer set: the cases ggml's `test-backend-ops perf -b Vulkan0` was timed on for the
// ggml-vulkan comparison (ggml's m = our N, its n = our M): GEMM at M = 512 and GEMV at
// M = 1 over N = 4096 and 14336, K = 4096; attention with Llama-3-8B-like heads (32 query
// over 8 KV, D = 128), causal prefill S = T = 512 and decode S = 1 over T = 4096.
constexpr int64_t kPeerM[] = {512, 1};
constexpr int64_t kPeerN[] = {4096, 14336};
constexpr int64_t kPeerK = 4096;

bool act_fits_format(ActPrecision a, DType f) {
  // FP4 activations are quantized to the weight's own FP4 format (kernels/ref/ref.h).
  if (a == ActPrecision::FP4) return f == DType::MXFP4 || f == DType::NVFP4;
  return a != ActPrecision::Auto;
}

std::vector<DType> formats_of(const SetOptions& opt) {
  if (!opt.format.empty()) return {parse_dtype(opt.format)};
  return {std::begin(kWeightFormats), std::end(kWeightFormats)};
}

std::string variant_segment(const std::string& v) { return v.empty() ? "" : "/variant=" + v; }

// (act, forced variant) pairs to benchmark for one weight format on one device.
struct Choice {
  ActPrecision act;
  std::string variant;
};
std::vector<Choice> matmul_choices(const Device& dev, DType f, const SetOptions& opt) {
  std::vector<std::string> forced;
  if (!opt.variant.empty()) {
    forced = {opt.variant};
  } else if (opt.all_variants) {
    for (const Variant& v : dev.variants())
      if (v.op == Op::Matmul && v.handles(f)) forced.push_back(v.name);
  }
  if (forced.empty()) forced = {""};
  std::vector<Choice> out;
  for (const std::string& v : forced) {
    std::vector<ActPrecision> acts = offered_acts(dev, f, v);
    if (!opt.act.empty()) {
      const ActPrecision want = parse_act(opt.act);
      acts = {want};  // kept even when not offered: the run then skips with the reason
    }
    // A device with no variant for this format still gets one case, which skips at run
    // time with the selection's reason (a visible "lacks q4_0" rather than a silent gap).
    if (acts.empty()) acts = {ActPrecision::Auto};
    for (ActPrecision a : acts) out.push_back({a, v});
  }
  return out;
}

void check_set(const std::string& set) {
  if (set != "small" && set != "models" && set != "custom" && set != "vkpeer")
    throw Error("bench", "set", "unknown set '" + set + "' (known: small, models, custom, vkpeer)");
}

std::vector<const models::ModelPreset*> models_of(const SetOptions& opt) {
  std::vector<const models::ModelPreset*> out;
  if (!opt.model.empty()) {
    const auto* m = models::find_model(opt.model);
    if (!m) {
      std::string known;
      for (const auto& x : models::kModels) known += (known.empty() ? "" : ", ") + std::string(x.key);
      throw Error("bench", "model", "unknown model '" + opt.model + "' (known: " + known + ")");
    }
    out.push_back(m);
  } else {
    for (const auto& m : models::kModels) out.push_back(&m);
  }
  return out;
}

std::vector<const models::Workload*> workloads_of(const SetOptions& opt) {
  std::vector<const models::Workload*> out;
  for (const auto& w : models::kWorkloads)
    if (opt.workload.empty() || w.key == opt.workload) out.push_back(&w);
  if (out.empty())
    throw Error("bench", "workload", "unknown workload '" + opt.workload + "' (known: pp512, pp2048, tg128)");
  return out;
}

// A workload's attention: prefill of `tokens` queries over as many keys (causal), or one
// decode query at the end of a `context`-long KV cache.
AttentionShape attention_of(const models::ModelPreset& m, const models::Workload& w) {
  AttentionShape s;
  s.B = 1;
  s.Hq = m.heads;
  s.Hkv = m.kv_heads;
  s.D = m.head_dim;
  s.causal = true;
  s.S = w.decode ? 1 : w.tokens;
  s.T = w.context;
  s.q_offset = s.T - s.S;
  return s;
}

}  // namespace

std::string matmul_shape_tag(int64_t M, int64_t N, int64_t K) {
  // Appended piecewise: GCC 12 warns (-Wrestrict, a false positive) on "M" + std::string&&.
  std::string tag = "M";
  tag += std::to_string(M) + "_N" + std::to_string(N) + "_K" + std::to_string(K);
  return tag;
}

std::string attention_shape_tag(const AttentionShape& s) {
  return std::string(s.S == 1 ? "decode" : "prefill") + "_B" + std::to_string(s.B) + "_Hq" +
         std::to_string(s.Hq) + "_Hkv" + std::to_string(s.Hkv) + "_S" + std::to_string(s.S) + "_T" +
         std::to_string(s.T) + "_D" + std::to_string(s.D) + (s.causal ? "_causal" : "");
}

std::vector<ActPrecision> offered_acts(const Device& dev, DType format, const std::string& variant) {
  std::vector<ActPrecision> out;
  for (const Variant& v : dev.variants()) {
    if (v.op != Op::Matmul || !v.handles(format)) continue;
    if (!variant.empty() && v.name != variant) continue;
    // A variant with an empty act list computes in FP32 (ops.cpp's selection rule).
    std::vector<ActPrecision> acts = v.acts.empty() ? std::vector<ActPrecision>{ActPrecision::F32} : v.acts;
    for (ActPrecision a : acts)
      if (act_fits_format(a, format) && std::find(out.begin(), out.end(), a) == out.end()) out.push_back(a);
  }
  return out;
}

namespace {

// A custom shape whose sizes multiply past 2^56 is refused as the shape's error: every
// tensor's element count (a product of some of the sizes), its bytes and the FLOP count then
// stay inside 64-bit integers, instead of overflowing them or failing an allocation later.
void require_countable(const char* dims, std::initializer_list<int64_t> sizes) {
  constexpr int64_t kMaxProduct = int64_t{1} << 56;
  int64_t product = 1;
  for (int64_t v : sizes)
    if (__builtin_mul_overflow(product, v, &product) || product > kMaxProduct)
      throw Error("bench", "shape",
                  std::string(dims) +
                      ": the sizes multiply past 2^56, beyond what 64-bit element and FLOP counts hold");
}

}  // namespace

std::vector<MatmulCase> matmul_cases(const Device& dev, const SetOptions& opt) {
  check_set(opt.set);
  const std::string device = dev.info().name;
  std::vector<MatmulCase> out;
  auto add = [&](const std::string& prefix, const std::string& model, const std::string& gemm,
                 const std::string& workload, int64_t M, int64_t N, int64_t K, int64_t count) {
    for (DType f : formats_of(opt))
      for (const Choice& ch : matmul_choices(dev, f, opt)) {
        MatmulCase c;
        c.model = model;
        c.gemm = gemm;
        c.workload = workload;
        c.M = M, c.N = N, c.K = K, c.count = count;
        c.format = f;
        c.act = ch.act;
        c.variant = ch.variant;
        c.name = prefix + "/" + name(f) + "/" + xk::name(ch.act) + variant_segment(ch.variant) + "/" + device;
        out.push_back(std::move(c));
      }
  };
  if (opt.set == "small") {
    for (int64_t M : kSmallM)
      add("matmul/small/" + matmul_shape_tag(M, kSmallNK, kSmallNK), "small", "", "", M, kSmallNK, kSmallNK,
          1);
  } else if (opt.set == "vkpeer") {
    for (int64_t M : kPeerM)
      for (int64_t N : kPeerN)
        add("matmul/vkpeer/" + matmul_shape_tag(M, N, kPeerK), "vkpeer", "", "", M, N, kPeerK, 1);
  } else if (opt.set == "custom") {
    if (opt.shape.size() != 3 || opt.shape[0] < 1 || opt.shape[1] < 1 || opt.shape[2] < 1)
      throw Error("bench", "shape", "matmul needs --shape M,N,K with three sizes of at least 1");
    const int64_t M = opt.shape[0], N = opt.shape[1], K = opt.shape[2];
    require_countable("M,N,K", {M, N, K});
    add("matmul/custom/" + matmul_shape_tag(M, N, K), "custom", "", "", M, N, K, 1);
  } else {
    for (const auto* m : models_of(opt))
      for (const auto* w : workloads_of(opt))
        for (const auto& g : models::layer_gemms(*m))
          add("matmul/" + std::string(m->key) + "/" + std::string(g.name) + "/" + std::string(w->key),
              std::string(m->key), std::string(g.name), std::string(w->key), w->tokens, g.n, g.k, g.count);
  }
  return out;
}

std::vector<AttentionCase> attention_cases(const Device& dev, const SetOptions& opt) {
  check_set(opt.set);
  const std::string device = dev.info().name;
  std::vector<std::string> forced;
  if (!opt.variant.empty()) {
    forced = {opt.variant};
  } else if (opt.all_variants) {
    for (const Variant& v : dev.variants())
      if (v.op == Op::Attention && v.handles(DType::F16)) forced.push_back(v.name);
  }
  if (forced.empty()) forced = {""};

  std::vector<AttentionCase> out;
  // K/V are F16 as in an inference KV cache; Q arrives in F32 from the QKV projection.
  auto add = [&](const std::string& prefix, const std::string& model, const std::string& workload,
                 const AttentionShape& s) {
    for (const std::string& v : forced) {
      AttentionCase c;
      c.model = model;
      c.workload = workload;
      c.shape = s;
      c.variant = v;
      c.name = prefix + "/" + name(c.kv_dtype) + variant_segment(v) + "/" + device;
      out.push_back(std::move(c));
    }
  };
  if (opt.set == "small") {
    // Prefill: 8 query heads over 2 KV heads (GQA 4:1), 256 causal tokens. Decode: one query
    // per head against a 1024-token cache, Llama-like 32:8 heads.
    AttentionShape prefill{1, 8, 2, 256, 256, 128, true, 0};
    AttentionShape decode{1, 32, 8, 1, 1024, 128, true, 1023};
    add("attention/small/" + attention_shape_tag(prefill), "small", "", prefill);
    add("attention/small/" + attention_shape_tag(decode), "small", "", decode);
  } else if (opt.set == "vkpeer") {
    AttentionShape prefill{1, 32, 8, 512, 512, 128, true, 0};
    AttentionShape decode{1, 32, 8, 1, 4096, 128, true, 4095};
    add("attention/vkpeer/" + attention_shape_tag(prefill), "vkpeer", "", prefill);
    add("attention/vkpeer/" + attention_shape_tag(decode), "vkpeer", "", decode);
  } else if (opt.set == "custom") {
    if (opt.shape.size() != 6)
      throw Error("bench", "shape", "attention needs --shape B,Hq,Hkv,S,T,D with six sizes");
    for (int64_t d : opt.shape)
      if (d <= 0) throw Error("bench", "shape", "attention sizes must be > 0");
    AttentionShape s{opt.shape[0], opt.shape[1], opt.shape[2], opt.shape[3],
                     opt.shape[4], opt.shape[5], opt.causal,   0};
    require_countable("B,Hq,Hkv,S,T,D", {s.B, s.Hq, s.Hkv, s.S, s.T, s.D});
    if (s.causal) s.q_offset = std::max<int64_t>(0, s.T - s.S);
    add("attention/custom/" + attention_shape_tag(s), "custom", "", s);
  } else {
    for (const auto* m : models_of(opt))
      for (const auto* w : workloads_of(opt))
        add("attention/" + std::string(m->key) + "/" + std::string(w->key), std::string(m->key),
            std::string(w->key), attention_of(*m, *w));
  }
  return out;
}

}  // namespace xk::bench
