#include "core/config.h"

#include <cstdint>
#include <fstream>
#include <limits>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace tandem {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;

std::string WriteTempFile(const std::string& name, const std::string& text) {
  const std::string path = testing::TempDir() + "/config_test_" + name;
  std::ofstream(path) << text;
  return path;
}

// The message of a config that must fail with InvalidArgument.
std::string ParseError(const nlohmann::json& json) {
  absl::StatusOr<Config> c = ParseConfig(json);
  EXPECT_FALSE(c.ok()) << "parsed: " << json.dump();
  if (c.ok()) return "";
  EXPECT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument);
  return std::string(c.status().message());
}

TEST(ConfigTest, EmptyObjectGivesDefaults) {
  absl::StatusOr<Config> c = ParseConfig(nlohmann::json::object());
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->seed, 1u);
  EXPECT_EQ(c->server.rounds, 5);
  EXPECT_EQ(c->server.listen, "127.0.0.1:0");
  EXPECT_EQ(c->server.min_devices, 2);
  EXPECT_EQ(c->server.heartbeat_interval_ms, 2000);
  EXPECT_EQ(c->model.name, "cnn");
  EXPECT_EQ(c->data.dataset, "fashion-mnist");
  EXPECT_EQ(c->data.partition, "iid");
  EXPECT_DOUBLE_EQ(c->data.alpha, 0.5);
  EXPECT_EQ(c->training.batch_size, 32);
  EXPECT_DOUBLE_EQ(c->training.learning_rate, 0.05);
  EXPECT_DOUBLE_EQ(c->training.momentum, 0.9);
  EXPECT_EQ(c->strategy.name, "fedavg");
  EXPECT_EQ(c->strategy.params, nlohmann::json::object());
  EXPECT_EQ(c->strategy.admission, Admission::kAdaptive);
  EXPECT_DOUBLE_EQ(c->strategy.admission_multiplier, 2);
  EXPECT_EQ(c->offload.policy, "none");
  EXPECT_TRUE(c->fleet.classes.empty());
  EXPECT_EQ(c->TotalDevices(), 0);
  EXPECT_EQ(c->output.dir, "runs");
  EXPECT_TRUE(c->output.checkpoints);
}

TEST(ConfigTest, AdmissionIsAdaptiveOrOff) {
  absl::StatusOr<Config> off =
      ParseConfig({{"strategy", {{"admission", "off"}}}});
  ASSERT_TRUE(off.ok()) << off.status();
  EXPECT_EQ(off->strategy.admission, Admission::kOff);
  EXPECT_THAT(ParseError({{"strategy", {{"admission", "strict"}}}}),
              AllOf(HasSubstr("$.strategy.admission"), HasSubstr("adaptive")));
  EXPECT_THAT(ParseError({{"strategy", {{"admission_multiplier", 0.5}}}}),
              HasSubstr("$.strategy.admission_multiplier"));
}

TEST(ConfigTest, NonObjectTopLevelFails) {
  EXPECT_THAT(ParseError(nlohmann::json::array()),
              HasSubstr("$: expected an object"));
  EXPECT_THAT(ParseError({{"server", 3}}),
              HasSubstr("$.server: expected an object"));
}

TEST(ConfigTest, UnknownTopLevelKeyNamesPath) {
  EXPECT_THAT(ParseError({{"sead", 7}}), HasSubstr("$.sead: unknown key"));
}

TEST(ConfigTest, UnknownSectionKeyNamesPath) {
  EXPECT_THAT(ParseError({{"training", {{"batchsize", 32}}}}),
              AllOf(HasSubstr("$.training.batchsize: unknown key"),
                    HasSubstr("batch_size")));  // lists the known keys
}

TEST(ConfigTest, UnknownFleetClassKeyNamesIndex) {
  nlohmann::json j = {{"fleet",
                       {{"classes",
                         {{{"name", "phone"}, {"count", 2}},
                          {{"name", "pi"}, {"count", 1}, {"speed", 2.0}}}}}}};
  EXPECT_THAT(ParseError(j), HasSubstr("$.fleet.classes[1].speed"));
}

