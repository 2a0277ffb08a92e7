// Search checkpoints: everything needed to continue a search exactly, written
// atomically; and the check that a resumed search has the same config and plugins.
#include <sstream>

#include "core/search/runner_impl.hpp"
#include "core/util/atomic_file.hpp"
#include "core/util/log.hpp"
#include "nasq/sdk/error.hpp"

namespace nasq::search {
namespace {

// Format 2 added "supernet.gradient_defined". Format 1 checkpoints are still
// read, without it.
constexpr std::int64_t kCheckpointFormat = 2;
constexpr std::int64_t kOldestCheckpointFormat = 1;

torch::Tensor text_tensor(const std::string& text) {
  return torch::tensor(std::vector<std::uint8_t>(text.begin(), text.end()), torch::kUInt8);
}

std::string tensor_text(const torch::Tensor& tensor) {
  const torch::Tensor bytes = tensor.to(torch::kUInt8).contiguous();
  const auto* data = bytes.data_ptr<std::uint8_t>();
  return std::string(data, data + bytes.numel());
}

template <typename Generator>
std::string generator_state(const Generator& generator) {
  std::ostringstream text;
  text << generator;
  return text.str();
}

template <typename Generator>
void restore_generator(Generator& generator, const std::string& state) {
  std::istringstream text(state);
  text >> generator;
  if (!text) throw sdk::Error("invalid checkpoint: malformed random generator state");
}

void write_loader(torch::serialize::OutputArchive& archive, const std::string& name,
                  const data::LoaderState& state) {
  archive.write(name + ".counters",
                torch::tensor({state.epoch, state.position, state.image_count, state.batch_size}));
  archive.write(name + ".rng", text_tensor(state.rng_state));
}

data::LoaderState read_loader(torch::serialize::InputArchive& archive, const std::string& name) {
  torch::Tensor counters;
  torch::Tensor rng;
  archive.read(name + ".counters", counters);
  archive.read(name + ".rng", rng);
  const auto values = counters.accessor<std::int64_t, 1>();
  return {values[0], values[1], tensor_text(rng), values[2], values[3]};
}

// Returns one uint8 flag per parameter, 1 where its gradient is defined.
//
// LibTorch 1.13's Optimizer::zero_grad() zeroes defined gradients instead of
// resetting them, and SGD skips only parameters whose gradient is undefined.
// So once a parameter has had a gradient, every later step applies weight
// decay and momentum to it, also in warm-up steps whose single sampled path
// does not use it. A fresh process has no gradients, so a resumed search must
// recreate them to take the same steps.
torch::Tensor gradient_flags(const std::vector<torch::Tensor>& parameters) {
  std::vector<std::uint8_t> flags;
  flags.reserve(parameters.size());
  for (const auto& parameter : parameters) flags.push_back(parameter.grad().defined() ? 1 : 0);
  return torch::tensor(flags, torch::kUInt8);
}

// Gives each flagged parameter a zero gradient, as zero_grad() leaves it.
void restore_gradients(std::vector<torch::Tensor>& parameters, const torch::Tensor& flags) {
  if (flags.numel() != static_cast<std::int64_t>(parameters.size())) {
    throw sdk::Error("invalid checkpoint: gradient flags for " + std::to_string(flags.numel()) +
                     " parameters, but the supernet has " + std::to_string(parameters.size()) +
                     "; start a new search without --resume");
  }
  const torch::Tensor values = flags.to(torch::kUInt8).contiguous();
  const auto* flag = values.data_ptr<std::uint8_t>();
  for (std::size_t i = 0; i < parameters.size(); ++i) {
    parameters[i].mutable_grad() = flag[i] != 0 ? torch::zeros_like(parameters[i]) : torch::Tensor();
  }
}

// Lines of `saved` and `current` that differ, for the resume refusal.
std::string difference(const std::string& saved, const std::string& current) {
  std::istringstream saved_lines(saved);
  std::istringstream current_lines(current);
  std::string message;
  std::string left;
  std::string right;
  int shown = 0;
  while (shown < 12) {
    const bool more_left = static_cast<bool>(std::getline(saved_lines, left));
    const bool more_right = static_cast<bool>(std::getline(current_lines, right));
    if (!more_left && !more_right) break;
    if (!more_left) left = "(nothing)";
    if (!more_right) right = "(nothing)";
    if (left != right) {
      message += "\n  checkpoint: " + left + "\n  now:        " + right;
      ++shown;
    }
  }
  return message;
}

}  // namespace

std::string Runner::provenance() const {
  std::ostringstream text;
  text << "# plugins\n";
  for (const auto& [section, kind] :
       {std::pair<std::string, PluginKind>{"hardware", PluginKind::hardware},
        {"quantizer", PluginKind::quantizer},
        {"search", PluginKind::strategy}}) {
    const std::string name = stack_.selected_plugin(section);
    const PluginInfo& info = factory_.registry().find(kind, name);
    text << to_string(kind) << " " << name << " " << info.version << "\n";
  }
  text << "# resolved config\n" << stack_.to_toml() << "\n";
  return text.str();
}

void Runner::save_checkpoint() {
  torch::serialize::OutputArchive archive;
  archive.write("format", torch::tensor(kCheckpointFormat));
  archive.write("provenance", text_tensor(provenance()));

  torch::serialize::OutputArchive supernet;
  (*supernet_)->save(supernet);
  archive.write("supernet", supernet);
  archive.write("supernet.gradient_defined", gradient_flags((*supernet_)->parameters()));
  torch::serialize::OutputArchive optimizer;
  optimizer_->save(optimizer);
  archive.write("optimizer", optimizer);
  torch::serialize::OutputArchive strategy;
  strategy_->save_state(strategy);
  archive.write("strategy", strategy);

  archive.write("rng.strategy", text_tensor(generator_state(strategy_rng_)));
  archive.write("rng.warmup", text_tensor(generator_state(warmup_rng_)));
  write_loader(archive, "loader.train", train_loader_->state());
  write_loader(archive, "loader.validation", validation_loader_->state());

  archive.write("counters", torch::tensor({epoch_index_, step_in_epoch_, global_step_, rows_written_}));
  const double elapsed = epoch_seconds_before_resume_ +
                         std::chrono::duration<double>(std::chrono::steady_clock::now() -
                                                       epoch_start_).count();
  archive.write("sums", torch::tensor({sums_.train_loss, sums_.train_correct, sums_.train_samples,
                                       sums_.train_steps, sums_.val_loss, sums_.val_correct,
                                       sums_.val_samples, sums_.val_steps,
                                       step_in_epoch_ > 0 ? elapsed : 0.0, sums_.data_seconds},
                                      torch::kFloat64));
  std::string record_names;
  std::vector<double> record_values;
  for (const auto& [name, value] : sums_.records) {
    record_names += name + "\n";
    record_values.push_back(value);
  }
  archive.write("records.names", text_tensor(record_names));
  archive.write("records.values", torch::tensor(record_values, torch::kFloat64));

  replace_file_atomically(directory_ / "checkpoint.pt", [&](const std::filesystem::path& path) {
    archive.save_to(path.string());
  });
  log_debug("checkpoint written at epoch " + std::to_string(epoch_index_) + ", step " +
            std::to_string(step_in_epoch_));
}

void Runner::load_checkpoint() {
  const std::filesystem::path file = directory_ / "checkpoint.pt";
  if (!std::filesystem::exists(file)) {
    throw sdk::Error("cannot resume: " + file.string() + " not found; start a new search "
                     "without --resume");
  }
  torch::serialize::InputArchive archive;
  try {
    archive.load_from(file.string());
  } catch (const c10::Error& error) {
    throw sdk::Error("cannot resume: " + file.string() + " is not a readable nasq checkpoint (" +
                     std::string(error.what_without_backtrace()) + ")");
  }
  torch::Tensor format;
  torch::Tensor saved_provenance;
  try {
    archive.read("format", format);
    archive.read("provenance", saved_provenance);
  } catch (const c10::Error&) {
    throw sdk::Error("cannot resume: " + file.string() + " is not a search checkpoint (it has "
                     "no format and provenance entries); pass the run directory of a search to "
                     "--resume, or start a new search without --resume");
  }
  const std::int64_t saved_format = format.item<std::int64_t>();
  if (saved_format < kOldestCheckpointFormat || saved_format > kCheckpointFormat) {
    throw sdk::Error("cannot resume: " + file.string() + " has checkpoint format " +
                     std::to_string(saved_format) + ", this nasq reads formats " +
                     std::to_string(kOldestCheckpointFormat) + " to " +
                     std::to_string(kCheckpointFormat));
  }
  const std::string differences = difference(tensor_text(saved_provenance), provenance());
  if (!differences.empty()) {
    throw sdk::Error("cannot resume " + directory_.string() +
                     ": the config or plugin versions differ from the checkpoint's:" + differences +
                     "\nresume with the same stack and --set values, or start a new search");
  }

  torch::serialize::InputArchive supernet;
  archive.read("supernet", supernet);
  (*supernet_)->load(supernet);
  std::vector<torch::Tensor> parameters = (*supernet_)->parameters();
  if (saved_format >= 2) {
    torch::Tensor flags;
    archive.read("supernet.gradient_defined", flags);
    restore_gradients(parameters, flags);
  } else {
    log_warn("checkpoint format 1 does not record which weights have gradients, so the "
             "resumed search can end slightly differently from an uninterrupted one");
  }
  torch::serialize::InputArchive optimizer;
  archive.read("optimizer", optimizer);
  optimizer_->load(optimizer);
  torch::serialize::InputArchive strategy;
  archive.read("strategy", strategy);
  strategy_->load_state(strategy);

  torch::Tensor text;
  archive.read("rng.strategy", text);
  restore_generator(strategy_rng_, tensor_text(text));
  archive.read("rng.warmup", text);
  restore_generator(warmup_rng_, tensor_text(text));
  train_loader_->restore(read_loader(archive, "loader.train"));
  validation_loader_->restore(read_loader(archive, "loader.validation"));

  torch::Tensor counters;
  archive.read("counters", counters);
  const auto values = counters.accessor<std::int64_t, 1>();
  epoch_index_ = values[0];
  step_in_epoch_ = values[1];
  global_step_ = values[2];
  rows_written_ = values[3];

  torch::Tensor sums;
  archive.read("sums", sums);
  const auto s = sums.accessor<double, 1>();
  sums_ = EpochSums{s[0], s[1], s[2], s[3], s[4], s[5], s[6], s[7], {}};
  epoch_seconds_before_resume_ = s[8];
  // Format 1 checkpoints have no data loading time.
  if (sums.size(0) > 9) sums_.data_seconds = s[9];
  torch::Tensor names;
  torch::Tensor record_values;
  archive.read("records.names", names);
  archive.read("records.values", record_values);
  std::istringstream name_lines(tensor_text(names));
  std::string name;
  for (std::int64_t i = 0; std::getline(name_lines, name); ++i) {
    sums_.records[name] = record_values[i].item<double>();
  }
}

}  // namespace nasq::search
