// `xk devices [--json]`: every device the registry knows, why a backend is absent, and for
// each available device its DeviceInfo and kernel-variant table.
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>

#include "bench/bench.h"
#include "tools/xk/commands.h"
#include "tools/xk/text.h"
#include "xk/registry.h"

namespace xk::tool {

namespace {

std::vector<std::string> format_names(const std::vector<DType>& v) {
  std::vector<std::string> out;
  for (DType t : v) out.push_back(name(t));
  return out;
}

std::vector<std::string> act_names(const std::vector<ActPrecision>& v) {
  std::vector<std::string> out;
  for (ActPrecision a : v) out.push_back(name(a));
  return out;
}

nlohmann::ordered_json variants_json(const Device& dev) {
  nlohmann::ordered_json out = nlohmann::ordered_json::array();
  for (const Variant& v : dev.variants())
    out.push_back({{"name", v.name},
                   {"op", name(v.op)},
                   {"formats", format_names(v.formats)},
                   {"acts", act_names(v.acts)},
                   {"min_arch", v.min_arch},
                   {"tile", v.tile.str()},
                   {"kernels", v.kernels},
                   {"priority", v.priority}});
  return out;
}

// An available device is opened to read its info and variant table; a device that
// enumerates but fails to open is reported with the error rather than aborting the list.
struct Opened {
  std::unique_ptr<Device> dev;
  std::string error;
};
Opened try_open(const DeviceEntry& e) {
  Opened o;
  if (!e.available) return o;
  try {
    o.dev = open_device(e.name);
  } catch (const std::exception& ex) {
    o.error = ex.what();
  }
  return o;
}

void print_json(const std::vector<DeviceEntry>& entries) {
  nlohmann::ordered_json list = nlohmann::ordered_json::array();
  for (const DeviceEntry& e : entries) {
    nlohmann::ordered_json j = {{"name", e.name},
                                {"api", e.api},
                                {"available", e.available},
                                {"reason", e.reason},
                                {"description", e.description}};
    Opened o = try_open(e);
    if (o.dev) {
      j["info"] = nlohmann::ordered_json::parse(bench::device_info_json(o.dev->info()));
      j["variants"] = variants_json(*o.dev);
    } else if (!o.error.empty()) {
      j["open_error"] = o.error;
    }
    list.push_back(std::move(j));
  }
  std::cout << nlohmann::ordered_json{{"devices", list}}.dump(2) << "\n";
}

void print_text(const std::vector<DeviceEntry>& entries) {
  Table summary({"DEVICE", "API", "STATUS", "DESCRIPTION / WHY ABSENT"});
  for (const DeviceEntry& e : entries)
    summary.add(
        {e.name, e.api, e.available ? "available" : "absent", e.available ? e.description : e.reason});
  summary.print(std::cout);

  for (const DeviceEntry& e : entries) {
    Opened o = try_open(e);
    if (!e.available) continue;
    std::cout << "\n" << e.name << "\n";
    if (!o.dev) {
      std::cout << "  could not open: " << o.error << "\n";
      continue;
    }
    const DeviceInfo& i = o.dev->info();
    std::cout << "  " << i.description << "\n"
              << "  api " << i.api << ", arch " << i.arch << ", memory "
              << mem(static_cast<double>(i.memory_bytes)) << (i.unified_memory ? " (unified)" : "")
              << ", subgroup size " << i.subgroup_size << ", compute units " << i.compute_units << "\n"
              << "  features: " << (i.features.empty() ? "none" : join(i.features)) << "\n"
              << "  kernel variants:\n";
    Table t({"NAME", "OP", "FORMATS", "ACTS", "MIN_ARCH", "TILE", "PRIORITY"});
    for (const Variant& v : o.dev->variants())
      t.add({v.name, name(v.op), join(format_names(v.formats), ","),
             v.acts.empty() ? "-" : join(act_names(v.acts), ","), v.min_arch, v.tile.str(),
             std::to_string(v.priority)});
    if (t.empty())
      std::cout << "    none\n";
    else
      t.print(std::cout, "    ");
  }
}

}  // namespace

void add_devices_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("devices",
                                 "List devices, why a backend is absent, and each device's kernel variants");
  auto json = std::make_shared<bool>(false);
  cmd->add_flag("--json", *json, "Print JSON instead of tables");
  cmd->callback([json] {
    const auto entries = list_devices();
    if (*json)
      print_json(entries);
    else
      print_text(entries);
  });
}

}  // namespace xk::tool
