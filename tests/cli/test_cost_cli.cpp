// Runs `nasq cost` on the reference networks and layer files.
#include <doctest/doctest.h>

#include <cmath>
#include <map>
#include <sstream>

#include "tests/hardware/csv_rows.hpp"
#include "tests/support/process.hpp"

using nasq::test::run_command;

namespace {

const std::string kRefs = NASQ_BITFUSION_REFS_DIR;

// The value of `"key": number` in the "total" object of nasq's JSON output.
double total_value(const std::string& json, const std::string& key) {
  const auto total = json.find("\"total\"");
  REQUIRE(total != std::string::npos);
  const auto position = json.find("\"" + key + "\":", total);
  REQUIRE(position != std::string::npos);
  return std::stod(json.substr(position + key.size() + 3));
}

}  // namespace

TEST_CASE("cost of MobileNetV2 matches the simulator") {
  const auto result = run_command(nasq::test::nasq_command() + " cost --network mobilenetv2 --format json");
  REQUIRE(result.exit_code == 0);
  const double energy = total_value(result.out, "energy_mj");
  CHECK(std::abs(energy - 128.86096898865353) / 128.86096898865353 <= 1e-9);
  CHECK(total_value(result.out, "latency_ms") == doctest::Approx(84.02011).epsilon(1e-9));
  CHECK(total_value(result.out, "cycles") == 42010055);
  CHECK(total_value(result.out, "macs") == 4812388352.0);
}

TEST_CASE("cost of ResNet-50 and VGG-16 match the simulator") {
  const auto resnet = run_command(nasq::test::nasq_command() + " cost --network resnet50 --format json");
  REQUIRE(resnet.exit_code == 0);
  CHECK(total_value(resnet.out, "energy_mj") == doctest::Approx(426.99098958070016).epsilon(1e-9));
  CHECK(total_value(resnet.out, "latency_ms") == doctest::Approx(288.864864).epsilon(1e-9));
  const auto vgg = run_command(nasq::test::nasq_command() + " cost --network vgg16 --format json");
  REQUIRE(vgg.exit_code == 0);
  CHECK(total_value(vgg.out, "energy_mj") == doctest::Approx(1588.6817123921069).epsilon(1e-9));
  CHECK(total_value(vgg.out, "latency_ms") == doctest::Approx(1001.473576).epsilon(1e-9));
}

TEST_CASE("cost of layers.csv keeps names and reproduces rows") {
  const auto result = run_command(nasq::test::nasq_command() + " cost --layers '" + kRefs +
                                  "/layers.csv' --format csv");
  REQUIRE(result.exit_code == 0);
  nasq::test::write_text("costed.csv", result.out);
  const nasq::test::CsvTable costed("costed.csv");
  const nasq::test::CsvTable reference(kRefs + "/layers.csv");
  std::size_t row = 0;
  for (const auto& expected : reference.rows()) {
    if (expected.text("status") != "ok") continue;
    REQUIRE(row < costed.rows().size());
    const auto& actual = costed.rows()[row++];
    INFO("row " << expected.text("name"));
    CHECK(actual.text("name") == expected.text("name"));
    CHECK(actual.integer("cycles") == expected.integer("cycles"));
    const double energy_mj = expected.real("total_energy_nJ") * 1e-6;
    CHECK(std::abs(actual.real("energy_mj") - energy_mj) / energy_mj <= 1e-9);
  }
  CHECK(row == 70);
  CHECK(costed.rows().back().text("name") == "total");
}

