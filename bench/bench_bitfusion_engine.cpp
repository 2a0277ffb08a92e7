// Benchmark of cold Bit Fusion simulate() calls, one per reference layer of layers.csv.
//
// Usage: bench_bitfusion_engine [path/to/layers.csv] [repeats]
// Without a path it reads layers.csv from NASQ_BITFUSION_REFS_DIR. Each row is
// timed `repeats` times (default 5) and its median counts, so a single
// preempted call does not set the maximum. The engine keeps no cache, so every
// call runs the full tiling and loop-order search.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include "bitfusion_engine.hpp"

namespace bf = nasq::bitfusion;

namespace {

// Splits a CSV line. Quoted fields are unquoted, and "" inside them becomes ".
std::vector<std::string> split_csv_line(const std::string& line) {
  std::vector<std::string> fields(1);
  bool quoted = false;
  for (std::size_t i = 0; i < line.size(); ++i) {
    const char ch = line[i];
    if (ch == '"' && quoted && i + 1 < line.size() && line[i + 1] == '"') {
      fields.back() += '"';
      ++i;
    } else if (ch == '"') {
      quoted = !quoted;
    } else if (ch == ',' && !quoted) {
      fields.emplace_back();
    } else if (ch != '\r') {
      fields.back() += ch;
    }
  }
  return fields;
}

struct ReferenceLayer {
  std::string label;
  bf::LayerMapping mapping;
};

bf::LayerKind kind_of(const std::string& kind, long long groups) {
  if (kind == "fc") return bf::LayerKind::fc;
  if (kind == "dwconv") return bf::LayerKind::depthwise;
  return groups > 1 ? bf::LayerKind::grouped : bf::LayerKind::conv;
}

bf::DepthwiseMapping depthwise_mapping_of(const std::string& mode) {
  if (mode == "perchannel") return bf::DepthwiseMapping::perchannel;
  if (mode == "dense") return bf::DepthwiseMapping::dense;
  return bf::DepthwiseMapping::ic1;
}

// Reads the rows whose status is "ok" and maps each to a simulator call.
std::vector<ReferenceLayer> read_layers(const std::string& path) {
  std::ifstream file(path);
  if (!file) throw std::runtime_error("failed to open " + path);
  std::string line;
  std::getline(file, line);
  std::map<std::string, std::size_t> column;
  const std::vector<std::string> header = split_csv_line(line);
  for (std::size_t i = 0; i < header.size(); ++i) column[header[i]] = i;

  std::vector<ReferenceLayer> layers;
  while (std::getline(file, line)) {
    const std::vector<std::string> fields = split_csv_line(line);
    if (fields.size() < header.size() || fields[column.at("status")] != "ok") continue;
    auto field = [&](const char* name) -> const std::string& { return fields[column.at(name)]; };
    auto number = [&](const char* name) { return std::stoll(field(name)); };
    const bf::LayerMapping mapping = bf::map_layer(
        kind_of(field("kind"), number("groups")), number("n"), number("h"), number("w"), number("c"), number("oc"),
        number("k"), number("s"), number("p"), number("groups"), static_cast<int>(number("wbits")),
        static_cast<int>(number("abits")), number("im2col") != 0, depthwise_mapping_of(field("dw_mode")));
    const std::string label = field("name") + " w" + field("wbits") + "a" + field("abits") + " " +
                              field("dw_mode") + " im2col=" + field("im2col");
    layers.push_back({label, mapping});
  }
  return layers;
}

// Median wall time of `repeats` simulate() calls, in milliseconds.
double median_call_ms(const bf::SimCall& call, int repeats, long long& checksum) {
  std::vector<double> times;
  for (int r = 0; r < repeats; ++r) {
    const auto start = std::chrono::steady_clock::now();
    const bf::SimResult result = bf::simulate(call);
    const auto stop = std::chrono::steady_clock::now();
    checksum += result.cycles;
    times.push_back(std::chrono::duration<double, std::milli>(stop - start).count());
  }
  std::sort(times.begin(), times.end());
  return times[times.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
#ifdef NASQ_BITFUSION_REFS_DIR
  std::string path = std::string(NASQ_BITFUSION_REFS_DIR) + "/layers.csv";
#else
  std::string path;
#endif
  if (argc > 1) path = argv[1];
  if (path.empty()) {
    std::fprintf(stderr, "usage: %s path/to/layers.csv [repeats]\n", argv[0]);
    return 2;
  }
  const int repeats = argc > 2 ? std::max(1, std::atoi(argv[2])) : 5;

  std::vector<ReferenceLayer> layers;
  try {
    layers = read_layers(path);
  } catch (const std::exception& error) {
    std::fprintf(stderr, "failed to read %s: %s\n", path.c_str(), error.what());
    return 1;
  }

  long long checksum = 0;
  double sum_ms = 0.0, max_ms = 0.0;
  std::string slowest;
  for (const ReferenceLayer& layer : layers) {
    const double ms = median_call_ms(layer.mapping.call, repeats, checksum);
    sum_ms += ms;
    if (ms > max_ms) {
      max_ms = ms;
      slowest = layer.label;
    }
  }
  const double avg_ms = layers.empty() ? 0.0 : sum_ms / double(layers.size());
  std::printf("layers: %zu, repeats per layer: %d (median taken)\n", layers.size(), repeats);
  std::printf("cold simulate(): avg %.4f ms, max %.4f ms (%s), total %.3f ms\n", avg_ms, max_ms, slowest.c_str(),
              sum_ms);
  std::printf("checksum of cycles: %lld\n", checksum);
  return 0;
}
