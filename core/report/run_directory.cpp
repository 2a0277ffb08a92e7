// Reading results.json, metrics.csv and train_metrics.csv of a run directory.
#include "core/report/run_directory.hpp"

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/util/text.hpp"
#include "nasq/sdk/error.hpp"

namespace nasq::report {
namespace {

using Json = nlohmann::ordered_json;

// "the string \"7%\"", "an array", "a number": what a JSON value is, for messages.
std::string describe(const Json& value) {
  if (value.is_string()) return "the string " + value.dump();
  if (value.is_array()) return "an array";
  if (value.is_object()) return "an object";
  if (value.is_boolean()) return "a boolean";
  if (value.is_null()) return "null";
  return "a number";
}

// Typed access to the optional fields of one JSON object. A null field counts
// as missing. Errors start with the file name and give the field's full path.
class FieldReader {
 public:
  FieldReader(const Json& object, const std::string& source, std::string prefix)
      : object_(object), source_(source), prefix_(std::move(prefix)) {}

  std::optional<std::string> text(const char* key) const {
    const Json* value = find(key);
    if (value == nullptr) return std::nullopt;
    if (!value->is_string()) fail(key, "a string", *value);
    return value->get<std::string>();
  }

  std::optional<double> number(const char* key) const {
    const Json* value = find(key);
    if (value == nullptr) return std::nullopt;
    if (!value->is_number()) fail(key, "a number", *value);
    return value->get<double>();
  }

  std::optional<std::int64_t> integer(const char* key) const {
    const Json* value = find(key);
    if (value == nullptr) return std::nullopt;
    if (!value->is_number_integer()) fail(key, "an integer", *value);
    return value->get<std::int64_t>();
  }

  // Returns the object or array field `key`, or nullptr when it is missing.
  const Json* object(const char* key) const { return typed(key, Json::value_t::object); }
  const Json* array(const char* key) const { return typed(key, Json::value_t::array); }

  std::string path(const std::string& key) const {
    return prefix_.empty() ? key : prefix_ + "." + key;
  }

 private:
  const Json* find(const char* key) const {
    const auto found = object_.find(key);
    if (found == object_.end() || found->is_null()) return nullptr;
    return &*found;
  }

  const Json* typed(const char* key, Json::value_t type) const {
    const Json* value = find(key);
    if (value == nullptr) return nullptr;
    if (value->type() != type) {
      fail(key, type == Json::value_t::object ? "an object" : "an array", *value);
    }
    return value;
  }

  [[noreturn]] void fail(const char* key, const char* expected, const Json& value) const {
    throw sdk::Error(source_ + ": field '" + path(key) + "' must be " + expected + ", but it is " +
                     describe(value));
  }

