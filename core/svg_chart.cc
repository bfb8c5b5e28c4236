#include "core/svg_chart.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace tandem {
namespace {

constexpr double kWidth = 720, kHeight = 360;
constexpr double kLeft = 70, kRight = 170, kTop = 40, kBottom = 50;
constexpr double kPlotW = kWidth - kLeft - kRight;
constexpr double kPlotH = kHeight - kTop - kBottom;

const char* Color(size_t i) {
  static const char* kPalette[] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728",
                                   "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
                                   "#bcbd22", "#17becf"};
  return kPalette[i % 10];
}

// A "nice" step for about `n` ticks over [0, span].
double NiceStep(double span, int n) {
  if (span <= 0) return 1;
  const double raw = span / n;
  const double mag = std::pow(10, std::floor(std::log10(raw)));
  for (double m : {1.0, 2.0, 2.5, 5.0, 10.0}) {
    if (raw <= m * mag) return m * mag;
  }
  return 10 * mag;
}

struct Axis {
  double lo = 0, hi = 1, step = 1;
};

Axis MakeAxis(double lo, double hi) {
  if (!(hi > lo)) hi = lo + 1;
  Axis a;
  a.step = NiceStep(hi - lo, 5);
  a.lo = std::floor(lo / a.step) * a.step;
  a.hi = std::ceil(hi / a.step) * a.step;
  return a;
}

std::string Num(double v) {
  if (std::fabs(v) >= 1000 || v == std::floor(v)) {
    return absl::StrFormat("%.0f", v);
  }
  return absl::StrFormat("%.3g", v);
}

std::string Frame(const std::string& title, const std::string& x_label,
                  const std::string& y_label, const Axis& y) {
  std::string s = absl::StrFormat(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" "
      "height=\"%.0f\" font-family=\"sans-serif\" font-size=\"12\">"
      "<title>%s</title>"
      "<text x=\"%.0f\" y=\"22\" font-size=\"15\" font-weight=\"bold\">%s"
      "</text>",
      kWidth, kHeight, HtmlEscape(title), kLeft, HtmlEscape(title));
  absl::StrAppendFormat(
      &s,
      "<text x=\"%.0f\" y=\"%.0f\" text-anchor=\"middle\">%s</text>"
      "<text transform=\"translate(16,%.0f) rotate(-90)\" "
      "text-anchor=\"middle\">%s</text>",
      kLeft + kPlotW / 2, kHeight - 10, HtmlEscape(x_label), kTop + kPlotH / 2,
      HtmlEscape(y_label));
  for (double v = y.lo; v <= y.hi + 1e-9 * y.step; v += y.step) {
    const double py = kTop + kPlotH * (1 - (v - y.lo) / (y.hi - y.lo));
    absl::StrAppendFormat(
        &s,
        "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
        "stroke=\"#ddd\"/><text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">"
        "%s</text>",
        kLeft, py, kLeft + kPlotW, py, kLeft - 6, py + 4, Num(v));
  }
  absl::StrAppendFormat(&s,
                        "<line x1=\"%.0f\" y1=\"%.0f\" x2=\"%.0f\" y2=\"%.0f\" "
                        "stroke=\"#333\"/>",
                        kLeft, kTop + kPlotH, kLeft + kPlotW, kTop + kPlotH);
  return s;
}

void Legend(const std::vector<Series>& series, std::string* s) {
  for (size_t i = 0; i < series.size(); ++i) {
    const double y = kTop + 8 + 18 * static_cast<double>(i);
    absl::StrAppendFormat(
        s,
        "<rect x=\"%.0f\" y=\"%.0f\" width=\"12\" height=\"12\" "
        "fill=\"%s\"/><text x=\"%.0f\" y=\"%.0f\">%s</text>",
        kLeft + kPlotW + 14, y - 10, Color(i), kLeft + kPlotW + 32, y,
        HtmlEscape(series[i].name));
  }
}

}  // namespace

