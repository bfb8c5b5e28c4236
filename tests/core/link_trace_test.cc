// Mahimahi link traces: transfers over hand-made traces end where the
// packets say, the trace loops, and bad files are refused naming the line.
#include "core/link_trace.h"

#include <zlib.h>

#include <random>

#include "core/file_io.h"
#include "gtest/gtest.h"

namespace tandem {
namespace {

LinkTrace Trace(absl::string_view text) {
  absl::StatusOr<LinkTrace> t = LinkTrace::Parse(text, "test.trace");
  EXPECT_TRUE(t.ok()) << t.status();
  return *std::move(t);
}

TEST(LinkTraceTest, APacketAMillisecondIs12Mbps) {
  const LinkTrace t = Trace("1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n");
  EXPECT_DOUBLE_EQ(t.MeanMbps(), 12);
  EXPECT_DOUBLE_EQ(t.period_s(), 0.010);
  // Ten packets: the whole period.
  EXPECT_NEAR(t.EndSeconds(0, 15000), 0.010, 1e-12);
  // From 2.5 ms: 7.5 packets to the period's end, 2.5 more after it loops.
  EXPECT_NEAR(t.EndSeconds(0.0025, 15000), 0.0125, 1e-12);
  EXPECT_DOUBLE_EQ(t.EndSeconds(0.004, 0), 0.004);
}

TEST(LinkTraceTest, ATransferWaitsThroughAGap) {
  // Two packets in millisecond 1, nothing until one in millisecond 10.
  const LinkTrace t = Trace("1\n1\n10\n");
  EXPECT_DOUBLE_EQ(t.DeliveredBytes(0.001), 3000);
  EXPECT_DOUBLE_EQ(t.DeliveredBytes(0.005), 3000);
  // 3,000 bytes by 1 ms, the last 1,000 in the two thirds of (9, 10] ms.
  EXPECT_NEAR(t.EndSeconds(0, 4000), (9 + 1000.0 / 1500) / 1e3, 1e-12);
  // Started in the gap, it waits for millisecond 10.
  EXPECT_NEAR(t.EndSeconds(0.005, 150), 0.0091, 1e-12);
  // Two periods' bytes from 0: exactly two periods.
  EXPECT_NEAR(t.EndSeconds(0, 9000), 0.020, 1e-12);
}

TEST(LinkTraceTest, MillisecondZeroIsThePeriodsEnd) {
  const LinkTrace t = Trace("0\n5\n");
  EXPECT_DOUBLE_EQ(t.period_s(), 0.005);
  EXPECT_DOUBLE_EQ(t.DeliveredBytes(0.004), 0);
  EXPECT_DOUBLE_EQ(t.DeliveredBytes(0.005), 3000);
  EXPECT_NEAR(t.EndSeconds(0, 3000), 0.005, 1e-12);
}

TEST(LinkTraceTest, BackToBackTransfersEndWhereOneWould) {
  const LinkTrace t = Trace("1\n3\n3\n4\n9\n12\n12\n12\n20\n");
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> start(0, 0.1), bytes(1, 40000);
  for (int i = 0; i < 200; ++i) {
    const double s = start(rng), a = bytes(rng), b = bytes(rng);
    EXPECT_NEAR(t.EndSeconds(t.EndSeconds(s, a), b), t.EndSeconds(s, a + b),
                1e-9);
    // And every transfer delivers its bytes.
    EXPECT_NEAR(t.DeliveredBytes(t.EndSeconds(s, a)) - t.DeliveredBytes(s), a,
                1e-6);
  }
}

TEST(LinkTraceTest, TracedLinkStartsAtItsOffset) {
  auto trace = std::make_shared<const LinkTrace>(Trace("1\n1\n10\n"));
  TracedLink link{trace, 0.005};
  // At virtual 0 the link is 5 ms into the trace: in the gap.
  EXPECT_NEAR(link.Seconds(0, 150), 0.0041, 1e-12);
}

TEST(LinkTraceTest, BadTracesAreRefusedNamingTheLine) {
  struct Case {
    const char* text;
    const char* expect;
  } cases[] = {
      {"", "at least one delivery opportunity"},
      {"0\n0\n", "at least one delivery opportunity"},
      {"1\nabc\n", "test.trace:2: expected a millisecond"},
      {"1\n-4\n", "test.trace:2: expected a millisecond"},
      {"5\n3\n", "test.trace:2: millisecond 3 comes before the 5"},
      {"1.5\n", "test.trace:1: expected a millisecond"},
  };
  for (const Case& c : cases) {
    absl::StatusOr<LinkTrace> t = LinkTrace::Parse(c.text, "test.trace");
    ASSERT_FALSE(t.ok()) << c.text;
    EXPECT_NE(t.status().message().find(c.expect), std::string::npos)
        << t.status();
  }
  EXPECT_FALSE(
      LinkTrace::FromSegments({{0, 10, 1}, {5, 20, 1}}, 20, "overlap").ok());
  EXPECT_FALSE(LinkTrace::FromSegments({{0, 10, 0}}, 10, "silent").ok());
}

TEST(LinkTraceTest, ReadsAFileAndNamesAMissingOne) {
  const std::string path = ::testing::TempDir() + "/link_trace_test.trace";
  ASSERT_TRUE(WriteFileAtomically(path, "2\n4\n").ok());
  auto t = LinkTrace::Read(path);
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_DOUBLE_EQ((*t)->MeanMbps(), 6);
  EXPECT_EQ((*t)->name(), path);
  // Compressed: the same trace; a file that is not gzip is refused.
  gzFile gz = gzopen((path + ".gz").c_str(), "wb");
  ASSERT_NE(gz, nullptr);
  ASSERT_EQ(gzputs(gz, "2\n4\n"), 4);
  ASSERT_EQ(gzclose(gz), Z_OK);
  auto unzipped = LinkTrace::Read(path + ".gz");
  ASSERT_TRUE(unzipped.ok()) << unzipped.status();
  EXPECT_DOUBLE_EQ((*unzipped)->MeanMbps(), 6);
  ASSERT_TRUE(WriteFileAtomically(path + ".bad.gz", "\x1f\x8bxxxx").ok());
  EXPECT_FALSE(LinkTrace::Read(path + ".bad.gz").ok());
  auto missing = LinkTrace::Read(path + ".missing");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find(path + ".missing"),
            std::string::npos)
      << missing.status();
}

}  // namespace
}  // namespace tandem
