// Minimal SVG charts for self-contained HTML reports: line charts (x/y
// series) and grouped or stacked bar charts, with axes, ticks, units and a
// legend. No scripts, no external resources.
//
//   LineChart c{"Accuracy", "virtual time (s)", "test accuracy (%)"};
//   c.series.push_back({"fedavg", {{0, 10}, {5, 80}}});
//   std::string svg = RenderLineChart(c);
#ifndef TANDEM_CORE_SVG_CHART_H_
#define TANDEM_CORE_SVG_CHART_H_

#include <string>
#include <utility>
#include <vector>

namespace tandem {

struct Series {
  std::string name;
  std::vector<std::pair<double, double>> points;  // (x, y), x ascending
};

struct LineChart {
  std::string title, x_label, y_label;
  std::vector<Series> series;
  bool steps = false;       // draw as a step function (for discrete values)
  bool y_from_zero = true;  // false: the y axis spans the data only
};

struct BarChart {
  std::string title, y_label;
  std::vector<std::string> categories;  // one group of bars each
  std::vector<Series> stacks;  // stacked segments; point i = (i, value)
};

std::string RenderLineChart(const LineChart& chart);
std::string RenderBarChart(const BarChart& chart);

// Escapes &, <, >, " for HTML/SVG text.
std::string HtmlEscape(const std::string& text);

}  // namespace tandem

#endif  // TANDEM_CORE_SVG_CHART_H_
