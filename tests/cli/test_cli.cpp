// Runs the built nasq executable and checks exit codes and messages.
#include <doctest/doctest.h>

#include "tests/support/process.hpp"

using nasq::test::run_command;

namespace {

const std::string kGood = "--plugin-path '" NASQ_TEST_PLUGIN_DIR "/good'";
const std::string kBroken = "--plugin-path '" NASQ_TEST_PLUGIN_DIR "/broken'";

const char* kTestStack = R"([hardware]
plugin = "test-hardware"
[hardware.test-hardware]
energy_per_mac_pj = 3.5
[quantizer]
plugin = "test-quantizer"
[search]
plugin = "test-strategy"
epochs = 2
)";

}  // namespace

TEST_CASE("version prints nasq, SDK ABI and LibTorch") {
  const auto result = run_command(nasq::test::nasq_command() + " --version");
  CHECK(result.exit_code == 0);
  CHECK(result.out.find("nasq ") != std::string::npos);
  CHECK(result.out.find("SDK ABI 2") != std::string::npos);
  CHECK(result.out.find("LibTorch 1.13") != std::string::npos);
}

TEST_CASE("help lists the commands") {
  const auto result = run_command(nasq::test::nasq_command() + " --help");
  CHECK(result.exit_code == 0);
  CHECK(result.out.find("plugins") != std::string::npos);
  CHECK(result.out.find("config") != std::string::npos);
  const auto sub = run_command(nasq::test::nasq_command() + " plugins --help");
  CHECK(sub.exit_code == 0);
  CHECK(sub.out.find("--plugin-path") != std::string::npos);
}

TEST_CASE("unknown command exits with usage error") {
  const auto result = run_command(nasq::test::nasq_command() + " frobnicate");
  CHECK(result.exit_code == 2);
  CHECK(result.err.find("unknown command 'frobnicate'") != std::string::npos);
}

TEST_CASE("plugins lists one plugin of each kind") {
  const auto result = run_command(nasq::test::nasq_command() + " plugins " + kGood);
  CHECK(result.exit_code == 0);
  CHECK(result.out.find("test-hardware") != std::string::npos);
  CHECK(result.out.find("test-quantizer") != std::string::npos);
  CHECK(result.out.find("test-strategy") != std::string::npos);
  CHECK(result.out.find("1.0.0") != std::string::npos);
  CHECK(result.out.find(NASQ_TEST_PLUGIN_DIR "/good/libnasq_hardware_test_hardware.so") !=
        std::string::npos);
}

TEST_CASE("plugins json filters by kind") {
  const auto result =
      run_command(nasq::test::nasq_command() + " plugins --kind quantizer --format json " + kGood);
  CHECK(result.exit_code == 0);
  CHECK(result.out.find("\"name\": \"test-quantizer\"") != std::string::npos);
  CHECK(result.out.find("test-hardware") == std::string::npos);
}

TEST_CASE("plugins from NASQ_PLUGIN_PATH") {
  const auto result = run_command("NASQ_PLUGIN_PATH='" NASQ_TEST_PLUGIN_DIR "/good' '" NASQ_BINARY_DIR
                                  "/bin/nasq' plugins --kind strategy");
  CHECK(result.exit_code == 0);
  CHECK(result.out.find("test-strategy") != std::string::npos);
}

TEST_CASE("plugins reports refused libraries with both versions") {
  const auto result = run_command(nasq::test::nasq_command() + " plugins " + kBroken);
  CHECK(result.exit_code == 0);
  CHECK(result.out.find("libnasq_hardware_wrong_abi.so") != std::string::npos);
  CHECK(result.out.find("SDK ABI version 99") != std::string::npos);
  CHECK(result.out.find("this nasq uses SDK ABI version 2") != std::string::npos);
}

TEST_CASE("plugins keys prints declared keys") {
  const auto result =
      run_command(nasq::test::nasq_command() + " plugins --keys test-hardware " + kGood);
  CHECK(result.exit_code == 0);
  CHECK(result.out.find("energy_per_mac_pj") != std::string::npos);
  CHECK(result.out.find("pJ") != std::string::npos);
  const auto missing = run_command(nasq::test::nasq_command() + " plugins --keys nope " + kGood);
  CHECK(missing.exit_code == 1);
  CHECK(missing.err.find("unknown") != std::string::npos);
}

TEST_CASE("config check prints the resolved stack") {
  nasq::test::write_text("good.toml", kTestStack);
  const auto result = run_command(nasq::test::nasq_command() + " config check good.toml " + kGood +
                                  " --set search.epochs=6");
  CHECK(result.exit_code == 0);
  CHECK(result.out.find("epochs = 6") != std::string::npos);
  CHECK(result.out.find("energy_per_mac_pj = 3.5") != std::string::npos);
  CHECK(result.out.find("macs_per_cycle = 256") != std::string::npos);
  CHECK(result.err.find("valid") != std::string::npos);
}

TEST_CASE("config check names file, line and suggestion") {
  nasq::test::write_text("typo.toml", std::string(kTestStack) + "energy_lamda = 0.5\n");
  const auto result = run_command(nasq::test::nasq_command() + " config check typo.toml " + kGood);
  CHECK(result.exit_code == 1);
  CHECK(result.err.find("typo.toml:10:") != std::string::npos);
  CHECK(result.err.find("did you mean 'search.energy_lambda'") != std::string::npos);
}

TEST_CASE("config check rejects a bad plugin key") {
  nasq::test::write_text("plugin_key.toml", std::string(kTestStack) +
                                                "[hardware.test-hardware.extra]\n");
  const auto result = run_command(nasq::test::nasq_command() + " config check plugin_key.toml " + kGood);
  CHECK(result.exit_code == 1);
  CHECK(result.err.find("hardware.test-hardware.extra") != std::string::npos);
}

TEST_CASE("config check with unknown plugin lists available") {
  nasq::test::write_text("unknown.toml", "[hardware]\nplugin = \"bitfuzion\"\n");
  const auto result = run_command(nasq::test::nasq_command() + " config check unknown.toml " + kGood);
  CHECK(result.exit_code == 1);
  CHECK(result.err.find("unknown.toml:2:") != std::string::npos);
  CHECK(result.err.find("unknown hardware plugin 'bitfuzion'") != std::string::npos);
  CHECK(result.err.find("test-hardware") != std::string::npos);
}

TEST_CASE("config check on a missing file") {
  const auto result = run_command(nasq::test::nasq_command() + " config check absent.toml " + kGood);
  CHECK(result.exit_code == 1);
  CHECK(result.err.find("absent.toml") != std::string::npos);
}

TEST_CASE("data show prints the Fashion-MNIST splits") {
  nasq::test::write_text("data.toml", "[data]\ntrain_subset = 2000\nvalidation_fraction = 0.25\n");
  const auto result = run_command(nasq::test::nasq_command() + " data show data.toml");
  INFO(result.err);
  CHECK(result.exit_code == 0);
  CHECK(result.out.find("fashion-mnist") != std::string::npos);
  CHECK(result.out.find("1500") != std::string::npos);
  CHECK(result.out.find("500") != std::string::npos);
  CHECK(result.out.find("10000") != std::string::npos);
}

TEST_CASE("data show reports a missing data set") {
  nasq::test::write_text("nodata.toml", "[data]\npath = \"does-not-exist\"\n");
  const auto result = run_command(nasq::test::nasq_command() + " data show nodata.toml");
  CHECK(result.exit_code == 1);
  CHECK(result.err.find("does-not-exist") != std::string::npos);
}
