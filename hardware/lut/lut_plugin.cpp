// Hardware-model plugin "lut": costs looked up in a CSV table with a declared unit per column.
#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <unordered_map>
#include <vector>

#include <nasq/sdk/error.hpp>
#include <nasq/sdk/hardware_model.hpp>
#include <nasq/sdk/plugin.hpp>

namespace {

using nasq::sdk::Cost;
using nasq::sdk::LayerSpec;

// Key columns: the layer's shape and bits. w defaults to h; im2col and obits
// take part in the key only when the table has those columns.
const std::vector<std::string> kRequiredKeys = {"kind", "n",      "h",     "c",    "oc", "k",
                                                "s",    "p",      "groups", "wbits", "abits"};
const std::vector<std::string> kOptionalKeys = {"name", "w", "im2col", "obits"};

struct UnitScale {
  const char* unit;
  double scale;  // to the Cost field's unit
};

// Value columns: name[unit] -> Cost field, with the accepted units.
struct ValueColumn {
  const char* name;
  std::vector<UnitScale> units;
};

const std::vector<ValueColumn> kValueColumns = {
    {"energy", {{"J", 1e3}, {"mJ", 1.0}, {"uJ", 1e-3}, {"nJ", 1e-6}, {"pJ", 1e-9}}},
    {"latency", {{"s", 1e3}, {"ms", 1.0}, {"us", 1e-3}, {"ns", 1e-6}}},
    {"cycles", {{"cycles", 1.0}}},
};

std::vector<std::string> split_csv_line(const std::string& line) {
  std::vector<std::string> fields;
  std::string field;
  std::istringstream stream(line);
  while (std::getline(stream, field, ',')) {
    while (!field.empty() && (field.back() == '\r' || field.back() == ' ')) field.pop_back();
    while (!field.empty() && field.front() == ' ') field.erase(field.begin());
    fields.push_back(field);
  }
  if (!line.empty() && line.back() == ',') fields.emplace_back();
  return fields;
}

std::string layer_key(const LayerSpec& layer, bool with_im2col, bool with_obits) {
  std::ostringstream key;
  key << nasq::sdk::to_string(layer.kind) << ',' << layer.batch << ',' << layer.input_h << ','
      << layer.input_w << ',' << layer.input_c << ',' << layer.output_c << ',' << layer.kernel
      << ',' << layer.stride << ',' << layer.padding << ',' << layer.groups << ','
      << layer.weight_bits << ',' << layer.activation_bits;
  if (with_im2col) key << ",im2col=" << (layer.first_layer ? 1 : 0);
  if (with_obits) key << ",obits=" << layer.output_bits;
  return key.str();
}

class LookupTableModel final : public nasq::sdk::HardwareModel {
 public:
  LookupTableModel(const nasq::sdk::ConfigView& config, nasq::sdk::PluginHost& host);

  static std::vector<nasq::sdk::KeySpec> keys() {
    nasq::sdk::KeySpec missing{"on_missing", nasq::sdk::KeyType::string, "\"error\"", "",
                               "a layer not in the table: error, or ask the fallback model "
                               "(its values are flagged as estimated)"};
    missing.allowed = {"error", "fallback"};
    return {{"file", nasq::sdk::KeyType::string, "", "",
             "CSV table (relative to the stack file); value columns carry units, e.g. "
             "energy[mJ], latency[ms], cycles[cycles]"},
            missing,
            {"fallback", nasq::sdk::KeyType::string, "\"analytical\"", "",
             "hardware plugin asked for layers missing from the table"}};
  }

  nasq::sdk::HardwareCapabilities capabilities() const override;
  void prepare(std::span<const LayerSpec> layers) override;
  Cost cost(const LayerSpec& layer) const override;

 private:
  void read_table(const std::string& file);
  void read_header(const std::vector<std::string>& header, const std::string& file);
  void read_row(const std::vector<std::string>& fields, const std::string& file, int line);

