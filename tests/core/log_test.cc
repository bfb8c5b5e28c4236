// EscapeForLog keeps untrusted text on one readable line; a LogSink sees
// every line instead of stderr.
#include "core/log.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace tandem {
namespace {

TEST(EscapeForLogTest, EscapesNewlinesControlAndHighBytes) {
  EXPECT_EQ(EscapeForLog("pi-07"), "pi-07");
  EXPECT_EQ(EscapeForLog(std::string("a\nb\r\t\x01\xff\\", 8)),
            "a\\nb\\r\\t\\x01\\xff\\\\");
  EXPECT_EQ(EscapeForLog(std::string("x\0y", 3)), "x\\x00y");
}

TEST(EscapeForLogTest, CutsLongTextWithAnEllipsis) {
  EXPECT_EQ(EscapeForLog(std::string(64, 'a')), std::string(64, 'a'));
  EXPECT_EQ(EscapeForLog(std::string(65, 'a')), std::string(64, 'a') + "…");
  // An escape is never cut in half.
  EXPECT_EQ(EscapeForLog("ab\n", 3), "ab…");
  EXPECT_EQ(EscapeForLog(std::string(1000, '\x02'), 10), "\\x02\\x02…");
}

TEST(LogSinkTest, SinkReceivesWholeLinesUntilReset) {
  std::vector<std::string> lines;
  SetLogSink([&lines](absl::string_view line) { lines.emplace_back(line); });
  LogInfo("hello");
  LogDebug("dropped below the level");
  SetLogSink(nullptr);
  LogInfo("to stderr again");
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0][0], 'I');
  EXPECT_NE(lines[0].find(" hello\n"), std::string::npos);
}

}  // namespace
}  // namespace tandem