TEST(ConfigTest, LinkTracesNeedADeviceAndATrace) {
  for (const char* entry :
       {R"({"device": "pi-00"})", R"({"uplink_trace": "a.trace"})",
        R"({"device": "pi-00", "colour": 1})"}) {
    auto c = ParseConfig(nlohmann::json::parse(
        std::string(R"({"fleet": {"link_traces": [)") + entry + "]}}"));
    ASSERT_FALSE(c.ok()) << entry;
    EXPECT_NE(c.status().message().find("$.fleet.link_traces[0]"),
              std::string::npos)
        << c.status();
  }
  auto ok = ParseConfig(nlohmann::json::parse(
      R"({"fleet": {"link_traces": [{"device": "pi-00",
                                     "downlink_trace": "d.trace"}]}})"));
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ(ok->fleet.link_traces[0].downlink_trace, "d.trace");
}

TEST(ConfigTest, WrongTypeNamesPathAndExpectedType) {
  EXPECT_THAT(ParseError({{"training", {{"batch_size", "32"}}}}),
              AllOf(HasSubstr("$.training.batch_size"),
                    HasSubstr("expected an integer"), HasSubstr("\"32\"")));
  // 32.5 is a number but not an integer.
  EXPECT_THAT(ParseError({{"training", {{"batch_size", 32.5}}}}),
              HasSubstr("expected an integer"));
  EXPECT_THAT(ParseError({{"output", {{"checkpoints", 1}}}}),
              AllOf(HasSubstr("$.output.checkpoints"),
                    HasSubstr("expected true or false")));
  EXPECT_THAT(ParseError({{"strategy", {{"params", 5}}}}),
              HasSubstr("$.strategy.params: expected an object"));
  EXPECT_THAT(ParseError({{"fleet", {{"classes", {{"name", "x"}}}}}}),
              HasSubstr("$.fleet.classes: expected an array"));
}

TEST(ConfigTest, OutOfRangeFails) {
  EXPECT_THAT(
      ParseError({{"training", {{"momentum", 2}}}}),
      AllOf(HasSubstr("$.training.momentum"), HasSubstr("a number in [0, 1]")));
  EXPECT_THAT(ParseError({{"server", {{"rounds", 0}}}}),
              HasSubstr("$.server.rounds: expected an integer in [1, "));
  EXPECT_THAT(ParseError({{"seed", -1}}),
              HasSubstr("$.seed: expected a non-negative integer"));
  // The bounds themselves are allowed.
  absl::StatusOr<Config> c =
      ParseConfig({{"training", {{"momentum", 1}, {"weight_decay", 0}}}});
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->training.momentum, 1.0);
}

TEST(ConfigTest, FullRangeOfUint64SeedIsAccepted) {
  const uint64_t max = std::numeric_limits<uint64_t>::max();
  absl::StatusOr<Config> c = ParseConfig({{"seed", max}});
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->seed, max);
  EXPECT_EQ(ConfigToJson(*c)["seed"].get<uint64_t>(), max);
}

TEST(ConfigTest, EnumValueNotAllowedListsAllowedValues) {
  EXPECT_THAT(ParseError({{"offload", {{"mode", "sometimes"}}}}),
              AllOf(HasSubstr("$.offload.mode"),
                    HasSubstr("one of \"exact\", \"local_loss\", \"auto\""),
                    HasSubstr("\"sometimes\"")));
  absl::StatusOr<Config> c = ParseConfig(
      {{"offload", {{"mode", "local_loss"}, {"on_failure", "local"}}},
       {"fleet", {{"compute_time", "profiled"}}}});
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->offload.mode, OffloadMode::kLocalLoss);
  EXPECT_EQ(c->offload.on_failure, OnSplitFailure::kLocal);
  EXPECT_EQ(c->fleet.compute_time, ComputeTime::kProfiled);
  // Printed back by name.
  const nlohmann::json j = ConfigToJson(*c);
  EXPECT_EQ(j["offload"]["mode"], "local_loss");
  EXPECT_EQ(j["offload"]["activation_codec"], "fp32");
  EXPECT_EQ(j["fleet"]["compute_time"], "profiled");
}

TEST(ConfigTest, InvalidJsonFileNamesFileAndPosition) {
  const std::string path = WriteTempFile("bad.json",
                                         "{\n"
                                         "  \"server\": {\n"
                                         "    \"rounds\": 3,\n"
                                         "  }\n"
                                         "}\n");
  absl::StatusOr<Config> c = LoadConfig(path, {});
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument);
  // The stray '}' after the trailing comma is on line 4, column 3.
  EXPECT_THAT(c.status().message(),
              AllOf(HasSubstr("'" + path + "'"), HasSubstr("not valid JSON"),
                    HasSubstr("line 4, column 3")));
}

TEST(ConfigTest, MissingFileNamesPath) {
  const std::string path = testing::TempDir() + "/config_test_no_such.json";
  absl::StatusOr<Config> c = LoadConfig(path, {});
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(c.status().message(), HasSubstr("'" + path + "'"));
}

