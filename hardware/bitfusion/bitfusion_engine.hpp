// Bit Fusion accelerator cost model: a port of the public Bit Fusion simulator's tiling search, cycles and energy.
//
// The model follows the simulator at github.com/hsharma35/bitfusion, commit
// 04ec1c87c91ef4a681858f84f5a7832d5b65e83b, run with its bf_e_conf.ini setting
// (16x32 Fusion Units, 45 nm, 500 MHz). Bit Fusion itself is described in Sharma
// et al., "Bit Fusion: Bit-Level Dynamically Composable Architecture for
// Accelerating Deep Neural Networks", ISCA 2018. With the default configuration
// and out_bits = 0, every integer counter equals the simulator's, and energies
// agree to rounding.
#pragma once

#include <array>
#include <cstdint>
#include <string>

namespace nasq::bitfusion {

// Accelerator constants. The defaults are the simulator's bf_e_conf.ini values.
// Energies are in nJ, per bit for the buffers and DRAM.
struct BitFusionConfig {
  std::int64_t array_rows = 16;  // N: Fusion Units in the reduction (input-channel) direction
  std::int64_t array_cols = 32;  // M: Fusion Units in the output-channel direction
  int high_prec = 8;             // widest operand a Fusion Unit multiplies, bits
  int low_prec = 2;              // BitBrick operand width, bits
  double frequency_hz = 5e8;
  std::int64_t if_width_bits = 192;  // DRAM interface width, bits per cycle
  // Buffer sizes. Each buffer is double buffered, so a tile may use half of it.
  std::int64_t wbuf_bytes = 65536;  // weights
  std::int64_t ibuf_bytes = 32768;  // input activations
  std::int64_t obuf_bytes = 16384;  // outputs
  int accumulator_bits = 32;        // partial-sum width

  // Core energy per compute cycle of the whole array. The synthesis table has no
  // 16x32 entry, so the simulator scales its 4x4 entry (8/2-bit, 3 673 500 nW at
  // 500 MHz) by 32: 117 552 000 nW / 5e8 Hz = 0.235104 nJ.
  double e_core = 0x1.e17e34b945309p-3;
  // SRAM energies from the simulator's CACTI sweep (45 nm, 4-byte block), per
  // access divided by 32 bits: WBUF 128 B banks, IBUF 2048 B banks, OBUF 512 B
  // banks with one read/write port.
  double e_WR = 0x1.6674cb7b606afp-16;  // WBUF read, 2.136565625e-05
  double e_WW = 0x1.e521f20707cafp-16;  // WBUF write, 2.891615625e-05
  double e_IR = 0x1.f2e83f6f00becp-15;  // IBUF read, 5.9474375e-05
  double e_IW = 0x1.dce8ceb6060bep-14;  // IBUF write, 1.137040625e-04
  double e_OR = 0x1.16207dcee2d1ap-15;  // OBUF read, 3.31553125e-05
  double e_OW = 0x1.32896a2186e36p-14;  // OBUF write, 7.30840625e-05
  double e_DRAM = 0.015;                // DRAM read or write (15 pJ/bit)

  // Output precision for calls whose SimCall::out_bits is 0. The default 0 keeps
  // the simulator's behaviour, where outputs move as accumulator_bits-wide partial
  // sums. A value in 1..accumulator_bits switches those calls to the activation
  // output mode described at SimCall::out_bits.
  int output_bits_override = 0;
};

// One call of the simulator's layer primitive: a square K x K convolution with
// an O x O output, stride S, IC input and OC output channels and batch B.
// Padding is not an argument because it only enters through O.
struct SimCall {
  std::int64_t K = 1;
  std::int64_t O = 1;
  std::int64_t S = 1;
  std::int64_t IC = 1;
  std::int64_t OC = 1;
  std::int64_t B = 1;
  int a_bits = 8;  // activation bits, 1..high_prec
  int w_bits = 8;  // weight bits, 1..high_prec
  bool im2col = false;  // pack K*K*IC into the array rows, as the simulator does for a network's first conv

  // Output precision in bits. 0 uses BitFusionConfig::output_bits_override, and
  // when that is also 0 the simulator's exact model with accumulator-wide outputs.
  // A value in 1..accumulator_bits selects the activation output mode, where
  // out_bits replaces the partial-sum width in these terms only:
  //   - the OBUF footprint F_O, so also the OBUF capacity check and the point
  //     where the output tile stops fitting in OBUF during the DRAM reuse analysis;
  //   - the output DRAM traffic V_O: the read before accumulation (part of
  //     dram_read_bits) and the write-back (dram_write_bits);
  //   - the same V_O share of obuf_read_bits and obuf_write_bits, which is the
  //     DRAM <-> OBUF transfer;
  //   - the output part of the prologue fill and epilogue drain latency.
  // The array still accumulates accumulator_bits-wide partial sums, so the
  // dataflow choice, the inner-dataflow OBUF, IBUF and WBUF terms and the
  // compute cycles do not change.
  int out_bits = 0;
};

// Tile loops of the search, in the simulator's notation: batch, output width,
// output height, input channels, output channels.
enum class LoopDim : std::uint8_t { B, OW, OH, IC, OC };

// Inner dataflow the model picked for a tile: input, output or weight stationary.
enum class Dataflow : std::uint8_t { input_stationary, output_stationary, weight_stationary };

// Tile sizes of the winning schedule (counts follow as ceil(extent / size)).
struct Tiling {
  std::int64_t batch = 1;            // b
  std::int64_t spatial = 1;          // t, the same for output width and height
  std::int64_t input_channels = 1;   // c
  std::int64_t output_channels = 1;  // k
};

// Statistics of one simulated layer call (or of a mapped layer after its
// multiplier). Counters are in bits or cycles, energies in nJ.
struct SimResult {
  std::int64_t cycles = 0;
  std::int64_t mem_stall_cycles = 0;
  std::int64_t compute_cycles = 0;
  std::int64_t wbuf_read_bits = 0;
  std::int64_t wbuf_write_bits = 0;
  std::int64_t ibuf_read_bits = 0;
  std::int64_t ibuf_write_bits = 0;
  std::int64_t obuf_read_bits = 0;
  std::int64_t obuf_write_bits = 0;
  std::int64_t dram_read_bits = 0;
  std::int64_t dram_write_bits = 0;

