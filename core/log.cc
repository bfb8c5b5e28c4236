#include "core/log.h"

#include <unistd.h>

#include <atomic>
#include <string>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace tandem {
namespace {

std::atomic<int> g_level{static_cast<int>(LogLevel::kInfo)};

absl::Mutex g_sink_mu(absl::kConstInit);
LogSink* g_sink ABSL_GUARDED_BY(g_sink_mu) = nullptr;

const char* LevelName(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug:
      return "D";
    case LogLevel::kInfo:
      return "I";
    case LogLevel::kWarning:
      return "W";
    case LogLevel::kError:
      return "E";
  }
  return "?";
}

// One byte as it appears in a log line.
std::string EscapeByte(unsigned char c) {
  switch (c) {
    case '\\':
      return "\\\\";
    case '\n':
      return "\\n";
    case '\r':
      return "\\r";
    case '\t':
      return "\\t";
  }
  if (c >= 0x20 && c < 0x7f) return std::string(1, static_cast<char>(c));
  return absl::StrFormat("\\x%02x", c);
}

}  // namespace

void SetLogLevel(LogLevel level) { g_level.store(static_cast<int>(level)); }

void SetLogSink(LogSink sink) {
  LogSink* fresh = sink ? new LogSink(std::move(sink)) : nullptr;
  LogSink* old;
  {
    absl::MutexLock lock(&g_sink_mu);
    old = g_sink;
    g_sink = fresh;
  }
  delete old;
}

void Log(LogLevel level, absl::string_view message) {
  if (static_cast<int>(level) < g_level.load()) return;
  std::string line = absl::StrCat(
      LevelName(level),
      absl::FormatTime("%H:%M:%E3S ", absl::Now(), absl::UTCTimeZone()),
      message, "\n");
  absl::MutexLock lock(&g_sink_mu);
  if (g_sink != nullptr) {
    (*g_sink)(line);
    return;
  }
  // One write() per line keeps lines whole across threads.
  ssize_t unused = write(STDERR_FILENO, line.data(), line.size());
  (void)unused;
}

std::string EscapeForLog(absl::string_view text, size_t max_chars) {
  std::string out;
  for (char c : text) {
    std::string piece = EscapeByte(static_cast<unsigned char>(c));
    if (out.size() + piece.size() > max_chars) return absl::StrCat(out, "…");
    out += piece;
  }
  return out;
}

}  // namespace tandem
