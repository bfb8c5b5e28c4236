// `--version` of tandem-server, tandem-client and tandem-sim: exit 0 and
// five lines: program and project version, git revision, LibTorch, gRPC,
// BLAS.
#include <regex>
#include <string>
#include <vector>

#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "tests/integration/subprocess.h"

namespace tandem::testing {
namespace {

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

INSTANTIATE_TEST_SUITE_P(Programs, VersionTest,
                         ::testing::Values("tandem-server", "tandem-client",
                                           "tandem-sim"),
                         [](const auto& info) {
                           std::string name = info.param;
                           return name.substr(name.find('-') + 1);
                         });

}  // namespace
}  // namespace tandem::testing
