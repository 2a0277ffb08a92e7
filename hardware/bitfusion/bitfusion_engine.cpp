// Bit Fusion cost model: input checks, layer mapping, tiling and loop-order search, statistics.
#include "bitfusion_engine.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

// Schedules with equal cycles are ranked by strictly smaller energy, so energy
// must round exactly as the simulator's left-to-right sum. A fused multiply-add
// would round differently, so contraction is disabled for this file.
#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#endif

namespace nasq::bitfusion {
namespace {

using i64 = std::int64_t;

constexpr int kLoopCount = 5;

// Tensors each tile loop indexes, as bit masks.
constexpr unsigned kWeights = 1U;
constexpr unsigned kInputs = 2U;
constexpr unsigned kOutputs = 4U;
constexpr std::array<unsigned, kLoopCount> kLoopTensors = {
    kInputs | kOutputs,  // B
    kInputs | kOutputs,  // OW
    kInputs | kOutputs,  // OH
    kInputs | kWeights,  // IC
    kWeights | kOutputs  // OC
};

i64 ceil_div(i64 x, i64 y) { return (x + y - 1) / y; }

[[noreturn]] void reject(const std::string& message) { throw std::invalid_argument(message); }

void require_range(const char* context, const char* field, i64 value, i64 low, i64 high) {
  if (value >= low && value <= high) return;
  std::string expected = std::to_string(low) + " to " + std::to_string(high);
  if (high == std::numeric_limits<i64>::max()) {
    expected = "at least " + std::to_string(low);
  } else if (low == high) {
    expected = std::to_string(low);
  }
  reject(std::string(context) + ": invalid " + field + " = " + std::to_string(value) +
         ", expected " + expected);
}

void require_energy(const char* field, double value) {
  if (std::isfinite(value) && value >= 0.0) return;
  reject(std::string("Bit Fusion config: invalid ") + field + " = " + std::to_string(value) +
         ", expected a finite energy >= 0 nJ");
}

void validate_config(const BitFusionConfig& config) {
  constexpr const char* context = "Bit Fusion config";
  constexpr i64 any = std::numeric_limits<i64>::max();
  require_range(context, "array_rows", config.array_rows, 1, 1 << 16);
  require_range(context, "array_cols", config.array_cols, 1, 1 << 16);
  require_range(context, "low_prec", config.low_prec, 1, 64);
  require_range(context, "high_prec", config.high_prec, config.low_prec, 64);
  require_range(context, "if_width_bits", config.if_width_bits, 1, any);
  require_range(context, "wbuf_bytes", config.wbuf_bytes, 1, i64{1} << 40);
  require_range(context, "ibuf_bytes", config.ibuf_bytes, 1, i64{1} << 40);
  require_range(context, "obuf_bytes", config.obuf_bytes, 1, i64{1} << 40);
  require_range(context, "accumulator_bits", config.accumulator_bits, 1, 64);
  require_range(context, "output_bits_override", config.output_bits_override, 0,
                config.accumulator_bits);
  if (!(std::isfinite(config.frequency_hz) && config.frequency_hz > 0.0)) {
    reject("Bit Fusion config: invalid frequency_hz = " + std::to_string(config.frequency_hz) +
           ", expected a finite value > 0");
  }
  require_energy("e_core", config.e_core);
  require_energy("e_WR", config.e_WR);
  require_energy("e_WW", config.e_WW);
  require_energy("e_IR", config.e_IR);
  require_energy("e_IW", config.e_IW);
  require_energy("e_OR", config.e_OR);
  require_energy("e_OW", config.e_OW);
  require_energy("e_DRAM", config.e_DRAM);
}

std::string describe_call(const SimCall& call) {
  return "K=" + std::to_string(call.K) + " O=" + std::to_string(call.O) +
         " S=" + std::to_string(call.S) + " IC=" + std::to_string(call.IC) +
         " OC=" + std::to_string(call.OC) + " B=" + std::to_string(call.B) +
         " a_bits=" + std::to_string(call.a_bits) + " w_bits=" + std::to_string(call.w_bits) +
         " im2col=" + (call.im2col ? "1" : "0");
}

// Rejects calls whose counters could exceed int64. Each bound over-estimates a
// family of values that the search computes, so any call that passes is safe.
void check_counter_range(const SimCall& call, const BitFusionConfig& config) {
  using real = long double;
  const real k2 = real(call.K) * real(call.K);
  const real work = real(call.B) * real(call.O) * real(call.O) * real(call.IC) * real(call.OC);
  const real cap_max = 4.0L * real(std::max({config.wbuf_bytes, config.ibuf_bytes, config.obuf_bytes}));
  const real widest = real(std::max(config.high_prec, config.accumulator_bits));
  const real lanes = real(config.array_rows) * real(config.high_prec / config.low_prec) *
                     real(config.high_prec / config.low_prec);
  const real cols = real(config.array_cols);
  const real halo_side = real(call.K) + real(call.O - 1) * real(call.S);

  // A tensor's DRAM volume is at most its tile footprint times all tile
  // counts. Tile overhang at most doubles each tiled extent, and reduction and
  // column padding add at most R and M per tile. That gives one factor per
  // tensor: weights, inputs without and with im2col, outputs.
  const real stride_halo = real(call.K) + 2.0L * real(call.S);
  const real volume_factor = std::max({2.0L * (2.0L * k2 + lanes), 4.0L * stride_halo * stride_halo, 16.0L * k2,
                                       8.0L * (2.0L + cols)});

  // DRAM volumes (four per schedule), on-chip counts, dataflow costs, and
  // tile footprints before the capacity check.
  const real bounds[] = {
      4.0L * volume_factor * work * widest,
      64.0L * k2 * work * widest,
      4.0L * k2 * (real(call.IC) + lanes) * cap_max * 3.0L * widest,
      (k2 * real(call.IC) + lanes) * real(call.OC) * widest,
      halo_side * halo_side * real(call.IC) * real(call.B) * widest,
      real(call.O) * real(call.O) * (real(call.OC) + cols) * real(call.B) * widest,
  };
  constexpr real limit = real(i64{1} << 62);
  for (real bound : bounds) {
    if (!(bound < limit)) {
      reject("Bit Fusion call too large: its bit counters could overflow int64 (" +
             describe_call(call) + "). Reduce the layer or the batch.");
    }
  }
}

void validate_call(const SimCall& call, const BitFusionConfig& config) {
  constexpr const char* context = "Bit Fusion call";
  constexpr i64 any = std::numeric_limits<i64>::max();
  require_range(context, "K", call.K, 1, any);
  require_range(context, "O", call.O, 1, any);
  require_range(context, "S", call.S, 1, any);
  require_range(context, "IC", call.IC, 1, any);
  require_range(context, "OC", call.OC, 1, any);
  require_range(context, "B", call.B, 1, any);
  require_range(context, "a_bits", call.a_bits, 1, config.high_prec);
  require_range(context, "w_bits", call.w_bits, 1, config.high_prec);
  require_range(context, "out_bits", call.out_bits, 0, config.accumulator_bits);
  check_counter_range(call, config);
}

// Per-call constants of the search.
struct SearchContext {
  const SimCall& call;
  const BitFusionConfig& config;
  i64 lanes;         // R = N * pf: reduction elements per cycle and column
  i64 cols;          // M
  i64 psum_bits;     // width of partial sums inside the array
  i64 out_bits;      // width of outputs in OBUF and DRAM
  i64 cap_weights;   // usable buffer capacities, bits
  i64 cap_inputs;
  i64 cap_outputs;
  i64 bandwidth;     // DRAM bits per cycle
};

// Returns the performance factor pf, the number of products at these precisions
// that one Fusion Unit computes per cycle.
i64 performance_factor(const BitFusionConfig& config, int a_bits, int w_bits) {
  const i64 a_factor = config.high_prec / std::max(a_bits, config.low_prec);
  const i64 w_factor = config.high_prec / std::max(w_bits, config.low_prec);
  return a_factor * w_factor;
}

SearchContext make_context(const SimCall& call, const BitFusionConfig& config) {
  i64 out_bits = config.accumulator_bits;
  if (call.out_bits > 0) {
    out_bits = call.out_bits;
  } else if (config.output_bits_override > 0) {
    out_bits = config.output_bits_override;
  }
  return SearchContext{call,
                       config,
                       config.array_rows * performance_factor(config, call.a_bits, call.w_bits),
                       config.array_cols,
                       config.accumulator_bits,
                       out_bits,
                       config.wbuf_bytes * 8 / 2,
                       config.ibuf_bytes * 8 / 2,
                       config.obuf_bytes * 8 / 2,
                       config.if_width_bits};
}

// Tile sizes min(2^i * step, extent) for i = 0 .. ceil(log2(ceil(extent / step))).
std::vector<i64> tile_sizes(i64 extent, i64 step) {
  std::vector<i64> sizes;
  for (i64 size = step;; size *= 2) {
    sizes.push_back(std::min(size, extent));
    if (size >= extent) break;
  }
  return sizes;
}

// One tiling with its order-independent values.
struct TileCandidate {
  Tiling tiling;
  i64 scan_index = 0;  // rank in the simulator's b, t, c, k scan, for tie-breaking
  std::array<i64, kLoopCount> counts{};  // tiles per loop: n_b, n_t, n_t, n_c, n_k
  i64 footprint_weights = 0;
  i64 footprint_inputs = 0;
  i64 footprint_outputs = 0;
  i64 compute_cycles = 0;
  i64 min_cycles = 0;  // lower bound over all loop orders
};

struct Footprints {
  i64 weights;
  i64 inputs;
  i64 outputs;
};

Footprints tile_footprints(const SearchContext& ctx, const Tiling& tiling) {
  const SimCall& call = ctx.call;
  const i64 b = tiling.batch, t = tiling.spatial, c = tiling.input_channels, k = tiling.output_channels;
  const i64 reduction = call.K * call.K * c;
  const i64 padded_k = ceil_div(k, ctx.cols) * ctx.cols;
  const i64 input_side = call.K + (t - 1) * call.S;

  Footprints footprints{};
  footprints.weights = ceil_div(reduction, ctx.lanes) * ctx.lanes * k * call.w_bits;
  footprints.inputs = call.im2col ? t * t * reduction * b * call.a_bits
                                  : input_side * input_side * c * b * call.a_bits;
  footprints.outputs = t * t * padded_k * b * ctx.out_bits;
  return footprints;
}

// Fills counts, compute cycles and the cycle lower bound of a feasible tiling.
void complete_candidate(const SearchContext& ctx, TileCandidate& tile) {
  const SimCall& call = ctx.call;
  const Tiling& tiling = tile.tiling;
  const i64 n_b = ceil_div(call.B, tiling.batch);
  const i64 n_t = ceil_div(call.O, tiling.spatial);
  const i64 n_c = ceil_div(call.IC, tiling.input_channels);
  const i64 n_k = ceil_div(call.OC, tiling.output_channels);
  tile.counts = {n_b, n_t, n_t, n_c, n_k};

  const i64 b = tiling.batch, t = tiling.spatial, c = tiling.input_channels;
  const i64 column_passes = ceil_div(tiling.output_channels, ctx.cols);
  const i64 per_tile = call.im2col
                           ? b * t * t * column_passes * ceil_div(call.K * call.K * c, ctx.lanes)
                           : b * column_passes * t * t * call.K * call.K * ceil_div(c, ctx.lanes);
  tile.compute_cycles = n_b * n_t * n_t * n_c * n_k * per_tile;

  // Every loop that indexes a tensor multiplies its DRAM volume whatever the
  // order, and the prologue and epilogue move at least one tile. With
  // ceil(x) + ceil(y) >= ceil(x + y), both terms bound the cycles from below.
  const i64 bw = ctx.bandwidth;
  const i64 min_traffic = tile.footprint_weights * n_c * n_k +
                          tile.footprint_inputs * n_b * n_t * n_t * n_c +
                          2 * tile.footprint_outputs * n_b * n_t * n_t * n_k;
  const i64 fill = tile.footprint_weights + tile.footprint_inputs + tile.footprint_outputs;
  const i64 min_latency = ceil_div(fill, bw) + ceil_div(tile.footprint_outputs, bw);
  tile.min_cycles = std::max(tile.compute_cycles + min_latency, ceil_div(min_traffic, bw));
}

// Lists the tilings that fit the buffers, in the simulator's scan order.
std::vector<TileCandidate> feasible_tilings(const SearchContext& ctx) {
  const SimCall& call = ctx.call;
  const std::vector<i64> batch_sizes = tile_sizes(call.B, 1);
  const std::vector<i64> spatial_sizes = tile_sizes(call.O, 1);
  const std::vector<i64> input_sizes = tile_sizes(call.IC, 1);
  const std::vector<i64> output_sizes = tile_sizes(call.OC, call.im2col ? 1 : ctx.cols);

  std::vector<TileCandidate> candidates;
  i64 scan_index = 0;
  for (i64 b : batch_sizes) {
    for (i64 t : spatial_sizes) {
      for (i64 c : input_sizes) {
        for (i64 k : output_sizes) {
          TileCandidate tile;
          tile.tiling = Tiling{b, t, c, k};
          tile.scan_index = scan_index++;
          const Footprints footprints = tile_footprints(ctx, tile.tiling);
          if (footprints.weights > ctx.cap_weights || footprints.inputs > ctx.cap_inputs ||
              footprints.outputs > ctx.cap_outputs) {
            continue;
          }
          tile.footprint_weights = footprints.weights;
          tile.footprint_inputs = footprints.inputs;
          tile.footprint_outputs = footprints.outputs;
          complete_candidate(ctx, tile);
          candidates.push_back(tile);
        }
      }
    }
  }
  return candidates;
}

[[noreturn]] void reject_infeasible(const SearchContext& ctx) {
  const SimCall& call = ctx.call;
  const Tiling smallest{1, 1, 1, call.im2col ? 1 : std::min(ctx.cols, call.OC)};
  const Footprints need = tile_footprints(ctx, smallest);
  reject("no tiling fits the Bit Fusion buffers for call " + describe_call(call) +
         ": the smallest tile needs " + std::to_string(need.weights) + " weight, " +
         std::to_string(need.inputs) + " input and " + std::to_string(need.outputs) +
         " output bits, but the usable capacities are " + std::to_string(ctx.cap_weights) + ", " +
         std::to_string(ctx.cap_inputs) + " and " + std::to_string(ctx.cap_outputs) +
         " bits; reduce the kernel or enlarge the buffers");
}

// On-chip buffer accesses of the inner dataflow, summed over all tiles.
struct InnerTraffic {
  i64 wbuf_read = 0;
  i64 ibuf_read = 0;
  i64 obuf_access = 0;  // added to both OBUF reads and OBUF writes
  Dataflow dataflow = Dataflow::input_stationary;
};

InnerTraffic inner_traffic(const SearchContext& ctx, const TileCandidate& tile) {
  const SimCall& call = ctx.call;
  const i64 b = tile.tiling.batch, t = tile.tiling.spatial;
  const i64 c = tile.tiling.input_channels, k = tile.tiling.output_channels;
  const i64 a = call.a_bits, w = call.w_bits, psum = ctx.psum_bits;
  const i64 k2 = call.K * call.K;
  const i64 tiles = tile.counts[0] * tile.counts[1] * tile.counts[2] * tile.counts[3] * tile.counts[4];
  const i64 macs = k2 * c * t * t * b * k;  // per tile, without padding

  // Loop extents of the three candidate dataflows and their access costs.
  const i64 l_is = ceil_div(k, ctx.cols) * ctx.cols;
  const i64 l_os = call.im2col ? ceil_div(k2 * c, ctx.lanes) * ctx.lanes
                               : ceil_div(c, ctx.lanes) * ctx.lanes * k2;
  const i64 l_ws = b * t * t;
  const i64 cost_is = l_os * l_ws * (a + l_is * (w + psum));
  const i64 cost_os = l_is * l_ws * (psum + l_os * (a + w));
  const i64 cost_ws = l_os * l_is * (w + l_ws * (a + psum));

  InnerTraffic traffic;
  if (cost_is <= cost_os && cost_is <= cost_ws) {
    traffic = {tiles * macs * w, tiles * k2 * c * t * t * b * a, tiles * macs * psum,
               Dataflow::input_stationary};
  } else if (cost_os <= cost_ws) {
    traffic = {tiles * macs * w, tiles * macs * a, tiles * k * t * t * b * psum,
               Dataflow::output_stationary};
  } else {
    traffic = {tiles * k2 * c * k * w, tiles * macs * a, tiles * macs * psum,
               Dataflow::weight_stationary};
  }
  return traffic;
}

// DRAM volume of one tensor while the loops are visited from innermost to outermost.
struct TensorVolume {
  i64 volume = 0;  // bits moved in total
  i64 first = 0;   // bits of the first fill, before the tensor stops fitting its buffer
  bool live = true;
};

// Applies one tile loop of `count` tiles to a tensor. While the tensor's tiles
// fit its buffer, a loop that does not index it reuses the resident data. Once
// they no longer fit, every outer loop re-fetches them.
void apply_loop(TensorVolume& tensor, i64 count, bool indexes, i64 capacity) {
  if (!tensor.live) {
    tensor.volume *= count;
  } else if (indexes) {
    tensor.volume *= count;
    if (tensor.volume > capacity) {
      tensor.live = false;
    } else {
      tensor.first = tensor.volume;
    }
  }
}

// Volumes of weights, inputs and outputs, in that order.
using Volumes = std::array<TensorVolume, 3>;

struct Counters {
  i64 wbuf_read, wbuf_write, ibuf_read, ibuf_write, obuf_read, obuf_write, dram_read, dram_write;
};

Counters make_counters(const InnerTraffic& inner, const Volumes& volumes) {
  const i64 weights = volumes[0].volume, inputs = volumes[1].volume, outputs = volumes[2].volume;
  return Counters{inner.wbuf_read,
                  weights,
                  inner.ibuf_read,
                  inputs,
                  outputs + inner.obuf_access,
                  outputs + inner.obuf_access,
                  weights + inputs + outputs,
                  outputs};
}

// Steady-state DRAM traffic overlaps compute, but the first fill and the last
// drain do not.
struct CycleSplit {
  i64 total;
  i64 stall;
};

CycleSplit count_cycles(const SearchContext& ctx, i64 compute, const Volumes& volumes) {
  const i64 bw = ctx.bandwidth;
  const i64 fill = volumes[0].first + volumes[1].first + volumes[2].first;
  const i64 drain = volumes[2].first;
  const i64 traffic = volumes[0].volume + volumes[1].volume + 2 * volumes[2].volume;
  const i64 overlapped = traffic - fill - drain;
  const i64 latency = ceil_div(fill, bw) + ceil_div(drain, bw);
  const i64 stall = std::max<i64>(0, ceil_div(overlapped, bw) - compute) + latency;
  return CycleSplit{compute + stall, stall};
}

// Total energy in nJ, summed left to right in the simulator's order.
double total_energy(const BitFusionConfig& config, i64 compute, const Counters& counters) {
  double energy = double(compute) * config.e_core;
  energy += double(counters.wbuf_read) * config.e_WR;
  energy += double(counters.wbuf_write) * config.e_WW;
  energy += double(counters.ibuf_read) * config.e_IR;
  energy += double(counters.ibuf_write) * config.e_IW;
  energy += double(counters.obuf_read) * config.e_OR;
  energy += double(counters.obuf_write) * config.e_OW;
  energy += double(counters.dram_read) * config.e_DRAM;
  energy += double(counters.dram_write) * config.e_DRAM;
  return energy;
}

// Best schedule found so far.
struct BestSchedule {
  bool found = false;
  i64 cycles = std::numeric_limits<i64>::max();
  double energy = 0.0;
  i64 scan_index = 0;
  const TileCandidate* tile = nullptr;
  InnerTraffic inner;
  Volumes volumes{};
  std::array<int, kLoopCount> inner_to_outer{};  // loops with more than one tile
  int loop_count = 0;
};

// Depth-first search over the orders of the loops that have more than one tile.
// Loops with a single tile change nothing and are left out.
class OrderSearch {
 public:
  OrderSearch(const SearchContext& ctx, const TileCandidate& tile, BestSchedule& best)
      : ctx_(ctx), tile_(tile), best_(best), inner_(inner_traffic(ctx, tile)) {
    for (int loop = 0; loop < kLoopCount; ++loop) {
      if (tile.counts[loop] > 1) active_[active_count_++] = loop;
    }
  }

