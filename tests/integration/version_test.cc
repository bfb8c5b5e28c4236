// `--version` of tandem-server, tandem-client and tandem-sim: exit 0 and
// five lines: program and project version, git revision, LibTorch, gRPC,
// BLAS with its kernel; and the kernel each program chooses at start
// (ml/blas_kernel.h).
#include <regex>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/integration/subprocess.h"

namespace tandem::testing {
namespace {

using ::testing::HasSubstr;

class VersionTest : public ::testing::TestWithParam<const char*> {};

TEST_P(VersionTest, PrintsVersionsAndExitsZero) {
  const std::string program = GetParam();
  const std::string folder = program.substr(program.find('-') + 1);
  const std::string log = ::testing::TempDir() + program + "-version.log";
  auto p = Subprocess::Start(
      {std::string(TANDEM_BINARY_DIR) + "/" + folder + "/" + program,
       "--version"},
      log);
  ASSERT_TRUE(p.ok()) << p.status();
  auto rc = (*p)->Wait(absl::Seconds(60));
  ASSERT_TRUE(rc.ok()) << rc.status();
  const std::string text = ReadFileOrEmpty(log);
  EXPECT_EQ(*rc, 0) << text;
  const std::vector<std::string> lines =
      absl::StrSplit(text, '\n', absl::SkipEmpty());
  const std::vector<std::string> patterns = {
      program + " " + TANDEM_EXPECTED_VERSION,
      "git revision: ([0-9a-f]{12}(-dirty)?|unknown)",
      R"(LibTorch: \d+\.\d+\.\d+.*)",
      R"(gRPC: \d+\.\d+\.\d+.*)",
      "BLAS: .*[^ ].*",
  };
  ASSERT_EQ(lines.size(), patterns.size()) << text;
  for (size_t i = 0; i < patterns.size(); ++i) {
    EXPECT_TRUE(std::regex_match(lines[i], std::regex(patterns[i])))
        << "line " << i + 1 << " '" << lines[i] << "' does not match '"
        << patterns[i] << "'";
  }
}

// `--version`'s BLAS line under `env`, e.g. {"OPENBLAS_CORETYPE=Prescott"}.
std::string BlasLineWith(const std::vector<std::string>& env) {
  const std::string log = ::testing::TempDir() + "kernel-version.log";
  std::vector<std::string> argv = {"/usr/bin/env", "-u", "OPENBLAS_CORETYPE",
                                   "-u", "TANDEM_BLAS_KERNEL"};
  argv.insert(argv.end(), env.begin(), env.end());
  argv.push_back(std::string(TANDEM_BINARY_DIR) + "/sim/tandem-sim");
  argv.push_back("--version");
  auto p = Subprocess::Start(argv, log);
  if (!p.ok()) return p.status().ToString();
  auto rc = (*p)->Wait(absl::Seconds(60));
  const std::string text = ReadFileOrEmpty(log);
  if (!rc.ok() || *rc != 0) return "failed: " + text;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    if (absl::StartsWith(line, "BLAS: ")) return std::string(line);
  }
  return "no BLAS line: " + text;
}

bool HostHasAvx2AndFma() {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}

TEST(BlasKernelChoiceTest, AUserSettingIsNeverOverridden) {
  EXPECT_THAT(BlasLineWith({"OPENBLAS_CORETYPE=Prescott",
                            "TANDEM_BLAS_ASSUME_CORE=Prescott"}),
              HasSubstr("kernel Prescott (set by OPENBLAS_CORETYPE)"));
}

TEST(BlasKernelChoiceTest, AFallbackIsReplacedByAVerifiedKernel) {
  if (!HostHasAvx2AndFma()) GTEST_SKIP() << "no AVX2 and FMA: nothing better";
  // OpenBLAS knows this host's CPU; pretend it fell back to Prescott.
  const std::string line = BlasLineWith({"TANDEM_BLAS_ASSUME_CORE=Prescott"});
  EXPECT_THAT(line, HasSubstr("(chosen by Tandem: OpenBLAS fell back to "
                              "Prescott on a CPU with AVX2"));
  EXPECT_THAT(line, HasSubstr("GEMMs verified"));
  EXPECT_TRUE(line.find("kernel Haswell (") != std::string::npos ||
              line.find("kernel SkylakeX (") != std::string::npos)
      << line;
}

TEST(BlasKernelChoiceTest, TheChoiceCanBeTurnedOff) {
  EXPECT_THAT(BlasLineWith({"TANDEM_BLAS_KERNEL=off",
                            "TANDEM_BLAS_ASSUME_CORE=Prescott"}),
              HasSubstr("(OpenBLAS's own choice; TANDEM_BLAS_KERNEL=off)"));
}

INSTANTIATE_TEST_SUITE_P(Programs, VersionTest,
                         ::testing::Values("tandem-server", "tandem-client",
                                           "tandem-sim"),
                         [](const auto& info) {
                           std::string name = info.param;
                           return name.substr(name.find('-') + 1);
                         });

}  // namespace
}  // namespace tandem::testing
