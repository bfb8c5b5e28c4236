// CheckRegisteredNames: each name a registry owns is checked against that
// registry, and the error names the JSON path and the known names.
#include "server/config_check.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace tandem::server {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;

std::string ErrorOf(const Config& c) {
  return std::string(CheckRegisteredNames(c).message());
}

TEST(ConfigCheckTest, DefaultsAndShippedNamesPass) {
  Config c;
  EXPECT_TRUE(CheckRegisteredNames(c).ok());
  c.model.name = "vgg5";
  c.strategy.name = "fedadam";
  c.offload.policy = "ppo";
  c.data.partition = "dirichlet";
  c.fleet.classes.resize(1);
  c.fleet.classes[0].attack = "sign_flip";
  EXPECT_TRUE(CheckRegisteredNames(c).ok());
}

TEST(ConfigCheckTest, EachUnknownNameNamesItsPathAndTheKnownOnes) {
  Config c;
  c.model.name = "resnet";
  EXPECT_THAT(ErrorOf(c), AllOf(HasSubstr("config: $.model.name"),
                                HasSubstr("\"mlp\", \"cnn\", \"vgg5\""),
                                HasSubstr("\"resnet\"")));
  c = Config();
  c.data.dataset = "imagenet";
  EXPECT_THAT(ErrorOf(c), HasSubstr("$.data.dataset"));
  c = Config();
  c.data.partition = "random";
  EXPECT_THAT(ErrorOf(c), HasSubstr("$.data.partition"));
  c = Config();
  c.strategy.name = "fedsgd";
  EXPECT_THAT(ErrorOf(c),
              AllOf(HasSubstr("$.strategy.name"), HasSubstr("\"fedavg\"")));
  c = Config();
  c.offload.policy = "random";
  EXPECT_THAT(ErrorOf(c),
              AllOf(HasSubstr("$.offload.policy"), HasSubstr("\"greedy\"")));
  c = Config();
  c.fleet.classes.resize(2);
  c.fleet.classes[1].attack = "ddos";
  EXPECT_THAT(ErrorOf(c), HasSubstr("$.fleet.classes[1].attack"));
}

}  // namespace
}  // namespace tandem::server
