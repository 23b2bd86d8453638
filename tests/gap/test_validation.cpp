// The project's own validation: every end-to-end row of tools/measurements/e2e.csv predicted
// from the kernel-level calibration (tools/measurements/kernels.csv). The bar: at least
// 75% of the predicted rows within 20%. Its own ctest label ("validation"), because it states
// how good the model is rather than whether the code is correct.
#include <gtest/gtest.h>

#include <sstream>

#include "gap/validate.h"

namespace xk::gap {
namespace {

TEST(GapValidation, AtLeast75PercentOfTheProjectsEndToEndRowsWithin20Percent) {
  const Database db = load_database(database_path());
  const std::string dir = std::string(XK_SOURCE_DIR) + "/tools/measurements/";
  CalibrationInput in;
  in.kernels_csv = dir + "kernels.csv";
  const Calibration cal = load_calibration(db, in);
  std::ostringstream out;
  const ValidateResult v = run_validate(db, cal, read_e2e_csv(dir + "e2e.csv"), out);
  ASSERT_GE(v.predicted, 15);
  // The bar covers DGX Spark, Strix Halo with both HIP and Vulkan, and another GPU.
  for (const char* group :
       {"| dgx-spark cuda pp |", "| strix-halo hip pp |", "| strix-halo vulkan pp |", "| rtx-4090 cuda pp |"})
    EXPECT_NE(out.str().find(group), std::string::npos) << group;
  EXPECT_GE(v.within, 0.75 * v.predicted) << v.summary();
}

}  // namespace
}  // namespace xk::gap
