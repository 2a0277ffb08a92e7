// Runs `nasq space show` and `nasq arch show|draw` through the built executable.
#include <doctest/doctest.h>

#include "core/space/architecture.hpp"
#include "tests/support/process.hpp"

using nasq::test::run_command;

namespace {

const char* kStack = "[search_space]\npreset = \"fashion-mnist\"\n";

// Writes space_cli.toml and an arch.json of its space; returns the common
// arguments "ARCH --stack STACK".
std::string write_fixtures() {
  nasq::test::write_text("space_cli.toml", kStack);
  const nasq::space::SearchSpace space(nasq::space::preset_options("fashion-mnist"));
  nasq::space::Architecture architecture = nasq::space::largest_architecture(space);
  architecture.blocks[0] = {false, 6, 5, 4, 2};
  architecture.blocks[2] = {true, 1, 3, 2, 2};
  nasq::space::save_architecture(space, architecture, "space_cli_arch.json");
  return "space_cli_arch.json --stack space_cli.toml";
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

}  // namespace

TEST_CASE("space show prints blocks and size") {
  write_fixtures();
  const auto result = run_command(nasq::test::nasq_command() + " space show space_cli.toml");
  CHECK(result.exit_code == 0);
  CHECK(contains(result.out, "preset fashion-mnist"));
  CHECK(contains(result.out, "28x28x16    14x14x24    2       {0}    {1,3,6}"));
  CHECK(contains(result.out, "35 decisions over 7 blocks"));
  CHECK(contains(result.out, "size of the space: 20542695432781824 architectures (about 10^16.31)"));
  CHECK(contains(result.out, "smallest network: 1,184,440 MACs"));
}

TEST_CASE("space show applies --set and reports config errors") {
  write_fixtures();
  const auto overridden = run_command(nasq::test::nasq_command() +
                                      " space show space_cli.toml --set search_space.preset=imagenet"
                                      " --set data.kind=image-folder");
  CHECK(overridden.exit_code == 0);
  CHECK(contains(overridden.out, "110 decisions over 22 blocks"));
  const auto invalid = run_command(nasq::test::nasq_command() +
                                   " space show space_cli.toml --set 'search_space.kernel_choices=[4]'");
  CHECK(invalid.exit_code == 1);
  CHECK(contains(invalid.err, "kernel_choices: choice 4 is invalid"));
}

TEST_CASE("arch show prints labels and totals") {
  const std::string arguments = write_fixtures();
  const auto result = run_command(nasq::test::nasq_command() + " arch show " + arguments);
  CHECK(result.exit_code == 0);
  CHECK(contains(result.out, "block0   MB6 5x5 [4,2]"));
  CHECK(contains(result.out, "block2   skip"));
  CHECK(contains(result.out, "total"));
}

TEST_CASE("arch draw writes dot and svg") {
  const std::string arguments = write_fixtures();
  const auto dot = run_command(nasq::test::nasq_command() + " arch draw " + arguments +
                               " --format dot");
  CHECK(dot.exit_code == 0);
  CHECK(contains(dot.out, "digraph architecture {"));
  const auto svg = run_command(nasq::test::nasq_command() + " arch draw " + arguments +
                               " --format svg --out space_cli.svg");
  CHECK(svg.exit_code == 0);
  CHECK(contains(nasq::test::read_text("space_cli.svg"), "<svg xmlns="));
}

TEST_CASE("arch usage and file errors") {
  const std::string arguments = write_fixtures();
  const auto no_stack = run_command(nasq::test::nasq_command() + " arch show space_cli_arch.json");
  CHECK(no_stack.exit_code == 2);
  CHECK(contains(no_stack.err, "missing --stack"));
  const auto bad_format = run_command(nasq::test::nasq_command() + " arch draw " + arguments +
                                      " --format png");
  CHECK(bad_format.exit_code == 2);
  CHECK(contains(bad_format.err, "invalid --format 'png'"));
  const auto other_space = run_command(nasq::test::nasq_command() + " arch show " + arguments +
                                       " --set search_space.head_channels=128");
  CHECK(other_space.exit_code == 1);
  CHECK(contains(other_space.err, "space_cli_arch.json: the architecture was made for another"));
  const auto missing = run_command(nasq::test::nasq_command() +
                                   " arch show missing.json --stack space_cli.toml");
  CHECK(missing.exit_code == 1);
  CHECK(contains(missing.err, "failed to open the architecture file missing.json"));
}
