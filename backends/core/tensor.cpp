#include <cmath>
#include <map>
#include <cstring>
#include <numeric>
#include <sstream>

#include "backends/core/variant_row.h"
#include "xk/device.h"
#include "xk/variant.h"

namespace xk {

// A weight tensor's repacked copies, by layout key.
struct PackedCopies {
  std::map<std::string, Buffer> by_key;
};

const Buffer& packed(const Tensor& w, const std::string& key,
                     const std::function<std::vector<uint8_t>(const std::vector<uint8_t>& canonical)>& repack) {
  if (!w.packed) w.packed = std::make_shared<PackedCopies>();
  auto it = w.packed->by_key.find(key);
  if (it != w.packed->by_key.end()) return it->second;
  Device& dev = *w.device();
  std::vector<uint8_t> canonical(w.bytes());
  dev.read(w.buf, 0, canonical.data(), canonical.size());
  const std::vector<uint8_t> bytes = repack(canonical);
  Buffer b = dev.alloc(bytes.size());
  dev.write(b, 0, bytes.data(), bytes.size());
  return w.packed->by_key.emplace(key, std::move(b)).first->second;
}

bool DeviceInfo::has(const std::string& f) const {
  for (const auto& x : features)
    if (x == f) return true;
  return false;
}

bool Variant::handles(DType f) const {
  for (DType x : formats)
    if (x == f) return true;
  return false;
}
bool Variant::handles(ActPrecision a) const {
  for (ActPrecision x : acts)
    if (x == a) return true;
  return false;
}

const char* name(Op op) { return op == Op::Matmul ? "matmul" : "attention"; }

int64_t Tensor::numel() const {
  return std::accumulate(shape.begin(), shape.end(), int64_t{1}, std::multiplies<>());
}

size_t Tensor::bytes() const {
  if (shape.empty()) return 0;
  const int64_t last = shape.back();
  return static_cast<size_t>(numel() / (last ? last : 1)) * (last ? row_bytes(dtype, last) : 0);
}

std::string Tensor::shape_str() const {
  std::ostringstream os;
  os << '[';
  for (size_t i = 0; i < shape.size(); ++i) os << (i ? ", " : "") << shape[i];
  os << ']';
  return os.str();
}

namespace {
void check_shape(const char* op, DType dtype, const std::vector<int64_t>& shape) {
  if (shape.empty()) throw Error(op, "shape", "must have at least one dimension");
  for (int64_t d : shape)
    if (d < 0) throw Error(op, "shape", "negative dimension in " + Tensor{dtype, shape, {}, 1.0f, {}}.shape_str());
  const auto& tr = traits(dtype);
  if (shape.back() % tr.block_elems != 0)
    throw Error(op, "shape",
                "last dimension " + std::to_string(shape.back()) + " is not a multiple of the " +
                    tr.name + " block size " + std::to_string(tr.block_elems));
}
}  // namespace

Tensor make_tensor(Device& dev, DType dtype, std::vector<int64_t> shape) {
  check_shape("make_tensor", dtype, shape);
  Tensor t{dtype, std::move(shape), {}, 1.0f, {}};
  t.buf = dev.alloc(t.bytes());
  return t;
}

Tensor upload(Device& dev, DType dtype, std::vector<int64_t> shape, const void* data) {
  check_shape("upload", dtype, shape);
  Tensor t{dtype, std::move(shape), {}, 1.0f, {}};
  if (t.bytes() && !data) throw Error("upload", "data", "null pointer for a non-empty tensor");
  t.buf = dev.alloc(t.bytes());
  if (t.bytes()) dev.write(t.buf, 0, data, t.bytes());
  return t;
}

Tensor upload_weights(Device& dev, DType dtype, int64_t n, int64_t k, const void* data,
                      float tensor_scale) {
  if (!(tensor_scale > 0.0f) || !std::isfinite(tensor_scale))
    throw Error("upload_weights", "tensor_scale", "must be finite and > 0, got " + std::to_string(tensor_scale));
  if (dtype != DType::NVFP4 && tensor_scale != 1.0f)
    throw Error("upload_weights", "tensor_scale", std::string("only NVFP4 carries a per-tensor scale, format is ") + name(dtype));
  Tensor t = upload(dev, dtype, {n, k}, data);
  t.tensor_scale = tensor_scale;
  DeviceAccess::prepare_weights(dev, t);
  return t;
}

void download(const Tensor& t, void* dst, size_t dst_bytes) {
  if (!t.buf.valid()) throw Error("download", "tensor", "has no buffer");
  if (dst_bytes < t.bytes())
    throw Error("download", "dst_bytes",
                std::to_string(dst_bytes) + " bytes is smaller than the tensor's " + std::to_string(t.bytes()));
  if (t.bytes()) t.device()->read(t.buf, 0, dst, t.bytes());
}

std::vector<float> download_f32(const Tensor& t) {
  if (t.dtype != DType::F32)
    throw Error("download_f32", "tensor", std::string("dtype is ") + name(t.dtype) + ", expected f32");
  std::vector<float> out(static_cast<size_t>(t.numel()));
  download(t, out.data(), out.size() * sizeof(float));
  return out;
}

}  // namespace xk
