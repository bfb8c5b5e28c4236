// Revocation without a restart: watches server.tokens_file and hands every
// new version that loads to a callback (DeviceGateway::ReplaceTokens), when
// the file changes (checked four times a second, read once it has stayed
// the same for a check) or when asked (SIGHUP). A file that does not load is
// logged, naming it, and the tokens in force stay.
//
//   TokensFileWatch watch(path, [&](DeviceTokens t) { ... });
//   watch.ReloadNow();  // from a SIGHUP
#ifndef TANDEM_SERVER_TOKENS_WATCH_H_
#define TANDEM_SERVER_TOKENS_WATCH_H_

#include <functional>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "server/device_tokens.h"

namespace tandem::server {

class TokensFileWatch {
 public:
  using OnTokens = std::function<void(DeviceTokens)>;

  // Starts watching `path`, as it is now.
  TokensFileWatch(std::string path, OnTokens on_tokens);
  ~TokensFileWatch();  // stops the watcher

  // Reloads the file at once (it may have changed within the same second).
  void ReloadNow();

 private:
  // The file's identity: what changes when it is rewritten.
  struct Stamp {
    int64_t mtime_ns = -1, size = -1, inode = -1;
    bool operator==(const Stamp& o) const {
      return mtime_ns == o.mtime_ns && size == o.size && inode == o.inode;
    }
  };
  Stamp StampOf() const;
  void Watch();
  void Load();

  const std::string path_;
  const OnTokens on_tokens_;
  Stamp seen_;     // the watcher thread's: as last read
  Stamp changed_;  // as at the last check
  absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  bool reload_ ABSL_GUARDED_BY(mu_) = false;
  std::thread watcher_;
};

}  // namespace tandem::server

#endif  // TANDEM_SERVER_TOKENS_WATCH_H_
