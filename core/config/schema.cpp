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
           ranged(key("shift_pad", KeyType::integer, "2",
                      "training augmentation: pad by this much and crop at random (0: off)",
                      "pixels"), 0, 64),
           key("mirror", KeyType::boolean, "false", "training augmentation: random horizontal flip"),
           choice("cifar100_labels", "fine", {"fine", "coarse"}, "CIFAR-100 label set"),
           ranged(key("workers", KeyType::integer, "1", "threads assembling batches"), 0, 64)},
          ""};
}

SectionSchema search_space_section() {
  return {"search_space",
          {choice("preset", "fashion-mnist", {"fashion-mnist", "cifar", "imagenet"},
                  "macro-architecture preset")},
          ""};
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
           ranged(key("epochs", KeyType::integer, "4", "search epochs"), 0, 100000),
           ranged(key("batch_size", KeyType::integer, "64", "images per search batch"), 1, 65536),
           key("energy_budget", KeyType::quantity, "\"0 mJ\"",
               "energy budget per inference batch (0: none)", "mJ"),
           ranged(key("energy_lambda", KeyType::floating, "0.0", "weight of the energy penalty"), 0,
                  1e12),
           key("latency_budget", KeyType::quantity, "\"0 ms\"",
               "latency budget per inference batch (0: none)", "ms"),
           ranged(key("latency_lambda", KeyType::floating, "0.0", "weight of the latency penalty"),
                  0, 1e12)},
          "strategy"};
}

SectionSchema train_section() {
  return {"train",
          {ranged(key("epochs", KeyType::integer, "10", "final training epochs"), 0, 100000),
           ranged(key("batch_size", KeyType::integer, "128", "images per batch"), 1, 65536)},
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
