// A run whose model is a TorchScript file admits only devices installed with
// that file: Join carries the file's SHA-256, and a mismatch is refused
// naming both hashes. Devices are told "torchscript", never a path.
#include "core/file_sha256.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "ml/data/synthetic.h"
#include "server/coordinator.h"
#include "server/coordinator_service.h"
#include "tests/ml/torchscript_files.h"

namespace tandem::server {
namespace {

using ::testing::HasSubstr;

std::unique_ptr<Coordinator> CoordinatorFor(const std::string& model_file) {
  Config c;
  c.model.torchscript = model_file;  // "": the zoo's default model
  c.fleet.classes.resize(1);
  c.fleet.classes[0].name = "pi";
  c.fleet.classes[0].count = 2;
  c.output.dir = ::testing::TempDir() + "/model_file_join_runs";
  data::SyntheticOptions so;
  so.train_size = 10;
  so.test_size = 10;
  CoordinatorOptions o;
  o.config = c;
  o.test_set = std::make_shared<const data::Dataset>(
      data::MakeSyntheticDataset(so).value().test);
  auto coordinator = Coordinator::Create(o);
  EXPECT_TRUE(coordinator.ok()) << coordinator.status();
  return coordinator.ok() ? *std::move(coordinator) : nullptr;
}

TEST(ModelFileJoinTest, OnlyDevicesWithTheRunsModelFileJoin) {
  const std::string file = test_models::TorchScriptModelFile("mlp");
  const std::string other =
      test_models::TorchScriptModelFile("mlp", "--seed 2");
  const std::string want = FileSha256(file).value();
  auto coordinator = CoordinatorFor(file);
  ASSERT_NE(coordinator, nullptr);

  v1::JoinRequest req;
  req.set_device_id("pi-00");
  req.set_model_sha256(FileSha256(other).value());
  auto refused = coordinator->devices()->Join(req);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(refused.status().message()),
              HasSubstr("the device's has SHA-256 " + req.model_sha256() +
                        ", the coordinator's " + want));
  req.set_model_sha256("");  // a device started without --model
  EXPECT_THAT(std::string(coordinator->devices()->Join(req).status().message()),
              HasSubstr("SHA-256 none"));
  req.set_model_sha256(std::string(5000, 'x'));  // not echoed back
  EXPECT_THAT(std::string(coordinator->devices()->Join(req).status().message()),
              HasSubstr("SHA-256 not a SHA-256,"));

  req.set_model_sha256(want);
  auto joined = coordinator->devices()->Join(req);
  ASSERT_TRUE(joined.ok()) << joined.status();
  EXPECT_EQ(joined->model(), "torchscript");
  EXPECT_EQ(joined->model_sha256(), want);
}

// What GetModelFile ships: the coordinator's own file, checked against the
// hash taken at start; nothing for a zoo model.
TEST(ModelFileJoinTest, GatewayShipsTheRunsFileAndNothingElse) {
  const std::string file = test_models::TorchScriptModelFile("mlp");
  auto coordinator = CoordinatorFor(file);
  ASSERT_NE(coordinator, nullptr);
  v1::ModelFileRequest req;
  req.set_device_id("pi-00");
  auto shipped = coordinator->devices()->ModelFile(req);
  ASSERT_TRUE(shipped.ok()) << shipped.status();
  EXPECT_EQ(shipped->sha256, FileSha256(file).value());
  EXPECT_EQ(Sha256Hex(shipped->bytes), shipped->sha256);
  req.set_device_id("");
  EXPECT_EQ(coordinator->devices()->ModelFile(req).status().code(),
            absl::StatusCode::kInvalidArgument);

  auto zoo = CoordinatorFor("");
  ASSERT_NE(zoo, nullptr);
  req.set_device_id("pi-00");
  EXPECT_EQ(zoo->devices()->ModelFile(req).status().code(),
            absl::StatusCode::kNotFound);
}

// A model file is code: a plaintext connection never carries one.
TEST(ModelFileJoinTest, PlaintextConnectionGetsNoModelFile) {
  auto coordinator = CoordinatorFor(test_models::TorchScriptModelFile("mlp"));
  ASSERT_NE(coordinator, nullptr);
  auto server = CoordinatorServer::Start(coordinator.get(), "127.0.0.1:0",
                                         absl::Seconds(1), ServerSecurity{});
  ASSERT_TRUE(server.ok()) << server.status();
  auto stub = v1::Coordinator::NewStub(
      grpc::CreateChannel(absl::StrCat("127.0.0.1:", (*server)->port()),
                          grpc::InsecureChannelCredentials()));
  grpc::ClientContext ctx;
  v1::ModelFileRequest req;
  req.set_device_id("pi-00");
  auto reader = stub->GetModelFile(&ctx, req);
  v1::ModelFileChunk chunk;
  EXPECT_FALSE(reader->Read(&chunk));
  const grpc::Status status = reader->Finish();
  EXPECT_EQ(status.error_code(), grpc::FAILED_PRECONDITION);
  EXPECT_THAT(status.error_message(), HasSubstr("only over TLS"));
}

}  // namespace
}  // namespace tandem::server
