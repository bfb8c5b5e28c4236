// The config handling every binary shares: load the file with overrides,
// point output at --out, and --print-config. Flags stay in main(); this
// takes their values.
#ifndef TANDEM_CORE_PROGRAM_CONFIG_H_
#define TANDEM_CORE_PROGRAM_CONFIG_H_

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "core/config.h"

namespace tandem {

struct ProgramConfigRequest {
  std::string path;                    // --config ("" = defaults)
  std::vector<std::string> overrides;  // --set
  std::string out_dir;                 // --out ("" = output.dir)
  bool print = false;                  // --print_config
  // Checks what parsing cannot (names owned by registries outside core,
  // e.g. server::CheckRegisteredNames); optional.
  std::function<absl::Status(const Config&)> check;
};

// The config to run with, or nullopt with *exit_code set: 2 after printing
// the error to stderr (prefixed with `program`), 0 after printing the config.
std::optional<Config> ResolveProgramConfig(const std::string& program,
                                           const ProgramConfigRequest& request,
                                           int* exit_code);

// A program's exit code for a failed run: 2 for bad input (a configuration
// error, whose message starts with "config: " wherever it was detected, or
// an InvalidArgument, NotFound or DataLoss status: a bad model or data
// file), 1 for anything else.
int ExitCodeFor(const absl::Status& status);

}  // namespace tandem

#endif  // TANDEM_CORE_PROGRAM_CONFIG_H_
