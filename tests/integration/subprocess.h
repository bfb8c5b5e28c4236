// Child processes for integration tests: start a binary with its output in a
// log file, wait with a timeout, kill. A Subprocess that is still running
// when destroyed is killed, so a failing test never leaves processes behind.
#ifndef TANDEM_TESTS_INTEGRATION_SUBPROCESS_H_
#define TANDEM_TESTS_INTEGRATION_SUBPROCESS_H_

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace tandem::testing {

class Subprocess {
 public:
  // argv[0] is the binary's path; stdout and stderr go to `log_path`.
  static absl::StatusOr<std::unique_ptr<Subprocess>> Start(
      const std::vector<std::string>& argv, const std::string& log_path);
  ~Subprocess();

  pid_t pid() const { return pid_; }
  // The exit code, or an error if it did not exit within `timeout` (then it
  // is killed) or died of a signal.
  absl::StatusOr<int> Wait(absl::Duration timeout);
  void Signal(int sig);
  const std::string& log_path() const { return log_path_; }

 private:
  Subprocess(pid_t pid, std::string log)
      : pid_(pid), log_path_(std::move(log)) {}
  pid_t pid_;
  bool exited_ = false;
  std::string log_path_;
};

// The whole file, or "" if it cannot be read.
std::string ReadFileOrEmpty(const std::string& path);

// Polls until `path` contains `text` (true) or `timeout` passes (false).
bool WaitForText(const std::string& path, const std::string& text,
                 absl::Duration timeout);

// The port a server wrote to `path` (--port_file), polled for up to 30 s;
// 0 if none came.
int WaitForPortFile(const std::string& path);

// An empty folder for the running test: TempDir()/tandem-<test>-<pid>.
std::string FreshTestDir();

// A TCP port on 127.0.0.1 that nothing listens on (bound, then closed).
int UnusedPort();

}  // namespace tandem::testing

#endif  // TANDEM_TESTS_INTEGRATION_SUBPROCESS_H_