TEST(ConfigTest, FileErrorsKeepTheirJsonPath) {
  const std::string path = WriteTempFile(
      "unknown.json", R"({"server": {"rounds": 3, "roundz": 4}})");
  absl::StatusOr<Config> c = LoadConfig(path, {});
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(c.status().message(), HasSubstr("$.server.roundz"));
}

TEST(ConfigTest, OverridesApplyOnDefaults) {
  absl::StatusOr<Config> c =
      LoadConfig("", {"server.rounds=3", "offload.policy=none",
                      "server.listen=0.0.0.0:7000", "training.momentum=0.25"});
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->server.rounds, 3);
  EXPECT_EQ(c->offload.policy, "none");
  // Not valid JSON, so taken as a string.
  EXPECT_EQ(c->server.listen, "0.0.0.0:7000");
  EXPECT_DOUBLE_EQ(c->training.momentum, 0.25);
  EXPECT_EQ(c->training.batch_size, 32);  // untouched
}

TEST(ConfigTest, OverridesApplyOnTopOfFile) {
  const std::string path = WriteTempFile(
      "base.json",
      R"({"server": {"rounds": 7, "tokens_file": "a"}, "model": {"name": "mlp"}})");
  absl::StatusOr<Config> c = LoadConfig(
      path,
      {"server.rounds=3", "server.tokens_file=\"42\"", "data.path=/data/x"});
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->server.rounds, 3);
  EXPECT_EQ(c->server.tokens_file, "42");  // a JSON string stays a string
  EXPECT_EQ(c->data.path, "/data/x");
  EXPECT_EQ(c->model.name, "mlp");  // from the file, not overridden

  // An override value is type-checked like the file.
  absl::StatusOr<Config> bad = LoadConfig(path, {"server.rounds=three"});
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(bad.status().message(), AllOf(HasSubstr("$.server.rounds"),
                                            HasSubstr("expected an integer")));
}

TEST(ConfigTest, BadOverrideFails) {
  for (const std::string spec : {"nokey", "=3"}) {
    absl::StatusOr<Config> c = LoadConfig("", {spec});
    ASSERT_FALSE(c.ok()) << spec;
    EXPECT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(c.status().message(),
                AllOf(HasSubstr("'" + spec + "'"),
                      HasSubstr("expected section.key=value")));
  }
  // An override of an unknown key is caught by the strict parse.
  absl::StatusOr<Config> c = LoadConfig("", {"server.roundz=3"});
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(c.status().message(), HasSubstr("$.server.roundz: unknown key"));
}

TEST(ConfigTest, OverrideBelowAScalarFailsInsteadOfThrowing) {
  absl::StatusOr<Config> c =
      LoadConfig("", {"server.rounds=3", "server.rounds.x=1"});
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(c.status().message(),
              AllOf(HasSubstr("'server.rounds.x=1'"),
                    HasSubstr("'rounds' is not an object")));

  const std::string path = WriteTempFile("scalar.json", R"({"seed": 4})");
  c = LoadConfig(path, {"seed.x=1"});
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(c.status().message(), HasSubstr("'seed' is not an object"));
}

TEST(ConfigTest, OverridesIndexArrays) {
  const std::string path = WriteTempFile(
      "fleet.json", R"({"fleet": {"classes": [{"name": "a", "count": 1},
                                              {"name": "b", "count": 2}]}})");
  absl::StatusOr<Config> c =
      LoadConfig(path, {"fleet.classes.1.bandwidth_mbps=100"});
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_DOUBLE_EQ(c->fleet.classes[1].device.bandwidth_mbps, 100);
  EXPECT_EQ(c->fleet.classes[0].name, "a");  // untouched

  c = LoadConfig(path, {"fleet.classes.2.count=1"});
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(c.status().message(),
              HasSubstr("'classes' has 2 elements: no index 2"));
  c = LoadConfig(path, {"fleet.classes.first.count=1"});
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(c.status().message(),
              HasSubstr("'classes' is an array: expected an index, got "
                        "'first'"));
}

TEST(ConfigTest, DuplicateFleetClassNamesFail) {
  nlohmann::json j = {
      {"fleet",
       {{"classes",
         {{{"name", "phone"}}, {{"name", "pi"}}, {{"name", "phone"}}}}}}};
  EXPECT_THAT(ParseError(j), AllOf(HasSubstr("$.fleet.classes[2].name"),
                                   HasSubstr("\"phone\" is used twice")));
}

