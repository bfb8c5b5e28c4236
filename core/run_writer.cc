#include "core/run_writer.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "core/file_io.h"
#include "core/status_macros.h"

namespace tandem {
namespace {

absl::Status ErrnoError(const std::string& what, const std::string& path) {
  return absl::InternalError(
      absl::StrCat(what, " '", path, "': ", std::strerror(errno)));
}

}  // namespace

absl::StatusOr<std::vector<nlohmann::json>> ReadMetrics(
    const std::string& run_dir) {
  TANDEM_ASSIGN_OR_RETURN(std::string text,
                          ReadFile(run_dir + "/metrics.jsonl"));
  std::vector<nlohmann::json> records;
  for (absl::string_view line : absl::StrSplit(text, '\n', absl::SkipEmpty())) {
    nlohmann::json j = nlohmann::json::parse(line, nullptr, false);
    if (!j.is_discarded()) records.push_back(std::move(j));
  }
  return records;
}

absl::StatusOr<std::unique_ptr<RunWriter>> RunWriter::Create(
    const std::string& base_dir, const std::string& name,
    const nlohmann::json& config) {
  std::error_code ec;
  std::filesystem::create_directories(base_dir, ec);
  if (ec) {
    return absl::InternalError(absl::StrCat("cannot create run folder '",
                                            base_dir, "': ", ec.message()));
  }
  const std::string stamp =
      absl::FormatTime("%Y%m%d-%H%M%S", absl::Now(), absl::UTCTimeZone());
  std::string dir;
  for (int i = 0;; ++i) {
    dir = absl::StrCat(base_dir, "/", stamp, "-", name,
                       i == 0 ? "" : absl::StrCat("-", i));
    if (::mkdir(dir.c_str(), 0755) == 0) break;
    if (errno != EEXIST || i > 1000) return ErrnoError("cannot create", dir);
  }
  if (::mkdir((dir + "/checkpoints").c_str(), 0755) != 0) {
    return ErrnoError("cannot create", dir + "/checkpoints");
  }
  std::unique_ptr<RunWriter> run(new RunWriter(dir));
  TANDEM_RETURN_IF_ERROR(
      WriteFileAtomically(dir + "/config.json", config.dump(2) + "\n"));
  absl::MutexLock lock(&run->mu_);
  run->metrics_ = std::fopen((dir + "/metrics.jsonl").c_str(), "a");
  if (run->metrics_ == nullptr) {
    return ErrnoError("cannot open", dir + "/metrics.jsonl");
  }
  return run;
}

RunWriter::~RunWriter() {
  absl::MutexLock lock(&mu_);
  if (metrics_ != nullptr) std::fclose(metrics_);
}

absl::Status RunWriter::AppendMetrics(const nlohmann::json& record) {
  const std::string line = record.dump() + "\n";
  absl::MutexLock lock(&mu_);
  if (std::fwrite(line.data(), 1, line.size(), metrics_) != line.size() ||
      std::fflush(metrics_) != 0) {
    return ErrnoError("cannot append to", dir_ + "/metrics.jsonl");
  }
  return absl::OkStatus();
}

absl::Status RunWriter::WriteSummary(const nlohmann::json& summary) {
  return WriteFileAtomically(dir_ + "/summary.json", summary.dump(2) + "\n");
}

absl::Status RunWriter::WriteCheckpoint(int64_t round, const Weights& weights,
                                        const RunState& state) {
  const std::string bytes = EncodeCheckpoint(round, weights, state);
  TANDEM_RETURN_IF_ERROR(WriteFileAtomically(
      absl::StrFormat("%s/checkpoints/round-%05d.ckpt", dir_, round), bytes));
  return WriteFileAtomically(dir_ + "/checkpoints/latest.ckpt", bytes);
}

}  // namespace tandem