TEST_CASE("cost rejects bad layers with the layer name") {
  nasq::test::write_text("bad.csv", "name,kind,n,h,w,c,oc,k,s,p,groups,wbits,abits\n"
                                    "no_channels,conv,16,28,28,0,32,1,1,0,1,8,8\n");
  const auto zero = run_command(nasq::test::nasq_command() + " cost --layers bad.csv");
  CHECK(zero.exit_code == 1);
  CHECK(zero.err.find("layer 'no_channels'") != std::string::npos);

  nasq::test::write_text("kernel.csv", "name,kind,n,h,w,c,oc,k,s,p,groups,wbits,abits\n"
                                       "huge_kernel,conv,16,3,3,8,32,7,1,0,1,8,8\n");
  const auto kernel = run_command(nasq::test::nasq_command() + " cost --layers kernel.csv");
  CHECK(kernel.exit_code == 1);
  CHECK(kernel.err.find("kernel") != std::string::npos);

  const auto bits = run_command(nasq::test::nasq_command() +
                                " cost --network mobilenetv2 --wbits 16 --abits 16");
  CHECK(bits.exit_code == 1);
  CHECK(bits.err.find("bitfusion") != std::string::npos);
  CHECK(bits.err.find("16") != std::string::npos);

  nasq::test::write_text("broken.csv", "name,kind,n,h\nx,conv,1,2\n");
  const auto columns = run_command(nasq::test::nasq_command() + " cost --layers broken.csv");
  CHECK(columns.exit_code == 1);
  CHECK(columns.err.find("broken.csv:1: missing column 'w'") != std::string::npos);
}

TEST_CASE("cost with another hardware model") {
  const auto result = run_command(nasq::test::nasq_command() +
                                  " cost --network mobilenetv2 --hardware analytical --format json");
  REQUIRE(result.exit_code == 0);
  CHECK(total_value(result.out, "macs") == 4812388352.0);
  CHECK(total_value(result.out, "energy_mj") == 0.0);
}

TEST_CASE("cost needs exactly one layer source") {
  const auto none = run_command(nasq::test::nasq_command() + " cost");
  CHECK(none.exit_code == 2);
  CHECK(none.err.find("exactly one of --network, --layers and --arch") != std::string::npos);
}

TEST_CASE("sensitivity matches MobileNetV2 blocks") {
  const auto network = run_command(nasq::test::nasq_command() +
                                   " cost --network mobilenetv2 --format csv");
  REQUIRE(network.exit_code == 0);
  nasq::test::write_text("mobilenetv2.csv", network.out);
  std::map<int, double> block_energy;  // simulator-exact mode, every layer at 8 bits
  const nasq::test::CsvTable layers("mobilenetv2.csv");
  for (const auto& row : layers.rows()) {
    const std::string name = row.text("name");
    if (name.rfind("block", 0) != 0) continue;
    block_energy[std::stoi(name.substr(5, name.find('.') - 5))] += row.real("energy_mj");
  }
  REQUIRE(block_energy.size() == 17);

  const auto result = run_command(nasq::test::nasq_command() +
                                  " cost --network mobilenetv2 --sensitivity --format csv");
  REQUIRE(result.exit_code == 0);
  nasq::test::write_text("sensitivity.csv", result.out);
  const nasq::test::CsvTable table("sensitivity.csv");
  // Both output modes, 17 blocks, 4 values of b1 and 4 of b2 each.
  REQUIRE(table.rows().size() == 2 * 17 * 8);

  std::map<std::string, double> lowest_b2_energy, reference_energy;
  for (const auto& row : table.rows()) {
    const std::string mode = row.text("output_precision");
    const int block = static_cast<int>(row.integer("block"));
    INFO(mode << " block " << block << " " << row.text("decision") << "=" << row.integer("bits"));
    CHECK((mode == "accumulator" || mode == "activation"));
    if (row.integer("bits") == 8) {
      CHECK(row.real("energy_ratio") == 1.0);
      CHECK(row.real("latency_ratio") == 1.0);
      if (mode == "accumulator") {
        CHECK(row.real("energy_mj") == doctest::Approx(block_energy[block]).epsilon(1e-9));
      }
    }
    CHECK(row.integer("expansion") == (block == 0 ? 1 : 6));
    if (row.text("decision") == "b2" && row.integer("bits") == 2) {
      lowest_b2_energy[mode] += row.real("energy_mj");
    }
    if (row.text("decision") == "b2" && row.integer("bits") == 8) {
      reference_energy[mode] += row.real("energy_mj");
    }
  }
  // With outputs leaving at the layer's own bits, lowering the depthwise bits
  // saves relatively more than with 32-bit outputs.
  CHECK(lowest_b2_energy["activation"] / reference_energy["activation"] <
        lowest_b2_energy["accumulator"] / reference_energy["accumulator"]);
}

