// Times one search step of the supernet and measures its peak memory, against
// a naive mixed supernet built the way FBNet-style code mixes candidates.
//
// A search step is a weight update on a training batch plus a logit update on
// a validation batch. The weight update runs forward, backward and an SGD step
// on the network. The logit update runs forward, backward into the decision
// logits only, and an Adam step. Both use one Gumbel-Softmax sample per
// decision and batch, on random images of the space's input shape. Each
// variant runs in its own forked process, which reports the median time per
// step and its peak resident memory above what it had before building the
// network. A first section times one 7x7 depthwise conv (forward and
// backward) with LibTorch's kernels and with nasq's depthwise_conv2d().
//
// Variants:
//   supernet        nasq's supernet with its defaults: bit_mixing = "fast",
//                   weight_sharing = "masked"
//   supernet-exact  nasq's supernet, bit_mixing = "exact"
//   supernet-shared nasq's supernet, weight_sharing = "shared" (one path
//                   per expansion ratio instead of channel masks)
//   supernet-path   nasq's supernet, weight update on one uniformly sampled
//                   architecture (one-hot weights, as warm-up epochs and the
//                   population strategies train), logit update as above
//   supernet-per-image  nasq's supernet with one Gumbel-Softmax sample per
//                   image in both updates (noise = "per_sample")
//   naive           every decision mixed where it acts with separate ops:
//                   one expansion branch per ratio, one depthwise conv per
//                   kernel, one separately quantized conv per bit choice
//                   of every conv; LibTorch's convolutions, NCHW layout
//   naive-fastconv  the same network with nasq's channels-last depthwise
//                   convolution, to separate the mixing from the kernel
//   discrete        the discrete network of the space's largest architecture
//                   (a final-training step: weight update only)
//
// Usage: bench_supernet [--stack FILE] [--steps N] [--threads N] [--batch N]
//                       [--variants LIST] [--plugins DIR] [--quantizer NAME]
//                       [--conv-only] [--profile PREFIX] [--default-allocator]
//
// --stack takes the search space from a TOML stack (its [search_space]
// section) instead of the fashion-mnist preset. --quantizer names a quantizer
// plugin found in --plugins (default: the build's plugin folder; "linear").
// --profile runs one more step per variant under LibTorch's profiler, not
// timed, and writes its Chrome trace to PREFIX.VARIANT.json. Every variant
// runs with the malloc settings of the nasq executable
// (util::keep_freed_memory()); --default-allocator keeps glibc's defaults.
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <torch/csrc/autograd/profiler_legacy.h>
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <functional>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "core/config/stack.hpp"
#include "core/model/layers.hpp"
#include "core/model/supernet.hpp"
#include "core/plugin/host.hpp"
#include "core/plugin/registry.hpp"
#include "core/plugin/torch_plugins.hpp"
#include "core/space/space_config.hpp"
#include "core/util/allocator.hpp"
#include "nasq/sdk/error.hpp"

