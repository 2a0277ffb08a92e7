// Architectures: labels, choice indices, arch.json round trip and malformed files.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>

#include "core/space/architecture.hpp"
#include "nasq/sdk/error.hpp"

using nasq::space::Architecture;
using nasq::space::BlockChoice;
using nasq::space::SearchSpace;
using nlohmann::json;

namespace {

SearchSpace fashion_space() { return SearchSpace(nasq::space::preset_options("fashion-mnist")); }

// An architecture of the fashion-mnist space that uses varied choices.
Architecture sample_architecture(const SearchSpace& space) {
  Architecture architecture = nasq::space::largest_architecture(space);
  architecture.blocks[0] = {false, 6, 5, 4, 2};
  architecture.blocks[2] = {true, 1, 3, 2, 2};
  architecture.blocks[3] = {false, 3, 7, 8, 6};
  return architecture;
}

// The message of the sdk::Error that parsing `document` raises, or "".
std::string json_error(const SearchSpace& space, const json& document) {
  try {
    nasq::space::architecture_from_json(space, document.dump(), "arch.json");
  } catch (const nasq::sdk::Error& error) {
    return error.what();
  }
  return "";
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

}  // namespace

TEST_CASE("block labels") {
  CHECK(nasq::space::block_label({false, 6, 5, 4, 2}) == "MB6 5x5 [4,2]");
  CHECK(nasq::space::block_label({false, 1, 3, 8, 8}) == "MB1 3x3 [8,8]");
  CHECK(nasq::space::block_label({true, 6, 5, 4, 2}) == "skip");
}

TEST_CASE("indices round trip") {
  const SearchSpace space = fashion_space();
  const Architecture architecture = sample_architecture(space);
  const std::vector<int> indices = nasq::space::architecture_indices(space, architecture);
  REQUIRE(indices.size() == space.decisions().size());
  CHECK(indices[0] == 0);  // block0.s: keep
  CHECK(indices[1] == 2);  // block0.m: 6
  CHECK(indices[2] == 1);  // block0.k: 5
  CHECK(indices[3] == 1);  // block0.b1: 4
  CHECK(indices[4] == 0);  // block0.b2: 2
  CHECK(nasq::space::architecture_from_indices(space, indices) == architecture);
}

TEST_CASE("indices with wrong count or range are rejected") {
  const SearchSpace space = fashion_space();
  CHECK_THROWS_WITH_AS(nasq::space::architecture_from_indices(space, {0, 1}),
                       doctest::Contains("needs 35 choice indices, got 2"), nasq::sdk::Error);
  std::vector<int> indices(35, 0);
  indices[7] = 3;  // block1.k has three choices
  CHECK_THROWS_WITH_AS(nasq::space::architecture_from_indices(space, indices),
                       doctest::Contains("decision block1.k is out of range 0..2"),
                       nasq::sdk::Error);
}

TEST_CASE("smallest and largest architectures") {
  const SearchSpace space = fashion_space();
  const Architecture smallest = nasq::space::smallest_architecture(space);
  const Architecture largest = nasq::space::largest_architecture(space);
  CHECK(smallest.blocks[0].skip);       // 16 -> 16, stride 1
  CHECK_FALSE(smallest.blocks[1].skip);  // 16 -> 24 cannot skip
  CHECK(smallest.blocks[1] == BlockChoice{false, 1, 3, 2, 2});
  CHECK(largest.blocks[0] == BlockChoice{false, 6, 7, 8, 8});
}

TEST_CASE("arch.json round trip") {
  const SearchSpace space = fashion_space();
  const Architecture architecture = sample_architecture(space);
  const std::filesystem::path file = "round_trip_arch.json";
  nasq::space::save_architecture(space, architecture, file);
  CHECK(nasq::space::load_architecture(space, file) == architecture);

  const json document = json::parse(nasq::space::architecture_to_json(space, architecture));
  CHECK(document["format"] == "nasq-architecture");
  CHECK(document["version"] == 1);
  CHECK(document["space"]["preset"] == "fashion-mnist");
  CHECK(document["space"]["fingerprint"] == space.fingerprint());
  CHECK(document["blocks"].size() == 7);
  CHECK(document["blocks"][0]["label"] == "MB6 5x5 [4,2]");
  CHECK(document["blocks"][2]["label"] == "skip");
}

TEST_CASE("arch.json skipped block may omit its other fields") {
  const SearchSpace space = fashion_space();
  json document = json::parse(nasq::space::architecture_to_json(space, sample_architecture(space)));
  document["blocks"][2] = {{"block", 2}, {"skip", true}};
  const Architecture read =
      nasq::space::architecture_from_json(space, document.dump(), "arch.json");
  CHECK(read.blocks[2].skip);
  CHECK(read.blocks[2].kernel == 3);
}

TEST_CASE("arch.json blocks may come in any order") {
  const SearchSpace space = fashion_space();
  const Architecture architecture = sample_architecture(space);
  json document = json::parse(nasq::space::architecture_to_json(space, architecture));
  std::swap(document["blocks"][0], document["blocks"][5]);
  CHECK(nasq::space::architecture_from_json(space, document.dump(), "arch.json") == architecture);
}

TEST_CASE("arch.json malformed cases name file, block and value") {
  const SearchSpace space = fashion_space();
  const json good = json::parse(nasq::space::architecture_to_json(space, sample_architecture(space)));

  json missing_block = good;
  missing_block["blocks"].erase(3);
  const std::string missing = json_error(space, missing_block);
  CHECK(contains(missing, "arch.json: block 3 is missing"));
  CHECK(contains(missing, "the file lists 6 blocks, the space has 7"));

  json extra_block = good;
  extra_block["blocks"].push_back(good["blocks"][0]);
  extra_block["blocks"][7]["block"] = 7;
  CHECK(contains(json_error(space, extra_block),
                 "arch.json: blocks[7]: block 7 does not exist; the space has 7 blocks (0..6)"));

  json duplicate = good;
  duplicate["blocks"][1]["block"] = 0;
  CHECK(contains(json_error(space, duplicate), "arch.json: block 0 is listed twice"));

  json bad_kernel = good;
  bad_kernel["blocks"][4]["kernel"] = 4;
  CHECK(contains(json_error(space, bad_kernel),
                 "arch.json: block 4: kernel 4 is not in the block's choice set {3, 5, 7}"));

  json bad_bits = good;
  bad_bits["blocks"][0]["depthwise_bits"] = 3;
  CHECK(contains(json_error(space, bad_bits),
                 "arch.json: block 0: depthwise_bits 3 is not in the block's choice set"));

  json bad_skip = good;
  bad_skip["blocks"][1]["skip"] = true;
  CHECK(contains(json_error(space, bad_skip),
                 "arch.json: block 1: skip 1 is not in the block's choice set {0} (this block "
                 "changes the shape"));

  json missing_field = good;
  missing_field["blocks"][5].erase("expansion");
  CHECK(contains(json_error(space, missing_field),
                 "arch.json: block 5: missing field 'expansion'"));

  json wrong_type = good;
  wrong_type["blocks"][5]["kernel"] = "5";
  CHECK(contains(json_error(space, wrong_type),
                 "arch.json: block 5: field 'kernel' must be an integer, got \"5\""));
}

TEST_CASE("arch.json header and space mismatches") {
  const SearchSpace space = fashion_space();
  const json good = json::parse(nasq::space::architecture_to_json(space, sample_architecture(space)));

  CHECK(contains(json_error(space, json::array()), "arch.json: expected a JSON object"));
  try {
    nasq::space::architecture_from_json(space, "{\"format\": ", "arch.json");
    FAIL("truncated JSON was accepted");
  } catch (const nasq::sdk::Error& error) {
    CHECK(contains(error.what(), "arch.json: invalid JSON"));
  }

  json wrong_format = good;
  wrong_format["format"] = "something-else";
  CHECK(contains(json_error(space, wrong_format), "this is not an arch.json file"));

  json wrong_version = good;
  wrong_version["version"] = 2;
  CHECK(contains(json_error(space, wrong_version), "format version 2 is not supported"));

  nasq::space::SpaceOptions options = nasq::space::preset_options("fashion-mnist");
  options.stages[3].channels = 48;
  const SearchSpace other(options);
  const std::string mismatch = json_error(other, good);
  CHECK(contains(mismatch, "arch.json: the architecture was made for another search space"));
  CHECK(contains(mismatch, space.fingerprint()));
  CHECK(contains(mismatch, other.description()));

  json no_blocks = good;
  no_blocks.erase("blocks");
  CHECK(contains(json_error(space, no_blocks), "arch.json: the file: missing field 'blocks'"));
}

TEST_CASE("missing arch file names the path") {
  const SearchSpace space = fashion_space();
  CHECK_THROWS_WITH_AS(nasq::space::load_architecture(space, "no_such_dir/arch.json"),
                       doctest::Contains("failed to open the architecture file "
                                         "no_such_dir/arch.json"),
                       nasq::sdk::Error);
}

TEST_CASE("wrong block count in code is rejected") {
  const SearchSpace space = fashion_space();
  Architecture architecture = sample_architecture(space);
  architecture.blocks.pop_back();
  CHECK_THROWS_WITH_AS(nasq::space::validate_architecture(space, architecture, "x.json"),
                       doctest::Contains("x.json: the architecture has 6 blocks but the space "
                                         "has 7"),
                       nasq::sdk::Error);
}
