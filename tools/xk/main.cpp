// xk: the xkern command-line tool.
//   xk devices [--json]                   what was found, why a backend is absent, variant tables
//   xk bench [--device D ...] [--json F]  the benchmark set, a table, Google Benchmark JSON
//   xk profile --device cuda:0 --kernel NAME --shape M,N,K
//                                         ncu / nsys / rocprofv3 command lines for one launch
// and, when tools/gap is built, xk explain / compare / report (the gap model).
#include <CLI/CLI.hpp>
#include <iostream>

#include "tools/xk/commands.h"
#include "xk/error.h"
#if XK_WITH_GAP
#include "tools/gap/commands.h"
#endif

int main(int argc, char** argv) {
  CLI::App app{"xk: xkern devices, benchmarks, profiles and the pp-gap model"};
  app.require_subcommand(1);
  xk::tool::add_devices_command(app);
  xk::tool::add_bench_command(app);
  xk::tool::add_profile_command(app);
#if XK_WITH_GAP
  xk::gap::add_commands(app);
#endif
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const std::exception& e) {
    // xk::Error names the op, argument and reason; anything else is reported as is.
    std::cerr << "xk: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
