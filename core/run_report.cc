#include "core/run_report.h"

#include <map>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "core/file_io.h"
#include "core/run_writer.h"
#include "core/status_macros.h"
#include "core/svg_chart.h"

namespace tandem {
namespace {

struct DeviceTotals {
  int rounds = 0;
  double compute = 0, link = 0, tail = 0, energy = 0;
  Series splits;
};

std::string AccuracyChart(const std::vector<nlohmann::json>& metrics,
                          const std::string& name) {
  LineChart c;
  c.title = "Test accuracy against virtual time";
  c.x_label = "virtual time (s)";
  c.y_label = "test accuracy (%)";
  c.y_from_zero = false;
  Series s{name, {}};
  for (const nlohmann::json& m : metrics) {
    if (!m.is_object()) continue;
    if (m.value("type", "") == "round" && m.contains("accuracy")) {
      s.points.push_back(
          {m.value("virtual_time_s", 0.0), 100 * m["accuracy"].get<double>()});
    }
  }
  c.series.push_back(std::move(s));
  return RenderLineChart(c);
}

std::map<std::string, DeviceTotals> Devices(
    const std::vector<nlohmann::json>& metrics) {
  std::map<std::string, DeviceTotals> devices;
  for (const nlohmann::json& m : metrics) {
    if (!m.is_object() || m.value("type", "") != "device" ||
        m.value("status", "") != "accepted") {
      continue;
    }
    DeviceTotals& d = devices[m.value("device", "?")];
    d.splits.name = m.value("device", "?");
    ++d.rounds;
    d.compute += m.value("compute_s", 0.0);
    d.link += m.value("link_s", 0.0);
    d.tail += m.value("tail_s", 0.0);
    d.energy += m.value("energy_j", 0.0);
    d.splits.points.push_back(
        {m.value("round", 0.0), static_cast<double>(m.value("split", 0))});
  }
  return devices;
}

std::string RoundTimeChart(const std::map<std::string, DeviceTotals>& devices) {
  BarChart c{"Mean round time per device", "seconds (virtual)", {}, {}};
  c.stacks = {{"device compute", {}}, {"link", {}}, {"coordinator tail", {}}};
  double i = 0;
  for (const auto& [id, d] : devices) {
    c.categories.push_back(id);
    c.stacks[0].points.push_back({i, d.compute / d.rounds});
    c.stacks[1].points.push_back({i, d.link / d.rounds});
    c.stacks[2].points.push_back({i, d.tail / d.rounds});
    ++i;
  }
  return RenderBarChart(c);
}

std::string SplitChart(const std::map<std::string, DeviceTotals>& devices) {
  LineChart c;
  c.title = "Split point per device (lines offset slightly to stay visible)";
  c.x_label = "round";
  c.y_label = "split point (stages on the device)";
  c.steps = true;
  const double n = static_cast<double>(devices.size());
  double i = 0;
  for (const auto& [id, d] : devices) {
    Series s = d.splits;
    for (auto& point : s.points) point.second += 0.06 * (i - (n - 1) / 2);
    c.series.push_back(std::move(s));
    ++i;
  }
  return RenderLineChart(c);
}

std::string EnergyChart(const std::map<std::string, DeviceTotals>& devices) {
  BarChart c{"Energy per device over the run", "energy (J)", {}, {}};
  c.stacks = {{"energy", {}}};
  double i = 0;
  for (const auto& [id, d] : devices) {
    c.categories.push_back(id);
    c.stacks[0].points.push_back({i++, d.energy});
  }
  return RenderBarChart(c);
}

std::string SummaryTable(const nlohmann::json& s) {
  std::string rows;
  for (const char* key :
       {"status", "model", "strategy", "rounds", "final_accuracy",
        "best_accuracy", "virtual_time_s", "wall_time_s", "failed_attempts",
        "rejected_updates"}) {
    if (!s.contains(key)) continue;
    absl::StrAppend(&rows, "<tr><th>", key, "</th><td>",
                    HtmlEscape(s[key].is_string() ? s[key].get<std::string>()
                                                  : s[key].dump()),
                    "</td></tr>");
  }
  return absl::StrCat("<table>", rows, "</table>");
}

}  // namespace

std::string RenderRunReport(const std::vector<nlohmann::json>& metrics,
                            const nlohmann::json& summary_in) {
  const nlohmann::json summary =
      summary_in.is_object() ? summary_in : nlohmann::json::object();
  const std::map<std::string, DeviceTotals> devices = Devices(metrics);
  const std::string name = summary.value("strategy", std::string("run"));
  return absl::StrCat(
      "<!DOCTYPE html><html><head><meta charset=\"utf-8\">"
      "<title>Tandem run report</title><style>body{font-family:sans-serif;"
      "margin:24px}th{text-align:left;padding-right:16px}"
      "svg{display:block;margin:16px 0}</style></head><body>"
      "<h1>Tandem run report</h1>",
      SummaryTable(summary), AccuracyChart(metrics, name),
      RoundTimeChart(devices), SplitChart(devices), EnergyChart(devices),
      "</body></html>\n");
}

absl::Status WriteRunReport(const std::string& run_dir) {
  TANDEM_ASSIGN_OR_RETURN(std::vector<nlohmann::json> metrics,
                          ReadMetrics(run_dir));
  TANDEM_ASSIGN_OR_RETURN(std::string summary_text,
                          ReadFile(run_dir + "/summary.json"));
  nlohmann::json summary = nlohmann::json::parse(summary_text, nullptr, false);
  if (summary.is_discarded()) summary = nlohmann::json::object();
  return WriteFileAtomically(run_dir + "/report.html",
                             RenderRunReport(metrics, summary));
}

}  // namespace tandem
