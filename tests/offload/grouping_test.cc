#include "offload/grouping.h"

#include "gtest/gtest.h"

namespace tandem::offload {
namespace {

std::vector<DevicePoint> FedAdaptLikeFleet(double pi3_link = 40) {
  return {{"pi3-00", 80, pi3_link},
          {"pi3-01", 82, pi3_link},
          {"pi4-00", 41, 40},
          {"pi4-01", 40, 41},
          {"jetson-00", 16, 80}};
}

TEST(GroupingTest, WellSeparatedDevicesLandInSeparateGroups) {
  Grouping g = GroupDevices(FedAdaptLikeFleet(), 3, 1);
  EXPECT_EQ(g["pi3-00"], g["pi3-01"]);
  EXPECT_EQ(g["pi4-00"], g["pi4-01"]);
  EXPECT_NE(g["pi3-00"], g["pi4-00"]);
  EXPECT_NE(g["pi4-00"], g["jetson-00"]);
  // Numbered by ascending compute time.
  EXPECT_EQ(g["jetson-00"], 0);
  EXPECT_EQ(g["pi4-00"], 1);
  EXPECT_EQ(g["pi3-00"], 2);
  EXPECT_EQ(GroupDevices(FedAdaptLikeFleet(), 3, 1), g);  // deterministic
}

TEST(GroupingTest, RegroupsOnlyWhenMeasurementsDrift) {
  DeviceGrouper grouper(3, 0.3, 7);
  EXPECT_TRUE(grouper.Update(FedAdaptLikeFleet()));
  std::vector<DevicePoint> small_change = FedAdaptLikeFleet();
  small_change[0].compute_s = 85;  // 6%
  EXPECT_FALSE(grouper.Update(small_change));
  // The pi3s' link drops to 5 Mbit/s: they regroup.
  EXPECT_TRUE(grouper.Update(FedAdaptLikeFleet(5)));
  EXPECT_EQ(grouper.groups().at("pi3-00"), grouper.groups().at("pi3-01"));
}

TEST(GroupingTest, FewerDevicesThanGroups) {
  Grouping g = GroupDevices({{"a", 1, 1}}, 3, 1);
  EXPECT_EQ(g.size(), 1u);
  EXPECT_EQ(g["a"], 0);
  EXPECT_TRUE(GroupDevices({}, 3, 1).empty());
}

}  // namespace
}  // namespace tandem::offload