TEST_CASE("sensitivity of preset and stack") {
  const auto preset = run_command(nasq::test::nasq_command() +
                                  " cost --preset imagenet --sensitivity --format json");
  REQUIRE(preset.exit_code == 0);
  CHECK(preset.out.find("\"space\": \"imagenet preset\"") != std::string::npos);
  CHECK(preset.out.find("\"block\": 21") != std::string::npos);
  CHECK(preset.out.find("\"block\": 22") == std::string::npos);

  nasq::test::write_text("small_space.toml",
                         "[search_space]\npreset = \"fashion-mnist\"\nbottleneck_bits = [4, 8]\n"
                         "depthwise_bits = [4, 8]\n");
  const auto stack = run_command(nasq::test::nasq_command() + " cost small_space.toml --sensitivity");
  REQUIRE(stack.exit_code == 0);
  CHECK(stack.out.find("hardware: bitfusion") != std::string::npos);
  CHECK(stack.out.find("energy b1=4 |") != std::string::npos);

  // The analytical model's defaults report MACs only.
  const auto analytical = run_command(nasq::test::nasq_command() +
                                      " cost small_space.toml --sensitivity --hardware analytical");
  CHECK(analytical.exit_code == 1);
  CHECK(analytical.err.find("reports neither energy nor latency") != std::string::npos);
}

TEST_CASE("sensitivity rejects other sources") {
  const auto layers = run_command(nasq::test::nasq_command() + " cost --sensitivity --layers '" +
                                  kRefs + "/layers.csv'");
  CHECK(layers.exit_code == 2);
  CHECK(layers.err.find("neither --layers nor --arch") != std::string::npos);
  const auto resnet = run_command(nasq::test::nasq_command() + " cost --sensitivity --network resnet50");
  CHECK(resnet.exit_code == 2);
  CHECK(resnet.err.find("not --network resnet50") != std::string::npos);
  const auto none = run_command(nasq::test::nasq_command() + " cost --sensitivity");
  CHECK(none.exit_code == 2);
  CHECK(none.err.find("needs --network mobilenetv2, --preset NAME or a stack") != std::string::npos);
  const auto preset = run_command(nasq::test::nasq_command() + " cost --preset cifar --network vgg16");
  CHECK(preset.exit_code == 2);
  CHECK(preset.err.find("--preset is an option of --sensitivity") != std::string::npos);
  const auto bits = run_command(nasq::test::nasq_command() +
                                " cost --sensitivity --network mobilenetv2 --wbits 4");
  CHECK(bits.exit_code == 2);
  CHECK(bits.err.find("leave out --wbits and --abits") != std::string::npos);
  const auto input = run_command(nasq::test::nasq_command() +
                                 " cost --sensitivity --preset cifar --input 64");
  CHECK(input.exit_code == 2);
  CHECK(input.err.find("--input applies to --network mobilenetv2 only") != std::string::npos);
}

TEST_CASE("sensitivity honours a chosen output mode") {
  const auto chosen = run_command(nasq::test::nasq_command() +
                                  " cost --sensitivity --preset fashion-mnist --format csv"
                                  " --set hardware.bitfusion.output_precision=activation");
  REQUIRE(chosen.exit_code == 0);
  CHECK(chosen.out.find("\nactivation,") != std::string::npos);
  CHECK(chosen.out.find("\naccumulator,") == std::string::npos);

  const auto invalid = run_command(nasq::test::nasq_command() +
                                   " cost --sensitivity --preset fashion-mnist"
                                   " --set hardware.bitfusion.output_precision=bogus");
  CHECK(invalid.exit_code == 1);
  CHECK(invalid.err.find("output_precision") != std::string::npos);

  nasq::test::write_text("one_bit.toml",
                         "[search_space]\npreset = \"fashion-mnist\"\nbottleneck_bits = [8]\n");
  const auto one_bit = run_command(nasq::test::nasq_command() + " cost one_bit.toml --sensitivity");
  REQUIRE(one_bit.exit_code == 0);
  CHECK(one_bit.out.find("b1=(no lower bits)") != std::string::npos);
}
