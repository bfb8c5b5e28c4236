// Every rejection reason, how rejections are reported and counted, and that a
// rejected update never reaches an aggregate.
#include <limits>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "strategies/strategy.h"
#include "strategies/update_validator.h"
#include "tests/strategies/strategy_test_util.h"

namespace tandem {
namespace {

using ::testing::HasSubstr;
using testing_util::MakeUpdate;
using testing_util::MakeWeights;
using testing_util::MustCreate;
using testing_util::Options;
using testing_util::RunRound;
using testing_util::SmallLayout;
using testing_util::Values;

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();
constexpr float kInf = std::numeric_limits<float>::infinity();

class RejectionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // max_update_norm = 1 over parameters.
    strategy_ = MustCreate(Options("fedavg", {}, 1.0));
    global_ = MakeWeights(SmallLayout(), {0, 0, 0, 0});
    ASSERT_TRUE(strategy_->BeginRound(4, global_, {"a", "b", "c"}).ok());
  }

  // Adds `u` and expects it to be rejected for `expected`.
  void ExpectRejected(const ClientUpdate& u, RejectReason expected) {
    RejectReason reason = RejectReason::kWrongRound;
    if (expected == RejectReason::kWrongRound)
      reason = RejectReason::kDuplicate;
    const int64_t before = strategy_->rejected(expected);
    absl::Status status = strategy_->AddUpdate(u, &reason);
    EXPECT_FALSE(status.ok());
    EXPECT_EQ(reason, expected) << status;
    EXPECT_TRUE(absl::StartsWith(
        status.message(), std::string(RejectReasonName(expected)) + ": "))
        << status;
    EXPECT_EQ(strategy_->rejected(expected), before + 1);
  }

  ClientUpdate Good(const std::string& id) {
    return MakeUpdate(id, 4, 1, MakeWeights(SmallLayout(), {0.5f, 0, 0, 0}));
  }

  std::unique_ptr<Strategy> strategy_;
  Weights global_;
};

TEST_F(RejectionTest, WrongRound) {
  ClientUpdate stale = Good("a");
  stale.round = 3;
  ExpectRejected(stale, RejectReason::kWrongRound);
  absl::Status status = strategy_->AddUpdate(stale, nullptr);
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(status.message(), HasSubstr("current round is 4"));
}

TEST_F(RejectionTest, LateUpdateAfterFinish) {
  ASSERT_TRUE(strategy_->AddUpdate(Good("a"), nullptr).ok());
  ASSERT_TRUE(strategy_->FinishRound().ok());
  ExpectRejected(Good("b"), RejectReason::kWrongRound);
}

