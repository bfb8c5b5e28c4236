// Per-device join tokens: the file's format, and that a token opens only its
// own device.
#include "server/device_tokens.h"

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace tandem::server {
namespace {

using ::testing::HasSubstr;

std::string Line(const std::string& id, const std::string& token) {
  const DeviceTokens::Digest d = DeviceTokens::Sha256(token);
  return absl::StrCat(id, " ",
                      absl::BytesToHexString(absl::string_view(
                          reinterpret_cast<const char*>(d.data()), d.size())),
                      "\n");
}

TEST(DeviceTokensTest, ATokenOpensOnlyItsOwnDevice) {
  auto tokens = DeviceTokens::Parse("# issued by make-token.sh\n\n" +
                                        Line("dev-a", "secret-a") +
                                        Line("dev-b", "secret-b"),
                                    "tokens");
  ASSERT_TRUE(tokens.ok()) << tokens.status();
  EXPECT_EQ(tokens->size(), 2);
  EXPECT_TRUE(tokens->Matches("dev-a", "secret-a"));
  EXPECT_TRUE(tokens->Matches("dev-b", "secret-b"));
  EXPECT_FALSE(tokens->Matches("dev-a", "secret-b"));
  EXPECT_FALSE(tokens->Matches("dev-a", ""));
  EXPECT_FALSE(tokens->Matches("dev-c", "secret-a"));
  EXPECT_FALSE(tokens->Matches("dev-a", "secret-a "));
}

TEST(DeviceTokensTest, KnownDigest) {
  // printf '%s' abc | sha256sum
  auto tokens = DeviceTokens::Parse(
      "d ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad\n",
      "t");
  ASSERT_TRUE(tokens.ok()) << tokens.status();
  EXPECT_TRUE(tokens->Matches("d", "abc"));
}

TEST(DeviceTokensTest, BadLinesAreNamedByFileAndLine) {
  const std::string good = Line("dev-a", "x");
  struct Case {
    std::string text, want;
  } cases[] = {
      {good + "dev-b\n", "tokens:2: expected"},
      {good + "dev-b 1234\n", "tokens:2: expected"},
      {good + "dev-b " + std::string(64, 'g') + "\n", "tokens:2: expected"},
      {good + good, "tokens:2: device 'dev-a' is listed twice"},
      {std::string(129, 'x') + good.substr(5), "tokens:1: device id"},
  };
  for (const Case& c : cases) {
    auto tokens = DeviceTokens::Parse(c.text, "tokens");
    ASSERT_FALSE(tokens.ok()) << c.text;
    EXPECT_THAT(tokens.status().message(), HasSubstr(c.want));
  }
  auto missing = DeviceTokens::Load("/nonexistent/tokens");
  ASSERT_FALSE(missing.ok());
  EXPECT_THAT(missing.status().message(), HasSubstr("/nonexistent/tokens"));
}

}  // namespace
}  // namespace tandem::server
