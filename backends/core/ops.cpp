// The one place where op arguments are validated and a kernel variant is chosen.
#include <cmath>
#include <string>

#include "backends/core/buffer_impl.h"
#include "backends/core/variant_row.h"
#include "backends/core/checked.h"
#include "xk/error.h"
#include "xk/ops.h"

namespace xk {

namespace {

std::string dims(const Tensor& t) { return t.shape_str(); }

void check_tensor(const char* op, const char* arg, const Device& dev, const Tensor& t, size_t rank) {
  if (!t.buf.valid()) throw Error(op, arg, "has no buffer");
  if (t.device() != &dev) {
    // Two instances of one device name are two devices: naming both would read "cpu-ref, not
    // cpu-ref", so that case says what differs.
    const std::string& owner = t.device()->info().name;
    throw Error(op, arg,
                owner == dev.info().name
                    ? "buffer belongs to another Device object named " + owner +
                          " (each open_device call opens a separate device; a tensor is used only on the "
                          "Device that allocated it)"
                    : "buffer belongs to device " + owner + ", not " + dev.info().name);
  }
  if (t.shape.size() != rank)
    throw Error(op, arg, "expected rank " + std::to_string(rank) + ", got shape " + dims(t));
  for (int64_t d : t.shape)
    if (d < 0) throw Error(op, arg, "negative dimension in shape " + dims(t));
  const auto& tr = traits(t.dtype);
  if (t.shape.back() % tr.block_elems != 0)
    throw Error(op, arg,
                "last dimension " + std::to_string(t.shape.back()) + " is not a multiple of the " + tr.name +
                    " block size " + std::to_string(tr.block_elems));
  const size_t need = checked::tensor_bytes(t.dtype, t.shape, op, arg);
  if (t.buf.size() < need)
    throw Error(op, arg,
                "buffer of " + std::to_string(t.buf.size()) + " bytes is smaller than the " +
                    std::to_string(need) + " bytes shape " + dims(t) + " needs in " + tr.name);
}

bool is_float_act(DType t) { return t == DType::F32 || t == DType::F16 || t == DType::BF16; }

void validate_matmul(const Device& dev, const Tensor& W, const Tensor& X, const Tensor& Y, ActPrecision act) {
  for (const auto& [arg, t] : {std::pair{"W", &W}, {"X", &X}, {"Y", &Y}})
    check_device_alive("matmul", arg, *t);
  check_tensor("matmul", "W", dev, W, 2);
  check_tensor("matmul", "X", dev, X, 2);
  check_tensor("matmul", "Y", dev, Y, 2);
  if (!is_float_act(X.dtype))
    throw Error("matmul", "X", std::string("activations must be f32, f16 or bf16, got ") + name(X.dtype));
  if (Y.dtype != DType::F32)
    throw Error("matmul", "Y", std::string("output must be f32, got ") + name(Y.dtype));
  if (X.shape[1] != W.shape[1])
    throw Error("matmul", "X", "K mismatch: X is " + dims(X) + " but W is " + dims(W) + " ([N, K])");
  if (Y.shape[0] != X.shape[0] || Y.shape[1] != W.shape[0])
    throw Error("matmul", "Y",
                "expected shape [" + std::to_string(X.shape[0]) + ", " + std::to_string(W.shape[0]) +
                    "], got " + dims(Y));
  if (W.dtype != DType::NVFP4 && W.tensor_scale != 1.0f)
    throw Error("matmul", "W",
                std::string("tensor_scale is only meaningful for nvfp4, format is ") + name(W.dtype));
  // upload_weights refuses such a scale; the field is public, so it is checked again here
  // rather than scaling every output by NaN, inf, 0 or a sign flip.
  if (!(W.tensor_scale > 0.0f) || !std::isfinite(W.tensor_scale))
    throw Error("matmul", "W",
                "tensor_scale must be finite and > 0, got " + std::to_string(W.tensor_scale) +
                    " (fixed at upload_weights: upload changed weights as a new tensor)");
  const int64_t K = W.shape[1];
  switch (act) {
    case ActPrecision::FP4:
      if (W.dtype != DType::MXFP4 && W.dtype != DType::NVFP4)
        throw Error("matmul", "act",
                    std::string("fp4 activations need mxfp4 or nvfp4 weights, W is ") + name(W.dtype));
      break;
    case ActPrecision::Q8:
    case ActPrecision::FP8:
      if (K % 32 != 0)
        throw Error("matmul", "act",
                    std::string(name(act)) + " activations quantize X in blocks of 32; K=" +
                        std::to_string(K) + " is not a multiple of 32");
      break;
    default:
      break;
  }
}

// Variant choice: the forced name, or the highest-priority variant whose supports() says yes.
template <class Args, class Supports>
Selection choose(const Device& dev, Op op, DType fmt, ActPrecision act, const std::string& forced,
                 const Args& args, Supports supports) {
  Selection sel;
  std::string reasons;
  for (const Variant& v : dev.variants()) {
    if (v.op != op) continue;
    if (!forced.empty() && v.name != forced) continue;
    std::string why;
    if (!v.handles(fmt)) why = std::string("format ") + name(fmt) + " not handled";
    ActPrecision use = act;
    if (why.empty() && op == Op::Matmul) {
      if (act == ActPrecision::Auto)
        use = v.acts.empty() ? ActPrecision::F32 : v.acts.front();
      else if (!v.handles(act))
        why = std::string("activation precision ") + name(act) + " not handled";
    }
    if (why.empty()) why = supports(v, use);
    if (!why.empty()) {
      reasons += "\n  " + v.name + ": " + why;
      if (!forced.empty()) {
        sel.reason = "variant '" + forced + "' cannot run this call: " + why;
        return sel;
      }
      continue;
    }
    if (!sel.variant || v.priority > sel.variant->priority) {
      sel.variant = &v;
      sel.act = use;
    }
  }
  if (!sel.variant && !forced.empty()) {
    std::string names;
    for (const Variant& v : dev.variants())
      if (v.op == op) names += (names.empty() ? "" : ", ") + v.name;
    sel.reason = "unknown variant '" + forced + "' on " + dev.info().name + " (" + name(op) +
                 " variants: " + (names.empty() ? "none" : names) + ")";
  } else if (!sel.variant) {
    sel.reason = std::string("no ") + name(op) + " variant on " + dev.info().name + " supports format " +
                 name(fmt) + (op == Op::Matmul ? std::string(" with activations ") + name(act) : "") +
                 (reasons.empty() ? " (the backend has none)" : reasons);
  }
  (void)args;
  return sel;
}

}  // namespace

Selection select_matmul(const Device& dev, const Tensor& W, const Tensor& X, Tensor& Y,
                        const MatmulOptions& opt) try {
  validate_matmul(dev, W, X, Y, opt.act);
  return choose(dev, Op::Matmul, W.dtype, opt.act, opt.variant, W, [&](const Variant& v, ActPrecision use) {
    if (!v.ops->supports_matmul) return std::string();
    MatmulArgs a{W, X, Y, use};
    return v.ops->supports_matmul(a, dev.info());
  });
} catch (...) {
  checked::rethrow_as_error("select_matmul");
}

LaunchRecord matmul(Device& dev, const Tensor& W, const Tensor& X, Tensor& Y, const MatmulOptions& opt) try {
  Selection sel = select_matmul(dev, W, X, Y, opt);
  if (!sel.variant) throw Error("matmul", opt.variant.empty() ? "W" : "variant", sel.reason);
  LaunchRecord rec;
  rec.variant = sel.variant->name;
  rec.act = sel.act;
  MatmulArgs a{W, X, Y, sel.act};
  if (Y.numel() > 0) sel.variant->ops->run_matmul(dev, a, rec);
  DeviceAccess::set_last_launch(dev, rec);
  return rec;
} catch (...) {
  checked::rethrow_as_error("matmul");
}

Tensor matmul(Device& dev, const Tensor& W, const Tensor& X, const MatmulOptions& opt) try {
  if (X.shape.size() != 2) throw Error("matmul", "X", "expected rank 2, got shape " + dims(X));
  if (W.shape.size() != 2) throw Error("matmul", "W", "expected rank 2, got shape " + dims(W));
  Tensor Y = make_tensor(dev, DType::F32, {X.shape[0], W.shape[0]});
  matmul(dev, W, X, Y, opt);
  return Y;
} catch (...) {
  checked::rethrow_as_error("matmul");
}

namespace {

void validate_attention(const Device& dev, const AttentionArgs& a) {
  for (const auto& [arg, t] : {std::pair{"Q", &a.Q}, {"K", &a.K}, {"V", &a.V}, {"O", &a.O}})
    check_device_alive("attention", arg, *t);
  check_tensor("attention", "Q", dev, a.Q, 4);
  check_tensor("attention", "K", dev, a.K, 4);
  check_tensor("attention", "V", dev, a.V, 4);
  check_tensor("attention", "O", dev, a.O, 4);
  if (a.Q.dtype != DType::F32 && a.Q.dtype != DType::F16)
    throw Error("attention", "Q", std::string("must be f32 or f16, got ") + name(a.Q.dtype));
  if (a.K.dtype != DType::F32 && a.K.dtype != DType::F16)
    throw Error("attention", "K", std::string("must be f16 or f32, got ") + name(a.K.dtype));
  if (a.V.dtype != a.K.dtype)
    throw Error("attention", "V",
                std::string("dtype ") + name(a.V.dtype) + " differs from K's " + name(a.K.dtype));
  if (a.O.dtype != DType::F32)
    throw Error("attention", "O", std::string("must be f32, got ") + name(a.O.dtype));
  if (a.K.shape != a.V.shape)
    throw Error("attention", "V", "shape " + dims(a.V) + " differs from K's " + dims(a.K));
  if (a.K.shape[0] != a.Q.shape[0])
    throw Error("attention", "K",
                "batch " + std::to_string(a.K.shape[0]) + " differs from Q's " + std::to_string(a.B()));
  if (a.K.shape[3] != a.D())
    throw Error("attention", "K", "head dim differs from Q's: K is " + dims(a.K) + ", Q is " + dims(a.Q));
  if (a.D() == 0) throw Error("attention", "Q", "head dim D must be > 0");
  if (a.Hkv() == 0 || a.Hq() % a.Hkv() != 0)
    throw Error("attention", "K",
                "query heads " + std::to_string(a.Hq()) + " must be a multiple of KV heads " +
                    std::to_string(a.Hkv()));
  if (a.O.shape != a.Q.shape)
    throw Error("attention", "O", "shape " + dims(a.O) + " differs from Q's " + dims(a.Q));
  if (!std::isfinite(a.scale) || a.scale <= 0)
    throw Error("attention", "scale", "must be finite and > 0, got " + std::to_string(a.scale));
  if (a.q_offset < 0) throw Error("attention", "q_offset", "must be >= 0, got " + std::to_string(a.q_offset));
  if (a.causal && checked::add(a.q_offset, a.S(), "attention", "q_offset", "q_offset + S") > a.T())
    throw Error("attention", "q_offset",
                "causal with q_offset " + std::to_string(a.q_offset) + " and S " + std::to_string(a.S()) +
                    " needs T >= " + std::to_string(a.q_offset + a.S()) + ", K has T " +
                    std::to_string(a.T()));
  if (a.T() == 0 && a.S() > 0) throw Error("attention", "K", "T = 0: no keys to attend to");
}

}  // namespace

Selection select_attention(const Device& dev, const AttentionArgs& args, const std::string& forced) try {
  validate_attention(dev, args);
  return choose(dev, Op::Attention, args.K.dtype, ActPrecision::Auto, forced, args,
                [&](const Variant& v, ActPrecision) {
                  return v.ops->supports_attention ? v.ops->supports_attention(args, dev.info())
                                                   : std::string();
                });
} catch (...) {
  checked::rethrow_as_error("select_attention");
}

LaunchRecord attention(Device& dev, const Tensor& Q, const Tensor& K, const Tensor& V, Tensor& O,
                       const AttentionOptions& opt) try {
  const float scale = opt.scale == 0.0f && Q.shape.size() == 4 && Q.shape[3] > 0
                          ? 1.0f / std::sqrt(static_cast<float>(Q.shape[3]))
                          : opt.scale;
  AttentionArgs a{Q, K, V, O, scale, opt.causal, opt.q_offset};
  Selection sel = select_attention(dev, a, opt.variant);
  if (!sel.variant) throw Error("attention", opt.variant.empty() ? "K" : "variant", sel.reason);
  LaunchRecord rec;
  rec.variant = sel.variant->name;
  if (O.numel() > 0) sel.variant->ops->run_attention(dev, a, rec);
  DeviceAccess::set_last_launch(dev, rec);
  return rec;
} catch (...) {
  checked::rethrow_as_error("attention");
}

Tensor attention(Device& dev, const Tensor& Q, const Tensor& K, const Tensor& V,
                 const AttentionOptions& opt) try {
  if (Q.shape.size() != 4)
    throw Error("attention", "Q", "expected rank 4 [B, Hq, S, D], got shape " + dims(Q));
  Tensor O = make_tensor(dev, DType::F32, Q.shape);
  attention(dev, Q, K, V, O, opt);
  return O;
} catch (...) {
  checked::rethrow_as_error("attention");
}

}  // namespace xk
