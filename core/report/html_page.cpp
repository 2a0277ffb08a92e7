// HTML skeleton, style sheet and tables of the reports.
#include "core/report/html_page.hpp"

#include <sstream>

#include "core/report/svg_chart.hpp"

namespace nasq::report {
namespace {

const char* const kStyleSheet = R"(
body { font-family: Helvetica, Arial, sans-serif; color: #222222; max-width: 1320px;
       margin: 24px auto; padding: 0 16px; }
h1 { font-size: 22px; margin-bottom: 4px; }
h2 { font-size: 18px; border-bottom: 1px solid #dddddd; padding-bottom: 4px; margin-top: 32px; }
h3 { font-size: 15px; margin: 18px 0 6px; }
table { border-collapse: collapse; font-size: 13px; margin: 8px 0; }
th, td { border: 1px solid #d0d0d0; padding: 4px 8px; text-align: left; vertical-align: top; }
th { background: #f1f4f8; }
th.number, td.number { text-align: right; font-variant-numeric: tabular-nums; }
table.details td:first-child { color: #555555; }
.charts { display: flex; flex-wrap: wrap; gap: 16px; align-items: flex-start; }
svg.chart, svg.blocks { background: #ffffff; border: 1px solid #e2e2e2; }
p.note { color: #666666; font-size: 13px; }
p.warning { color: #7a4100; background: #fff4e0; padding: 6px 10px; font-size: 13px; }
footer { margin-top: 40px; color: #888888; font-size: 12px; }
)";

}  // namespace

std::string page_start(const std::string& title) {
  std::ostringstream html;
  html << "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
       << "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
       << "<meta name=\"generator\" content=\"nasq " NASQ_VERSION "\">\n"
       << "<title>" << escape_xml(title) << "</title>\n<style>" << kStyleSheet
       << "</style>\n</head>\n<body>\n<h1>" << escape_xml(title) << "</h1>\n";
  return html.str();
}

std::string page_end() {
  return "<footer>Written by nasq " NASQ_VERSION " (nasq report).</footer>\n</body>\n</html>\n";
}

std::string html_table(const std::vector<TableColumn>& columns,
                       const std::vector<std::vector<std::string>>& rows,
                       const std::string& css_class) {
  std::ostringstream html;
  html << "<table class=\"" << escape_xml(css_class) << "\">\n<thead><tr>";
  for (const TableColumn& column : columns) {
    html << (column.numeric ? "<th class=\"number\">" : "<th>") << escape_xml(column.heading)
         << "</th>";
  }
  html << "</tr></thead>\n<tbody>\n";
  for (const auto& row : rows) {
    html << "<tr>";
    for (std::size_t i = 0; i < row.size() && i < columns.size(); ++i) {
      html << (columns[i].numeric ? "<td class=\"number\">" : "<td>") << escape_xml(row[i])
           << "</td>";
    }
    html << "</tr>\n";
  }
  html << "</tbody>\n</table>\n";
  return html.str();
}

std::string note(const std::string& text) {
  return "<p class=\"note\">" + escape_xml(text) + "</p>\n";
}

}  // namespace nasq::report
