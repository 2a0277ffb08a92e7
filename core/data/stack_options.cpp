// [data] section of a stack to DataOptions.
#include "core/data/stack_options.hpp"

#include <filesystem>

#include "nasq/sdk/error.hpp"

namespace nasq::data {

DataOptions data_options_from_stack(const Stack& stack, std::int64_t batch_size) {
  DataOptions options;
  options.kind = stack.get_string("data.kind");
  const std::filesystem::path path(stack.get_string("data.path"));
  options.path = path.is_absolute() ? path.string() : (stack.base_directory() / path).string();
  options.train_subset = stack.get_int("data.train_subset");
  options.test_subset = stack.get_int("data.test_subset");
  options.subset_mode = stack.get_string("data.subset_mode");
  options.validation_fraction = stack.get_double("data.validation_fraction");
  options.normalization = stack.get_string("data.normalization");
  options.mean = stack.get_double_list("data.mean");
  options.std = stack.get_double_list("data.std");
  options.input_size = stack.get_int("data.input_size");
  options.channels = stack.get_int("data.channels");
  options.shift_pad = stack.get_int("data.shift_pad");
  options.random_shift = options.shift_pad > 0;
  const std::string mirror = stack.get_string("data.mirror");
  if (mirror != "auto") options.mirror = mirror == "on";
  options.cifar100_labels = stack.get_string("data.cifar100_labels");
  options.workers = stack.get_int("data.workers");
  options.seed = static_cast<std::uint64_t>(stack.get_int("run.seed"));
  options.batch_size = batch_size;

  try {
    validate(options);
  } catch (const sdk::ConfigError& error) {
    const std::string path_key = "data." + error.key();
    throw sdk::ConfigError(path_key, stack.location(path_key) + ": " + error.what());
  }
  return options;
}

}  // namespace nasq::data
