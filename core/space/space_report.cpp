// Text tables for `nasq space show` and `nasq arch show`.
#include "core/space/space_report.hpp"

#include <iomanip>
#include <map>
#include <sstream>

#include "core/space/network_graph.hpp"

namespace nasq::space {
namespace {

std::string shape(std::int64_t side, std::int64_t channels) {
  return std::to_string(side) + "x" + std::to_string(side) + "x" + std::to_string(channels);
}

std::string format_set(const std::vector<int>& values) {
  std::string text = "{";
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (i > 0) text += ',';
    text += std::to_string(values[i]);
  }
  return text + "}";
}

std::string size_line(const char* network, const LayerTotals& totals) {
  return std::string(network) + " network: " + group_digits(totals.macs) + " MACs, " +
         group_digits(totals.parameters()) + " parameters, " +
         group_digits(totals.model_size_bytes()) + " bytes\n";
}

void write_block_table(std::ostringstream& out, const SearchSpace& space) {
  out << std::left << std::setw(7) << "block" << std::setw(7) << "stage" << std::setw(12)
      << "input" << std::setw(12) << "output" << std::setw(8) << "stride" << std::setw(7) << "s"
      << std::setw(10) << "m" << std::setw(10) << "k" << std::setw(12) << "b1"
      << "b2\n";
  for (const BlockSlot& block : space.blocks()) {
    out << std::setw(7) << block.index << std::setw(7) << block.stage << std::setw(12)
        << shape(block.input_size, block.input_channels) << std::setw(12)
        << shape(block.output_size, block.output_channels) << std::setw(8) << block.stride
        << std::setw(7) << format_set(block.skip_choices) << std::setw(10)
        << format_set(block.expansion_choices) << std::setw(10)
        << format_set(block.kernel_choices) << std::setw(12) << format_set(block.bottleneck_bits)
        << format_set(block.depthwise_bits) << "\n";
  }
}

void write_row(std::ostringstream& out, const std::string& group, const std::string& label,
               const std::string& output, const LayerTotals& totals) {
  out << std::left << std::setw(9) << group << std::setw(18) << label << std::setw(13) << output
      << std::right << std::setw(15) << group_digits(totals.macs) << std::setw(13)
      << group_digits(totals.parameters()) << std::setw(13)
      << group_digits(totals.model_size_bytes()) << "\n";
}

}  // namespace

std::string group_digits(std::int64_t value) {
  const std::string digits = std::to_string(value < 0 ? -value : value);
  std::string grouped;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) grouped += ',';
    grouped += digits[i];
  }
  return value < 0 ? "-" + grouped : grouped;
}

std::string format_space(const SearchSpace& space) {
  std::ostringstream out;
  out << "preset " << space.options().preset << ": " << space.description() << "\n"
      << "fingerprint " << space.fingerprint() << "\n\n";
  write_block_table(out, space);

  const SpaceSize size = space.size();
  out << "\n"
      << space.decisions().size() << " decisions over " << space.blocks().size() << " blocks\n"
      << "size of the space: " << size.exact << " architectures (about 10^" << std::fixed
      << std::setprecision(2) << size.log10 << ")\n";
  out << size_line("smallest", build_network(space, smallest_architecture(space)).totals())
      << size_line("largest", build_network(space, largest_architecture(space)).totals())
      << "(per image; model size counts weights at their bit-widths and 32-bit biases)\n";
  return out.str();
}

std::string format_architecture(const SearchSpace& space, const Architecture& architecture) {
  const NetworkGraph graph = build_network(space, architecture);
  std::map<std::string, const LayerNode*> last_layer;
  for (const Vertex v : graph.layers_in_order()) last_layer[graph.layer(v).group] = &graph.layer(v);
  std::map<std::string, LayerTotals> totals;
  for (const auto& [group, group_totals] : graph.totals_by_group()) totals[group] = group_totals;
  const auto output_of = [&](const std::string& group) {
    const LayerNode& node = *last_layer.at(group);
    return shape(node.output_h, node.output_c);
  };

  std::ostringstream out;
  out << std::left << std::setw(9) << "group" << std::setw(18) << "label" << std::setw(13)
      << "output" << std::right << std::setw(15) << "MACs" << std::setw(13) << "parameters"
      << std::setw(13) << "bytes" << "\n";
  write_row(out, "stem", "conv 3x3 [8]", output_of("stem"), totals["stem"]);
  for (const BlockSlot& slot : space.blocks()) {
    const std::string group = "block" + std::to_string(slot.index);
    const BlockChoice& choice = architecture.blocks[static_cast<std::size_t>(slot.index)];
    write_row(out, group, block_label(choice), shape(slot.output_size, slot.output_channels),
              totals[group]);
  }
  write_row(out, "head", "conv 1x1 [8]", output_of("head"), totals["head"]);
  write_row(out, "pool", "global average", output_of("pool"), totals["pool"]);
  write_row(out, "fc", "fc [8]", output_of("fc"), totals["fc"]);

  const LayerTotals all = graph.totals();
  write_row(out, "total", "", "", all);
  out << "(per image; model size counts weights at their bit-widths and 32-bit biases; largest "
         "activation tensor "
      << group_digits((all.peak_activation_bits + 7) / 8) << " bytes)\n";
  return out.str();
}

}  // namespace nasq::space
