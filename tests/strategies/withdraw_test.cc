// Strategy::Withdraw (over-selection): every strategy aggregates a round
// with one update withdrawn exactly as the round without it.
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "strategies/strategy.h"
#include "tests/strategies/strategy_test_util.h"

namespace tandem {
namespace {

using testing_util::MakeUpdate;
using testing_util::MakeWeights;
using testing_util::MustCreate;
using testing_util::Options;
using testing_util::SmallLayout;
using testing_util::Values;

std::vector<ClientUpdate> SevenUpdates() {
  std::vector<ClientUpdate> out;
  for (int i = 0; i < 7; ++i) {
    const float x = 0.1f * static_cast<float>(i + 1);
    out.push_back(
        MakeUpdate(std::string(1, static_cast<char>('a' + i)), 1, 10 * (i + 1),
                   MakeWeights(SmallLayout(), {1 + x, 2 - x, 3 + x * x, x}),
                   /*loss_before=*/1 + x));
  }
  return out;
}

// Params for the strategies that have required ones.
nlohmann::json ParamsFor(const std::string& name) {
  if (name == "fedprox") return {{"mu", 0.1}};
  if (name == "dp_fixed_server" || name == "dp_fixed_client") {
    return {{"noise_multiplier", 0.1}, {"clipping_norm", 10.0}};
  }
  if (name == "bulyan") return {{"num_malicious", 0}};
  if (name == "fedtrimmedavg") return {{"beta", 0.2}};
  return nlohmann::json::object();
}

absl::StatusOr<Weights> Aggregate(const std::string& name,
                                  const std::vector<ClientUpdate>& added,
                                  const std::string& withdraw,
                                  bool allow_withdraw = true) {
  auto s = MustCreate(Options(name, ParamsFor(name)));
  if (s == nullptr) return absl::InvalidArgumentError(name);
  if (allow_withdraw) s->AllowWithdraw();
  const Weights global = MakeWeights(SmallLayout(), {1, 2, 3, 0});
  absl::Status begin = s->BeginRound(1, global, 7);
  if (!begin.ok()) return begin;
  for (const ClientUpdate& u : added) {
    absl::Status st = s->AddUpdate(u, nullptr);
    if (!st.ok()) return st;
  }
  if (!withdraw.empty()) {
    absl::Status w = s->Withdraw(withdraw);
    if (!w.ok()) return w;
    EXPECT_EQ(s->Withdraw(withdraw).code(), absl::StatusCode::kNotFound);
  }
  return s->FinishRound();
}

TEST(WithdrawTest, AWithdrawnUpdateIsAsIfItNeverArrived) {
  const std::vector<ClientUpdate> all = SevenUpdates();
  const std::vector<ClientUpdate> without_c = {all[0], all[1], all[3],
                                               all[4], all[5], all[6]};
  for (const std::string& name : StrategyNames()) {
    absl::StatusOr<Weights> withdrawn = Aggregate(name, all, "c");
    absl::StatusOr<Weights> never = Aggregate(name, without_c, "");
    ASSERT_EQ(withdrawn.ok(), never.ok())
        << name << ": " << withdrawn.status() << " / " << never.status();
    ASSERT_TRUE(never.ok()) << name << ": " << never.status();
    EXPECT_EQ(Values(*withdrawn), Values(*never)) << name;
    EXPECT_NE(Values(*withdrawn), Values(*Aggregate(name, all, "")))
        << name << ": the withdrawn update must have mattered";
  }
}

TEST(WithdrawTest, KeepingUpdatesForWithdrawChangesNoBit) {
  const std::vector<ClientUpdate> all = SevenUpdates();
  for (const std::string& name : StrategyNames()) {
    absl::StatusOr<Weights> kept = Aggregate(name, all, "", true);
    absl::StatusOr<Weights> streamed = Aggregate(name, all, "", false);
    ASSERT_TRUE(kept.ok() && streamed.ok()) << name;
    EXPECT_EQ(Values(*kept), Values(*streamed)) << name;
  }
}

TEST(WithdrawTest, NeedsAllowWithdrawBeforeTheRound) {
  auto s = MustCreate(Options("fedavg"));
  const Weights global = MakeWeights(SmallLayout(), {1, 2, 3, 0});
  ASSERT_TRUE(s->BeginRound(1, global, 2).ok());
  ASSERT_TRUE(s->AddUpdate(SevenUpdates()[0], nullptr).ok());
  absl::Status st = s->Withdraw("a");
  EXPECT_EQ(st.code(), absl::StatusCode::kFailedPrecondition) << st;
  EXPECT_EQ(s->accepted(), 1);
}

TEST(WithdrawTest, OnlyAcceptedUpdatesOfTheOpenRoundCanBeWithdrawn) {
  auto s = MustCreate(Options("fedavg"));
  s->AllowWithdraw();
  EXPECT_EQ(s->Withdraw("a").code(), absl::StatusCode::kNotFound);
  const Weights global = MakeWeights(SmallLayout(), {1, 2, 3, 0});
  ASSERT_TRUE(s->BeginRound(1, global, 2).ok());
  EXPECT_EQ(s->Withdraw("a").code(), absl::StatusCode::kNotFound);
  ASSERT_TRUE(s->AddUpdate(SevenUpdates()[0], nullptr).ok());
  ASSERT_TRUE(s->Withdraw("a").ok());
  EXPECT_EQ(s->accepted(), 0);
  EXPECT_FALSE(s->FinishRound().ok());  // nothing left to aggregate
}

}  // namespace
}  // namespace tandem