namespace {

namespace model = nasq::model;
namespace space = nasq::space;
using Clock = std::chrono::steady_clock;

struct BenchOptions {
  std::optional<std::string> stack_file;
  int steps = 3;          // timed steps per variant, after one warm-up step
  int threads = 0;        // LibTorch intra-op threads; 0 keeps LibTorch's default
  std::int64_t batch = 64;
  std::vector<std::string> variants = {"supernet", "supernet-exact", "supernet-path", "naive",
                                       "naive-fastconv", "discrete"};
  std::string plugin_dir = NASQ_PLUGIN_OUTPUT_DIR;
  std::string quantizer = "linear";
  bool conv_only = false;  // time the depthwise convolutions only
  // Prefix of the Chrome traces that LibTorch's profiler writes for one
  // extra, untimed step per variant (PREFIX.VARIANT.json); empty: none.
  std::string profile_prefix;
  // Keep glibc's malloc settings instead of nasq's (util::keep_freed_memory).
  bool default_allocator = false;
};

// ---------------------------------------------------------------- naive supernet

// sum_b g_b conv(q_a(x, b), q_w(W, b)): one separately quantized conv per bit
// choice, all on the same weight.
class BitMixedConvImpl : public torch::nn::Module {
 public:
  BitMixedConvImpl(const nasq::sdk::Quantizer& quantizer, const std::string& name,
                   std::int64_t in, std::int64_t out, std::int64_t kernel, bool depthwise,
                   std::int64_t stride, std::vector<int> bits, bool input_non_negative,
                   bool library_convs)
      : bits_(std::move(bits)),
        depthwise_(depthwise),
        stride_(stride),
        library_convs_(library_convs) {
    weight = register_parameter("weight", torch::empty({out, depthwise ? 1 : in, kernel, kernel}));
    model::init_conv_weight(weight);
    using nasq::sdk::TensorRole;
    input_quantizer = register_module(
        "input_quantizer",
        model::make_quantizer_op(quantizer, model::make_site(name, TensorRole::activation,
                                                             input_non_negative, out, bits_)));
    weight_quantizer = register_module(
        "weight_quantizer",
        model::make_quantizer_op(quantizer,
                                 model::make_site(name, TensorRole::weight, false, out, bits_)));
  }

  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& bit_weights) {
    torch::Tensor sum;
    for (std::size_t i = 0; i < bits_.size(); ++i) {
      const torch::Tensor input = input_quantizer->forward(x, bits_[i]);
      const torch::Tensor w = weight_quantizer->forward(weight, bits_[i]);
      const torch::Tensor term = conv(input, w) * bit_weights[static_cast<std::int64_t>(i)];
      sum = sum.defined() ? sum + term : term;
    }
    return sum;
  }

  torch::Tensor weight;
  std::shared_ptr<nasq::sdk::QuantizerOp> input_quantizer, weight_quantizer;

 private:
  torch::Tensor conv(const torch::Tensor& input, const torch::Tensor& w) const {
    const std::int64_t padding = w.size(-1) / 2;
    if (!depthwise_) return at::conv2d(input, w, {}, stride_, padding);
    if (library_convs_) return model::depthwise_conv2d(input, w, stride_);
    return at::conv2d(input, w, {}, stride_, padding, 1, input.size(1));
  }

  std::vector<int> bits_;
  bool depthwise_;
  std::int64_t stride_;
  bool library_convs_;
};
TORCH_MODULE(BitMixedConv);

// An MB block mixed layer by layer: the expansion output is the weighted sum
// of one branch per ratio (zero-padded to the largest), the depthwise output
// the weighted sum of one conv per kernel, and every conv is a BitMixedConv.
class NaiveBlockImpl : public torch::nn::Module {
 public:
  NaiveBlockImpl(const space::BlockSlot& slot, const nasq::sdk::Quantizer& quantizer,
                 bool library_convs)
      : slot_(slot) {
    const std::string group = "block" + std::to_string(slot.index);
    for (const int m : slot.expansion_choices) hidden_ = std::max<std::int64_t>(hidden_, m);
    hidden_ *= slot.input_channels;
    for (const int m : slot.expansion_choices) {
      if (m == 1) {
        expand_.push_back(nullptr);
        expand_bn_.push_back(nullptr);
        continue;
      }
      const std::int64_t channels = slot.input_channels * m;
      const std::string suffix = std::to_string(m);
      expand_.push_back(register_module(
          "expand_m" + suffix,
          BitMixedConv(quantizer, group + ".expand", slot.input_channels, channels, 1, false, 1,
                       slot.bottleneck_bits, slot.index == 0, library_convs)));
      expand_bn_.push_back(register_module("expand_bn_m" + suffix, torch::nn::BatchNorm2d(channels)));
    }
    for (const int k : slot.kernel_choices) {
      dw_.push_back(register_module(
          "dw_k" + std::to_string(k),
          BitMixedConv(quantizer, group + ".dw", hidden_, hidden_, k, true, slot.stride,
                       slot.depthwise_bits, false, library_convs)));
    }
    dw_bn_ = register_module("dw_bn", torch::nn::BatchNorm2d(hidden_));
    project_ = register_module(
        "project", BitMixedConv(quantizer, group + ".project", hidden_, slot.output_channels, 1,
                                false, 1, slot.bottleneck_bits, true, library_convs));
    project_bn_ = register_module("project_bn", torch::nn::BatchNorm2d(slot.output_channels));
  }

