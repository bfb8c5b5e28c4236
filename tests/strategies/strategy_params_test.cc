// Strategy names and parameter validation: errors name the JSON path.
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "strategies/strategy.h"
#include "tests/strategies/strategy_test_util.h"

namespace tandem {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;
using testing_util::Options;

std::string Error(const StrategyOptions& options) {
  absl::StatusOr<std::unique_ptr<Strategy>> s = CreateStrategy(options);
  EXPECT_FALSE(s.ok()) << options.name << " " << options.params.dump();
  EXPECT_EQ(s.status().code(), absl::StatusCode::kInvalidArgument);
  return std::string(s.status().message());
}

TEST(StrategyParamsTest, EveryNameCreatesWithDefaultsOrRequiredParams) {
  const std::vector<std::string> names = StrategyNames();
  EXPECT_EQ(names.size(), 14u);
  for (const std::string& name : names) {
    nlohmann::json params = nlohmann::json::object();
    if (name == "fedprox") params = {{"mu", 0.1}};
    if (name.rfind("dp_", 0) == 0) {
      params = {{"noise_multiplier", 1.0}, {"clipping_norm", 1.0}};
    }
    absl::StatusOr<std::unique_ptr<Strategy>> s =
        CreateStrategy(Options(name, params));
    ASSERT_TRUE(s.ok()) << name << ": " << s.status();
    EXPECT_EQ((*s)->name(), name);
  }
}

TEST(StrategyParamsTest, UnknownKeyIsNamed) {
  EXPECT_THAT(Error(Options("fedavg", {{"eta", 1}})),
              StartsWith("strategy.params.eta: unknown parameter for fedavg "
                         "(known: none)"));
  EXPECT_THAT(Error(Options("fedadam", {{"betta_1", 0.5}})),
              AllOf(StartsWith("strategy.params.betta_1: unknown parameter"),
                    HasSubstr("beta_1")));
  // FedAdagrad has no second moment decay.
  EXPECT_THAT(Error(Options("fedadagrad", {{"beta_2", 0.5}})),
              StartsWith("strategy.params.beta_2: unknown parameter"));
  // Only Adam is bias-corrected.
  EXPECT_THAT(
      Error(Options("fedyogi", {{"bias_correction_step", "round_plus_one"}})),
      StartsWith("strategy.params.bias_correction_step: unknown parameter"));
}

TEST(StrategyParamsTest, RangeAndTypeErrorsNameKeyAndExpectation) {
  EXPECT_EQ(Error(Options("fedtrimmedavg", {{"beta", 0.7}})),
            "strategy.params.beta: expected a number in [0, 0.5), got 0.7");
  EXPECT_EQ(Error(Options("fedadam", {{"eta", "fast"}})),
            "strategy.params.eta: expected a number in (0, inf), got \"fast\"");
  EXPECT_EQ(Error(Options("krum", {{"num_malicious", 1.5}})),
            "strategy.params.num_malicious: expected an integer in [0, "
            "1000000], got 1.5");
  EXPECT_THAT(Error(Options("fedavgm", {{"server_momentum", 1.0}})),
              StartsWith("strategy.params.server_momentum: expected a number "
                         "in [0, 1)"));
  EXPECT_THAT(Error(Options("qfedavg", {{"qffl_learning_rate", 0}})),
              StartsWith("strategy.params.qffl_learning_rate:"));
  EXPECT_EQ(Error(Options("dp_fixed_server", {{"noise_multiplier", 1.0},
                                              {"clipping_norm", 1.0},
                                              {"weighting", "samples"}})),
            "strategy.params.weighting: expected one of \"unweighted\", "
            "\"examples\", got \"samples\"");
  EXPECT_EQ(Error(Options("fedadam", {{"bias_correction_step", "round"}})),
            "strategy.params.bias_correction_step: expected one of \"steps\", "
            "\"round_plus_one\", got \"round\"");
}

TEST(StrategyParamsTest, RequiredParams) {
  EXPECT_EQ(Error(Options("fedprox")),
            "strategy.params.mu: required for fedprox (a number >= 0)");
  EXPECT_THAT(Error(Options("dp_fixed_server", {{"clipping_norm", 1.0}})),
              StartsWith("strategy.params.noise_multiplier: required"));
  EXPECT_THAT(Error(Options("dp_fixed_client", {{"noise_multiplier", 1.0}})),
              StartsWith("strategy.params.clipping_norm: required"));
}

TEST(StrategyParamsTest, DpInnerParamsErrorsNameTheNestedPath) {
  EXPECT_THAT(
      Error(Options("dp_fixed_server", {{"inner", "fedadam"},
                                        {"inner_params", {{"bogus", 1}}},
                                        {"noise_multiplier", 1.0},
                                        {"clipping_norm", 1.0}})),
      StartsWith("strategy.params.inner_params.bogus: unknown "
                 "parameter for fedadam"));
  EXPECT_THAT(Error(Options("dp_fixed_server", {{"inner", "krum"},
                                                {"noise_multiplier", 1.0},
                                                {"clipping_norm", 1.0}})),
              StartsWith("strategy.params.inner: expected one of \"fedavg\""));
}

TEST(StrategyParamsTest, UnknownStrategyAndBadOptions) {
  EXPECT_THAT(Error(Options("fedsgd")),
              AllOf(StartsWith("strategy.name: unknown strategy \"fedsgd\""),
                    HasSubstr("fedavg, fedprox")));
  StrategyOptions negative = Options("fedavg");
  negative.max_update_norm = -1;
  EXPECT_THAT(Error(negative), StartsWith("strategy.max_update_norm:"));
  StrategyOptions not_object = Options("fedavg");
  not_object.params = nlohmann::json::array();
  EXPECT_THAT(Error(not_object),
              StartsWith("strategy.params: expected an object"));
}

}  // namespace
}  // namespace tandem
