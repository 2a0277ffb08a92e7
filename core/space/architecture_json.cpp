// arch.json: writing an Architecture, and reading one back with checks against the space.
#include <nlohmann/json.hpp>

#include <fstream>
#include <map>
#include <sstream>

#include "core/space/architecture.hpp"
#include "nasq/sdk/error.hpp"

namespace nasq::space {
namespace {

using nlohmann::json;

constexpr const char* kFormatName = "nasq-architecture";
constexpr int kFormatVersion = 1;

// Reads arch.json text, reporting problems as sdk::Error prefixed with the source.
class ArchitectureReader {
 public:
  ArchitectureReader(const SearchSpace& space, std::string source)
      : space_(space), source_(std::move(source)) {}

  Architecture read(const std::string& text) {
    json document;
    try {
      document = json::parse(text);
    } catch (const json::parse_error& error) {
      fail("invalid JSON: " + std::string(error.what()));
    }
    if (!document.is_object()) fail("expected a JSON object at the top level");
    check_header(document);
    check_space(member(document, "space", "the file"));
    return read_blocks(member(document, "blocks", "the file"));
  }

 private:
  [[noreturn]] void fail(const std::string& message) const {
    throw sdk::Error(source_ + ": " + message);
  }

  const json& member(const json& object, const std::string& key, const std::string& owner) const {
    const auto found = object.find(key);
    if (found == object.end()) fail(owner + ": missing field '" + key + "'");
    return *found;
  }

  int integer(const json& object, const std::string& key, const std::string& owner) const {
    const json& value = member(object, key, owner);
    const bool in_range = value.is_number_integer() && value.get<std::int64_t>() >= -(1 << 30) &&
                          value.get<std::int64_t>() <= (1 << 30);
    if (!in_range) fail(owner + ": field '" + key + "' must be an integer, got " + value.dump());
    return value.get<int>();
  }

  void check_header(const json& document) const {
    const json& format = member(document, "format", "the file");
    if (format != kFormatName) {
      fail("field 'format' is " + format.dump() + ", expected \"" + kFormatName +
           "\"; this is not an arch.json file");
    }
    const int version = integer(document, "version", "the file");
    if (version != kFormatVersion) {
      fail("arch.json format version " + std::to_string(version) + " is not supported (expected " +
           std::to_string(kFormatVersion) + ")");
    }
  }

  void check_space(const json& space) const {
    if (!space.is_object()) fail("field 'space' must be an object");
    const json& fingerprint = member(space, "fingerprint", "field 'space'");
    if (fingerprint == space_.fingerprint()) return;
    const auto description = space.find("description");
    fail("the architecture was made for another search space (fingerprint " + fingerprint.dump() +
         (description != space.end() ? ", " + description->dump() : std::string()) +
         ") than the stack's (fingerprint \"" + space_.fingerprint() + "\", \"" +
         space_.description() + "\"); use the stack the architecture was searched with");
  }

  // Maps each entry of `blocks` to its block index; rejects duplicates,
  // indices outside the space and missing blocks.
  std::map<int, const json*> index_blocks(const json& blocks) const {
    if (!blocks.is_array()) fail("field 'blocks' must be an array");
    const int count = static_cast<int>(space_.blocks().size());
    std::map<int, const json*> by_index;
    for (std::size_t i = 0; i < blocks.size(); ++i) {
      const std::string owner = "blocks[" + std::to_string(i) + "]";
      if (!blocks[i].is_object()) fail(owner + " must be an object");
      const int index = integer(blocks[i], "block", owner);
      if (index < 0 || index >= count) {
        fail(owner + ": block " + std::to_string(index) + " does not exist; the space has " +
             std::to_string(count) + " blocks (0.." + std::to_string(count - 1) + ")");
      }
      if (!by_index.emplace(index, &blocks[i]).second) {
        fail("block " + std::to_string(index) + " is listed twice");
      }
    }
    for (int index = 0; index < count; ++index) {
      if (by_index.count(index) == 0) {
        fail("block " + std::to_string(index) + " is missing (the file lists " +
             std::to_string(blocks.size()) + " blocks, the space has " + std::to_string(count) +
             ")");
      }
    }
    return by_index;
  }

  // A skipped block may omit the other fields; they default to the block's
  // first choices.
  BlockChoice read_block(const BlockSlot& slot, const json& entry) const {
    const std::string owner = "block " + std::to_string(slot.index);
    BlockChoice choice;
    const json& skip = member(entry, "skip", owner);
    if (!skip.is_boolean()) fail(owner + ": field 'skip' must be true or false, got " + skip.dump());
    choice.skip = skip.get<bool>();
    const auto field = [&](const char* key, int first) {
      return choice.skip && !entry.contains(key) ? first : integer(entry, key, owner);
    };
    choice.expansion = field("expansion", slot.expansion_choices.front());
    choice.kernel = field("kernel", slot.kernel_choices.front());
    choice.bottleneck_bits = field("bottleneck_bits", slot.bottleneck_bits.front());
    choice.depthwise_bits = field("depthwise_bits", slot.depthwise_bits.front());
    return choice;
  }

  Architecture read_blocks(const json& blocks) const {
    const std::map<int, const json*> by_index = index_blocks(blocks);
    Architecture architecture;
    for (const BlockSlot& slot : space_.blocks()) {
      architecture.blocks.push_back(read_block(slot, *by_index.at(slot.index)));
    }
    validate_architecture(space_, architecture, source_);
    return architecture;
  }

  const SearchSpace& space_;
  std::string source_;
};

}  // namespace

std::string architecture_to_json(const SearchSpace& space, const Architecture& architecture) {
  validate_architecture(space, architecture);
  // ordered_json keeps the fields in the order written here, which reads
  // better than the alphabetical order of nlohmann::json.
  nlohmann::ordered_json blocks = nlohmann::ordered_json::array();
  for (std::size_t i = 0; i < architecture.blocks.size(); ++i) {
    const BlockChoice& choice = architecture.blocks[i];
    blocks.push_back({{"block", i},
                      {"label", block_label(choice)},
                      {"skip", choice.skip},
                      {"expansion", choice.expansion},
                      {"kernel", choice.kernel},
                      {"bottleneck_bits", choice.bottleneck_bits},
                      {"depthwise_bits", choice.depthwise_bits}});
  }
  const nlohmann::ordered_json document = {{"format", kFormatName},
                                           {"version", kFormatVersion},
                                           {"space",
                                            {{"preset", space.options().preset},
                                             {"description", space.description()},
                                             {"fingerprint", space.fingerprint()}}},
                                           {"blocks", blocks}};
  return document.dump(2) + "\n";
}

Architecture architecture_from_json(const SearchSpace& space, const std::string& text,
                                    const std::string& source) {
  return ArchitectureReader(space, source).read(text);
}

void save_architecture(const SearchSpace& space, const Architecture& architecture,
                       const std::filesystem::path& file) {
  const std::string text = architecture_to_json(space, architecture);
  std::ofstream stream(file);
  stream << text;
  if (!stream) throw sdk::Error("failed to write the architecture file " + file.string());
}

Architecture load_architecture(const SearchSpace& space, const std::filesystem::path& file) {
  std::ifstream stream(file);
  if (!stream) {
    throw sdk::Error("failed to open the architecture file " + file.string() +
                     " (missing or unreadable)");
  }
  std::ostringstream text;
  text << stream.rdbuf();
  return architecture_from_json(space, text.str(), file.string());
}

}  // namespace nasq::space
