#include "server/tokens_watch.h"

#include <sys/stat.h>

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "core/log.h"

namespace tandem::server {

TokensFileWatch::TokensFileWatch(std::string path, OnTokens on_tokens)
    : path_(std::move(path)), on_tokens_(std::move(on_tokens)) {
  seen_ = StampOf();
  watcher_ = std::thread([this] { Watch(); });
}

TokensFileWatch::~TokensFileWatch() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  watcher_.join();
}

void TokensFileWatch::ReloadNow() {
  absl::MutexLock lock(&mu_);
  reload_ = true;
}

TokensFileWatch::Stamp TokensFileWatch::StampOf() const {
  struct stat st {};
  if (stat(path_.c_str(), &st) != 0) return Stamp{};
  Stamp s;
  s.mtime_ns =
      static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
  s.size = static_cast<int64_t>(st.st_size);
  s.inode = static_cast<int64_t>(st.st_ino);
  return s;
}

void TokensFileWatch::Watch() {
  auto woken = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return stopping_ || reload_;
  };
  for (;;) {
    bool asked = false;
    {
      absl::MutexLock lock(&mu_);
      mu_.AwaitWithTimeout(absl::Condition(&woken), absl::Milliseconds(250));
      if (stopping_) return;
      asked = std::exchange(reload_, false);
    }
    const Stamp now = StampOf();
    // A changed file is read once it has stayed the same for a check, so a
    // file still being written is not taken for the new one.
    const bool settled = !(now == seen_) && now == changed_;
    changed_ = now;
    if (!asked && !settled) continue;
    seen_ = now;
    Load();
  }
}

void TokensFileWatch::Load() {
  absl::StatusOr<DeviceTokens> tokens = DeviceTokens::Load(path_);
  if (!tokens.ok()) {
    LogWarning(
        absl::StrCat("server.tokens_file not reloaded, the tokens in "
                     "force stay: ",
                     tokens.status().message()));
    return;
  }
  on_tokens_(*std::move(tokens));
}

}  // namespace tandem::server
