// Key declarations of the core's stack sections.
#include "core/config/stack.hpp"

namespace nasq {
namespace {

using sdk::KeySpec;
using sdk::KeyType;

KeySpec key(std::string name, KeyType type, std::string default_toml, std::string doc,
            std::string unit = {}) {
  KeySpec spec;
  spec.name = std::move(name);
  spec.type = type;
  spec.default_toml = std::move(default_toml);
  spec.doc = std::move(doc);
  spec.unit = std::move(unit);
  return spec;
}

KeySpec choice(std::string name, std::string default_value, std::vector<std::string> allowed,
               std::string doc) {
  KeySpec spec = key(std::move(name), KeyType::string, "\"" + default_value + "\"", std::move(doc));
  spec.allowed = std::move(allowed);
  return spec;
}

KeySpec ranged(KeySpec spec, double min, double max) {
  spec.min = min;
  spec.max = max;
  return spec;
}

SectionSchema run_section() {
  return {"run",
          {key("name", KeyType::string, "\"run\"", "name of the run, used for its directory"),
           key("output_dir", KeyType::string, "\"runs\"",
               "directory that run directories are created in (relative to the stack file)"),
           ranged(key("seed", KeyType::integer, "1", "seed of every random generator"), 0, 9.2e18),
           choice("device", "cpu", {"cpu", "cuda"},
                  "device for LibTorch work; cuda needs a CUDA build of LibTorch"),
           ranged(key("threads", KeyType::integer, "0",
                      "LibTorch intra-op threads (0: one per core)"), 0, 1024),
           key("deterministic", KeyType::boolean, "false",
               "one thread and deterministic kernels, for bit-identical resumes")},
          ""};
}

SectionSchema plugins_section() {
  return {"plugins",
          {key("paths", KeyType::string_list, "[]",
               "plugin directories searched after --plugin-path and NASQ_PLUGIN_PATH "
               "(relative to the stack file)")},
          ""};
}

SectionSchema data_section() {
  return {"data",
          {choice("kind", "fashion-mnist",
                  {"fashion-mnist", "mnist", "cifar10", "cifar100", "image-folder"},
                  "dataset format"),
           key("path", KeyType::string, "\"/usr/share/datasets/fashion-mnist\"",
               "dataset directory (relative to the stack file)"),
           ranged(key("train_subset", KeyType::integer, "0",
                      "training images used (0: all)", "images"), 0, 1e9),
           choice("subset_mode", "random", {"first", "random"},
                  "first N images, or a seeded class-balanced random subset"),
           ranged(key("test_subset", KeyType::integer, "0", "test images used (0: all)", "images"),
                  0, 1e9),
           ranged(key("validation_fraction", KeyType::floating, "0.5",
                      "fraction of the training split held out for the search's "
                      "architecture updates"), 0.0, 0.9),
           choice("normalization", "auto", {"auto", "given", "none"},
                  "per-channel mean/std: computed from the training split, given, or none"),
           key("mean", KeyType::floating_list, "[]", "per-channel mean when normalization = \"given\""),
           key("std", KeyType::floating_list, "[]", "per-channel std when normalization = \"given\""),
           ranged(key("input_size", KeyType::integer, "0",
                      "square input side the images are resized to (0: native)", "pixels"), 0, 4096),
           ranged(key("channels", KeyType::integer, "0",
                      "image channels, 1 or 3, converting grey and RGB (0: native)"), 0, 3),
           ranged(key("shift_pad", KeyType::integer, "2",
                      "training augmentation: pad by this much and crop at random (0: off)",
                      "pixels"), 0, 64),
           choice("mirror", "auto", {"auto", "on", "off"},
                  "training augmentation: random horizontal flip (auto: on for CIFAR and "
                  "image folders, off for MNIST-style sets)"),
           choice("cifar100_labels", "fine", {"fine", "coarse"}, "CIFAR-100 label set"),
           ranged(key("workers", KeyType::integer, "1", "threads assembling batches ahead"), 0,
                  64)},
          ""};
}

SectionSchema search_space_section() {
  // Shape keys use 0 for "the preset's value"; [[search_space.stages]] tables
  // are checked by core/space against their own keys.
  return {"search_space",
          {choice("preset", "fashion-mnist", {"fashion-mnist", "cifar", "imagenet"},
                  "macro-architecture preset the keys below modify"),
           ranged(key("input_size", KeyType::integer, "0",
                      "square input side (0: the preset's)", "pixels"), 0, 4096),
           ranged(key("input_channels", KeyType::integer, "0",
                      "input image channels (0: the preset's)"), 0, 64),
           ranged(key("num_classes", KeyType::integer, "0",
                      "outputs of the FC layer (0: the data set's class count when known, "
                      "else the preset's)"), 0, 1e6),
           ranged(key("stem_channels", KeyType::integer, "0",
                      "output channels of the 3x3 stem conv (0: the preset's)"), 0, 8192),
           ranged(key("stem_stride", KeyType::integer, "0",
                      "stride of the stem conv: 1 or 2 (0: the preset's)"), 0, 2),
           ranged(key("head_channels", KeyType::integer, "0",
                      "output channels of the 1x1 head conv (0: the preset's)"), 0, 65536),
           key("skip_choices", KeyType::integer_list, "[0, 1]",
               "skip decision of each MB block: 0 keeps the block, 1 skips it; only blocks with "
               "stride 1 and equal input and output channels get 1"),
           key("expansion_choices", KeyType::integer_list, "[1, 3, 6]",
               "expansion ratios of the MB blocks (1: no expansion conv)"),
           key("kernel_choices", KeyType::integer_list, "[3, 5, 7]",
               "depthwise kernel sizes (odd)", "pixels"),
           key("bottleneck_bits", KeyType::integer_list, "[2, 4, 6, 8]",
               "bit-widths of the expansion and projection 1x1 convs (weights and input "
               "activations)", "bits"),
           key("depthwise_bits", KeyType::integer_list, "[2, 4, 6, 8]",
               "bit-widths of the depthwise conv (weights and input activations)", "bits")},
          "",
          {"stages"}};
}

SectionSchema quantizer_section() {
  return {"quantizer",
          {key("plugin", KeyType::string, "\"linear\"", "quantizer plugin")},
          "quantizer"};
}

SectionSchema hardware_section() {
  return {"hardware",
          {key("plugin", KeyType::string, "\"bitfusion\"", "hardware cost model plugin"),
           ranged(key("batch", KeyType::integer, "16", "inference batch the cost is computed for",
                      "images"), 1, 65536)},
          "hardware"};
}

SectionSchema search_section() {
  return {"search",
          {key("plugin", KeyType::string, "\"reinforce-hybrid\"", "search strategy plugin"),
           ranged(key("epochs", KeyType::integer, "4", "search epochs after the warm-up"), 0,
                  100000),
           ranged(key("warmup_epochs", KeyType::integer, "1",
                      "epochs that train the weights on uniformly sampled paths before any "
                      "architecture update"), 0, 100000),
           ranged(key("batch_size", KeyType::integer, "64", "images per search batch"), 1, 65536),
           ranged(key("steps_per_epoch", KeyType::integer, "0",
                      "steps per epoch (0: one pass over the training split)"), 0, 1e9),
           ranged(key("weight_lr", KeyType::floating, "0.05", "initial learning rate of the "
                      "supernet weights (SGD with momentum)"), 0, 100),
           ranged(key("weight_momentum", KeyType::floating, "0.9", "SGD momentum of the weights"),
                  0, 1),
           ranged(key("weight_decay", KeyType::floating, "0.0001", "weight decay of the weights"),
                  0, 1),
           choice("weight_lr_schedule", "cosine", {"cosine", "constant"},
                  "learning-rate schedule of the weights over all search steps"),
           choice("weight_sharing", "masked", {"masked", "shared", "separate"},
                  "expansion ratios as channel masks of the widest one's path (masked, an "
                  "approximation), one path each on shared parameters (shared), or separate "
                  "parameters and paths (separate)"),
           choice("bit_mixing", "fast", {"fast", "exact"},
                  "mix quantized weights and activations before one conv (fast), or one conv "
                  "per bit choice (exact)"),
           ranged(key("checkpoint_every", KeyType::integer, "50",
                      "steps between checkpoints (each epoch end also writes one)"), 1, 1e9),
           ranged(key("evaluation_batches", KeyType::integer, "20",
                      "validation batches used to score one discrete architecture"), 1, 1e6),
           key("energy_budget", KeyType::quantity, "\"0 mJ\"",
               "energy budget per inference batch (0: none)", "mJ"),
           ranged(key("energy_lambda", KeyType::floating, "0.0", "weight of the energy penalty"), 0,
                  1e12),
           key("latency_budget", KeyType::quantity, "\"0 ms\"",
               "latency budget per inference batch (0: none)", "ms"),
           ranged(key("latency_lambda", KeyType::floating, "0.0", "weight of the latency penalty"),
                  0, 1e12),
           key("model_size_budget", KeyType::quantity, "\"0 B\"",
               "budget on the weights stored at their bit-widths (0: none)", "B"),
           ranged(key("model_size_lambda", KeyType::floating, "0.0",
                      "weight of the model-size penalty"), 0, 1e12),
           key("bitops_budget", KeyType::quantity, "\"0 G\"",
               "budget on MACs x weight bits x activation bits per inference batch (0: none)",
               "G"),
           ranged(key("bitops_lambda", KeyType::floating, "0.0", "weight of the BitOPs penalty"),
                  0, 1e12),
           key("normalize_cost", KeyType::boolean, "false",
               "divide each cost by its budget in the penalty")},
          "strategy"};
}

SectionSchema train_section() {
  return {"train",
          {ranged(key("epochs", KeyType::integer, "10", "final training epochs"), 0, 100000),
           ranged(key("batch_size", KeyType::integer, "128", "images per batch"), 1, 65536),
           ranged(key("lr", KeyType::floating, "0.1", "initial learning rate (SGD)"), 0, 100),
           ranged(key("momentum", KeyType::floating, "0.9", "SGD momentum"), 0, 1),
           key("nesterov", KeyType::boolean, "true", "Nesterov momentum"),
           ranged(key("weight_decay", KeyType::floating, "0.00005", "weight decay"), 0, 1),
           choice("lr_schedule", "cosine", {"cosine", "constant"},
                  "learning-rate schedule over all training steps"),
           ranged(key("label_smoothing", KeyType::floating, "0.1",
                      "label smoothing of the cross-entropy loss"), 0, 0.99),
           ranged(key("mixup_alpha", KeyType::floating, "0.2",
                      "mixup: lambda drawn from Beta(alpha, alpha) (0: off)"), 0, 100),
           choice("batch_norm", "standard", {"standard", "range"},
                  "training-mode batch norm: batch variance, or range batch normalization"),
           ranged(key("clip_value", KeyType::floating, "5.0",
                      "clip every gradient element to [-clip_value, clip_value] (0: off)"), 0,
                  1e9)},
          ""};
}

}  // namespace

const std::vector<SectionSchema>& core_schema() {
  static const std::vector<SectionSchema> schema = {
      run_section(),       plugins_section(),  data_section(),   search_space_section(),
      quantizer_section(), hardware_section(), search_section(), train_section()};
  return schema;
}

}  // namespace nasq