  torch::Tensor forward(const torch::Tensor& x, const std::vector<torch::Tensor>& w) {
    const torch::Tensor &skip = w[0], &expansion = w[1], &kernel = w[2], &b1 = w[3], &b2 = w[4];
    torch::Tensor hidden;
    for (std::size_t i = 0; i < expand_.size(); ++i) {
      torch::Tensor branch = x;
      if (expand_[i]) {
        branch = torch::clamp(expand_bn_[i]->forward(expand_[i]->forward(x, b1)), 0.0, 6.0);
      }
      branch = torch::constant_pad_nd(branch, {0, 0, 0, 0, 0, hidden_ - branch.size(1)});
      const torch::Tensor term = branch * expansion[static_cast<std::int64_t>(i)];
      hidden = hidden.defined() ? hidden + term : term;
    }
    torch::Tensor dw;
    for (std::size_t i = 0; i < dw_.size(); ++i) {
      const torch::Tensor term = dw_[i]->forward(hidden, b2) * kernel[static_cast<std::int64_t>(i)];
      dw = dw.defined() ? dw + term : term;
    }
    dw = torch::clamp(dw_bn_->forward(dw), 0.0, 6.0);
    torch::Tensor out = project_bn_->forward(project_->forward(dw, b1));
    if (slot_.residual) out = x + out;

    torch::Tensor mixed;
    for (std::size_t i = 0; i < slot_.skip_choices.size(); ++i) {
      const torch::Tensor term =
          (slot_.skip_choices[i] == 1 ? x : out) * skip[static_cast<std::int64_t>(i)];
      mixed = mixed.defined() ? mixed + term : term;
    }
    return mixed;
  }

 private:
  space::BlockSlot slot_;
  std::int64_t hidden_ = 0;
  std::vector<BitMixedConv> expand_;
  std::vector<torch::nn::BatchNorm2d> expand_bn_;
  std::vector<BitMixedConv> dw_;
  torch::nn::BatchNorm2d dw_bn_{nullptr};
  BitMixedConv project_{nullptr};
  torch::nn::BatchNorm2d project_bn_{nullptr};
};
TORCH_MODULE(NaiveBlock);

class NaiveSupernetImpl : public torch::nn::Module {
 public:
  NaiveSupernetImpl(const space::SearchSpace& space, const nasq::sdk::Quantizer& quantizer,
                    bool library_convs)
      : channels_last_(library_convs) {
    const space::SpaceOptions& options = space.options();
    model::QuantizedConvOptions stem;
    stem.name = "stem";
    stem.in_channels = options.input_channels;
    stem.out_channels = options.stem_channels;
    stem.kernel = 3;
    stem.stride = options.stem_stride;
    stem_ = register_module("stem", model::QuantizedConv(quantizer, stem));
    for (const space::BlockSlot& slot : space.blocks()) {
      blocks_.push_back(register_module("block" + std::to_string(slot.index),
                                        NaiveBlock(slot, quantizer, library_convs)));
    }
    model::QuantizedConvOptions head;
    head.name = "head";
    head.in_channels = space.head_input_channels();
    head.out_channels = options.head_channels;
    head_ = register_module("head", model::QuantizedConv(quantizer, head));
    fc_ = register_module("fc", model::QuantizedLinear(quantizer, "fc", options.head_channels,
                                                       options.num_classes));
  }

  torch::Tensor forward(const torch::Tensor& images, const std::vector<torch::Tensor>& weights) {
    torch::Tensor x = channels_last_ ? images.contiguous(at::MemoryFormat::ChannelsLast) : images;
    // nasq's stem returns a channels-last tensor in training; `naive` runs
    // its blocks in NCHW, as FBNet-style code does.
    x = stem_->forward(x);
    if (!channels_last_) x = x.contiguous();
    for (std::size_t b = 0; b < blocks_.size(); ++b) {
      const auto first = weights.begin() + static_cast<std::ptrdiff_t>(b * 5);
      x = blocks_[b]->forward(x, std::vector<torch::Tensor>(first, first + 5));
    }
    return fc_->forward(head_->forward(x).mean({2, 3}));
  }

