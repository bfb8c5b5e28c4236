// AggregateCheck: an evaluated aggregate is rolled back when its accuracy
// falls more than server.rollback_accuracy_drop below the best of the last
// accepted models, so that small drops in a row add up; the reason names the
// round's largest updates.
#include "server/aggregate_check.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace tandem::server {
namespace {

// Evaluates to the next accuracy of a script, whatever the weights.
class ScriptedCheck {
 public:
  explicit ScriptedCheck(double drop) {
    config_.server.rounds = 100;
    config_.server.eval_every = 1;
    config_.server.rollback_accuracy_drop = drop;
    check_ = std::make_unique<AggregateCheck>(
        config_, [this](const Weights&) -> absl::StatusOr<ml::EvalStats> {
          ml::EvalStats e;
          e.accuracy = next_;
          e.loss = 1;
          return e;
        });
  }

  // The round's reason for a rollback ("" when accepted, then recorded as
  // accepted).
  std::string Round(double accuracy,
                    const std::vector<DeviceRoundRecord>& devices = {}) {
    next_ = accuracy;
    RoundRecord rec;
    absl::StatusOr<Verdict> v = check_->Vet(++round_, weights_, devices, &rec);
    EXPECT_TRUE(v.ok()) << v.status();
    EXPECT_TRUE(rec.evaluated);
    if (!v.ok()) return "error";
    EXPECT_EQ(v->roll_back, !v->why.empty());
    if (!v->roll_back) check_->Accepted(rec);
    return v->why;
  }
  AggregateCheck& check() { return *check_; }

 private:
  Config config_;
  std::unique_ptr<AggregateCheck> check_;
  Weights weights_ = Weights(*WeightsLayout::Create({{"w", {2}}}));
  double next_ = 0;
  int64_t round_ = 0;
};

DeviceRoundRecord Device(const std::string& id, double norm) {
  DeviceRoundRecord d;
  d.device = id;
  d.update_norm = norm;
  return d;
}

TEST(AggregateCheckTest, SmallDropsInARowAddUpToARollback) {
  ScriptedCheck c(/*drop=*/0.05);
  EXPECT_EQ(c.Round(0.80), "");
  EXPECT_EQ(c.Round(0.77), "");  // 0.03 below the best
  EXPECT_EQ(c.Round(0.76), "");  // 0.04 below the best
  // 0.03 below the last accepted model, 0.06 below the best of the window.
  const std::string why = c.Round(0.74);
  EXPECT_NE(why.find("0.8000, the best of the last 3 accepted models"),
            std::string::npos)
      << why;
  EXPECT_EQ(c.Round(0.79), "");  // back near the best
}

TEST(AggregateCheckTest, TheBestAgesOutOfTheWindow) {
  ScriptedCheck c(/*drop=*/0.05);
  EXPECT_EQ(c.Round(0.90), "");
  for (int i = 0; i < AggregateCheck::kWindow; ++i) {
    EXPECT_EQ(c.Round(0.86), "") << i;
  }
  // 0.90 is no longer among the last kWindow accepted models.
  EXPECT_EQ(c.Round(0.82), "");
  EXPECT_EQ(c.check().recent_accuracies().size(),
            static_cast<size_t>(AggregateCheck::kWindow));
}

TEST(AggregateCheckTest, ARollbackNamesTheRoundsLargestUpdates) {
  ScriptedCheck c(/*drop=*/0.05);
  EXPECT_EQ(c.Round(0.85), "");
  DeviceRoundRecord dropped = Device("gone", 99);
  dropped.status = DeviceRoundRecord::Status::kDropped;
  const std::string why =
      c.Round(0.60, {Device("a", 1.5), Device("evil", 7.25), Device("b", 2),
                     Device("c", 0.5), dropped});
  EXPECT_NE(why.find("largest updates: evil (norm 7.25), b (norm 2), a (norm "
                     "1.5)"),
            std::string::npos)
      << why;
}

TEST(AggregateCheckTest, RestoredAccuraciesAreTheReference) {
  ScriptedCheck c(/*drop=*/0.05);
  c.check().RestoreRecentAccuracies({0.5, 0.9, 0.7});
  EXPECT_NE(c.Round(0.84), "");
  EXPECT_EQ(c.Round(0.86), "");
}

}  // namespace
}  // namespace tandem::server