  void run() {
    Volumes start{};
    start[0] = {tile_.footprint_weights, tile_.footprint_weights, true};
    start[1] = {tile_.footprint_inputs, tile_.footprint_inputs, true};
    start[2] = {tile_.footprint_outputs, tile_.footprint_outputs, true};
    descend(0, 0U, start);
  }

 private:
  // Loops with the same tensors and tile count give identical results in
  // either order, so only the order with the lower loop id innermost is kept.
  bool duplicates_earlier_loop(int slot, unsigned used) const {
    const int loop = active_[slot];
    for (int other = 0; other < slot; ++other) {
      const int earlier = active_[other];
      const bool unused = (used & (1U << other)) == 0;
      if (unused && kLoopTensors[earlier] == kLoopTensors[loop] &&
          tile_.counts[earlier] == tile_.counts[loop]) {
        return true;
      }
    }
    return false;
  }

  void descend(int depth, unsigned used, const Volumes& volumes) {
    if (depth == active_count_) {
      finish(volumes);
      return;
    }
    const std::array<i64, 3> capacities = {ctx_.cap_weights, ctx_.cap_inputs, ctx_.cap_outputs};
    const std::array<unsigned, 3> tensor_bits = {kWeights, kInputs, kOutputs};
    for (int slot = 0; slot < active_count_; ++slot) {
      if ((used & (1U << slot)) != 0 || duplicates_earlier_loop(slot, used)) continue;
      const int loop = active_[slot];
      Volumes next = volumes;
      for (int tensor = 0; tensor < 3; ++tensor) {
        const bool indexes = (kLoopTensors[loop] & tensor_bits[tensor]) != 0;
        apply_loop(next[tensor], tile_.counts[loop], indexes, capacities[tensor]);
      }
      order_[depth] = loop;
      descend(depth + 1, used | (1U << slot), next);
    }
  }

