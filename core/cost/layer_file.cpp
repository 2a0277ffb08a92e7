// CSV reader for layer list files.
#include "core/cost/layer_file.hpp"

#include <fstream>
#include <map>
#include <sstream>

#include "nasq/sdk/error.hpp"

namespace nasq {
namespace {

std::vector<std::string> split_fields(const std::string& line) {
  std::vector<std::string> fields;
  std::string field;
  bool quoted = false;
  for (const char character : line) {
    if (character == '"') {
      quoted = !quoted;
    } else if (character == ',' && !quoted) {
      fields.push_back(field);
      field.clear();
    } else if (character != '\r') {
      field += character;
    }
  }
  fields.push_back(field);
  return fields;
}

sdk::LayerKind parse_kind(const std::string& text, const std::string& where) {
  if (text == "conv") return sdk::LayerKind::conv;
  if (text == "dwconv") return sdk::LayerKind::depthwise_conv;
  if (text == "gconv") return sdk::LayerKind::grouped_conv;
  if (text == "fc") return sdk::LayerKind::fully_connected;
  if (text == "add") return sdk::LayerKind::add;
  if (text == "pool") return sdk::LayerKind::pool;
  throw sdk::Error(where + ": invalid kind '" + text +
                   "'; expected conv, dwconv, gconv, fc, add or pool");
}

class RowReader {
 public:
  RowReader(const std::map<std::string, std::size_t>& columns,
            const std::vector<std::string>& fields, std::string where)
      : columns_(columns), fields_(fields), where_(std::move(where)) {}

  bool has(const std::string& column) const {
    const auto found = columns_.find(column);
    return found != columns_.end() && found->second < fields_.size() &&
           !fields_[found->second].empty();
  }

  const std::string& text(const std::string& column) const {
    const auto found = columns_.find(column);
    if (found == columns_.end() || found->second >= fields_.size()) {
      throw sdk::Error(where_ + ": missing value in column '" + column + "'");
    }
    return fields_[found->second];
  }

  std::int64_t integer(const std::string& column) const {
    const std::string& value = text(column);
    std::size_t used = 0;
    long long parsed = 0;
    try {
      parsed = std::stoll(value, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used == 0 || used != value.size()) {
      throw sdk::Error(where_ + ": invalid value '" + value + "' in column '" + column +
                       "'; expected an integer");
    }
    return parsed;
  }

 private:
  const std::map<std::string, std::size_t>& columns_;
  const std::vector<std::string>& fields_;
  std::string where_;
};

NamedLayer read_row(const RowReader& row, const std::string& where) {
  NamedLayer layer;
  layer.name = row.text("name");
  sdk::LayerSpec& spec = layer.spec;
  spec.kind = parse_kind(row.text("kind"), where);
  spec.batch = row.integer("n");
  spec.input_h = row.integer("h");
  spec.input_w = row.integer("w");
  spec.input_c = row.integer("c");
  spec.output_c = row.integer("oc");
  spec.kernel = row.integer("k");
  spec.stride = row.integer("s");
  spec.padding = row.integer("p");
  spec.groups = row.integer("groups");
  spec.weight_bits = static_cast<int>(row.integer("wbits"));
  spec.activation_bits = static_cast<int>(row.integer("abits"));
  spec.output_bits = row.has("obits") ? static_cast<int>(row.integer("obits")) : spec.activation_bits;
  spec.first_layer = row.has("im2col") && row.integer("im2col") != 0;
  if (row.has("dw_mode")) layer.dw_mode = row.text("dw_mode");
  if (!layer.dw_mode.empty() && layer.dw_mode != "ic1" && layer.dw_mode != "perchannel" &&
      layer.dw_mode != "dense") {
    throw sdk::Error(where + ": invalid dw_mode '" + layer.dw_mode +
                     "'; expected ic1, perchannel or dense");
  }
  return layer;
}

}  // namespace

std::vector<NamedLayer> read_layer_file(const std::filesystem::path& file) {
  std::ifstream stream(file);
  if (!stream) throw sdk::Error("cannot read layer file '" + file.string() + "'");
  std::string line;
  if (!std::getline(stream, line)) {
    throw sdk::Error(file.string() + ": empty file; expected a header line with the columns "
                     "name,kind,n,h,w,c,oc,k,s,p,groups,wbits,abits");
  }
  std::map<std::string, std::size_t> columns;
  const auto header = split_fields(line);
  for (std::size_t i = 0; i < header.size(); ++i) columns[header[i]] = i;
  for (const char* required : {"name", "kind", "n", "h", "w", "c", "oc", "k", "s", "p", "groups",
                               "wbits", "abits"}) {
    if (!columns.count(required)) {
      throw sdk::Error(file.string() + ":1: missing column '" + required +
                       "'; required: name,kind,n,h,w,c,oc,k,s,p,groups,wbits,abits");
    }
  }

  std::vector<NamedLayer> layers;
  int line_number = 1;
  while (std::getline(stream, line)) {
    ++line_number;
    if (line.empty() || line == "\r") continue;
    const auto fields = split_fields(line);
    const std::string where = file.string() + ":" + std::to_string(line_number);
    const RowReader row(columns, fields, where);
    if (columns.count("status") && row.text("status").rfind("ok", 0) != 0) continue;
    layers.push_back(read_row(row, where));
  }
  if (layers.empty()) throw sdk::Error(file.string() + ": no layers");
  return layers;
}

}  // namespace nasq