TEST_F(RejectionTest, Duplicate) {
  ASSERT_TRUE(strategy_->AddUpdate(Good("a"), nullptr).ok());
  ExpectRejected(Good("a"), RejectReason::kDuplicate);
  EXPECT_EQ(strategy_->AddUpdate(Good("a"), nullptr).code(),
            absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(strategy_->accepted(), 1);
}

TEST_F(RejectionTest, UnknownDevice) {
  ExpectRejected(Good("intruder"), RejectReason::kUnknownDevice);
  EXPECT_EQ(strategy_->expected(), 3);
}

TEST_F(RejectionTest, NoSamples) {
  ClientUpdate u = Good("a");
  u.num_samples = 0;
  ExpectRejected(u, RejectReason::kNoSamples);
  u.num_samples = -5;
  ExpectRejected(u, RejectReason::kNoSamples);
}

TEST_F(RejectionTest, LayoutMismatch) {
  ClientUpdate u = Good("a");
  u.weights = Weights(WeightsLayout::Create({{"w", {4}}}).value());
  ExpectRejected(u, RejectReason::kLayoutMismatch);
  // Same sizes, tensor kinds swapped.
  u.weights = Weights(WeightsLayout::Create({{"w", {3}, TensorKind::kBuffer},
                                             {"bn.running_mean", {1}}})
                          .value());
  ExpectRejected(u, RejectReason::kLayoutMismatch);
}

TEST_F(RejectionTest, NonFiniteParameterOrBuffer) {
  ClientUpdate u = Good("a");
  u.weights.values()[1] = kNaN;
  ExpectRejected(u, RejectReason::kNonFinite);
  u = Good("a");
  u.weights.values()[3] = -kInf;  // a buffer: outside the norm, still checked
  ExpectRejected(u, RejectReason::kNonFinite);
  RejectReason reason;
  absl::Status status = strategy_->AddUpdate(std::move(u), &reason);
  EXPECT_THAT(status.message(), HasSubstr("bn.running_mean"));
}

TEST_F(RejectionTest, NormTooLargeCountsParametersOnly) {
  // ||(0.6, 0.8, 0.1)|| > 1.
  ExpectRejected(
      MakeUpdate("a", 4, 1, MakeWeights(SmallLayout(), {0.6f, 0.8f, 0.1f, 0})),
      RejectReason::kNormTooLarge);
  // A large buffer change is not bounded.
  EXPECT_TRUE(strategy_
                  ->AddUpdate(MakeUpdate("a", 4, 1,
                                         MakeWeights(SmallLayout(),
                                                     {0.6f, 0.7f, 0, 50})),
                              nullptr)
                  .ok());
  // Finite but so large that the squared norm overflows.
  ExpectRejected(
      MakeUpdate("b", 4, 1, MakeWeights(SmallLayout(), {3e38f, 3e38f, 0, 0})),
      RejectReason::kNormTooLarge);
}

TEST_F(RejectionTest, NoRoundOpen) {
  auto fresh = MustCreate(Options("fedavg"));
  RejectReason reason = RejectReason::kDuplicate;
  EXPECT_FALSE(fresh->AddUpdate(Good("a"), &reason).ok());
  EXPECT_EQ(reason, RejectReason::kWrongRound);
  EXPECT_EQ(fresh->FinishRound().status().code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST(RejectReasonTest, StableNames) {
  EXPECT_EQ(RejectReasonName(RejectReason::kWrongRound), "wrong_round");
  EXPECT_EQ(RejectReasonName(RejectReason::kDuplicate), "duplicate");
  EXPECT_EQ(RejectReasonName(RejectReason::kLayoutMismatch), "layout_mismatch");
  EXPECT_EQ(RejectReasonName(RejectReason::kNonFinite), "non_finite");
  EXPECT_EQ(RejectReasonName(RejectReason::kNormTooLarge), "norm_too_large");
  EXPECT_EQ(RejectReasonName(RejectReason::kNoSamples), "no_samples");
  EXPECT_EQ(RejectReasonName(RejectReason::kUnknownDevice), "unknown_device");
  EXPECT_EQ(RejectReasonName(RejectReason::kInvalidLoss), "invalid_loss");
}

TEST(BeginRoundTest, RejectsNonFiniteGlobalAndNegativeRound) {
  auto fedavg = MustCreate(Options("fedavg"));
  Weights bad = MakeWeights(SmallLayout(), {0, kNaN, 0, 0});
  EXPECT_EQ(fedavg->BeginRound(1, bad, 1).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_FALSE(fedavg->round_open());
  EXPECT_FALSE(
      fedavg->BeginRound(-1, MakeWeights(SmallLayout(), {0, 0, 0, 0}), 1).ok());
}

// For every strategy: a round with a NaN update (and other rejected ones)
// between honest ones gives exactly the result of the honest updates alone,
// whether updates are moved in or passed by reference.
class NanNeverEntersTest : public ::testing::TestWithParam<std::string> {};

StrategyOptions OptionsFor(const std::string& name) {
  nlohmann::json params = nlohmann::json::object();
  if (name == "fedprox") params = {{"mu", 0.1}};
  if (name == "dp_fixed_server" || name == "dp_fixed_client") {
    params = {{"noise_multiplier", 1.0}, {"clipping_norm", 10.0}};
  }
  return Options(name, params, /*max_update_norm=*/5.0);
}

std::vector<ClientUpdate> Honest() {
  return {MakeUpdate("a", 1, 2, MakeWeights(SmallLayout(), {1, 2, 3, 4})),
          MakeUpdate("b", 1, 3, MakeWeights(SmallLayout(), {2, 1, 0, 1}), 2),
          MakeUpdate("c", 1, 5, MakeWeights(SmallLayout(), {0, 1, 2, 3}), 3)};
}

TEST_P(NanNeverEntersTest, RejectedUpdatesLeaveTheAggregateUnchanged) {
  const Weights global = MakeWeights(SmallLayout(), {1, 1, 1, 1});
  auto reference = MustCreate(OptionsFor(GetParam()));
  absl::StatusOr<Weights> expected = RunRound(*reference, 1, global, Honest());
  ASSERT_TRUE(expected.ok()) << expected.status();

  for (bool move : {false, true}) {
    auto strategy = MustCreate(OptionsFor(GetParam()));
    ASSERT_TRUE(strategy->BeginRound(1, global, 5).ok());
    std::vector<ClientUpdate> honest = Honest();
    ClientUpdate nan =
        MakeUpdate("n", 1, 4, MakeWeights(SmallLayout(), {1, kNaN, 1, 1}));
    ClientUpdate far =
        MakeUpdate("f", 1, 4, MakeWeights(SmallLayout(), {100, 1, 1, 1}));
    auto add = [&](ClientUpdate& u) {
      return move ? strategy->AddUpdate(std::move(u), nullptr)
                  : strategy->AddUpdate(u, nullptr);
    };
    ASSERT_TRUE(add(honest[0]).ok());
    EXPECT_FALSE(add(nan).ok());
    ASSERT_TRUE(add(honest[1]).ok());
    EXPECT_FALSE(add(far).ok());
    ASSERT_TRUE(add(honest[2]).ok());
    absl::StatusOr<Weights> got = strategy->FinishRound();
    ASSERT_TRUE(got.ok()) << got.status();
    EXPECT_EQ(Values(*got), Values(*expected)) << "moved: " << move;
    EXPECT_EQ(strategy->rejected(RejectReason::kNonFinite), 1);
    EXPECT_EQ(strategy->rejected(RejectReason::kNormTooLarge), 1);
  }
}

INSTANTIATE_TEST_SUITE_P(AllStrategies, NanNeverEntersTest,
                         ::testing::ValuesIn(StrategyNames()));

}  // namespace
}  // namespace tandem
