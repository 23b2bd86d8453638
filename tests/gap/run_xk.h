// Runs `xk <args...>` through CLI11 with the gap subcommands (explain, compare, report,
// validate, calibrate, predict) and returns what it printed: the gap tests' command driver.
#pragma once
#include <CLI/CLI.hpp>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "gap/commands.h"

namespace xk::gap::test_driver {

inline std::string run_xk(std::vector<std::string> args) {
  CLI::App app("xk (test driver)");
  app.require_subcommand(1);
  add_commands(app);
  std::vector<std::string> argv_store = {"xk"};
  argv_store.insert(argv_store.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& s : argv_store) argv.push_back(s.data());
  std::ostringstream captured;
  std::streambuf* old = std::cout.rdbuf(captured.rdbuf());
  try {
    app.parse(static_cast<int>(argv.size()), argv.data());
  } catch (...) {
    std::cout.rdbuf(old);
    throw;
  }
  std::cout.rdbuf(old);
  return captured.str();
}

}  // namespace xk::gap::test_driver
