// What `xk compare` and `xk report` say about bad files: a bench JSON with a field of the wrong
// type, a missing field or no benchmarks array names the file and the field; an --out folder
// that cannot be made or written names the path. Never a raw nlohmann or std::filesystem
// exception.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <unistd.h>

#include "gap/model.h"
#include "run_xk.h"
#include "xk/error.h"

namespace xk::gap {
namespace {
namespace fs = std::filesystem;
using nlohmann::json;
using test_driver::run_xk;

fs::path temp_dir(const std::string& name) {
  const fs::path p = fs::temp_directory_path() / ("xk_cli_errors_" + name + "_" + std::to_string(::getpid()));
  fs::remove_all(p);
  fs::create_directories(p);
  return p;
}

// One benchmark as `xk bench --json` writes it.
json good_benchmark() {
  return {{"name", "matmul/small/M64_N1024_K1024/q4_0/f32/cpu-ref/manual_time"},
          {"run_type", "iteration"},
          {"real_time", 2.0},
          {"time_unit", "ms"},
          {"FLOP/s", 1.0e11},
          {"label", "variant=x act=f32 timer=device"}};
}

json bench_file(const json& second) {
  return {{"context", {{"executable", "xk"}}}, {"benchmarks", json::array({good_benchmark(), second})}};
}

// Runs f, which must throw an xk::Error; returns its text.
std::string error_text(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  } catch (const std::exception& e) {
    ADD_FAILURE() << "expected xk::Error, got another exception: " << e.what();
    return "";
  }
  ADD_FAILURE() << "expected xk::Error, the command succeeded";
  return "";
}

class CliErrors : public testing::Test {
 protected:
  void SetUp() override {
    const auto* info = testing::UnitTest::GetInstance()->current_test_info();
    dir = temp_dir(info->name());
    std::ofstream(dir / "good.json") << bench_file(good_benchmark()).dump();
  }
  void TearDown() override { fs::remove_all(dir); }
  std::string write(const std::string& file, const json& j) {
    std::ofstream(dir / file) << j.dump();
    return (dir / file).string();
  }
  // `xk compare BAD good.json` and `xk report --bench BAD`: both must say `needle`.
  void expect_both_say(const std::string& bad, const std::string& needle) {
    const std::string good = (dir / "good.json").string();
    for (const std::string& text :
         {error_text([&] { run_xk({"compare", bad, good, "--devices", "dgx-spark,strix-halo"}); }),
          error_text([&] { run_xk({"report", "--bench", bad, "--out", (dir / "out").string()}); })}) {
      EXPECT_NE(text.find(bad), std::string::npos) << "the file is not named: " << text;
      EXPECT_NE(text.find(needle), std::string::npos) << "lacks \"" << needle << "\": " << text;
      EXPECT_EQ(text.find("json.exception"), std::string::npos) << "a raw nlohmann message: " << text;
    }
  }
  fs::path dir;
};

TEST_F(CliErrors, ANumberFieldHoldingAStringNamesTheFileAndTheField) {
  json b = good_benchmark();
  b["real_time"] = "fast";
  expect_both_say(write("bad.json", bench_file(b)),
                  "field 'benchmarks[1].real_time' is string \"fast\", expected a number");
  b = good_benchmark();
  b["FLOP/s"] = json::array({1, 2});
  expect_both_say(write("bad2.json", bench_file(b)),
                  "field 'benchmarks[1].FLOP/s' is array [1,2], expected a number");
}

TEST_F(CliErrors, AStringFieldHoldingANumberNamesTheFileAndTheField) {
  json b = good_benchmark();
  b["name"] = 42;  // nlohmann's value("name", "") throws type_error.302 here
  expect_both_say(write("bad.json", bench_file(b)),
                  "field 'benchmarks[1].name' is number 42, expected a string");
  b = good_benchmark();
  b["error_occurred"] = "no";
  expect_both_say(write("bad2.json", bench_file(b)),
                  "field 'benchmarks[1].error_occurred' is string \"no\", expected true or false");
  b = good_benchmark();
  b["time_unit"] = "fortnight";
  expect_both_say(write("bad3.json", bench_file(b)),
                  "field 'benchmarks[1].time_unit' is string \"fortnight\", expected one of ns, us, ms, s");
}

TEST_F(CliErrors, AMissingFieldOrArrayNamesTheFileAndTheField) {
  json b = good_benchmark();
  b.erase("real_time");
  expect_both_say(write("bad.json", bench_file(b)), "field 'benchmarks[1].real_time' is missing");
  expect_both_say(write("bad2.json", json{{"kernels", json::array()}}), "no 'benchmarks' array");
  expect_both_say(write("bad3.json", json{{"benchmarks", json::object({{"name", "x"}})}}),
                  "no 'benchmarks' array");
  expect_both_say(write("bad4.json", bench_file(json::array({1}))),
                  "'benchmarks[1]' is array, expected an object");
}

TEST_F(CliErrors, AFileThatIsMissingOrNotJsonIsNamed) {
  expect_both_say((dir / "absent.json").string(), "cannot open bench JSON");
  std::ofstream(dir / "broken.json") << "{\"benchmarks\": [";
  expect_both_say((dir / "broken.json").string(), "not valid JSON");
}

// An --out below a regular file cannot be created (even by root); an --out that is a file is not
// a folder. Both name the option and the path, not std::filesystem's "filesystem error".
TEST_F(CliErrors, ReportOutThatCannotBeAFolderNamesThePath) {
  std::ofstream(dir / "a_file") << "x";
  const std::string below_file = (dir / "a_file" / "out").string();
  std::string text = error_text([&] { run_xk({"report", "--out", below_file}); });
  EXPECT_NE(text.find("report: argument 'out': cannot create output folder '" + below_file + "'"),
            std::string::npos)
      << text;
  const std::string is_file = (dir / "a_file").string();
  text = error_text([&] { run_xk({"report", "--out", is_file}); });
  EXPECT_NE(text.find("report: argument 'out': "), std::string::npos) << text;
  EXPECT_NE(text.find(is_file), std::string::npos) << text;
  EXPECT_EQ(text.find("filesystem error"), std::string::npos) << text;
}

}  // namespace
}  // namespace xk::gap
