// tandem-sim: runs a whole fleet from one config file on virtual time.
#include <algorithm>
#include <cmath>
#include <fstream>
#include <iostream>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/flags/usage_config.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "core/config.h"
#include "core/file_io.h"
#include "core/link_trace.h"
#include "core/log.h"
#include "core/program_config.h"
#include "ml/blas_kernel.h"
#include "ml/profile_file.h"
#include "ml/runtime.h"
#include "server/config_check.h"
#include "sim/cost_fleet.h"
#include "sim/fleet_simulator.h"
#include "sim/offload_bound.h"
#include "sim/policy_trainer.h"
#include "sim/trace_generator.h"

ABSL_FLAG(std::string, config, "", "run configuration (JSON)");
ABSL_FLAG(std::string, out, "", "folder for run directories (output.dir)");
ABSL_FLAG(std::vector<std::string>, set, {},
          "config overrides, e.g. --set=server.rounds=3,offload.policy=none");
ABSL_FLAG(bool, print_config, false, "print the resolved config and exit");
ABSL_FLAG(bool, verbose, false, "log device and coordinator events");
ABSL_FLAG(bool, train_policy, false,
          "train the PPO offload policy on the fleet's cost model and save it");
ABSL_FLAG(std::string, policy_out, "ppo.policy", "where --train_policy saves");
ABSL_FLAG(int, episodes, 300,
          "--train_policy: episodes (of server.rounds, or of --rounds with "
          "--randomize)");
ABSL_FLAG(bool, randomize, false,
          "--train_policy: on random fleets, models and links "
          "(sim/random_scenario.h) instead of the config's; needs no --config");
ABSL_FLAG(uint64_t, seed, 1, "--train_policy: the agent's and scenarios' seed");
ABSL_FLAG(int, rounds, 10, "--train_policy --randomize: rounds per episode");
ABSL_FLAG(double, learning_rate, 0,
          "--train_policy: Adam's step size (0: the policy's default)");
ABSL_FLAG(bool, offload_bound, false,
          "print (JSON) the best any offload policy could reach on this "
          "scenario by the cost model, against no offload, and exit");

ABSL_FLAG(std::string, shard, "",
          "I/N: run slice I of N of the fleet as gRPC clients of --server "
          "(a tandem-server --fleet started with the same config)");
ABSL_FLAG(std::string, server, "", "--shard: the coordinator's host:port");
ABSL_FLAG(std::string, make_trace, "",
          "write a Markov on/off fading link trace (Mahimahi format) to "
          "--trace_out and exit: good_mbps=,bad_mbps=,mean_good_s=,"
          "mean_bad_s=,seconds=,seed= (sim/trace_generator.h)");
ABSL_FLAG(std::string, trace_out, "",
          "--make_trace: the file (default: the spec's name + .trace)");
ABSL_FLAG(std::string, measure_profile, "",
          "measure the model's per-stage profile on one idle core (median "
          "of repeats), write it to this file for fleet.profile, and exit");