 private:
  bool channels_last_;
  model::QuantizedConv stem_{nullptr};
  std::vector<NaiveBlock> blocks_;
  model::QuantizedConv head_{nullptr};
  model::QuantizedLinear fc_{nullptr};
};
TORCH_MODULE(NaiveSupernet);

// ---------------------------------------------------------------- measurement

// Milliseconds of the fastest of `repeats` calls after one warm-up call.
double fastest_ms(const std::function<void()>& call, int repeats) {
  call();
  double best = 1e300;
  for (int i = 0; i < repeats; ++i) {
    const auto start = Clock::now();
    call();
    best = std::min(best, std::chrono::duration<double, std::milli>(Clock::now() - start).count());
  }
  return best;
}

// Forward and backward of a 7x7 depthwise conv on 64x96x28x28 (the largest
// depthwise conv of the fashion-mnist preset), three ways.
void time_depthwise_convs(int repeats) {
  const torch::Tensor input = torch::randn({64, 96, 28, 28});
  const torch::Tensor weight = torch::randn({96, 1, 7, 7});
  const torch::Tensor grad = torch::randn({64, 96, 28, 28});
  auto run = [&](const torch::Tensor& x_value, const torch::Tensor& g_value, bool nasq_conv) {
    const torch::Tensor x = x_value.detach().requires_grad_(true);
    const torch::Tensor w = weight.detach().requires_grad_(true);
    const torch::Tensor y =
        nasq_conv ? model::depthwise_conv2d(x, w, 1) : at::conv2d(x, w, {}, 1, 3, 1, 96);
    y.backward(g_value);
  };
  const torch::Tensor input_cl = input.contiguous(at::MemoryFormat::ChannelsLast);
  const torch::Tensor grad_cl = grad.contiguous(at::MemoryFormat::ChannelsLast);
  std::printf("7x7 depthwise conv 64x96x28x28, forward + backward (fastest of %d):\n", repeats);
  std::printf("  LibTorch, NCHW            %10.1f ms\n",
              fastest_ms([&] { run(input, grad, false); }, repeats));
  std::printf("  LibTorch, channels-last   %10.1f ms\n",
              fastest_ms([&] { run(input_cl, grad_cl, false); }, repeats));
  std::printf("  nasq depthwise_conv2d     %10.1f ms\n",
              fastest_ms([&] { run(input_cl, grad_cl, true); }, repeats));
}

// Result of one variant, sent from the child process as one text line.
struct Measurement {
  double weight_step_ms = 0.0;  // median
  double logit_step_ms = 0.0;   // median
  double peak_mib = 0.0;        // peak resident memory above the start of the child
  double profiled_hwm_mib = -1.0;  // VmHWM before the profiled step, -1 without one
  std::int64_t parameters = 0;
};

// A field of /proc/self/status ("VmRSS", "VmHWM") in MiB, or -1.
double status_mib(const std::string& field) {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind(field + ":", 0) != 0) continue;
    std::istringstream values(line.substr(field.size() + 1));
    double kib = 0.0;
    values >> kib;
    return kib / 1024.0;
  }
  return -1.0;
}

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values[values.size() / 2];
}

// Gumbel-Softmax sample of every decision at temperature `tau`: one 1-D
// sample per decision, or one row per image when `images` > 0.
std::vector<torch::Tensor> gumbel_softmax(const std::vector<torch::Tensor>& logits, double tau,
                                          std::int64_t images = 0) {
  std::vector<torch::Tensor> weights;
  for (const torch::Tensor& l : logits) {
    const torch::Tensor expanded = images > 0 ? l.unsqueeze(0).expand({images, l.size(0)}) : l;
    const torch::Tensor uniform = torch::rand_like(expanded).clamp(1e-10, 1.0 - 1e-10);
    weights.push_back(torch::softmax((expanded - torch::log(-torch::log(uniform))) / tau, -1));
  }
  return weights;
}