std::string HtmlEscape(const std::string& text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string RenderLineChart(const LineChart& chart) {
  double x_lo = 0, x_hi = 0, y_lo = 0, y_hi = 0;
  bool any = false;
  for (const Series& se : chart.series) {
    for (const auto& [x, y] : se.points) {
      if (!any) x_lo = x_hi = x, y_lo = y_hi = y;
      any = true;
      x_lo = std::min(x_lo, x), x_hi = std::max(x_hi, x);
      y_lo = std::min(y_lo, y), y_hi = std::max(y_hi, y);
    }
  }
  const Axis xa = MakeAxis(std::min(0.0, x_lo), x_hi);
  const Axis ya =
      MakeAxis(chart.y_from_zero ? std::min(0.0, y_lo) : y_lo, y_hi);
  std::string s = Frame(chart.title, chart.x_label, chart.y_label, ya);
  for (double v = xa.lo; v <= xa.hi + 1e-9 * xa.step; v += xa.step) {
    const double px = kLeft + kPlotW * (v - xa.lo) / (xa.hi - xa.lo);
    absl::StrAppendFormat(&s,
                          "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">"
                          "%s</text>",
                          px, kTop + kPlotH + 16, Num(v));
  }
  for (size_t i = 0; i < chart.series.size(); ++i) {
    std::string pts;
    double prev_y = 0;
    bool first = true;
    for (const auto& [x, y] : chart.series[i].points) {
      const double px = kLeft + kPlotW * (x - xa.lo) / (xa.hi - xa.lo);
      const double py = kTop + kPlotH * (1 - (y - ya.lo) / (ya.hi - ya.lo));
      if (chart.steps && !first)
        absl::StrAppendFormat(&pts, "%.1f,%.1f ", px, prev_y);
      absl::StrAppendFormat(&pts, "%.1f,%.1f ", px, py);
      prev_y = py;
      first = false;
    }
    absl::StrAppendFormat(&s,
                          "<polyline fill=\"none\" stroke=\"%s\" "
                          "stroke-width=\"2\" points=\"%s\"/>",
                          Color(i), pts);
  }
  Legend(chart.series, &s);
  return s + "</svg>";
}

std::string RenderBarChart(const BarChart& chart) {
  const size_t n = chart.categories.size();
  std::vector<double> totals(n, 0);
  for (const Series& st : chart.stacks) {
    for (const auto& [i, v] : st.points) {
      if (i >= 0 && i < n) totals[static_cast<size_t>(i)] += std::max(0.0, v);
    }
  }
  const double top =
      n > 0 ? *std::max_element(totals.begin(), totals.end()) : 1;
  const Axis ya = MakeAxis(0, top);
  std::string s = Frame(chart.title, "", chart.y_label, ya);
  const double slot = n > 0 ? kPlotW / static_cast<double>(n) : kPlotW;
  std::vector<double> base(n, 0);
  for (size_t k = 0; k < chart.stacks.size(); ++k) {
    for (const auto& [i, v] : chart.stacks[k].points) {
      if (i < 0 || i >= n || v <= 0) continue;
      const size_t c = static_cast<size_t>(i);
      const double y0 = kTop + kPlotH * (1 - base[c] / ya.hi);
      const double y1 = kTop + kPlotH * (1 - (base[c] + v) / ya.hi);
      absl::StrAppendFormat(
          &s,
          "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
          "fill=\"%s\"><title>%s %s: %s</title></rect>",
          kLeft + slot * c + slot * 0.15, y1, slot * 0.7, y0 - y1, Color(k),
          HtmlEscape(chart.categories[c]), HtmlEscape(chart.stacks[k].name),
          Num(v));
      base[c] += v;
    }
  }
  for (size_t c = 0; c < n; ++c) {
    absl::StrAppendFormat(&s,
                          "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">"
                          "%s</text>",
                          kLeft + slot * (c + 0.5), kTop + kPlotH + 16,
                          HtmlEscape(chart.categories[c]));
  }
  Legend(chart.stacks, &s);
  return s + "</svg>";
}

}  // namespace tandem
