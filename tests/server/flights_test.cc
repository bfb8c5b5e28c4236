// Flights (buffered aggregation): which report the coordinator takes next,
// on virtual and on wall time, and the staleness arithmetic.
#include "server/flights.h"

#include <cmath>

#include "gtest/gtest.h"

namespace tandem::server {
namespace {

Weights Filled(float value) {
  Weights w(WeightsLayout::Create({{"w", {3}}}).value());
  for (float& x : w.values()) x = value;
  return w;
}

void Report(Flights& f, const std::string& id, double finish_s) {
  ClientUpdate u;
  u.device_id = id;
  DeviceRoundRecord rec;
  rec.device = id;
  f.Arrive(id, std::move(u), std::move(rec), finish_s);
}

TEST(FlightsTest, VirtualTimeTakesTheEarliestFinishOnceNoneTrains) {
  Flights f(/*virtual_order=*/true);
  f.Start("a", 1, nullptr, 0);
  f.Start("b", 1, nullptr, 0);
  f.Start("c", 1, nullptr, 0);
  EXPECT_TRUE(f.Pull("a"));
  EXPECT_FALSE(f.Pull("a")) << "already training";
  Report(f, "a", 9);
  Report(f, "b", 5);
  // c could still finish before either.
  EXPECT_FALSE(f.HasNext());
  EXPECT_FALSE(f.TakeNext().has_value());
  Report(f, "c", 5);
  ASSERT_TRUE(f.HasNext());
  // b and c tie at 5: device id order.
  EXPECT_EQ(f.TakeNext()->device, "b");
  EXPECT_EQ(f.TakeNext()->device, "c");
  f.Start("d", 2, nullptr, 5);
  EXPECT_FALSE(f.HasNext()) << "d started and may finish before a";
  f.End("d", "offline");
  std::optional<Flight> d = f.TakeNext();
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->state, Flight::State::kEnded);
  EXPECT_EQ(d->finish_s, 5) << "an end counts at its bound: its start";
  EXPECT_EQ(f.TakeNext()->device, "a");
  EXPECT_EQ(f.size(), 0u);
}

TEST(FlightsTest, AnnouncedLeastTimeLetsEarlierReportsBeTaken) {
  Flights f(/*virtual_order=*/true);
  f.Start("a", 1, nullptr, 0);
  f.Start("b", 1, nullptr, 0);
  f.Start("c", 1, nullptr, 0);
  EXPECT_FALSE(f.Announce("b", 4)) << "not pulled yet";
  ASSERT_TRUE(f.Pull("b"));
  ASSERT_TRUE(f.Pull("c"));
  Report(f, "a", 3);
  EXPECT_FALSE(f.HasNext()) << "b may still finish before 3";
  EXPECT_TRUE(f.Announce("b", 4));
  EXPECT_FALSE(f.HasNext()) << "c may still finish before 3";
  EXPECT_TRUE(f.Announce("c", 3));  // ties go to the smaller id: a
  ASSERT_TRUE(f.HasNext());
  EXPECT_EQ(f.TakeNext()->device, "a");
  EXPECT_TRUE(f.Announce("c", 2)) << "a smaller bound changes nothing";
  f.End("c", "offline");  // ends at its bound, 3
  Report(f, "b", 4.5);
  EXPECT_EQ(f.TakeNext()->finish_s, 3);
  EXPECT_EQ(f.TakeNext()->device, "b");
}

TEST(FlightsTest, WallTimeTakesReportsInArrivalOrderWhileOthersTrain) {
  Flights f(/*virtual_order=*/false);
  f.Start("a", 1, nullptr, 0);
  f.Start("b", 1, nullptr, 0);
  f.Start("c", 1, nullptr, 0);
  Report(f, "b", 20);
  Report(f, "a", 10);
  EXPECT_EQ(f.BusyDevices().size(), 1u);
  EXPECT_EQ(f.TakeNext()->device, "b");
  f.Refuse("c");
  EXPECT_EQ(f.TakeNext()->device, "a");
  std::optional<Flight> c = f.TakeNext();
  ASSERT_TRUE(c.has_value());
  EXPECT_TRUE(c->refused);
  EXPECT_FALSE(f.TakeNext().has_value());
}

TEST(FlightsTest, ReportsOnlyFromBusyFlights) {
  Flights f(/*virtual_order=*/true);
  Report(f, "ghost", 1);  // never started
  EXPECT_EQ(f.size(), 0u);
  f.Start("a", 3, nullptr, 0);
  f.End("a", "left");
  Report(f, "a", 1);  // already ended: no second report
  std::optional<Flight> a = f.TakeNext();
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->state, Flight::State::kEnded);
  EXPECT_EQ(a->reason, "left");
}

TEST(FlightsTest, StalenessWeightAndRebase) {
  EXPECT_DOUBLE_EQ(StalenessWeight(0, 0.5), 1.0);
  EXPECT_DOUBLE_EQ(StalenessWeight(3, 0.5), 0.5);
  EXPECT_DOUBLE_EQ(StalenessWeight(3, 0), 1.0);
  EXPECT_DOUBLE_EQ(StalenessWeight(1, 1), 0.5);
  // The device moved its base 1 -> 3; the model is at 10 now.
  Weights update = Filled(3);
  Rebase(Filled(10), Filled(1), 0.5, &update);
  for (float x : update.values()) EXPECT_FLOAT_EQ(x, 11);
}

}  // namespace
}  // namespace tandem::server
