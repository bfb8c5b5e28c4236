// tandem-client: the device daemon. Parses flags and runs the DeviceAgent.
#include <sys/resource.h>

#include <iostream>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/flags/usage_config.h"
#include "absl/strings/str_cat.h"
#include "client/channel_security.h"
#include "client/device_agent.h"
#include "client/device_data.h"
#include "client/model_fetch.h"
#include "core/file_sha256.h"
#include "core/log.h"
#include "core/signals.h"
#include "ml/blas_kernel.h"
#include "ml/runtime.h"

ABSL_FLAG(std::string, server, "127.0.0.1:50051", "coordinator host:port");
ABSL_FLAG(std::string, device_id, "", "this device's id (required)");
ABSL_FLAG(std::string, device_class, "device", "device class name");
ABSL_FLAG(std::string, token_file, "",
          "file whose first line is this device's join token, if the "
          "coordinator wants one; empty = $TANDEM_TOKEN");
ABSL_FLAG(std::string, tls_ca, "",
          "PEM CA of the coordinator's certificate; empty = no TLS");
ABSL_FLAG(std::string, tls_cert, "",
          "PEM certificate of this device (CN = its device id), for mutual "
          "TLS");
ABSL_FLAG(std::string, tls_key, "", "PEM private key of --tls_cert");
ABSL_FLAG(std::string, tls_server_name, "",
          "name to check the coordinator's certificate against, if not the "
          "host in --server");
ABSL_FLAG(std::string, data, "",
          "this device's own data: a .npz or .csv file (normalised as the "
          "coordinator says) or an MNIST-format folder; empty = the "
          "partition the coordinator assigns");
ABSL_FLAG(std::string, model, "",
          "the TorchScript model file this device was installed with, when "
          "the coordinator trains one (it checks the file's SHA-256 at "
          "join)");
ABSL_FLAG(std::string, fetch_model, "",
          "fetch the run's TorchScript model file from the coordinator into "
          "this file before joining, instead of --model; needs --tls_ca (a "
          "model file is code: only from a coordinator whose certificate "
          "this device checks)");
ABSL_FLAG(int, threads, 0, "LibTorch/BLAS threads; 0 = all cores");
ABSL_FLAG(double, give_up_after_s, 60,
          "exit non-zero after this long without reaching the coordinator");
ABSL_FLAG(uint64_t, seed, 1, "seed for model init, dropout and backoff");

namespace tandem {
namespace {

// --model, or --fetch_model over TLS: the model file and its SHA-256 in
// `o`. Returns the exit code when that fails, 0 otherwise.
int SetModelFile(const client::ClientTls& tls, grpc::Channel& channel,
                 client::DeviceAgentOptions& o) {
  const std::string fetch = absl::GetFlag(FLAGS_fetch_model);
  o.model_file = absl::GetFlag(FLAGS_model);
  absl::StatusOr<std::string> sha = std::string();
  if (!fetch.empty()) {
    if (!o.model_file.empty() || tls.ca.empty()) {
      std::cerr << "tandem-client: --fetch_model needs --tls_ca and no "
                   "--model: a model file is code, fetched only from a "
                   "coordinator whose certificate this device checks\n";
      return 2;
    }
    v1::ModelFileRequest request;
    request.set_device_id(o.device_id);
    request.set_token(o.token);
    sha = client::FetchModelFile(channel, request, fetch, o.give_up_after);
    if (sha.ok()) LogInfo("tandem-client: model file " + fetch + " " + *sha);
    o.model_file = fetch;
  } else if (!o.model_file.empty()) {
    sha = FileSha256(o.model_file);
  }
  if (!sha.ok()) {
    std::cerr << "tandem-client: "
              << (fetch.empty() ? "--model" : "--fetch_model") << ": "
              << sha.status().message() << "\n";
    return absl::IsUnavailable(sha.status()) ? 1 : 2;
  }
  o.model_sha256 = *std::move(sha);
  return 0;
}

int Main() {
  ml::ReuseFreedTensorMemory();
  const std::string id = absl::GetFlag(FLAGS_device_id);
  if (id.empty()) {
    std::cerr << "tandem-client: --device_id is required\n";
    return 2;
  }
  ml::SetComputeThreads(absl::GetFlag(FLAGS_threads));
  ml::SetBlasThreads(absl::GetFlag(FLAGS_threads));
  LogInfo(absl::StrCat("tandem-client ", id, ": ", ml::DescribeRuntime()));
  ml::WarnIfReferenceBlas("tandem-client");
  client::DeviceAgentOptions o;
  o.device_id = id;
  o.device_class = absl::GetFlag(FLAGS_device_class);
  absl::StatusOr<std::string> token =
      client::ReadJoinToken(absl::GetFlag(FLAGS_token_file));
  if (!token.ok()) {
    std::cerr << "tandem-client: " << token.status().message() << "\n";
    return 2;
  }
  o.token = *std::move(token);
  o.seed = absl::GetFlag(FLAGS_seed);
  o.compute_threads = absl::GetFlag(FLAGS_threads);
  o.give_up_after = absl::Seconds(absl::GetFlag(FLAGS_give_up_after_s));
  const std::string folder = absl::GetFlag(FLAGS_data);
  o.data_provider = [folder](const v1::DataSpec& spec) {
    return client::LoadDeviceData(spec, folder);
  };
  grpc::ChannelArguments args;
  // Weight chunks are 1 MiB; gradients of a split batch can be larger.
  args.SetMaxReceiveMessageSize(256 << 20);
  args.SetMaxSendMessageSize(256 << 20);
  // gRPC's own reconnection backoff grows to 120 s; a coordinator that
  // restarts should see its devices within about a second.
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 1000);
  client::ClientTls tls;
  tls.ca = absl::GetFlag(FLAGS_tls_ca);
  tls.cert = absl::GetFlag(FLAGS_tls_cert);
  tls.key = absl::GetFlag(FLAGS_tls_key);
  tls.server_name = absl::GetFlag(FLAGS_tls_server_name);
  auto channel =
      client::MakeCoordinatorChannel(absl::GetFlag(FLAGS_server), tls, args);
  if (!channel.ok()) {
    std::cerr << "tandem-client: " << channel.status().message() << "\n";
    return 2;
  }
  if (int code = SetModelFile(tls, **channel, o); code != 0) return code;
  client::DeviceAgent agent(std::move(o), *std::move(channel));
  StopOnSignals stop([&] { agent.RequestStop(); });
  absl::Status s = agent.Run();
  if (!s.ok()) {
    std::cerr << "tandem-client " << id << ": " << s.message() << "\n";
    return 1;
  }
  rusage usage;
  getrusage(RUSAGE_SELF, &usage);
  LogInfo(absl::StrCat("tandem-client ", id, ": done after ",
                       agent.rounds_trained(), " rounds; peak RSS ",
                       usage.ru_maxrss / 1024, " MiB"));
  return 0;
}

}  // namespace
}  // namespace tandem

int main(int argc, char** argv) {
  tandem::ml::AdoptBestBlasKernel(argv);  // may re-execute: first
  absl::SetProgramUsageMessage(
      "tandem-client --server HOST:PORT --device_id ID [--data DIR]");
  absl::FlagsUsageConfig usage;
  usage.version_string = [] {
    return tandem::ml::ProgramVersion("tandem-client");
  };
  absl::SetFlagsUsageConfig(usage);
  absl::ParseCommandLine(argc, argv);
  return tandem::Main();
}
