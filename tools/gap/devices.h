// The device database (tools/devices/devices.json) as C++ values.
//
// Every hardware figure carries its provenance: a value, a unit, a kind (published by the
// vendor, derived from published figures by a stated derivation, or measured) and a
// source. The gap model only ever reads figures through these structs, so a number printed
// by `xk explain` can always be traced back to its document.
#pragma once
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace xk::gap {

struct Figure {
  double value = 0;
  std::string unit;        // "TFLOP/s", "TOP/s", "GB/s", "MB", "GHz", "fraction", "us"
  std::string kind;        // "published" | "derived" | "measured"
  std::string source;      // document / URL title / section
  std::string derivation;  // required when kind == "derived"
};

// One way a device can run a weight format: the xkern kernel and the instruction class it
// issues. Kernel parameters, not hardware figures.
struct KernelPath {
  std::string kernel;    // stable kernel family name: "mmq_i8", "mmq_wmma_iu4", ...
  std::string cls;       // instruction class: "int8_mma", "fp4_mma", ... (keys of DeviceSpec::peak)
  std::string act;       // activation precision entering the kernel: q8, q4, fp4, fp8, f16, f32
  int tile_m = 128;      // rows of X per thread block (weight tile re-read once per M stripe)
  int tile_n = 128;      // columns of W per thread block
  std::string requant;   // weight format the path needs at upload ("" = the format as given)
  bool what_if = false;  // a kernel xkern does not have: used only in "what would close the gap"
  std::string note;
};

struct DeviceSpec {
  std::string key, name, arch, api;
  std::map<std::string, Figure> units;                   // sm_count, clock_boost, l2_cache, ...
  std::map<std::string, Figure> peak;                    // instruction class -> dense peak (1e12 op/s)
  std::map<std::string, Figure> memory;                  // bandwidth_theoretical, bandwidth_measured
  std::map<std::string, Figure> efficiency;              // class / "attention" / "memory" -> fraction
  Figure launch_overhead;                                // microseconds per kernel launch
  std::map<std::string, std::vector<KernelPath>> paths;  // format|gemv|attention|elementwise

  // Peak in op/s of a class; throws xk::Error when the device lacks it.
  double peak_ops(const std::string& cls) const;
  double bandwidth_bytes() const;                       // theoretical, bytes/s
  double efficiency_of(const std::string& what) const;  // fraction; throws when missing
  double last_level_cache_bytes() const;                // largest of l2/mall/l3 figures, 0 if none
  const std::vector<KernelPath>& paths_for(const std::string& key) const;
  // The path the suite runs today: the first one that is not a what-if.
  const KernelPath& default_path(const std::string& key) const;
};

struct Database {
  std::string path;  // where it was read from
  std::map<std::string, DeviceSpec> devices;
  const DeviceSpec& device(const std::string& key) const;  // throws listing the known keys
};

// Problems with the raw JSON against the schema (empty = valid): every figure under units,
// peak, memory, efficiency and launch_overhead has a numeric value, a unit, a kind in
// {published, derived, measured}, a source, and a derivation when derived; every path
// names a class the device has a peak and an efficiency for; every format has at least
// one path that is not a what-if.
std::vector<std::string> validate(const nlohmann::json& db);
std::vector<std::string> validate(const DeviceSpec& spec);

// Reads and validates the database; fills the runtime device ("this-cpu") from this host.
Database load_database(const std::string& path);

// Where xk's data lives: $XK_DATA_DIR if set, else <exe dir>/../share/xkern if it holds
// devices/devices.json, else the configured source dir (tools/). Files inside it:
// devices/devices.json, gap/plot.py.
std::string data_dir();
std::string database_path();

// Fills a runtime device from this host (/proc/cpuinfo, sysfs caches, a short bandwidth
// probe). Exposed for tests.
void fill_host_cpu(DeviceSpec& spec, bool measure_bandwidth = true);

}  // namespace xk::gap