// One-hot weights of a uniformly sampled architecture.
std::vector<torch::Tensor> sampled_path(const std::vector<torch::Tensor>& logits) {
  std::vector<torch::Tensor> weights;
  for (const torch::Tensor& l : logits) {
    const std::int64_t chosen = torch::randint(l.size(0), {1}).item<std::int64_t>();
    weights.push_back(torch::one_hot(torch::tensor(chosen), l.size(0)).to(torch::kFloat));
  }
  return weights;
}

using Forward = std::function<torch::Tensor(const torch::Tensor&, const std::vector<torch::Tensor>&)>;

Measurement run_steps(const std::string& variant_name, torch::nn::Module& network,
                      const Forward& forward, const space::SearchSpace& space,
                      const BenchOptions& options,
                      bool sampled_weight_step, bool logit_step = true, bool per_image = false) {
  const std::int64_t noise_images = per_image ? options.batch : 0;
  const space::SpaceOptions& shape = space.options();
  const torch::Tensor train_images =
      torch::randn({options.batch, shape.input_channels, shape.input_size, shape.input_size});
  const torch::Tensor val_images = torch::randn_like(train_images);
  const torch::Tensor train_labels = torch::randint(shape.num_classes, {options.batch});
  const torch::Tensor val_labels = torch::randint(shape.num_classes, {options.batch});

  std::vector<torch::Tensor> logits;
  for (const space::Decision& decision : space.decisions()) {
    logits.push_back(torch::zeros({static_cast<std::int64_t>(decision.choices.size())},
                                  torch::requires_grad()));
  }
  torch::optim::SGD weight_optimizer(network.parameters(),
                                     torch::optim::SGDOptions(0.01).momentum(0.9));
  torch::optim::Adam logit_optimizer(logits, torch::optim::AdamOptions(3e-4));
  network.train();

  std::vector<double> weight_ms, logit_ms;
  double profiled_hwm_mib = -1.0;
  // Step 0 warms up; a step after the timed ones runs under the profiler.
  const int last_step = options.steps + (options.profile_prefix.empty() ? 0 : 1);
  for (int step = 0; step <= last_step; ++step) {
    const bool timed = step > 0 && step <= options.steps;
    std::optional<torch::autograd::profiler::RecordProfile> profile;
    if (step > options.steps) {
      profiled_hwm_mib = status_mib("VmHWM");
      profile.emplace(options.profile_prefix + "." + variant_name + ".json");
    }
    auto start = Clock::now();
    std::vector<torch::Tensor> sample;
    {
      torch::NoGradGuard no_grad;
      sample = sampled_weight_step ? sampled_path(logits)
                                   : gumbel_softmax(logits, 5.0, noise_images);
    }
    weight_optimizer.zero_grad();
    torch::nn::functional::cross_entropy(forward(train_images, sample), train_labels).backward();
    weight_optimizer.step();
    const double weight_elapsed =
        std::chrono::duration<double, std::milli>(Clock::now() - start).count();
    if (!logit_step) {
      if (timed) weight_ms.push_back(weight_elapsed);
      continue;
    }

    start = Clock::now();
    const torch::Tensor loss =
        torch::nn::functional::cross_entropy(
            forward(val_images, gumbel_softmax(logits, 5.0, noise_images)), val_labels);
    const std::vector<torch::Tensor> grads = torch::autograd::grad({loss}, logits);
    for (std::size_t i = 0; i < logits.size(); ++i) logits[i].mutable_grad() = grads[i];
    logit_optimizer.step();
    const double logit_elapsed =
        std::chrono::duration<double, std::milli>(Clock::now() - start).count();

    if (!timed) continue;
    weight_ms.push_back(weight_elapsed);
    logit_ms.push_back(logit_elapsed);
  }

  Measurement result;
  result.weight_step_ms = median(weight_ms);
  result.logit_step_ms = logit_step ? median(logit_ms) : 0.0;
  result.profiled_hwm_mib = profiled_hwm_mib;
  for (const torch::Tensor& p : network.parameters()) result.parameters += p.numel();
  return result;
}

