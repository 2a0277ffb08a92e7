// Stack parsing and validation: unknown keys, types, units, overrides, plugin tables.
#include <doctest/doctest.h>

#include <functional>

#include "core/config/stack.hpp"
#include "core/config/units.hpp"
#include "nasq/sdk/error.hpp"

namespace {

std::string config_error(const std::string& text, const std::vector<std::string>& overrides = {}) {
  try {
    auto stack = nasq::Stack::parse(text, "stack.toml", overrides);
    stack.validate_core();
  } catch (const nasq::sdk::ConfigError& error) {
    return error.what();
  }
  return "";
}

}  // namespace

TEST_CASE("empty stack gets every default") {
  auto stack = nasq::Stack::parse("", "stack.toml");
  stack.validate_core();
  CHECK(stack.get_string("hardware.plugin") == "bitfusion");
  CHECK(stack.get_int("hardware.batch") == 16);
  CHECK(stack.get_string("data.path") == "/usr/share/datasets/fashion-mnist");
  CHECK(stack.get_quantity("search.energy_budget") == 0.0);
  CHECK(stack.to_toml().find("[search]") != std::string::npos);
}

TEST_CASE("unknown key names line and closest key") {
  const std::string message = config_error("[search]\nepochs = 2\nenergy_budgt = \"1 mJ\"\n");
  CHECK(message.find("stack.toml:3:") != std::string::npos);
  CHECK(message.find("unknown key 'search.energy_budgt'") != std::string::npos);
  CHECK(message.find("did you mean 'search.energy_budget'") != std::string::npos);
}

TEST_CASE("unknown section names the closest section") {
  const std::string message = config_error("[hardwre]\nplugin = \"x\"\n");
  CHECK(message.find("unknown section 'hardwre'") != std::string::npos);
  CHECK(message.find("did you mean 'hardware'") != std::string::npos);
}

TEST_CASE("wrong type names the expected type") {
  const std::string message = config_error("[search]\nepochs = \"four\"\n");
  CHECK(message.find("stack.toml:2") != std::string::npos);
  CHECK(message.find("expected an integer") != std::string::npos);
  CHECK(message.find("got string") != std::string::npos);
}

TEST_CASE("unitless budget is rejected") {
  const std::string message = config_error("[search]\nenergy_budget = 1.5\n");
  CHECK(message.find("needs a unit") != std::string::npos);
  CHECK(message.find("\"1.5 mJ\"") != std::string::npos);
}

TEST_CASE("bad unit is rejected with the accepted units") {
  const std::string wrong_dimension = config_error("[search]\nenergy_budget = \"1.5 ms\"\n");
  CHECK(wrong_dimension.find("invalid unit 'ms'") != std::string::npos);
  CHECK(wrong_dimension.find("mJ") != std::string::npos);
  const std::string garbage = config_error("[search]\nenergy_budget = \"lots\"\n");
  CHECK(garbage.find("invalid quantity") != std::string::npos);
}

TEST_CASE("quantities convert to the declared unit") {
  auto stack = nasq::Stack::parse("[search]\nenergy_budget = \"1500 uJ\"\nlatency_budget = \"0.5 s\"\n",
                                  "stack.toml");
  stack.validate_core();
  CHECK(stack.get_quantity("search.energy_budget") == doctest::Approx(1.5));
  CHECK(stack.get_quantity("search.latency_budget") == doctest::Approx(500.0));
  CHECK(nasq::parse_quantity("2 KiB", "B") == doctest::Approx(2048.0));
}

TEST_CASE("invalid choice lists the valid values") {
  const std::string message = config_error("[run]\ndevice = \"gpu\"\n");
  CHECK(message.find("invalid value \"gpu\"") != std::string::npos);
  CHECK(message.find("cpu, cuda") != std::string::npos);
}

TEST_CASE("out of range value names the range") {
  const std::string message = config_error("[data]\nvalidation_fraction = 1.5\n");
  CHECK(message.find("out of range") != std::string::npos);
  CHECK(message.find("[0, 0.9]") != std::string::npos);
}

TEST_CASE("overrides take precedence over the file in order") {
  auto stack = nasq::Stack::parse("[search]\nepochs = 3\n", "stack.toml",
                                  {"search.epochs=5", "search.epochs=7", "data.kind=mnist"});
  stack.validate_core();
  CHECK(stack.get_int("search.epochs") == 7);
  CHECK(stack.get_string("data.kind") == "mnist");
  CHECK(stack.location("search.epochs") == "--set search.epochs");
}

TEST_CASE("bad override is reported as from --set") {
  const std::string unknown = config_error("", {"search.epochz=3"});
  CHECK(unknown.find("--set search.epochz") != std::string::npos);
  CHECK(unknown.find("did you mean 'search.epochs'") != std::string::npos);
  const std::string malformed = config_error("", {"search.epochs"});
  CHECK(malformed.find("expected KEY.PATH=VALUE") != std::string::npos);
}

TEST_CASE("invalid TOML reports line and column") {
  const std::string message = config_error("[run]\nseed = = 3\n");
  CHECK(message.find("stack.toml:2") != std::string::npos);
  CHECK(message.find("invalid TOML") != std::string::npos);
}

TEST_CASE("plugin table is validated only when selected") {
  auto stack = nasq::Stack::parse(
      "[hardware]\nplugin = \"demo\"\n[hardware.demo]\nrows = 8\n[hardware.other]\nanything = 1\n",
      "stack.toml");
  stack.validate_core();
  std::vector<nasq::sdk::KeySpec> keys = {
      {"rows", nasq::sdk::KeyType::integer, "16", "", "array rows"},
      {"mode", nasq::sdk::KeyType::string, "\"fast\"", "", "mode", {"fast", "exact"}}};
  auto view = stack.plugin_view("hardware", "demo", keys);
  CHECK(view->get_int("rows") == 8);
  CHECK(view->get_string("mode") == "fast");
  CHECK(view->is_set("rows"));
  CHECK_FALSE(view->is_set("mode"));
  CHECK(view->location("rows") == "stack.toml:4:8");
  CHECK_THROWS_AS(view->get_string("rows"), nasq::sdk::ConfigError);

  keys[0].name = "columns";
  try {
    stack.plugin_view("hardware", "demo", keys);
    FAIL("expected a ConfigError");
  } catch (const nasq::sdk::ConfigError& error) {
    const std::string message = error.what();
    CHECK(message.find("unknown key 'hardware.demo.rows'") != std::string::npos);
  }
}
