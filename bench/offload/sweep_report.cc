// The report of an offload sweep (bench/offload_sweep.sh): over a grid of
// pi3 link bandwidth x pi3 slowdown, how close each offload policy's
// slowest-device mean round time comes to the cost-model bound
// (sim/offload_bound.h). Score = (policy's slowest-round ratio to "none") /
// (the bound's ratio), 1.00 = at the bound. Writes a self-contained HTML
// page: one inline-SVG heat map per policy and a table of every grid point.
// A point whose run failed (result null) shows as "failed", a point missing a
// figure or the bound as "n/a"; neither is ever read as a number.
//
//   build/bench/offload/sweep_report SWEEP.json OUT.html
//
// SWEEP.json: [{"pi3_link_mbps": 40, "pi3_slowdown": 10, "result": {
//   "policies": {"none": {"slowest_mean_round_s": ...}, "greedy": {...}},
//   "bound": {"slowest_mean_round_s": {"ratio": ...}} or null} or null}, ...]
// (one offload_experiment --json file per point).
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "core/file_io.h"
#include "core/svg_chart.h"
#include "nlohmann/json.hpp"

namespace {

using nlohmann::json;
using Num = std::optional<double>;

constexpr double kAtBound = 1.05;          // score up to this: green
constexpr double kNearBound = 1.2;         // up to this: yellow; above: red
constexpr double kNoWorseThanNone = 1.02;  // greedy ratio to none

// One policy at one grid point.
struct Cell {
  Num ratio;  // slowest mean round, policy / none
  Num score;  // ratio / bound ratio
};

struct Point {
  double link = 0, slowdown = 0;
  bool failed = false;  // result null: the run failed
  Num bound_ratio;
  std::map<std::string, Cell> cells;  // by policy
};

// obj[key] when it is a positive finite number; nothing otherwise.
Num Positive(const json& obj, const char* key) {
  if (!obj.is_object() || !obj.contains(key)) return std::nullopt;
  const json& v = obj[key];
  if (!v.is_number()) return std::nullopt;
  const double d = v.get<double>();
  if (!std::isfinite(d) || !(d > 0)) return std::nullopt;
  return d;
}

Num Divide(Num a, Num b) {
  if (!a || !b) return std::nullopt;
  const double q = *a / *b;
  if (!std::isfinite(q) || !(q > 0)) return std::nullopt;
  return q;
}

const json& Member(const json& obj, const char* key) {
  static const json kNull;
  return obj.is_object() && obj.contains(key) ? obj[key] : kNull;
}

// The policies other than "none", from the first point with a result.
std::vector<std::string> PolicyNames(const json& sweep) {
  std::vector<std::string> names;
  for (const json& p : sweep) {
    const json& policies = Member(Member(p, "result"), "policies");
    if (!policies.is_object()) continue;
    for (const auto& [name, unused] : policies.items()) {
      if (name != "none") names.push_back(name);
    }
    break;
  }
  return names;
}

Point ReadPoint(const json& p, const std::vector<std::string>& policies) {
  Point out;
  out.link = *Positive(p, "pi3_link_mbps");  // checked by CheckSweep
  out.slowdown = *Positive(p, "pi3_slowdown");
  const json& result = Member(p, "result");
  out.failed = result.is_null();
  const json& bound = Member(Member(result, "bound"), "slowest_mean_round_s");
  out.bound_ratio = Positive(bound, "ratio");
  const json& runs = Member(result, "policies");
  const Num none = Positive(Member(runs, "none"), "slowest_mean_round_s");
  for (const std::string& name : policies) {
    Cell& c = out.cells[name];
    c.ratio = Divide(
        Positive(Member(runs, name.c_str()), "slowest_mean_round_s"), none);
    c.score = Divide(c.ratio, out.bound_ratio);
  }
  return out;
}

bool ByLinkThenSlowdown(const Point& a, const Point& b) {
  return a.link != b.link ? a.link < b.link : a.slowdown < b.slowdown;
}

// "" when the sweep is well formed, else what is wrong with it.
std::string CheckSweep(const json& sweep) {
  if (!sweep.is_array()) return "not a JSON array of grid points";
  for (size_t i = 0; i < sweep.size(); ++i) {
    const json& p = sweep[i];
    for (const char* key : {"pi3_link_mbps", "pi3_slowdown"}) {
      if (!Positive(p, key)) {
        return absl::StrCat("point ", i, " has no positive number \"", key,
                            "\"");
      }
    }
  }
  return "";
}

std::string Fixed(Num v, int decimals) {
  return v ? absl::StrFormat("%.*f", decimals, *v) : "n/a";
}

// CSS class of a score cell.
std::string ScoreClass(const Point& p, Num score) {
  if (p.failed || !score) return "na";
  if (*score <= kAtBound) return "good";
  return *score <= kNearBound ? "near" : "far";
}

// Scores with 2 decimals, ratios with 3.
std::string FigureText(const Point& p, Num v, int decimals = 2) {
  return p.failed ? "failed" : Fixed(v, decimals);
}

std::string YesNo(const Point& p, Num v, double limit) {
  if (p.failed) return "failed";
  if (!v) return "n/a";
  return *v <= limit ? "yes" : "no";
}

// ---- heat map ----

constexpr int kCellW = 64, kCellH = 34, kLeft = 96, kTop = 34, kBottom = 58;

std::string Fill(const std::string& cls) {
  if (cls == "good") return "#8fd19e";
  if (cls == "near") return "#ffe08a";
  if (cls == "far") return "#f1948a";
  return "#d0d0d0";
}

std::string SvgText(double x, double y, const std::string& text,
                    const std::string& extra = "") {
  return absl::StrFormat(
      "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" "
      "font-size=\"12\"%s>%s</text>",
      x, y, extra, tandem::HtmlEscape(text));
}

std::string HeatCell(int col, int row, const Point* p,
                     const std::string& policy) {
  const int x = kLeft + col * kCellW, y = kTop + row * kCellH;
  std::string cls = "na", text = "no run";
  if (p != nullptr) {
    const Num score = p->cells.at(policy).score;
    cls = ScoreClass(*p, score);
    text = FigureText(*p, score);
  }
  return absl::StrCat(
      absl::StrFormat("<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" "
                      "fill=\"%s\" stroke=\"#fff\"/>",
                      x, y, kCellW, kCellH, Fill(cls)),
      SvgText(x + kCellW / 2.0, y + kCellH / 2.0 + 4, text));
}

struct Grid {
  std::vector<double> links, slowdowns;  // ascending
  std::map<std::pair<double, double>, const Point*> at;
};

Grid MakeGrid(const std::vector<Point>& points) {
  std::set<double> links, slowdowns;
  Grid g;
  for (const Point& p : points) {
    links.insert(p.link);
    slowdowns.insert(p.slowdown);
    if (!g.at.emplace(std::make_pair(p.link, p.slowdown), &p).second) {
      std::fprintf(stderr,
                   "sweep_report: point (%g, %g) repeated; first kept\n",
                   p.link, p.slowdown);
    }
  }
  g.links.assign(links.begin(), links.end());
  g.slowdowns.assign(slowdowns.begin(), slowdowns.end());
  return g;
}

std::string HeatAxes(const Grid& g, int height) {
  const int n_rows = static_cast<int>(g.slowdowns.size());
  std::string svg;
  for (size_t c = 0; c < g.links.size(); ++c) {
    svg += SvgText(kLeft + (c + 0.5) * kCellW, kTop + n_rows * kCellH + 16,
                   absl::StrFormat("%g", g.links[c]));
  }
  for (int r = 0; r < n_rows; ++r) {  // ascending upwards
    svg += SvgText(kLeft - 20, kTop + (n_rows - r - 0.5) * kCellH + 4,
                   absl::StrFormat("%g", g.slowdowns[r]));
  }
  svg += SvgText(kLeft + g.links.size() * kCellW / 2.0, height - 12,
                 "pi3 link (Mbit/s)");
  const double mid = kTop + n_rows * kCellH / 2.0;
  svg += SvgText(22, mid, "pi3 slowdown (x)",
                 absl::StrFormat(" transform=\"rotate(-90 22 %.1f)\"", mid));
  return svg;
}

std::string HeatMap(const Grid& g, const std::string& policy) {
  const int n_rows = static_cast<int>(g.slowdowns.size());
  const int width = kLeft + static_cast<int>(g.links.size()) * kCellW + 16;
  const int height = kTop + n_rows * kCellH + kBottom;
  std::string svg = absl::StrFormat(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
      "font-family=\"sans-serif\">",
      width, height);
  svg +=
      SvgText(width / 2.0, 20, "score of " + policy, " font-weight=\"bold\"");
  for (size_t c = 0; c < g.links.size(); ++c) {
    for (int r = 0; r < n_rows; ++r) {
      auto it = g.at.find({g.links[c], g.slowdowns[r]});
      svg += HeatCell(static_cast<int>(c), n_rows - 1 - r,
                      it == g.at.end() ? nullptr : it->second, policy);
    }
  }
  return svg + HeatAxes(g, height) + "</svg>\n";
}

// ---- table ----

// Missing figures (and so every figure of a failed run) are grey.
std::string Grey(Num v) { return v ? "" : "na"; }

std::string Td(const std::string& text, const std::string& cls = "") {
  return absl::StrCat(cls.empty() ? "<td>" : "<td class=\"" + cls + "\">",
                      tandem::HtmlEscape(text), "</td>");
}

std::string TableHeader(const std::vector<std::string>& policies, bool greedy) {
  std::string h =
      "<tr><th>pi3 link (Mbit/s)</th><th>pi3 slowdown</th>"
      "<th>bound ratio</th>";
  for (const std::string& p : policies) {
    const std::string e = tandem::HtmlEscape(p);
    absl::StrAppend(&h, "<th>", e, " / none</th><th>", e, " score</th>");
  }
  if (greedy) {
    h += "<th>greedy within 5% of bound</th>"
         "<th>greedy never &gt;2% slower than none</th>";
  }
  return h + "</tr>\n";
}

std::string TableRow(const Point& p, const std::vector<std::string>& policies,
                     bool greedy) {
  std::string row =
      absl::StrCat("<tr>", Td(absl::StrFormat("%g", p.link)),
                   Td(absl::StrFormat("%g", p.slowdown)),
                   Td(FigureText(p, p.bound_ratio, 3), Grey(p.bound_ratio)));
  for (const std::string& name : policies) {
    const Cell& c = p.cells.at(name);
    row += Td(FigureText(p, c.ratio, 3), Grey(c.ratio));
    row += Td(FigureText(p, c.score), ScoreClass(p, c.score));
  }
  if (greedy) {
    const Cell& c = p.cells.at("greedy");
    row += Td(YesNo(p, c.score, kAtBound), Grey(c.score));
    row += Td(YesNo(p, c.ratio, kNoWorseThanNone), Grey(c.ratio));
  }
  return row + "</tr>\n";
}

std::string Table(const std::vector<Point>& points,
                  const std::vector<std::string>& policies, bool greedy) {
  std::string t = "<table>\n" + TableHeader(policies, greedy);
  for (const Point& p : points) t += TableRow(p, policies, greedy);
  return t + "</table>\n";
}

// One sentence on greedy over the whole grid.
std::string GreedySummary(const std::vector<Point>& points) {
  int scored = 0, at_bound = 0, compared = 0, worse = 0;
  for (const Point& p : points) {
    const Cell& c = p.cells.at("greedy");
    if (c.score) {
      ++scored;
      if (*c.score <= kAtBound) ++at_bound;
    }
    if (c.ratio) {
      ++compared;
      if (*c.ratio > kNoWorseThanNone) ++worse;
    }
  }
  return absl::StrFormat(
      "<p>greedy is within 5%% of the bound at %d of %d scored points, and "
      "more than 2%% slower than none at %d of %d compared points (%d grid "
      "points in all).</p>\n",
      at_bound, scored, worse, compared, points.size());
}

constexpr char kHead[] =
    "<!DOCTYPE html><html><head><meta charset=\"utf-8\">"
    "<title>Offload sweep: pi3 link x pi3 slowdown</title><style>"
    "body{font-family:sans-serif}table{border-collapse:collapse}"
    "td,th{border:1px solid #bbb;padding:3px 8px;text-align:right}"
    ".good{background:#8fd19e}.near{background:#ffe08a}"
    ".far{background:#f1948a}.na{background:#d0d0d0}"
    "</style></head><body>\n"
    "<h1>Offload sweep: pi3 link x pi3 slowdown</h1>\n"
    "<p>Score = (policy's slowest-device mean round time / none's, measured "
    "in the same run) / (the cost-model bound's ratio to none); 1.00 = at "
    "the bound, above 1 = slower than the bound. Colours: "
    "<span class=\"good\">&le; 1.05</span> "
    "<span class=\"near\">&le; 1.2</span> "
    "<span class=\"far\">&gt; 1.2</span> "
    "<span class=\"na\">n/a (missing figure or bound) or failed run</span>"
    ".</p>\n";

std::string Html(const std::vector<Point>& points,
                 const std::vector<std::string>& policies) {
  const Grid grid = MakeGrid(points);
  bool greedy = false;
  std::string html = kHead;
  for (const std::string& p : policies) {
    html += HeatMap(grid, p);
    greedy = greedy || p == "greedy";
  }
  if (policies.empty()) html += "<p>No point has a result.</p>\n";
  if (greedy) html += GreedySummary(points);
  return html + Table(points, policies, greedy) + "</body></html>\n";
}

// ": <where and why>" for text that does not parse (as core/config.cc).
std::string ParseError(const std::string& text) {
  try {
    const json unused = json::parse(text);
    (void)unused;
  } catch (const json::exception& e) {
    return absl::StrCat(": ", e.what());
  }
  return "";
}

// The sweep in `path`, or nothing after printing why.
std::optional<json> LoadSweep(const std::string& path) {
  auto text = tandem::ReadFile(path);
  if (!text.ok()) {
    std::fprintf(stderr, "sweep_report: cannot read %s: %s\n", path.c_str(),
                 std::string(text.status().message()).c_str());
    return std::nullopt;
  }
  json sweep = json::parse(*text, nullptr, false);
  if (sweep.is_discarded()) {
    std::fprintf(stderr, "sweep_report: %s is not valid JSON%s\n", path.c_str(),
                 ParseError(*text).c_str());
    return std::nullopt;
  }
  const std::string problem = CheckSweep(sweep);
  if (!problem.empty()) {
    std::fprintf(stderr, "sweep_report: %s: %s\n", path.c_str(),
                 problem.c_str());
    return std::nullopt;
  }
  return sweep;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: sweep_report SWEEP.json OUT.html\n");
    return 2;
  }
  const std::optional<json> sweep = LoadSweep(argv[1]);
  if (!sweep) return 2;
  const std::vector<std::string> policies = PolicyNames(*sweep);
  std::vector<Point> points;
  for (const json& p : *sweep) points.push_back(ReadPoint(p, policies));
  std::stable_sort(points.begin(), points.end(), ByLinkThenSlowdown);
  auto s = tandem::WriteFileAtomically(argv[2], Html(points, policies));
  if (!s.ok()) {
    std::fprintf(stderr, "sweep_report: %s\n", s.ToString().c_str());
    return 1;
  }
  std::printf("sweep report: %s\n", argv[2]);
  return 0;
}
