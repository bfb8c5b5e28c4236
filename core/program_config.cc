#include "core/program_config.h"

#include <iostream>

#include "absl/strings/match.h"

namespace tandem {

std::optional<Config> ResolveProgramConfig(const std::string& program,
                                           const ProgramConfigRequest& request,
                                           int* exit_code) {
  absl::StatusOr<Config> config = LoadConfig(request.path, request.overrides);
  if (config.ok() && request.check) {
    absl::Status checked = request.check(*config);
    if (!checked.ok()) config = checked;
  }
  if (!config.ok()) {
    std::cerr << program << ": " << config.status().message() << "\n";
    *exit_code = 2;
    return std::nullopt;
  }
  if (!request.out_dir.empty()) config->output.dir = request.out_dir;
  if (request.print) {
    std::cout << ConfigToJson(*config).dump(2) << "\n";
    *exit_code = 0;
    return std::nullopt;
  }
  return *std::move(config);
}

int ExitCodeFor(const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kInvalidArgument:  // a bad config, model file, ...
    case absl::StatusCode::kNotFound:         // a missing file
    case absl::StatusCode::kDataLoss:         // a malformed data file
      return 2;
    default:
      return absl::StartsWith(status.message(), "config: ") ? 2 : 1;
  }
}

}  // namespace tandem