TEST(ConfigTest, BufferedAggregationRefusesWhatItCannotDo) {
  auto buffered = [](nlohmann::json strategy, const std::string& policy) {
    strategy["buffer_size"] = 4;
    return nlohmann::json{{"strategy", strategy},
                          {"offload", {{"policy", policy}}}};
  };
  absl::StatusOr<Config> ok = ParseConfig(buffered({}, "none"));
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ(ok->strategy.buffer_size, 4);
  EXPECT_EQ(ok->strategy.staleness_exponent, 0.5);
  EXPECT_THAT(ParseError(buffered({{"over_selection", 1.5}}, "none")),
              HasSubstr("$.strategy.over_selection"));
  EXPECT_THAT(ParseError(buffered({}, "greedy")),
              HasSubstr("$.offload.policy"));
  EXPECT_THAT(ParseError(buffered({{"min_updates", 5}}, "none")),
              HasSubstr("$.strategy.buffer_size (4)"));
  EXPECT_THAT(ParseError({{"strategy", {{"staleness_exponent", -1}}}}),
              HasSubstr("$.strategy.staleness_exponent"));
}

TEST(ConfigTest, MinUpdatesLargerThanFleetFails) {
  auto with_min_updates = [](int n) {
    return nlohmann::json{
        {"strategy", {{"min_updates", n}}},
        {"fleet",
         {{"classes",
           {{{"name", "a"}, {"count", 1}}, {{"name", "b"}, {"count", 2}}}}}}};
  };
  absl::StatusOr<Config> ok = ParseConfig(with_min_updates(3));
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ(ok->TotalDevices(), 3);
  EXPECT_THAT(ParseError(with_min_updates(4)),
              AllOf(HasSubstr("$.strategy.min_updates"),
                    HasSubstr("4 is more than the fleet's 3 devices")));
}

// A config that sets every field to a non-default value.
nlohmann::json FullConfig() {
  return nlohmann::json::parse(R"({
    "seed": 42,
    "server": {"rounds": 12, "listen": "0.0.0.0:5050", "min_devices": 3,
               "join_timeout_s": 12.5, "round_deadline_s": 99.0,
               "max_round_retries": 1, "poll_timeout_s": 2.5,
               "heartbeat_interval_ms": 750, "device_timeout_s": 7.0,
               "tokens_file": "t0k", "eval_every": 4, "eval_batch_size": 128,
               "threads": 2},
    "model": {"name": "vgg5"},
    "data": {"dataset": "cifar10", "path": "/data/cifar", "partition":
             "dirichlet", "alpha": 0.1, "shards_per_device": 4,
             "train_limit": 5000, "test_limit": 1000},
    "training": {"local_epochs": 2, "batch_size": 64, "learning_rate": 0.01,
                 "momentum": 0.5, "weight_decay": 0.0005, "max_batches": 20},
    "strategy": {"name": "fedprox", "fraction": 0.5, "min_devices": 2,
                 "min_updates": 2, "max_update_norm": 10.0,
                 "params": {"mu": 0.01, "nested": {"k": [1, 2]}}},
    "offload": {"policy": "none"},
    "fleet": {"concurrency": 2, "classes": [
      {"name": "phone", "count": 3, "slowdown": 4.0, "bandwidth_mbps": 20.0,
       "latency_ms": 30.0, "dropout": 0.1, "power_compute_w": 3.5,
       "power_transmit_w": 1.25, "power_receive_w": 0.75,
       "attack": "none", "attack_scale": 10.0, "online_s": 60.0,
       "offline_s": 30.0, "uplink_trace": "up.trace",
       "downlink_trace": ""},
      {"name": "pi", "count": 1, "slowdown": 8.0, "bandwidth_mbps": 10.0,
       "latency_ms": 2.0, "dropout": 0.0, "power_compute_w": 5.0,
       "power_transmit_w": 2.0, "power_receive_w": 1.0,
       "attack": "scale", "attack_scale": 3.0, "online_s": 0.0,
       "offline_s": 0.0, "uplink_trace": "", "downlink_trace": "down.trace"}],
      "link_traces": [{"device": "pi-00", "uplink_trace": "a.trace",
                       "downlink_trace": ""}]},
    "output": {"dir": "/tmp/runs", "checkpoints": false}
  })");
}