namespace tandem {
namespace {

// "<CPU model>, 1 thread, <BLAS>": the core a measured profile is for.
std::string ReferenceMachine() {
  std::ifstream cpuinfo("/proc/cpuinfo");
  std::string line, cpu = "unknown CPU";
  while (std::getline(cpuinfo, line)) {
    if (line.rfind("model name", 0) == 0) {
      cpu = line.substr(line.find(':') + 2);
      break;
    }
  }
  return absl::StrCat(cpu, "; 1 LibTorch thread; ", ml::DescribeRuntime());
}

int MeasureProfile(const Config& config, const std::string& out) {
  auto data = sim::LoadFleetData(config);
  if (!data.ok()) {
    std::cerr << "tandem-sim: " << data.status().message() << "\n";
    return ExitCodeFor(data.status());
  }
  ml::SetComputeThreads(1);
  auto profile =
      ml::ProfileModel(config.model.id(), data->input,
                       std::clamp(config.training.batch_size, 4, 256),
                       /*reps=*/15);
  absl::Status s = profile.ok() ? ml::WriteProfile(*profile, data->input,
                                                   ReferenceMachine(), out)
                                : profile.status();
  if (!s.ok()) {
    std::cerr << "tandem-sim: " << s.message() << "\n";
    return ExitCodeFor(s);
  }
  std::cout << "profile of " << config.model.id() << " written to " << out
            << std::endl;
  return 0;
}

// --make_trace SPEC [--trace_out FILE].
int MakeTrace() {
  auto spec = sim::ParseFadingTraceSpec(absl::GetFlag(FLAGS_make_trace));
  if (!spec.ok()) {
    std::cerr << "tandem-sim: " << spec.status().message() << "\n";
    return 2;
  }
  std::string out = absl::GetFlag(FLAGS_trace_out);
  if (out.empty()) out = sim::FadingTraceName(*spec) + ".trace";
  absl::Status s = WriteFileAtomically(
      out, sim::MahimahiText(sim::FadingSegments(*spec),
                             std::round(spec->seconds * 1e3)));
  if (!s.ok()) {
    std::cerr << "tandem-sim: " << s.message() << "\n";
    return ExitCodeFor(s);
  }
  // The file is within a packet of the trace's segments.
  auto trace = sim::FadingTrace(*spec);
  if (!trace.ok()) {
    std::cerr << "tandem-sim: " << trace.status().message() << "\n";
    return 1;
  }
  std::cout << absl::StrFormat("%s: %s, %.0f s, mean %.3f Mbit/s", out,
                               trace->name(), trace->period_s(),
                               trace->MeanMbps())
            << std::endl;
  return 0;
}

// --shard I/N --server HOST:PORT.
int RunShard(const Config& config) {
  sim::ShardSpec spec;
  std::vector<std::string> parts =
      absl::StrSplit(absl::GetFlag(FLAGS_shard), '/');
  if (parts.size() != 2 || !absl::SimpleAtoi(parts[0], &spec.index) ||
      !absl::SimpleAtoi(parts[1], &spec.count) ||
      absl::GetFlag(FLAGS_server).empty()) {
    std::cerr << "tandem-sim: --shard takes I/N (e.g. 0/4) and needs "
                 "--server HOST:PORT\n";
    return 2;
  }
  spec.server = absl::GetFlag(FLAGS_server);
  sim::SimOptions options;
  options.config = config;
  auto result = sim::RunShard(options, spec);
  if (!result.ok()) {
    std::cerr << "tandem-sim: " << result.status().message() << "\n";
    return ExitCodeFor(result.status());
  }
  std::cout << "shard " << spec.index << "/" << spec.count << ": "
            << result->devices << " devices, " << result->failed
            << " ended with an error" << std::endl;
  return result->failed == 0 ? 0 : 1;
}

// The command line, as --train_policy writes it into the policy file.
std::string& CommandLine() {
  static std::string text;
  return text;
}

int TrainPolicy(const Config& config) {
  sim::PolicyTraining t;
  t.episodes = absl::GetFlag(FLAGS_episodes);
  t.randomize = absl::GetFlag(FLAGS_randomize);
  t.seed = absl::GetFlag(FLAGS_seed);
  t.rounds = absl::GetFlag(FLAGS_rounds);
  t.learning_rate = absl::GetFlag(FLAGS_learning_rate);
  t.out_path = absl::GetFlag(FLAGS_policy_out);
  t.command = CommandLine();
  ml::SetComputeThreads(1);
  auto trained = sim::TrainOffloadPolicy(config, t);
  if (!trained.ok()) {
    std::cerr << "tandem-sim: " << trained.status().message() << "\n";
    return ExitCodeFor(trained.status());
  }
  std::cout << trained->dump(2) << std::endl;
  return 0;
}

int Main() {
  ml::ReuseFreedTensorMemory();
  if (!absl::GetFlag(FLAGS_make_trace).empty()) return MakeTrace();
  if (absl::GetFlag(FLAGS_train_policy) && absl::GetFlag(FLAGS_randomize) &&
      absl::GetFlag(FLAGS_config).empty()) {
    return TrainPolicy(Config());
  }
  int exit_code = 0;
  std::optional<Config> config = ResolveProgramConfig(
      "tandem-sim",
      {absl::GetFlag(FLAGS_config), absl::GetFlag(FLAGS_set),
       absl::GetFlag(FLAGS_out), absl::GetFlag(FLAGS_print_config),
       server::CheckRegisteredNames},
      &exit_code);
  if (!config) return exit_code;
  if (!absl::GetFlag(FLAGS_verbose)) SetLogLevel(LogLevel::kWarning);
  if (!absl::GetFlag(FLAGS_measure_profile).empty()) {
    return MeasureProfile(*config, absl::GetFlag(FLAGS_measure_profile));
  }
  if (!absl::GetFlag(FLAGS_shard).empty()) return RunShard(*config);
  if (absl::GetFlag(FLAGS_offload_bound)) {
    auto bound = sim::ComputeOffloadBound(*config);
    if (!bound.ok()) {
      std::cerr << "tandem-sim: " << bound.status().message() << "\n";
      return ExitCodeFor(bound.status());
    }
    std::cout << bound->dump(2) << std::endl;
    return 0;
  }
  if (absl::GetFlag(FLAGS_train_policy)) return TrainPolicy(*config);
  std::cout << "tandem-sim: " << config->TotalDevices() << " devices, model "
            << config->model.id() << ", " << config->server.rounds
            << " rounds; " << ml::DescribeRuntime() << std::endl;
  ml::WarnIfReferenceBlas("tandem-sim");
  sim::SimOptions options;
  options.config = *config;
  const int rounds = config->server.rounds;
  options.on_round = [rounds](const nlohmann::json& line) {
    std::cout << sim::ProgressLine(line, rounds) << std::endl;
  };
  auto result = sim::RunSimulation(options);
  if (!result.ok()) {
    std::cerr << "tandem-sim: " << result.status().message() << "\n";
    return ExitCodeFor(result.status());
  }
  std::cout << "final accuracy "
            << absl::StrFormat(
                   "%.2f%%",
                   100 * result->summary["final_accuracy"].get<double>())
            << ", virtual time "
            << absl::StrFormat("%.1f s",
                               result->summary["virtual_time_s"].get<double>())
            << "\nrun directory: " << result->run_dir << std::endl;
  return 0;
}

}  // namespace
}  // namespace tandem

int main(int argc, char** argv) {
  tandem::ml::AdoptBestBlasKernel(argv);  // may re-execute: first
  absl::SetProgramUsageMessage("tandem-sim --config FILE [--out DIR]");
  absl::FlagsUsageConfig usage;
  usage.version_string = [] {
    return tandem::ml::ProgramVersion("tandem-sim");
  };
  absl::SetFlagsUsageConfig(usage);
  std::vector<std::string> words(argv, argv + argc);
  words[0] = "tandem-sim";
  tandem::CommandLine() = absl::StrJoin(words, " ");
  absl::ParseCommandLine(argc, argv);
  return tandem::Main();
}