  const Json& object_;
  const std::string& source_;
  std::string prefix_;
};

// Flattens `value` into dotted keys: objects recurse, strings are printed
// without quotes and anything else as compact JSON.
void flatten(const Json& value, const std::string& key,
             std::vector<std::pair<std::string, std::string>>& entries) {
  if (value.is_object() && value.empty() && key.empty()) return;
  if (value.is_object() && !value.empty()) {
    for (const auto& [member, inner] : value.items()) {
      flatten(inner, key.empty() ? member : key + "." + member, entries);
    }
    return;
  }
  entries.emplace_back(key, value.is_string() ? value.get<std::string>() : value.dump());
}

std::vector<std::string> read_blocks(const Json& blocks, const std::string& source) {
  std::vector<std::string> labels;
  for (std::size_t i = 0; i < blocks.size(); ++i) {
    if (!blocks[i].is_string()) {
      throw sdk::Error(source + ": field 'architecture.blocks[" + std::to_string(i) +
                       "]' must be a string such as \"MB6 5x5 [4,2]\" or \"skip\", but it is " +
                       describe(blocks[i]));
    }
    labels.push_back(blocks[i].get<std::string>());
  }
  return labels;
}

std::vector<LayerCost> read_layers(const Json& layers, const std::string& source) {
  std::vector<LayerCost> costs;
  for (std::size_t i = 0; i < layers.size(); ++i) {
    const std::string path = "hardware.layers[" + std::to_string(i) + "]";
    if (!layers[i].is_object()) {
      throw sdk::Error(source + ": field '" + path + "' must be an object, but it is " +
                       describe(layers[i]));
    }
    const FieldReader layer(layers[i], source, path);
    costs.push_back({layer.text("name").value_or("layer " + std::to_string(i)),
                     layer.text("kind").value_or(""), layer.number("energy_mj"),
                     layer.number("latency_ms"), layer.integer("macs")});
  }
  return costs;
}

void read_hardware(const FieldReader& hardware, const std::string& source, RunResults& results) {
  results.hardware_plugin = hardware.text("plugin");
  results.hardware_version = hardware.text("version");
  results.hardware_batch = hardware.integer("batch");
  results.energy_mj = hardware.number("energy_mj");
  results.latency_ms = hardware.number("latency_ms");
  if (const Json* layers = hardware.array("layers")) results.layers = read_layers(*layers, source);
}

std::string read_file(const std::filesystem::path& file) {
  std::ifstream stream(file, std::ios::binary);
  if (!stream) throw sdk::Error("failed to open " + file.string());
  std::ostringstream text;
  text << stream.rdbuf();
  if (stream.bad()) throw sdk::Error("failed to read " + file.string());
  return text.str();
}

std::optional<CsvTable> load_metrics(const std::filesystem::path& file) {
  if (!std::filesystem::exists(file)) return std::nullopt;
  CsvTable table = load_csv_table(file);
  if (!table.has_column("epoch")) {
    throw sdk::Error(file.string() + ": missing column 'epoch' in the header (columns: " +
                     join(table.columns, ", ") + ")");
  }
  return table;
}

}  // namespace

RunResults parse_results(const std::string& text, const std::string& source) {
  Json document;
  try {
    document = Json::parse(text);
  } catch (const Json::parse_error& error) {
    throw sdk::Error(source + ": invalid JSON: " + error.what());
  }
  if (!document.is_object()) {
    throw sdk::Error(source + ": the top level must be a JSON object, but it is " +
                     describe(document));
  }

  const FieldReader root(document, source, "");
  RunResults results;
  results.nasq_version = root.text("nasq_version");
  results.model = root.text("model");
  results.strategy = root.text("strategy");
  results.lambda = root.number("lambda");
  results.seed = root.integer("seed");
  results.precision = root.text("precision");
  results.model_size_bytes = root.number("model_size_bytes");
  results.parameters = root.integer("parameters");
  results.macs = root.integer("macs");
  results.bitops = root.integer("bitops");
  if (const Json* architecture = root.object("architecture")) {
    const FieldReader reader(*architecture, source, "architecture");
    if (const Json* blocks = reader.array("blocks")) results.blocks = read_blocks(*blocks, source);
  }
  if (const Json* test = root.object("test")) {
    const FieldReader reader(*test, source, "test");
    results.top1_error = reader.number("top1_error");
    results.top5_error = reader.number("top5_error");
    results.test_images = reader.integer("images");
  }
  if (const Json* hardware = root.object("hardware")) {
    read_hardware(FieldReader(*hardware, source, "hardware"), source, results);
  }
  const auto provenance = document.find("provenance");
  if (provenance != document.end() && !provenance->is_null()) {
    flatten(*provenance, provenance->is_object() ? "" : "provenance", results.provenance);
  }
  return results;
}

RunDirectory load_run_directory(const std::filesystem::path& directory) {
  if (!std::filesystem::exists(directory)) {
    throw sdk::Error("run directory " + directory.string() + " not found");
  }
  if (!std::filesystem::is_directory(directory)) {
    throw sdk::Error(directory.string() +
                     " is not a directory; pass a run directory that contains results.json");
  }
  const std::filesystem::path results_file = directory / "results.json";
  if (!std::filesystem::exists(results_file)) {
    throw sdk::Error(results_file.string() +
                     " not found: pass a run directory that contains results.json");
  }

  RunDirectory run;
  run.path = directory;
  run.name =
      std::filesystem::weakly_canonical(std::filesystem::absolute(directory)).filename().string();
  if (run.name.empty()) run.name = directory.string();
  run.results = parse_results(read_file(results_file), results_file.string());
  run.search_metrics = load_metrics(directory / "metrics.csv");
  run.training_metrics = load_metrics(directory / "train_metrics.csv");
  return run;
}

}  // namespace nasq::report
