// tandem-server: the coordinator service. Parses flags and runs the library.
#include <cstdio>
#include <iostream>
#include <mutex>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/flags/usage_config.h"
#include "absl/strings/str_cat.h"
#include "core/config.h"
#include "core/file_io.h"
#include "core/log.h"
#include "core/program_config.h"
#include "core/signals.h"
#include "ml/blas_kernel.h"
#include "ml/runtime.h"
#include "server/checkpoint_export.h"
#include "server/config_check.h"
#include "server/coordinator.h"
#include "server/coordinator_service.h"
#include "server/fleet_serving.h"
#include "server/tokens_watch.h"
#include "server/transport_security.h"

ABSL_FLAG(std::string, config, "", "run configuration (JSON)");
ABSL_FLAG(std::string, listen, "",
          "host:port to serve on (overrides server.listen; port 0 = any)");
ABSL_FLAG(std::vector<std::string>, set, {},
          "config overrides, e.g. --set=server.rounds=3,offload.policy=none");
ABSL_FLAG(std::string, out, "", "folder for run directories (output.dir)");
ABSL_FLAG(std::string, port_file, "", "write the bound port to this file");
ABSL_FLAG(bool, print_config, false, "print the resolved config and exit");
ABSL_FLAG(bool, fleet, false,
          "coordinate the config's simulated fleet, run by tandem-sim "
          "--shard I/N --server HOST:PORT processes");

ABSL_FLAG(std::vector<std::string>, export, {},
          "CHECKPOINT,OUT: write the config's model with a checkpoint's "
          "weights for PyTorch to OUT (TorchScript for a TorchScript model, a "
          "state dict for a zoo model) and exit");

namespace tandem {
namespace {

int Export(const Config& config, const std::vector<std::string>& args) {
  if (args.size() != 2) {
    std::cerr << "tandem-server: --export takes CHECKPOINT,OUT\n";
    return 2;
  }
  absl::Status s = server::ExportCheckpoint(config, args[0], args[1]);
  if (!s.ok()) {
    std::cerr << "tandem-server: " << s.message() << "\n";
    return 2;
  }
  std::cout << args[1] << std::endl;
  return 0;
}

// A new tokens file: every device it withdrew is revoked and its open
// streams end.
void RevokeWithdrawn(server::Coordinator& coordinator,
                     server::CoordinatorServer& grpc_server,
                     server::DeviceTokens tokens) {
  for (const std::string& id :
       coordinator.devices()->ReplaceTokens(std::move(tokens))) {
    const int streams = grpc_server.CancelStreamsOf(id);
    LogWarning(absl::StrCat("device ", EscapeForLog(id), " revoked; ", streams,
                            " open streams cancelled"));
  }
}

int Main() {
  ml::ReuseFreedTensorMemory();
  int exit_code = 0;
  std::optional<Config> config = ResolveProgramConfig(
      "tandem-server",
      {absl::GetFlag(FLAGS_config), absl::GetFlag(FLAGS_set),
       absl::GetFlag(FLAGS_out), absl::GetFlag(FLAGS_print_config),
       server::CheckRegisteredNames},
      &exit_code);
  if (!config) return exit_code;
  if (!absl::GetFlag(FLAGS_export).empty()) {
    return Export(*config, absl::GetFlag(FLAGS_export));
  }
  if (!absl::GetFlag(FLAGS_listen).empty()) {
    config->server.listen = absl::GetFlag(FLAGS_listen);
  }
  ml::SetComputeThreads(config->server.threads);
  ml::SetBlasThreads(config->server.threads);
  LogInfo(absl::StrCat("tandem-server: ", ml::DescribeRuntime()));
  ml::WarnIfReferenceBlas("tandem-server");
  auto security = server::LoadServerSecurity(config->server);
  if (!security.ok()) {
    std::cerr << "tandem-server: " << security.status().message() << "\n";
    return 2;
  }
  server::CoordinatorOptions options;
  options.config = *config;
  options.run_name = "server";
  if (absl::GetFlag(FLAGS_fleet)) {
    absl::Status fleet = server::ServeSimulatedFleet(*config, &options);
    if (!fleet.ok()) {
      std::cerr << "tandem-server: " << fleet.message() << "\n";
      return 2;
    }
  }
  auto coordinator = server::Coordinator::Create(std::move(options));
  if (!coordinator.ok()) {
    std::cerr << "tandem-server: " << coordinator.status().message() << "\n";
    return 2;
  }
  std::mutex tokens_watch_mu;  // the SIGHUP watcher against the reset below
  std::unique_ptr<server::TokensFileWatch> tokens_watch;
  StopOnSignals stop([&] { (*coordinator)->Stop(); },
                     [&] {
                       std::lock_guard<std::mutex> lock(tokens_watch_mu);
                       if (tokens_watch != nullptr) tokens_watch->ReloadNow();
                     });
  auto grpc_server = server::CoordinatorServer::Start(
      coordinator->get(), config->server.listen,
      absl::Seconds(config->server.poll_timeout_s), *security,
      server::StreamLimitsFor(config->server));
  if (!grpc_server.ok()) {
    std::cerr << "tandem-server: " << grpc_server.status().message() << "\n";
    return 2;
  }
  if (!config->server.tokens_file.empty()) {
    std::lock_guard<std::mutex> lock(tokens_watch_mu);
    tokens_watch = std::make_unique<server::TokensFileWatch>(
        config->server.tokens_file, [&](server::DeviceTokens tokens) {
          RevokeWithdrawn(**coordinator, **grpc_server, std::move(tokens));
        });
  }
  const int port = (*grpc_server)->port();
  LogInfo(absl::StrCat("listening on port ", port, "; run directory ",
                       (*coordinator)->run_dir()));
  if ((*coordinator)->metrics().port() > 0) {
    LogInfo(absl::StrCat("Prometheus metrics on port ",
                         (*coordinator)->metrics().port(), " (GET /metrics)"));
  }
  if (!absl::GetFlag(FLAGS_port_file).empty()) {
    (void)WriteFileAtomically(absl::GetFlag(FLAGS_port_file),
                              absl::StrCat(port, "\n"));
  }
  auto summary = (*coordinator)->Run();
  {
    std::lock_guard<std::mutex> lock(tokens_watch_mu);
    tokens_watch.reset();  // before what its callback uses
  }
  (*grpc_server)->Shutdown();
  std::cout << (*coordinator)->run_dir() << std::endl;
  if (!summary.ok()) {
    std::cerr << "tandem-server: " << summary.status().message() << "\n";
    return ExitCodeFor(summary.status());
  }
  LogInfo(absl::StrCat("final accuracy ", (*summary)["final_accuracy"].dump(),
                       " after ", (*summary)["rounds"].dump(), " rounds"));
  return 0;
}

}  // namespace
}  // namespace tandem

int main(int argc, char** argv) {
  tandem::ml::AdoptBestBlasKernel(argv);  // may re-execute: first
  absl::SetProgramUsageMessage(
      "tandem-server --config FILE [--listen HOST:PORT]: the coordinator");
  absl::FlagsUsageConfig usage;
  usage.version_string = [] {
    return tandem::ml::ProgramVersion("tandem-server");
  };
  absl::SetFlagsUsageConfig(usage);
  absl::ParseCommandLine(argc, argv);
  return tandem::Main();
}