  void finish(const Volumes& volumes) {
    const CycleSplit cycles = count_cycles(ctx_, tile_.compute_cycles, volumes);
    if (cycles.total > best_.cycles) return;
    const double energy =
        total_energy(ctx_.config, tile_.compute_cycles, make_counters(inner_, volumes));
    const bool better = cycles.total < best_.cycles || energy < best_.energy ||
                        (energy == best_.energy && tile_.scan_index < best_.scan_index);
    if (best_.found && !better) return;
    best_.found = true;
    best_.cycles = cycles.total;
    best_.energy = energy;
    best_.scan_index = tile_.scan_index;
    best_.tile = &tile_;
    best_.inner = inner_;
    best_.volumes = volumes;
    best_.inner_to_outer = order_;
    best_.loop_count = active_count_;
  }

  const SearchContext& ctx_;
  const TileCandidate& tile_;
  BestSchedule& best_;
  InnerTraffic inner_;
  std::array<int, kLoopCount> active_{};
  int active_count_ = 0;
  std::array<int, kLoopCount> order_{};
};

// Loop order, outermost first, with the single-tile loops in front.
std::array<LoopDim, kLoopCount> full_loop_order(const BestSchedule& best) {
  std::array<LoopDim, kLoopCount> order{};
  int position = 0;
  for (int loop = 0; loop < kLoopCount; ++loop) {
    if (best.tile->counts[loop] <= 1) order[position++] = static_cast<LoopDim>(loop);
  }
  for (int depth = best.loop_count - 1; depth >= 0; --depth) {
    order[position++] = static_cast<LoopDim>(best.inner_to_outer[depth]);
  }
  return order;
}

SimResult build_result(const SearchContext& ctx, const BestSchedule& best) {
  const BitFusionConfig& config = ctx.config;
  const TileCandidate& tile = *best.tile;
  const Counters counters = make_counters(best.inner, best.volumes);
  const CycleSplit cycles = count_cycles(ctx, tile.compute_cycles, best.volumes);

  SimResult result;
  result.cycles = cycles.total;
  result.mem_stall_cycles = cycles.stall;
  result.compute_cycles = tile.compute_cycles;
  result.wbuf_read_bits = counters.wbuf_read;
  result.wbuf_write_bits = counters.wbuf_write;
  result.ibuf_read_bits = counters.ibuf_read;
  result.ibuf_write_bits = counters.ibuf_write;
  result.obuf_read_bits = counters.obuf_read;
  result.obuf_write_bits = counters.obuf_write;
  result.dram_read_bits = counters.dram_read;
  result.dram_write_bits = counters.dram_write;

  result.core_energy_nj = double(tile.compute_cycles) * config.e_core;
  result.wbuf_energy_nj = double(counters.wbuf_read) * config.e_WR + double(counters.wbuf_write) * config.e_WW;
  result.ibuf_energy_nj = double(counters.ibuf_read) * config.e_IR + double(counters.ibuf_write) * config.e_IW;
  result.obuf_energy_nj = double(counters.obuf_read) * config.e_OR + double(counters.obuf_write) * config.e_OW;
  result.sram_energy_nj = result.wbuf_energy_nj + result.ibuf_energy_nj + result.obuf_energy_nj;
  result.dram_energy_nj = double(counters.dram_read) * config.e_DRAM + double(counters.dram_write) * config.e_DRAM;
  result.total_energy_nj = best.energy;
  result.latency_ms = double(result.cycles) / config.frequency_hz * 1e3;

  result.loop_order = full_loop_order(best);
  result.tiling = tile.tiling;
  result.dataflow = best.inner.dataflow;
  return result;
}

// Largest value map_layer accepts for a size, so that h + 2p cannot overflow.
constexpr i64 kMaxLayerSize = i64{1} << 30;

void require_layer(const char* field, i64 value, i64 low, i64 high) {
  require_range("Bit Fusion layer", field, value, low, high);
}

// Output side of a square conv, after checking that the kernel fits the padded input.
i64 conv_output_side(i64 side, i64 k, i64 s, i64 p) {
  if (k > side + 2 * p) {
    reject("Bit Fusion layer: invalid k = " + std::to_string(k) +
           ", the kernel is larger than the padded input (h + 2p = " + std::to_string(side + 2 * p) + ")");
  }
  return (side + 2 * p - k) / s + 1;
}

// Input and output channels per simulator call and the call count for a conv
// with `groups` groups.
struct ChannelSplit {
  i64 input_channels;
  i64 output_channels;
  i64 multiplier;
};

ChannelSplit split_channels(LayerKind kind, i64 c, i64 oc, i64 groups, DepthwiseMapping mapping) {
  if (kind == LayerKind::conv && groups != 1) {
    reject("Bit Fusion layer: invalid groups = " + std::to_string(groups) +
           " for a dense conv, expected 1; use LayerKind::grouped for a grouped conv");
  }
  if (kind == LayerKind::depthwise && groups != c) {
    reject("Bit Fusion layer: invalid groups = " + std::to_string(groups) +
           " for a depthwise conv, expected groups == c = " + std::to_string(c));
  }
  if (c % groups != 0) {
    reject("Bit Fusion layer: invalid groups = " + std::to_string(groups) +
           ", it does not divide the input channels c = " + std::to_string(c));
  }
  if (oc % groups != 0) {
    reject("Bit Fusion layer: invalid groups = " + std::to_string(groups) +
           ", it does not divide the output channels oc = " + std::to_string(oc));
  }
  switch (mapping) {
    case DepthwiseMapping::ic1:
      return {c / groups, oc, 1};
    case DepthwiseMapping::perchannel:
      return {c / groups, oc / groups, groups};
    case DepthwiseMapping::dense:
      return {c, oc, 1};
  }
  reject("Bit Fusion layer: invalid depthwise mapping value " + std::to_string(static_cast<int>(mapping)));
}

i64 checked_multiply(i64 value, i64 multiplier) {
  if (value != 0 && multiplier > std::numeric_limits<i64>::max() / value) {
    throw std::overflow_error("Bit Fusion result: counter " + std::to_string(value) + " times multiplier " +
                              std::to_string(multiplier) + " overflows int64");
  }
  return value * multiplier;
}

constexpr std::array<const char*, kLoopCount> kLoopNames = {"B/b", "OW/ow", "OH/oh", "IC/ic", "OC/oc"};

}  // namespace

LayerMapping map_layer(LayerKind kind, i64 batch, i64 h, i64 w, i64 c, i64 oc, i64 k, i64 s, i64 p,
                       i64 groups, int wbits, int abits, bool first_layer,
                       DepthwiseMapping depthwise_mapping) {
  require_layer("batch", batch, 1, kMaxLayerSize);
  require_layer("h", h, 1, kMaxLayerSize);
  require_layer("w", w, 1, kMaxLayerSize);
  require_layer("c", c, 1, kMaxLayerSize);
  require_layer("oc", oc, 1, kMaxLayerSize);
  require_layer("k", k, 1, kMaxLayerSize);
  require_layer("s", s, 1, kMaxLayerSize);
  require_layer("p", p, 0, kMaxLayerSize);
  require_layer("groups", groups, 1, kMaxLayerSize);
  require_layer("wbits", wbits, 1, kMaxLayerSize);
  require_layer("abits", abits, 1, kMaxLayerSize);

  LayerMapping mapping;
  mapping.call.B = batch;
  mapping.call.a_bits = abits;
  mapping.call.w_bits = wbits;
  if (kind == LayerKind::fc) {
    require_layer("h", h, 1, 1);
    require_layer("w", w, 1, 1);
    require_layer("k", k, 1, 1);
    require_layer("groups", groups, 1, 1);
    // The simulator has no fc primitive, so an fc layer runs as a 1x1 conv on a 1x1 map.
    mapping.call.IC = c;
    mapping.call.OC = oc;
    return mapping;
  }

  if (h != w) {
    reject("Bit Fusion layer: invalid w = " + std::to_string(w) + ", expected w == h = " + std::to_string(h) +
           " because the simulator models square feature maps only");
  }
  const ChannelSplit split = split_channels(kind, c, oc, groups, depthwise_mapping);
  mapping.call.K = k;
  mapping.call.O = conv_output_side(h, k, s, p);
  mapping.call.S = s;
  mapping.call.IC = split.input_channels;
  mapping.call.OC = split.output_channels;
  mapping.call.im2col = first_layer;
  mapping.multiplier = split.multiplier;
  return mapping;
}

SimResult apply_multiplier(const SimResult& result, i64 multiplier, const BitFusionConfig& config) {
  require_range("Bit Fusion result", "multiplier", multiplier, 1, std::numeric_limits<i64>::max());
  if (multiplier == 1) return result;

  SimResult scaled = result;
  for (i64 SimResult::*counter :
       {&SimResult::cycles, &SimResult::mem_stall_cycles, &SimResult::compute_cycles, &SimResult::wbuf_read_bits,
        &SimResult::wbuf_write_bits, &SimResult::ibuf_read_bits, &SimResult::ibuf_write_bits,
        &SimResult::obuf_read_bits, &SimResult::obuf_write_bits, &SimResult::dram_read_bits,
        &SimResult::dram_write_bits}) {
    scaled.*counter = checked_multiply(result.*counter, multiplier);
  }
  for (double SimResult::*energy :
       {&SimResult::core_energy_nj, &SimResult::wbuf_energy_nj, &SimResult::ibuf_energy_nj,
        &SimResult::obuf_energy_nj, &SimResult::sram_energy_nj, &SimResult::dram_energy_nj,
        &SimResult::total_energy_nj}) {
    scaled.*energy = result.*energy * double(multiplier);
  }
  scaled.latency_ms = double(scaled.cycles) / config.frequency_hz * 1e3;
  return scaled;
}

SimResult simulate_layer(const LayerMapping& mapping, const BitFusionConfig& config) {
  return apply_multiplier(simulate(mapping.call, config), mapping.multiplier, config);
}

std::string format_loop_order(const std::array<LoopDim, 5>& loop_order) {
  std::string text;
  for (LoopDim loop : loop_order) {
    if (!text.empty()) text += '>';
    text += kLoopNames[static_cast<int>(loop)];
  }
  return text;
}

std::string format_tiling(const SimCall& call, const Tiling& tiling) {
  const std::array<i64, kLoopCount> extents = {call.B, call.O, call.O, call.IC, call.OC};
  const std::array<i64, kLoopCount> sizes = {tiling.batch, tiling.spatial, tiling.spatial, tiling.input_channels,
                                             tiling.output_channels};
  std::string text;
  for (int loop = 0; loop < kLoopCount; ++loop) {
    if (!text.empty()) text += ' ';
    text += std::string(kLoopNames[loop]) + "=" + std::to_string(ceil_div(extents[loop], sizes[loop])) + "x" +
            std::to_string(sizes[loop]);
  }
  return text;
}

SimResult simulate(const SimCall& call, const BitFusionConfig& config) {
  validate_config(config);
  validate_call(call, config);
  const SearchContext ctx = make_context(call, config);

  std::vector<TileCandidate> candidates = feasible_tilings(ctx);
  if (candidates.empty()) reject_infeasible(ctx);

  // Visiting tilings by their cycle lower bound finds a fast schedule early, so
  // most tilings are skipped without searching their loop orders. The scan
  // index breaks exact ties, so the result does not depend on this order.
  std::stable_sort(candidates.begin(), candidates.end(),
                   [](const TileCandidate& x, const TileCandidate& y) { return x.min_cycles < y.min_cycles; });
  BestSchedule best;
  for (const TileCandidate& tile : candidates) {
    if (tile.min_cycles > best.cycles) break;
    OrderSearch(ctx, tile, best).run();
  }
  return build_result(ctx, best);
}

}  // namespace nasq::bitfusion
