// Minimal logging to stderr with a UTC timestamp and a level; thread-safe
// (one write per line).
//
//   LogInfo(absl::StrCat("round ", r, " done"));
#ifndef TANDEM_CORE_LOG_H_
#define TANDEM_CORE_LOG_H_

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

}  // namespace tandem

#endif  // TANDEM_CORE_LOG_H_
