// UpdateAdmission: every rejection path is refused with its reason and
// counted once; a head, or a whole model where the device may fall back,
// passes.
#include "server/update_admission.h"

#include "core/weights_codec.h"
#include "gtest/gtest.h"
#include "ml/data/partition.h"
#include "ml/data/synthetic.h"

namespace tandem::server {
namespace {

class UpdateAdmissionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    full_ = WeightsLayout::Create({{"a.w", {4}}, {"b.w", {3}}}).value();
    head_ = WeightsLayout::Create({{"a.w", {4}}}).value();
    DeviceRecord& dev = registry_.Join("dev", {}, 0);
    dev.partition = 0;  // as DeviceGateway::Join gives them
    session_ = dev.session_id;
    registry_.Join("other", {}, 0).partition = 1;
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
    c.sample_cap = cap_;
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
  const SampleCap* cap_ = nullptr;
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
  // Not heard from: only its own session keeps a device alive.
  EXPECT_EQ(registry_.Find("dev")->last_seen_s, 0);
  EXPECT_EQ(round_.pending.count("dev"), 1u);
}

TEST_F(UpdateAdmissionTest, SampleCountOverThePartitionIsRefused) {
  const SampleCap cap({10, 25}, 35);  // "dev" joined first: partition 0
  cap_ = &cap;
  v1::UpdateHeader h = Header(full_);
  h.set_num_samples(11);
  EXPECT_EQ(Check(h).code(), absl::StatusCode::kInvalidArgument);
  ExpectOnly("too_many_samples");
  EXPECT_EQ(round_.pending.count("dev"), 0u);
  round_.pending = {"dev"};
  h.set_num_samples(10);
  EXPECT_TRUE(Check(h).ok());
}

TEST_F(UpdateAdmissionTest, SampleCountOver2To31IsRefusedWithoutSizes) {
  v1::UpdateHeader h = Header(full_);
  h.set_num_samples((int64_t{1} << 31) + 1);
  EXPECT_EQ(Check(h).code(), absl::StatusCode::kInvalidArgument);
  ExpectOnly("too_many_samples");
  round_.pending = {"dev"};
  h.set_num_samples(int64_t{1} << 31);
  EXPECT_TRUE(Check(h).ok());
}

TEST(SampleCapTest, PartitionSizeElseTrainingSetElse2To31) {
  EXPECT_EQ(SampleCap({10, 25}, 35).For(0), 10);
  EXPECT_EQ(SampleCap({10, 25}, 35).For(3), 25);  // joins wrap around
  EXPECT_EQ(SampleCap({}, 35).For(4), 35);
  EXPECT_EQ(SampleCap().For(0), int64_t{1} << 31);
}

TEST(SampleCapTest, ForTrainSetCutsPartitionsAsDevicesDo) {
  Config c;  // IID partitions, one per device
  c.server.min_devices = 4;
  c.data.train_limit = 90;
  data::SyntheticOptions so;
  so.train_size = 200;
  const data::Dataset train = data::MakeSyntheticDataset(so).value().train;
  const SampleCap cap = SampleCap::ForTrainSet(c, train);
  data::PartitionOptions o;
  o.kind = "iid";
  o.num_partitions = 4;
  o.seed = c.seed;
  const auto parts =
      data::Partition(train.Head(90).labels, train.num_classes, o).value();
  int64_t total = 0;
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(cap.For(i), static_cast<int64_t>(parts[i].size())) << i;
    total += cap.For(i);
  }
  EXPECT_EQ(total, 90);
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
