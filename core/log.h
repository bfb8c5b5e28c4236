// Minimal logging to stderr with a UTC timestamp and a level; thread-safe
// (one write per line).
//
//   LogInfo(absl::StrCat("round ", r, " done"));
//   LogInfo(absl::StrCat("device ", EscapeForLog(device_id), " joined"));
//
// Text that came from outside the process (device ids, reasons) goes
// through EscapeForLog, so it cannot forge or break log lines.
#ifndef TANDEM_CORE_LOG_H_
#define TANDEM_CORE_LOG_H_

#include <cstddef>
#include <functional>
#include <string>

#include "absl/strings/string_view.h"

namespace tandem {

enum class LogLevel { kDebug = 0, kInfo = 1, kWarning = 2, kError = 3 };

// Lines below this level are dropped. Default kInfo.
void SetLogLevel(LogLevel level);
void Log(LogLevel level, absl::string_view message);
inline void LogInfo(absl::string_view m) { Log(LogLevel::kInfo, m); }
inline void LogWarning(absl::string_view m) { Log(LogLevel::kWarning, m); }
inline void LogError(absl::string_view m) { Log(LogLevel::kError, m); }
inline void LogDebug(absl::string_view m) { Log(LogLevel::kDebug, m); }

// Receives each whole line (newline included) instead of stderr; called
// from any thread, one line at a time, and must not log itself. For tests
// that read the log.
using LogSink = std::function<void(absl::string_view line)>;
// Replaces the sink; an empty one restores stderr.
void SetLogSink(LogSink sink);

// Longest untrusted field EscapeForLog keeps by default.
inline constexpr size_t kLogFieldMax = 64;

// `text` made safe for one log line: printable ASCII stays, a backslash
// becomes \\, newline, CR and tab \n \r \t, any other byte \xNN. Longer than
// `max_chars` escaped characters: cut there and ended with "…".
std::string EscapeForLog(absl::string_view text,
                         size_t max_chars = kLogFieldMax);

}  // namespace tandem

#endif  // TANDEM_CORE_LOG_H_