TEST(ConfigTest, RoundTripsThroughJson) {
  const nlohmann::json full = FullConfig();
  absl::StatusOr<Config> c = ParseConfig(full);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->fleet.classes.size(), 2u);
  EXPECT_EQ(c->fleet.classes[1].name, "pi");
  EXPECT_DOUBLE_EQ(c->fleet.classes[0].device.power_transmit_w, 1.25);
  EXPECT_EQ(c->TotalDevices(), 4);

  const nlohmann::json out = ConfigToJson(*c);
  // Every field of the input comes back with its value (merging the input
  // into the output changes nothing; fleet.classes is compared whole).
  nlohmann::json merged = out;
  merged.merge_patch(full);
  EXPECT_EQ(merged, out) << "in:  " << full.dump() << "\nout: " << out.dump();
  // And the output is a fixed point: it parses back to the same JSON.
  absl::StatusOr<Config> again = ParseConfig(out);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(ConfigToJson(*again), out);
}

TEST(ConfigTest, DefaultsRoundTrip) {
  const nlohmann::json out = ConfigToJson(Config());
  EXPECT_EQ(out["server"]["rounds"], 5);
  EXPECT_EQ(out["fleet"]["classes"], nlohmann::json::array());
  absl::StatusOr<Config> c = ParseConfig(out);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(ConfigToJson(*c), out);
}

TEST(ConfigTest, TlsNeedsCertificateAndKeyTogether) {
  auto half = ParseConfig(nlohmann::json::parse(
      R"({"server": {"tls_cert": "/etc/tandem/server.crt"}})"));
  ASSERT_FALSE(half.ok());
  EXPECT_THAT(half.status().message(), HasSubstr("$.server.tls_key"));
  auto ca_only = ParseConfig(nlohmann::json::parse(
      R"({"server": {"tls_client_ca": "/etc/tandem/ca.crt"}})"));
  ASSERT_FALSE(ca_only.ok());
  EXPECT_THAT(ca_only.status().message(), HasSubstr("$.server.tls_client_ca"));
  auto both = ParseConfig(nlohmann::json::parse(
      R"({"server": {"tls_cert": "s.crt", "tls_key": "s.key",
                     "tls_client_ca": "ca.crt"}})"));
  EXPECT_TRUE(both.ok()) << both.status();
}

// The tensor data source's keys: a test file and per-channel statistics.
TEST(ConfigTest, TensorDataKeys) {
  absl::StatusOr<Config> c = ParseConfig(nlohmann::json::parse(R"({
    "data": {"dataset": "tensor", "path": "/d/train.npz",
             "test_path": "/d/test.csv", "mean": [0.5, -1], "std": [2, 0.25]}
  })"));
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->data.test_path, "/d/test.csv");
  EXPECT_EQ(c->data.mean, (std::vector<double>{0.5, -1}));
  EXPECT_EQ(c->data.std, (std::vector<double>{2, 0.25}));
  const nlohmann::json out = ConfigToJson(*c);
  EXPECT_EQ(out["data"]["mean"], nlohmann::json::parse("[0.5, -1.0]"));
  absl::StatusOr<Config> again = ParseConfig(out);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->data.std, c->data.std);
  // Defaults: no test file, statistics computed (empty arrays).
  EXPECT_TRUE(Config().data.mean.empty());
  EXPECT_EQ(ConfigToJson(Config())["data"]["std"], nlohmann::json::array());

  absl::StatusOr<Config> over =
      LoadConfig("", {"data.mean=[1,2]", "data.std=[3,4]"});
  ASSERT_TRUE(over.ok()) << over.status();
  EXPECT_EQ(over->data.mean, (std::vector<double>{1, 2}));

  EXPECT_EQ(ParseError(nlohmann::json::parse(R"({"data": {"mean": "x"}})")),
            "config: $.data.mean: expected an array of numbers in [-1e+12, "
            "1e+12], got \"x\"");
  EXPECT_EQ(ParseError(nlohmann::json::parse(
                R"({"data": {"mean": [0], "std": [1, "2"]}})")),
            "config: $.data.std: expected an array of numbers in [1e-12, "
            "1e+12], got [1,\"2\"]");
  EXPECT_THAT(ParseError(nlohmann::json::parse(
                  R"({"data": {"mean": [0], "std": [0]}})")),
              HasSubstr("$.data.std: expected an array of numbers in [1e-12"));
  EXPECT_EQ(ParseError(nlohmann::json::parse(
                R"({"data": {"mean": [0, 1], "std": [1]}})")),
            "config: $.data.mean and $.data.std: 2 and 1 values; give one of "
            "each per channel, or none");
}

}  // namespace
}  // namespace tandem
