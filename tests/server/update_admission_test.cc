// UpdateAdmission: every rejection path is refused with its reason and
// counted once; a head, or a whole model where the device may fall back,
// passes.
#include "server/update_admission.h"

#include "core/weights_codec.h"
#include "gtest/gtest.h"

namespace tandem::server {
namespace {

class UpdateAdmissionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    full_ = WeightsLayout::Create({{"a.w", {4}}, {"b.w", {3}}}).value();
    head_ = WeightsLayout::Create({{"a.w", {4}}}).value();
    session_ = registry_.Join("dev", {}, 0).session_id;
    registry_.Join("other", {}, 0);
    round_.number = 3;
    round_.stages = 2;
    round_.open = true;
    round_.sampled = {"dev"};
    round_.pending = {"dev"};
  }

  v1::UpdateHeader Header(const WeightsLayout& layout) const {
    v1::UpdateHeader h;
    h.set_device_id("dev");
    h.set_session_id(session_);
    h.set_round(3);
    h.set_num_samples(10);
    LayoutToProto(layout, h.mutable_layout());
    return h;
  }

  absl::Status Check(const v1::UpdateHeader& h) {
    AdmissionContext c;
    c.registry = &registry_;
    c.round = &round_;
    c.global = &full_;
    c.aux = nullptr;  // no local-loss device here
    c.fallback_local = fallback_;
    c.now_s = 7;
    DeviceRecord* d;
    return admission_.CheckHeader(h, c, &d);
  }

  // The one reason counted so far, checked to be counted exactly once.
  void ExpectOnly(const std::string& reason) {
    ASSERT_EQ(admission_.counts().size(), 1u);
    EXPECT_EQ(admission_.counts().at(reason), 1);
  }

  FleetRegistry registry_;
  RoundState round_;
  UpdateAdmission admission_;
  WeightsLayout full_, head_;
  std::string session_;
  bool fallback_ = false;
};

TEST_F(UpdateAdmissionTest, AcceptsTheSampledDevicesWholeModel) {
  EXPECT_TRUE(Check(Header(full_)).ok());
  EXPECT_TRUE(admission_.counts().empty());
  EXPECT_EQ(registry_.Find("dev")->last_seen_s, 7);
  EXPECT_EQ(round_.pending.count("dev"), 1u);
}

TEST_F(UpdateAdmissionTest, UnknownDevice) {
  v1::UpdateHeader h = Header(full_);
  h.set_device_id("nobody");
  EXPECT_EQ(Check(h).code(), absl::StatusCode::kNotFound);
  ExpectOnly("unknown_device");
  EXPECT_EQ(round_.rejected, 1);
}

TEST_F(UpdateAdmissionTest, StaleSession) {
  v1::UpdateHeader h = Header(full_);
  h.set_session_id("s999");
  EXPECT_EQ(Check(h).code(), absl::StatusCode::kFailedPrecondition);
  ExpectOnly("wrong_session");
  EXPECT_EQ(registry_.Find("dev")->rejections.at("wrong_session"), 1);
}

TEST_F(UpdateAdmissionTest, WrongOrClosedRound) {
  v1::UpdateHeader h = Header(full_);
  h.set_round(2);
  EXPECT_EQ(Check(h).code(), absl::StatusCode::kFailedPrecondition);
  round_.open = false;
  EXPECT_FALSE(Check(Header(full_)).ok());
  EXPECT_EQ(admission_.counts().at("wrong_round"), 2);
}

TEST_F(UpdateAdmissionTest, NotSampledAndDuplicate) {
  v1::UpdateHeader h = Header(full_);
  h.set_device_id("other");
  h.set_session_id(registry_.Find("other")->session_id);
  EXPECT_FALSE(Check(h).ok());
  ExpectOnly("not_sampled");
  round_.pending.clear();
  EXPECT_EQ(Check(Header(full_)).code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(admission_.counts().at("duplicate"), 1);
}

TEST_F(UpdateAdmissionTest, ContentRejectionsEndTheDevicesRound) {
  v1::UpdateHeader h = Header(full_);
  h.set_num_samples(0);
  EXPECT_EQ(Check(h).code(), absl::StatusCode::kInvalidArgument);
  ExpectOnly("no_samples");
  EXPECT_EQ(round_.pending.count("dev"), 0u);
}

TEST_F(UpdateAdmissionTest, OffloadingDeviceSendsItsHead) {
  round_.splits["dev"] = 1;
  round_.heads[1] = std::make_shared<const Weights>(head_);
  EXPECT_TRUE(Check(Header(head_)).ok());
  // The whole model only when it may fall back to local training.
  EXPECT_EQ(Check(Header(full_)).code(), absl::StatusCode::kInvalidArgument);
  ExpectOnly("layout_mismatch");
  round_.pending = {"dev"};
  fallback_ = true;
  EXPECT_TRUE(Check(Header(full_)).ok());
  fallback_ = false;
  round_.min_link_mbps["dev"] = 5;  // its link guard may fire
  EXPECT_TRUE(Check(Header(full_)).ok());
}

TEST_F(UpdateAdmissionTest, NotOffloadingDeviceMustSendTheWholeModel) {
  EXPECT_FALSE(Check(Header(head_)).ok());
  ExpectOnly("layout_mismatch");
}

}  // namespace
}  // namespace tandem::server