Measurement run_variant(const std::string& variant, const space::SearchSpace& space,
                        const nasq::sdk::Quantizer& quantizer, const BenchOptions& options) {
  if (variant == "supernet" || variant == "supernet-exact" || variant == "supernet-shared" ||
      variant == "supernet-path" || variant == "supernet-per-image") {
    model::SupernetOptions supernet_options;
    supernet_options.bit_mixing = variant == "supernet-exact" ? "exact" : "fast";
    if (variant == "supernet-shared") supernet_options.weight_sharing = "shared";
    model::Supernet supernet(space, quantizer, supernet_options);
    return run_steps(variant, *supernet, [&](const auto& x, const auto& w) { return supernet->forward(x, w); },
                     space, options, variant == "supernet-path", true,
                     variant == "supernet-per-image");
  }
  if (variant == "naive" || variant == "naive-fastconv") {
    NaiveSupernet naive(space, quantizer, variant == "naive-fastconv");
    return run_steps(variant, *naive, [&](const auto& x, const auto& w) { return naive->forward(x, w); },
                     space, options, false);
  }
  if (variant == "discrete") {
    model::DiscreteNetwork network(space, space::largest_architecture(space), quantizer);
    return run_steps(variant, *network, [&](const auto& x, const auto&) { return network->forward(x); },
                     space, options, false, false);
  }
  throw nasq::sdk::Error("unknown variant '" + variant +
                         "'; valid variants: supernet, supernet-exact, supernet-shared, "
                         "supernet-path, supernet-per-image, naive, naive-fastconv, discrete");
}

// Runs one variant in a child process and reads its measurement from a pipe,
// so that every variant's peak memory starts from the same baseline.
std::optional<Measurement> measure_in_child(const std::string& variant,
                                            const space::SearchSpace& space,
                                            const nasq::sdk::Quantizer& quantizer,
                                            const BenchOptions& options) {
  int fds[2];
  if (pipe(fds) != 0) throw nasq::sdk::Error("pipe() failed");
  const pid_t pid = fork();
  if (pid < 0) throw nasq::sdk::Error("fork() failed");
  if (pid == 0) {
    close(fds[0]);
    int code = 0;
    std::string line;
    try {
      if (options.threads > 0) torch::set_num_threads(options.threads);
      std::ofstream("/proc/self/clear_refs") << "5";  // resets VmHWM to the current RSS
      const double start_mib = status_mib("VmRSS");
      Measurement m = run_variant(variant, space, quantizer, options);
      // The profiler's records do not count towards the peak.
      const double hwm = m.profiled_hwm_mib >= 0.0 ? m.profiled_hwm_mib : status_mib("VmHWM");
      m.peak_mib = hwm - start_mib;
      std::ostringstream text;
      text << m.weight_step_ms << ' ' << m.logit_step_ms << ' ' << m.peak_mib << ' '
           << m.parameters << '\n';
      line = text.str();
    } catch (const std::exception& error) {
      std::fprintf(stderr, "variant %s failed: %s\n", variant.c_str(), error.what());
      code = 1;
    }
    if (!line.empty() && write(fds[1], line.data(), line.size()) < 0) code = 1;
    close(fds[1]);
    _exit(code);
  }

  close(fds[1]);
  std::string text;
  char buffer[256];
  ssize_t count = 0;
  while ((count = read(fds[0], buffer, sizeof(buffer))) > 0) text.append(buffer, count);
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || text.empty()) return std::nullopt;

  Measurement m;
  std::istringstream values(text);
  values >> m.weight_step_ms >> m.logit_step_ms >> m.peak_mib >> m.parameters;
  return m;
}