  double core_energy_nj = 0.0;
  double wbuf_energy_nj = 0.0;
  double ibuf_energy_nj = 0.0;
  double obuf_energy_nj = 0.0;
  double sram_energy_nj = 0.0;  // WBUF + IBUF + OBUF
  double dram_energy_nj = 0.0;
  double total_energy_nj = 0.0;
  double latency_ms = 0.0;

  // Winning schedule, for debugging. Several loop orders usually tie with
  // identical statistics, so loop_order is one of them. It lists loops from
  // outermost to innermost, and loops with a single tile come first.
  std::array<LoopDim, 5> loop_order{LoopDim::B, LoopDim::OW, LoopDim::OH, LoopDim::IC, LoopDim::OC};
  Tiling tiling;
  Dataflow dataflow = Dataflow::input_stationary;
};

// Searches every power-of-two tiling and loop order of the call, as the
// simulator does, and returns the statistics of the schedule with the fewest
// cycles (ties go to lower energy). Throws std::invalid_argument for a size
// below 1, bits outside 1..high_prec, out_bits outside 0..accumulator_bits, an
// invalid config, a call whose counters could overflow int64, or a call for
// which no tiling fits the buffers.
SimResult simulate(const SimCall& call, const BitFusionConfig& config = {});

// Layer types that map_layer accepts.
enum class LayerKind { conv, depthwise, grouped, fc };

// Mapping of a depthwise or grouped convolution with g groups to simulator
// calls, which have no groups.
//   ic1: one call with IC = Cin / g and OC = Cout. The MAC count is exact, but
//        input traffic is counted for Cin / g channels only.
//   perchannel: g calls (multiplier g) with IC = Cin / g and OC = Cout / g.
//   dense: groups are ignored, so IC = Cin, OC = Cout and MACs grow g times.
enum class DepthwiseMapping { ic1, perchannel, dense };

// Simulator call for one layer and the number of identical calls it stands for.
struct LayerMapping {
  SimCall call;
  std::int64_t multiplier = 1;
};

// Maps a layer to a simulator call. The layer has an h x w input with c
// channels, oc output channels, a k x k kernel, stride s and padding p on each
// side. A conv has O = floor((h + 2p - k) / s) + 1.
// An fc layer (h = w = k = 1, s and p ignored) becomes K = O = S = 1. The
// network's first layer uses im2col unless it is fc. The feature map must be
// square (h == w) because the simulator models square maps only. Throws
// std::invalid_argument naming the field for sizes below 1 or above 2^30,
// negative padding, a kernel larger than the padded input, groups that do not
// fit the kind or do not divide the channel counts, or bits below 1. Bits above
// high_prec are rejected later by simulate().
LayerMapping map_layer(LayerKind kind, std::int64_t batch, std::int64_t h, std::int64_t w,
                       std::int64_t c, std::int64_t oc, std::int64_t k, std::int64_t s,
                       std::int64_t p, std::int64_t groups, int wbits, int abits,
                       bool first_layer, DepthwiseMapping depthwise_mapping = DepthwiseMapping::ic1);

// Multiplies every counter and energy by `multiplier` and recomputes latency
// from the multiplied cycles. Throws std::invalid_argument for a multiplier
// below 1 and std::overflow_error when a counter would overflow int64.
SimResult apply_multiplier(const SimResult& result, std::int64_t multiplier,
                           const BitFusionConfig& config = {});

// Simulates mapping.call and applies mapping.multiplier.
SimResult simulate_layer(const LayerMapping& mapping, const BitFusionConfig& config = {});

// Formats the loop order as the simulator prints it, outermost first, for
// example "B/b>OC/oc>OH/oh>IC/ic>OW/ow".
std::string format_loop_order(const std::array<LoopDim, 5>& loop_order);

// Formats the tiling as the simulator prints it, "loop=count x size", for
// example "B/b=16x1 OW/ow=28x1 OH/oh=28x1 IC/ic=1x32 OC/oc=1x192".
std::string format_tiling(const SimCall& call, const Tiling& tiling);

}  // namespace nasq::bitfusion