  std::string file_;
  std::map<std::string, std::size_t> key_columns_;
  std::vector<std::pair<std::size_t, std::pair<std::string, double>>> value_columns_;
  std::unordered_map<std::string, Cost> table_;
  bool with_im2col_ = false;
  bool with_obits_ = false;
  std::vector<std::string> metrics_;
  std::shared_ptr<nasq::sdk::HardwareModel> fallback_;
  std::string fallback_name_;
};

LookupTableModel::LookupTableModel(const nasq::sdk::ConfigView& config,
                                   nasq::sdk::PluginHost& host) {
  read_table(config.resolve_path("file"));
  if (config.get_string("on_missing") == "fallback") {
    fallback_name_ = config.get_string("fallback");
    if (fallback_name_ == "lut") {
      throw nasq::sdk::ConfigError("fallback", "lut: the fallback must be another plugin");
    }
    fallback_ = host.create_hardware_model(fallback_name_);
    const auto fallback_metrics = fallback_->capabilities().metrics;
    for (const auto& metric : metrics_) {
      if (std::find(fallback_metrics.begin(), fallback_metrics.end(), metric) ==
          fallback_metrics.end()) {
        throw nasq::sdk::ConfigError(
            "fallback", "lut: fallback model '" + fallback_name_ + "' does not report " + metric +
                            ", which the table " + file_ +
                            " has; choose a fallback that reports it");
      }
    }
  }
  host.logger().info(std::to_string(table_.size()) + " layers from " + file_);
}

void LookupTableModel::read_table(const std::string& file) {
  file_ = file;
  std::ifstream stream(file);
  if (!stream) {
    throw nasq::sdk::ConfigError("file", "lut: cannot read table '" + file + "'");
  }
  std::string line;
  if (!std::getline(stream, line)) {
    throw nasq::sdk::ConfigError("file", "lut: table '" + file + "' is empty; expected a header");
  }
  read_header(split_csv_line(line), file);
  int line_number = 1;
  while (std::getline(stream, line)) {
    ++line_number;
    if (line.empty() || line == "\r") continue;
    read_row(split_csv_line(line), file, line_number);
  }
}

void LookupTableModel::read_header(const std::vector<std::string>& header,
                                   const std::string& file) {
  for (std::size_t i = 0; i < header.size(); ++i) {
    const std::string& column = header[i];
    const auto bracket = column.find('[');
    const std::string name = column.substr(0, bracket);
    const bool is_key = std::find(kRequiredKeys.begin(), kRequiredKeys.end(), name) !=
                            kRequiredKeys.end() ||
                        std::find(kOptionalKeys.begin(), kOptionalKeys.end(), name) !=
                            kOptionalKeys.end();
    if (is_key && bracket == std::string::npos) {
      key_columns_[name] = i;
      continue;
    }
    const ValueColumn* value = nullptr;
    for (const auto& candidate : kValueColumns) {
      if (name == candidate.name) value = &candidate;
    }
    if (value == nullptr) {
      throw nasq::sdk::Error("lut: " + file + ": unknown column '" + column +
                             "'; value columns are energy[unit], latency[unit], cycles[cycles]");
    }
    if (bracket == std::string::npos || column.back() != ']') {
      throw nasq::sdk::Error("lut: " + file + ": column '" + column +
                             "' has no unit; write it with one, such as " + value->name + "[" +
                             value->units.front().unit + "]");
    }
    const std::string unit = column.substr(bracket + 1, column.size() - bracket - 2);
    double scale = -1.0;
    std::string accepted;
    for (const auto& candidate : value->units) {
      accepted += std::string(accepted.empty() ? "" : ", ") + candidate.unit;
      if (unit == candidate.unit) scale = candidate.scale;
    }
    if (scale < 0.0) {
      throw nasq::sdk::Error("lut: " + file + ": invalid unit '" + unit + "' in column '" +
                             column + "'; accepted units: " + accepted);
    }
    const std::string metric = std::string(value->name) == "energy"    ? "energy_mj"
                               : std::string(value->name) == "latency" ? "latency_ms"
                                                                       : "cycles";
    value_columns_.push_back({i, {metric, scale}});
    metrics_.push_back(metric);
  }
  for (const auto& required : kRequiredKeys) {
    if (!key_columns_.count(required)) {
      throw nasq::sdk::Error("lut: " + file + ": missing key column '" + required + "'");
    }
  }
  if (value_columns_.empty()) {
    throw nasq::sdk::Error("lut: " + file + ": no value column; add energy[mJ], latency[ms] or "
                           "cycles[cycles]");
  }
  with_im2col_ = key_columns_.count("im2col") != 0;
  with_obits_ = key_columns_.count("obits") != 0;
}

nasq::sdk::LayerKind parse_kind(const std::string& text, const std::string& where) {
  using nasq::sdk::LayerKind;
  if (text == "conv") return LayerKind::conv;
  if (text == "dwconv") return LayerKind::depthwise_conv;
  if (text == "gconv") return LayerKind::grouped_conv;
  if (text == "fc") return LayerKind::fully_connected;
  if (text == "add") return LayerKind::add;
  if (text == "pool") return LayerKind::pool;
  throw nasq::sdk::Error("lut: " + where + ": invalid kind '" + text +
                         "'; expected conv, dwconv, gconv, fc, add or pool");
}

std::int64_t parse_integer(const std::string& text, const std::string& column,
                           const std::string& where) {
  std::size_t used = 0;
  long long value = 0;
  try {
    value = std::stoll(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used == 0 || used != text.size()) {
    throw nasq::sdk::Error("lut: " + where + ": invalid value '" + text + "' in column " + column +
                           "; expected an integer");
  }
  return value;
}

double parse_number(const std::string& text, const std::string& column, const std::string& where) {
  std::size_t used = 0;
  double value = 0.0;
  try {
    value = std::stod(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used == 0 || used != text.size() || !std::isfinite(value) || value < 0.0) {
    throw nasq::sdk::Error("lut: " + where + ": invalid value '" + text + "' in column " + column +
                           "; expected a finite non-negative number");
  }
  return value;
}

void LookupTableModel::read_row(const std::vector<std::string>& fields, const std::string& file,
                                int line) {
  const std::string where = file + ":" + std::to_string(line);
  auto field = [&](const std::string& column) -> const std::string& {
    const std::size_t index = key_columns_.at(column);
    if (index >= fields.size()) {
      throw nasq::sdk::Error("lut: " + where + ": row has " + std::to_string(fields.size()) +
                             " fields, expected a value for column " + column);
    }
    return fields[index];
  };
  auto integer = [&](const std::string& column) {
    return parse_integer(field(column), column, where);
  };

  LayerSpec layer;
  layer.kind = parse_kind(field("kind"), where);
  layer.batch = integer("n");
  layer.input_h = integer("h");
  layer.input_w = key_columns_.count("w") ? integer("w") : layer.input_h;
  layer.input_c = integer("c");
  layer.output_c = integer("oc");
  layer.kernel = integer("k");
  layer.stride = integer("s");
  layer.padding = integer("p");
  layer.groups = integer("groups");
  layer.weight_bits = static_cast<int>(integer("wbits"));
  layer.activation_bits = static_cast<int>(integer("abits"));
  if (with_im2col_) layer.first_layer = integer("im2col") != 0;
  if (with_obits_) layer.output_bits = static_cast<int>(integer("obits"));

  Cost cost;
  for (const auto& [index, target] : value_columns_) {
    if (index >= fields.size()) {
      throw nasq::sdk::Error("lut: " + where + ": row has " + std::to_string(fields.size()) +
                             " fields, expected a value in column " + std::to_string(index + 1));
    }
    const double value = parse_number(fields[index], target.first, where) * target.second;
    if (target.first == "energy_mj") cost.energy_mj = value;
    if (target.first == "latency_ms") cost.latency_ms = value;
    if (target.first == "cycles") cost.cycles = static_cast<std::int64_t>(std::llround(value));
  }
  cost.macs = layer.macs();
  const std::string key = layer_key(layer, with_im2col_, with_obits_);
  if (!table_.emplace(key, cost).second) {
    throw nasq::sdk::Error("lut: " + where + ": duplicate row for layer " + key);
  }
}

nasq::sdk::HardwareCapabilities LookupTableModel::capabilities() const {
  nasq::sdk::HardwareCapabilities capabilities;
  for (int bits = 1; bits <= 32; ++bits) capabilities.supported_bits.push_back(bits);
  capabilities.additive = true;
  capabilities.thread_safe = true;
  capabilities.metrics = metrics_;
  capabilities.metrics.push_back("macs");
  return capabilities;
}

void LookupTableModel::prepare(std::span<const LayerSpec> layers) {
  std::vector<std::string> missing;
  for (const auto& layer : layers) {
    const std::string key = layer_key(layer, with_im2col_, with_obits_);
    if (table_.count(key) || std::find(missing.begin(), missing.end(), key) != missing.end()) {
      continue;
    }
    missing.push_back(key);
  }
  if (missing.empty()) return;
  if (fallback_) {
    for (const auto& layer : layers) {
      if (!table_.count(layer_key(layer, with_im2col_, with_obits_))) fallback_->cost(layer);
    }
    return;
  }
  std::string message = "lut: " + std::to_string(missing.size()) + " layers are missing from " +
                        file_ + " (columns kind,n,h,w,c,oc,k,s,p,groups,wbits,abits" +
                        (with_im2col_ ? ",im2col" : "") + (with_obits_ ? ",obits" : "") + "):";
  for (const auto& key : missing) message += "\n  " + key;
  message += "\nadd these rows, or set on_missing = \"fallback\" to estimate them with another model";
  throw nasq::sdk::Error(message);
}

Cost LookupTableModel::cost(const LayerSpec& layer) const {
  const std::string key = layer_key(layer, with_im2col_, with_obits_);
  const auto found = table_.find(key);
  if (found != table_.end()) return found->second;
  if (!fallback_) {
    throw nasq::sdk::Error("lut: layer " + key + " is missing from " + file_ +
                           "; add the row or set on_missing = \"fallback\"");
  }
  Cost cost = fallback_->cost(layer);
  cost.estimated = true;
  return cost;
}

}  // namespace

NASQ_HARDWARE_PLUGIN(LookupTableModel, "lut", "1.0.0")
