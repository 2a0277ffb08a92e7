// Architecture: choice indices, validation against a space, labels, extreme choices.
#include "core/space/architecture.hpp"

#include <algorithm>
#include <sstream>

#include "nasq/sdk/error.hpp"

namespace nasq::space {
namespace {

std::string format_set(const std::vector<int>& values) {
  std::string text = "{";
  for (std::size_t i = 0; i < values.size(); ++i) {
    text += (i == 0 ? "" : ", ") + std::to_string(values[i]);
  }
  return text + "}";
}

std::string message_prefix(const std::string& source) {
  return source.empty() ? "" : source + ": ";
}

int value_of(const BlockChoice& choice, const std::string& kind) {
  if (kind == "s") return choice.skip ? 1 : 0;
  if (kind == "m") return choice.expansion;
  if (kind == "k") return choice.kernel;
  if (kind == "b1") return choice.bottleneck_bits;
  return choice.depthwise_bits;
}

void set_value(BlockChoice& choice, const std::string& kind, int value) {
  if (kind == "s") choice.skip = value == 1;
  if (kind == "m") choice.expansion = value;
  if (kind == "k") choice.kernel = value;
  if (kind == "b1") choice.bottleneck_bits = value;
  if (kind == "b2") choice.depthwise_bits = value;
}

// Field names in arch.json, by decision kind.
std::string field_name(const std::string& kind) {
  if (kind == "s") return "skip";
  if (kind == "m") return "expansion";
  if (kind == "k") return "kernel";
  if (kind == "b1") return "bottleneck_bits";
  return "depthwise_bits";
}

// Picks, per decision, the choice `pick` returns from the block's choice list.
template <typename Pick>
Architecture pick_architecture(const SearchSpace& space, Pick pick) {
  Architecture architecture;
  for (const BlockSlot& block : space.blocks()) {
    BlockChoice choice;
    for (const char* kind : kDecisionKinds) set_value(choice, kind, pick(kind, block.choices(kind)));
    architecture.blocks.push_back(choice);
  }
  return architecture;
}

}  // namespace

std::string block_label(const BlockChoice& choice) {
  if (choice.skip) return "skip";
  std::ostringstream label;
  label << "MB" << choice.expansion << " " << choice.kernel << "x" << choice.kernel << " ["
        << choice.bottleneck_bits << "," << choice.depthwise_bits << "]";
  return label.str();
}

Architecture architecture_from_indices(const SearchSpace& space, const std::vector<int>& choices) {
  const std::vector<Decision>& decisions = space.decisions();
  if (choices.size() != decisions.size()) {
    throw sdk::Error("an architecture of this space needs " + std::to_string(decisions.size()) +
                     " choice indices, got " + std::to_string(choices.size()));
  }
  Architecture architecture;
  architecture.blocks.resize(space.blocks().size());
  for (std::size_t i = 0; i < decisions.size(); ++i) {
    const Decision& decision = decisions[i];
    if (choices[i] < 0 || choices[i] >= static_cast<int>(decision.choices.size())) {
      throw sdk::Error("choice index " + std::to_string(choices[i]) + " of decision " +
                       decision.name + " is out of range 0.." +
                       std::to_string(decision.choices.size() - 1));
    }
    set_value(architecture.blocks[static_cast<std::size_t>(decision.block)], decision.kind,
              decision.choices[static_cast<std::size_t>(choices[i])]);
  }
  return architecture;
}

std::vector<int> architecture_indices(const SearchSpace& space, const Architecture& architecture) {
  validate_architecture(space, architecture);
  std::vector<int> indices;
  for (const Decision& decision : space.decisions()) {
    const int value = value_of(architecture.blocks[static_cast<std::size_t>(decision.block)],
                               decision.kind);
    const auto found = std::find(decision.choices.begin(), decision.choices.end(), value);
    indices.push_back(static_cast<int>(found - decision.choices.begin()));
  }
  return indices;
}

void validate_architecture(const SearchSpace& space, const Architecture& architecture,
                           const std::string& source) {
  const std::size_t expected = space.blocks().size();
  if (architecture.blocks.size() != expected) {
    throw sdk::Error(message_prefix(source) + "the architecture has " +
                     std::to_string(architecture.blocks.size()) + " blocks but the space has " +
                     std::to_string(expected));
  }
  for (const BlockSlot& block : space.blocks()) {
    const BlockChoice& choice = architecture.blocks[static_cast<std::size_t>(block.index)];
    for (const char* kind : kDecisionKinds) {
      const std::vector<int>& allowed = block.choices(kind);
      const int value = value_of(choice, kind);
      if (std::find(allowed.begin(), allowed.end(), value) != allowed.end()) continue;
      std::string message = message_prefix(source) + "block " + std::to_string(block.index) +
                            ": " + field_name(kind) + " " + std::to_string(value) +
                            " is not in the block's choice set " + format_set(allowed);
      if (std::string(kind) == "s") {
        message += block.residual ? "" : " (this block changes the shape, so it cannot be skipped)";
      }
      throw sdk::Error(message);
    }
  }
}

Architecture smallest_architecture(const SearchSpace& space) {
  return pick_architecture(space, [](const std::string& kind, const std::vector<int>& choices) {
    return kind == "s" ? *std::max_element(choices.begin(), choices.end())
                       : *std::min_element(choices.begin(), choices.end());
  });
}

Architecture largest_architecture(const SearchSpace& space) {
  return pick_architecture(space, [](const std::string& kind, const std::vector<int>& choices) {
    return kind == "s" ? *std::min_element(choices.begin(), choices.end())
                       : *std::max_element(choices.begin(), choices.end());
  });
}

}  // namespace nasq::space
