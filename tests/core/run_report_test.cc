#include "core/run_report.h"

#include "gtest/gtest.h"

namespace tandem {
namespace {

int Count(const std::string& text, const std::string& what) {
  int n = 0;
  for (size_t at = text.find(what); at != std::string::npos;
       at = text.find(what, at + 1)) {
    ++n;
  }
  return n;
}

TEST(RunReportTest, FourChartsWithTheRunsData) {
  std::vector<nlohmann::json> metrics;
  for (int r = 1; r <= 3; ++r) {
    metrics.push_back({{"type", "device"},
                       {"round", r},
                       {"device", "pi3-00"},
                       {"status", "accepted"},
                       {"compute_s", 4.0},
                       {"link_s", 1.0},
                       {"tail_s", 0.5},
                       {"split", 2},
                       {"energy_j", 10.0}});
    metrics.push_back({{"type", "device"},
                       {"round", r},
                       {"device", "jetson-00"},
                       {"status", "accepted"},
                       {"compute_s", 1.0},
                       {"link_s", 0.2},
                       {"split", 7},
                       {"energy_j", 3.0}});
    metrics.push_back({{"type", "round"},
                       {"round", r},
                       {"virtual_time_s", 5.5 * r},
                       {"accuracy", 0.5 + 0.1 * r}});
  }
  nlohmann::json summary = {
      {"final_accuracy", 0.8}, {"strategy", "fedavg"}, {"rounds", 3}};
  const std::string html = RenderRunReport(metrics, summary);
  EXPECT_EQ(Count(html, "<svg"), 4);
  EXPECT_NE(html.find("Test accuracy against virtual time"), std::string::npos);
  EXPECT_NE(html.find("Mean round time per device"), std::string::npos);
  EXPECT_NE(html.find("Split point per device"), std::string::npos);
  EXPECT_NE(html.find("Energy per device"), std::string::npos);
  EXPECT_NE(html.find("virtual time (s)"), std::string::npos);  // axis unit
  // Bars carry their values: pi3's mean compute 4 s, its energy 30 J.
  EXPECT_NE(html.find("pi3-00 device compute: 4<"), std::string::npos);
  EXPECT_NE(html.find("pi3-00 energy: 30<"), std::string::npos);
  EXPECT_NE(html.find("jetson-00 energy: 9<"), std::string::npos);
  // One accuracy line of 3 points, two split series (legend entries).
  EXPECT_EQ(Count(html, "<polyline"), 3);
  EXPECT_EQ(Count(html, ">jetson-00</text>"), 3);  // 2 bar axes + legend
  EXPECT_EQ(html.find("<script"), std::string::npos);
  EXPECT_EQ(html.find("http://www.w3.org/2000/svg\" width"),
            html.find("http://"));  // no other external reference
}

TEST(RunReportTest, EscapesNames) {
  std::vector<nlohmann::json> metrics = {{{"type", "device"},
                                          {"round", 1},
                                          {"device", "<evil>"},
                                          {"status", "accepted"},
                                          {"compute_s", 1.0}}};
  const std::string html = RenderRunReport(metrics, {});
  EXPECT_EQ(html.find("<evil>"), std::string::npos);
  EXPECT_NE(html.find("&lt;evil&gt;"), std::string::npos);
}

}  // namespace
}  // namespace tandem
