// The xk subcommands. Each add_* registers one CLI11 subcommand whose callback does the
// work; a failure is thrown (xk::Error for bad input) and main() turns it into exit code 1.
#pragma once
#include <CLI/CLI.hpp>

namespace xk::tool {

void add_devices_command(CLI::App& app);  // devices_cmd.cpp
void add_bench_command(CLI::App& app);    // bench_cmd.cpp
void add_profile_command(CLI::App& app);  // profile_cmd.cpp

}  // namespace xk::tool
