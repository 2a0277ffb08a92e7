// The HTML skeleton and tables shared by the run and comparison reports. The
// page is self-contained: inline CSS, no scripts and no external URLs.
#pragma once

#include <string>
#include <vector>

namespace nasq::report {

// Returns the doctype, the head with the inline style sheet and the opening
// of the body with `title` as the heading. `title` is escaped.
std::string page_start(const std::string& title);

// Returns the footer (nasq version) and the closing tags.
std::string page_end();

// A column of an HTML table: its heading and whether its cells are numbers,
// which are right-aligned.
struct TableColumn {
  std::string heading;
  bool numeric = false;
};

// Returns a <table> of class `css_class`. Every heading and cell is escaped.
// A row may have fewer cells than there are columns.
std::string html_table(const std::vector<TableColumn>& columns,
                       const std::vector<std::vector<std::string>>& rows,
                       const std::string& css_class);

// Returns a paragraph of class "note" with `text` escaped.
std::string note(const std::string& text);

}  // namespace nasq::report
