// Shared by the bad-input test programs (badinput.cpp, overflow_test.cpp, policy_test.cpp,
// lifetime_test.cpp, threads_test.cpp):
// the device under test, chosen by --device / XK_DEVICE, and the check that a call throws an
// xk::Error naming its op and argument.
#pragma once
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "xk/xk.h"

namespace xk::badinput {

inline std::unique_ptr<Device> g_device;
inline std::string g_device_name, g_open_error;

// The fixture of every bad-input program: its tests skip when the device did not open.
class DeviceTest : public testing::Test {
 protected:
  void SetUp() override {
    if (!g_device) GTEST_SKIP() << g_open_error;
  }
  Device& dev() { return *g_device; }
  Tensor t(DType dtype, std::vector<int64_t> shape) { return make_tensor(dev(), dtype, std::move(shape)); }
};

// Runs f and checks it throws an xk::Error for `op`, naming `arg`, with `needle` in the text.
template <class F>
void expect_error(F&& f, const std::string& op, const std::string& arg, const std::string& needle) {
  try {
    f();
    ADD_FAILURE() << "expected xk::Error from " << op << " naming '" << arg << "', but the call succeeded";
  } catch (const Error& e) {
    const std::string what = e.what();
    EXPECT_EQ(e.op(), op) << what;
    EXPECT_EQ(e.arg(), arg) << what;
    EXPECT_NE(what.find("argument '" + arg + "'"), std::string::npos)
        << "message does not name the argument: " << what;
    EXPECT_NE(what.find(needle), std::string::npos) << "message lacks \"" << needle << "\": " << what;
  } catch (const std::exception& e) {
    ADD_FAILURE() << "expected xk::Error, got another exception: " << e.what();
  }
}
#define EXPECT_XK_ERROR(statement, op, arg, needle)                    \
  do {                                                                 \
    SCOPED_TRACE(#statement);                                          \
    ::xk::badinput::expect_error([&] { statement; }, op, arg, needle); \
  } while (0)

// After gtest has taken its flags: reads --device NAME / --device=NAME (default $XK_DEVICE,
// else cpu-ref) and opens that device. Returns 0 to go on, 2 for an unknown argument or a
// device name no backend knows (a typo fails). A known device that cannot open (cuda:0
// without a driver) leaves g_device empty and g_open_error set, so its tests skip; the line
// "<program>: device unavailable: ..." is what ctest's SKIP_REGULAR_EXPRESSION matches.
inline int open_device_under_test(int argc, char** argv, const char* program) {
  const char* env_device = std::getenv("XK_DEVICE");
  g_device_name = env_device && *env_device ? env_device : "cpu-ref";
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--device" && i + 1 < argc)
      g_device_name = argv[++i];
    else if (a.rfind("--device=", 0) == 0)
      g_device_name = a.substr(9);
    else {
      std::fprintf(stderr, "usage: %s [--device NAME] [gtest flags]\nunknown argument: %s\n", program,
                   a.c_str());
      return 2;
    }
  }
  try {
    g_device = open_device(g_device_name);
  } catch (const Error& e) {
    bool known = false;
    for (const DeviceEntry& d : list_devices())
      known |= d.name == g_device_name || g_device_name.rfind(d.api + ":", 0) == 0;
    if (!known) {
      std::fprintf(stderr, "%s: %s\n", program, e.what());
      return 2;
    }
    g_open_error = e.what();
    std::printf("%s: device unavailable: %s\n", program, e.what());
  }
  return 0;
}

}  // namespace xk::badinput