BenchOptions parse_options(int argc, char** argv) {
  BenchOptions options;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) throw nasq::sdk::Error("option " + arg + " needs a value");
      return argv[++i];
    };
    if (arg == "--stack") {
      options.stack_file = value();
    } else if (arg == "--steps") {
      options.steps = std::max(1, std::stoi(value()));
    } else if (arg == "--threads") {
      options.threads = std::stoi(value());
    } else if (arg == "--batch") {
      options.batch = std::stoll(value());
    } else if (arg == "--plugins") {
      options.plugin_dir = value();
    } else if (arg == "--quantizer") {
      options.quantizer = value();
    } else if (arg == "--conv-only") {
      options.conv_only = true;
    } else if (arg == "--profile") {
      options.profile_prefix = value();
    } else if (arg == "--default-allocator") {
      options.default_allocator = true;
    } else if (arg == "--variants") {
      options.variants.clear();
      std::istringstream list(value());
      std::string name;
      while (std::getline(list, name, ',')) options.variants.push_back(name);
    } else {
      throw nasq::sdk::Error(
          "unknown argument '" + arg +
          "'; usage: bench_supernet [--stack FILE] [--steps N] [--threads N] [--batch N] "
          "[--variants supernet,supernet-exact,supernet-shared,supernet-path,naive,"
          "naive-fastconv,discrete] [--plugins DIR] [--quantizer NAME] [--conv-only] "
          "[--profile PREFIX] [--default-allocator]");
    }
  }
  return options;
}

space::SearchSpace load_space(const BenchOptions& options) {
  if (!options.stack_file) return space::SearchSpace(space::preset_options("fashion-mnist"));
  nasq::Stack stack = nasq::Stack::load_file(*options.stack_file);
  stack.validate_core();
  return space::load_search_space(stack);
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const BenchOptions options = parse_options(argc, argv);
    const bool nasq_allocator = !options.default_allocator && nasq::util::keep_freed_memory();
    const space::SearchSpace search_space = load_space(options);

    nasq::PluginRegistry registry;
    registry.scan({options.plugin_dir});
    nasq::Stack stack = nasq::Stack::parse("", "bench");
    stack.validate_core();
    nasq::PluginFactory factory(stack, registry);
    const std::shared_ptr<nasq::sdk::Quantizer> quantizer =
        nasq::create_quantizer(factory, options.quantizer);

    if (options.conv_only) {
      if (options.threads > 0) torch::set_num_threads(options.threads);
      time_depthwise_convs(3);
      return 0;
    }
    // No LibTorch work runs in this process before the variants fork: an
    // OpenMP thread pool does not survive fork().
    std::printf("space: %s\nquantizer: %s\n", search_space.description().c_str(),
                options.quantizer.c_str());
    std::printf("batch %lld, %d timed steps after one warm-up, LibTorch threads: %s\n",
                static_cast<long long>(options.batch), options.steps,
                options.threads > 0 ? std::to_string(options.threads).c_str() : "default");
    std::printf("malloc: %s\n", nasq_allocator ? "nasq's settings (freed memory kept for reuse)"
                                               : "the C library's defaults or the user's settings");
    std::printf("%-20s %12s %12s %12s %14s %12s\n", "variant", "weight ms", "logit ms",
                "step ms", "peak MiB", "parameters");

    std::map<std::string, Measurement> results;
    for (const std::string& variant : options.variants) {
      const std::optional<Measurement> m =
          measure_in_child(variant, search_space, *quantizer, options);
      if (!m) {
        std::printf("%-20s failed\n", variant.c_str());
        continue;
      }
      results[variant] = *m;
      std::printf("%-20s %12.1f %12.1f %12.1f %14.1f %12lld\n", variant.c_str(), m->weight_step_ms,
                  m->logit_step_ms, m->weight_step_ms + m->logit_step_ms, m->peak_mib,
                  static_cast<long long>(m->parameters));
      std::fflush(stdout);
    }

    const auto base = results.find("supernet");
    if (base == results.end()) return 0;
    const double base_ms = base->second.weight_step_ms + base->second.logit_step_ms;
    for (const auto& [variant, m] : results) {
      if (variant == "supernet") continue;
      std::printf("%s / supernet: time %.2fx, peak memory %.2fx\n", variant.c_str(),
                  (m.weight_step_ms + m.logit_step_ms) / base_ms,
                  m.peak_mib / base->second.peak_mib);
    }
    return 0;
  } catch (const std::exception& error) {
    std::fprintf(stderr, "bench_supernet: %s\n", error.what());
    return 1;
  }
}
