// Hardware cost model interface: one layer description in, its cost out.
//
// Contract:
// - The core creates a model once per run through the plugin factory, calls
//   capabilities() once, then prepare() with every layer it may ask for (when
//   that list is known), then cost() any number of times.
// - cost() must be a pure function of the LayerSpec and the model's config, so
//   the core may cache results keyed by the LayerSpec. When
//   capabilities().thread_safe is true the core calls cost() from several
//   threads at once; otherwise from one thread at a time.
// - Ownership: the core owns the model (through the pointer the factory
//   returns); the model owns nothing of the core's.
// - Errors: a layer the model cannot cost (unsupported bits, a kernel larger
//   than the padded input, zero channels) raises nasq::sdk::Error with a
//   message naming the layer field and the accepted range. Returned values
//   must be finite and non-negative; the core rejects anything else.
//
// This header is plain data only (no LibTorch), so hardware models build
// without LibTorch.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace nasq::sdk {

enum class LayerKind {
  conv,            // dense convolution, groups == 1
  depthwise_conv,  // groups == input_c == output_c
  grouped_conv,    // 1 < groups < input_c
  fully_connected, // input_h == input_w == kernel == 1
  add,             // element-wise residual add of two input_c tensors
  pool,            // global average pooling to 1x1
};

const char* to_string(LayerKind kind) noexcept;

// One layer of an inference network. Feature maps and kernels are square
// (input_h == input_w is not required, but kernel and stride are square).
struct LayerSpec {
  LayerKind kind = LayerKind::conv;
  std::int64_t batch = 1;    // images per inference call
  std::int64_t input_h = 1;  // input feature map height, pixels
  std::int64_t input_w = 1;  // input feature map width, pixels
  std::int64_t input_c = 1;  // input channels
  std::int64_t output_c = 1; // output channels
  std::int64_t kernel = 1;   // kernel side, pixels
  std::int64_t stride = 1;
  std::int64_t padding = 0;  // zero padding on each side, pixels
  std::int64_t groups = 1;
  int weight_bits = 8;
  int activation_bits = 8;   // bits of the input activations
  int output_bits = 8;       // bits the output is stored with for the next layer
  bool first_layer = false;  // the network's first conv (lowered with im2col)

  std::int64_t output_h() const noexcept {
    return (input_h + 2 * padding - kernel) / stride + 1;
  }
  std::int64_t output_w() const noexcept {
    return (input_w + 2 * padding - kernel) / stride + 1;
  }
  // Multiply-accumulates of the layer (0 for add and pool).
  std::int64_t macs() const noexcept;

  bool operator==(const LayerSpec&) const = default;
};

// Cost of one layer at the model's batch. Fields a model does not report stay
// zero; capabilities().metrics names the ones it does report.
struct Cost {
  double energy_mj = 0.0;
  double core_energy_mj = 0.0;  // compute units
  double sram_energy_mj = 0.0;  // on-chip buffers
  double dram_energy_mj = 0.0;  // off-chip traffic
  double latency_ms = 0.0;
  std::int64_t cycles = 0;
  std::int64_t compute_cycles = 0;
  std::int64_t stall_cycles = 0;
  std::int64_t dram_read_bits = 0;
  std::int64_t dram_write_bits = 0;
  std::int64_t sram_read_bits = 0;
  std::int64_t sram_write_bits = 0;
  std::int64_t macs = 0;
  std::int64_t bitops = 0;              // MACs x weight bits x activation bits
  std::int64_t weight_memory_bits = 0;  // weights stored at their bit-width
  std::int64_t activation_memory_bits = 0;
  // True when the value was not produced by this model's own data (for
  // example a lookup table that asked a fallback model).
  bool estimated = false;
};

// Names of the Cost fields, as used in capabilities().metrics and in budgets.
inline constexpr const char* kMetricNames[] = {
    "energy_mj",      "core_energy_mj",     "sram_energy_mj", "dram_energy_mj",
    "latency_ms",     "cycles",             "compute_cycles", "stall_cycles",
    "dram_read_bits", "dram_write_bits",    "sram_read_bits", "sram_write_bits",
    "macs",           "bitops",             "weight_memory_bits",
    "activation_memory_bits"};

// Value of the Cost field called `metric`; throws Error for an unknown name.
double metric_value(const Cost& cost, std::string_view metric);

Cost& operator+=(Cost& total, const Cost& layer) noexcept;

struct HardwareCapabilities {
  // Weight and activation bit-widths the model accepts.
  std::vector<int> supported_bits;
  // True when a network's cost is the sum of its layers' costs.
  bool additive = true;
  // True when cost() may be called from several threads at once.
  bool thread_safe = true;
  // Cost fields the model fills in (names from kMetricNames).
  std::vector<std::string> metrics;
  // Inference batch the model's published setting assumes (LayerSpec::batch
  // is still what each call uses).
  std::int64_t default_batch = 16;
};

class HardwareModel {
 public:
  virtual ~HardwareModel();

  virtual HardwareCapabilities capabilities() const = 0;

  // Checks in advance that every layer in `layers` can be costed, so that a
  // missing entry fails before any training. Raises Error listing every layer
  // that cannot be costed. The default accepts everything.
  virtual void prepare(std::span<const LayerSpec> layers);

  // Cost of one layer; see the contract above for errors.
  virtual Cost cost(const LayerSpec& layer) const = 0;
};

}  // namespace nasq::sdk
