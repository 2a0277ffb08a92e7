// Final training loop: SGD with (Nesterov) momentum, cosine schedule, label
// smoothing, mixup and gradient clipping by value; resumable per epoch.
#include "core/train/trainer.hpp"

#include <torch/torch.h>

#include <nlohmann/json.hpp>

#include <chrono>
#include <cmath>
#include <sstream>

#include "core/data/batch_loader.hpp"
#include "core/data/dataset.hpp"
#include "core/data/stack_options.hpp"
#include "core/export/trained_network.hpp"
#include "core/model/layers.hpp"
#include "core/model/supernet.hpp"
#include "core/plugin/torch_plugins.hpp"
#include "core/search/run_record.hpp"
#include "core/space/space_config.hpp"
#include "core/util/atomic_file.hpp"
#include "core/util/log.hpp"
#include "nasq/sdk/error.hpp"

namespace nasq::train {
namespace {

struct TrainOptions {
  std::int64_t epochs = 10;
  std::int64_t batch_size = 128;
  double lr = 0.1;
  double momentum = 0.9;
  bool nesterov = true;
  double weight_decay = 5e-5;
  bool cosine = true;
  double label_smoothing = 0.1;
  double mixup_alpha = 0.2;
  double clip_value = 5.0;
  model::BatchNormMode batch_norm = model::BatchNormMode::standard;
  std::uint64_t seed = 1;
};

TrainOptions read_options(const Stack& stack) {
  TrainOptions options;
  options.epochs = stack.get_int("train.epochs");
  options.batch_size = stack.get_int("train.batch_size");
  options.lr = stack.get_double("train.lr");
  options.momentum = stack.get_double("train.momentum");
  options.nesterov = stack.get_bool("train.nesterov");
  options.weight_decay = stack.get_double("train.weight_decay");
  options.cosine = stack.get_string("train.lr_schedule") == "cosine";
  options.label_smoothing = stack.get_double("train.label_smoothing");
  options.mixup_alpha = stack.get_double("train.mixup_alpha");
  options.clip_value = stack.get_double("train.clip_value");
  options.batch_norm = stack.get_string("train.batch_norm") == "range" ? model::BatchNormMode::range
                                                                       : model::BatchNormMode::standard;
  options.seed = static_cast<std::uint64_t>(stack.get_int("run.seed"));
  return options;
}

void write_loader_state(torch::serialize::OutputArchive& archive, const data::LoaderState& state) {
  archive.write("loader.counters",
                torch::tensor({state.epoch, state.position, state.image_count, state.batch_size}));
  archive.write("loader.rng", torch::tensor(std::vector<std::uint8_t>(state.rng_state.begin(),
                                                                      state.rng_state.end()),
                                            torch::kUInt8));
}

data::LoaderState read_loader_state(torch::serialize::InputArchive& archive) {
  torch::Tensor counters;
  torch::Tensor rng;
  archive.read("loader.counters", counters);
  archive.read("loader.rng", rng);
  const auto values = counters.accessor<std::int64_t, 1>();
  const torch::Tensor bytes = rng.contiguous();
  const auto* data = bytes.data_ptr<std::uint8_t>();
  return {values[0], values[1], std::string(data, data + bytes.numel()), values[2], values[3]};
}

// One training run: the network, optimizer and data, with resumable state.
class Trainer {
 public:
  Trainer(PluginFactory& factory, std::filesystem::path directory,
          const std::filesystem::path& architecture_file)
      : stack_(factory.stack()),
        directory_(std::move(directory)),
        options_(read_options(stack_)),
        space_(space::load_search_space(stack_)),
        architecture_(space::load_architecture(space_, architecture_file)),
        quantizer_(create_quantizer(factory, stack_.get_string("quantizer.plugin"))),
        network_(space_, architecture_, *quantizer_) {
    device_ = data::parse_device(stack_.get_string("run.device"));
    torch::manual_seed(options_.seed);
    network_->set_batch_norm_mode(options_.batch_norm);
    network_->to(device_);
    optimizer_ = std::make_unique<torch::optim::SGD>(
        network_->parameters(), torch::optim::SGDOptions(options_.lr)
                                    .momentum(options_.momentum)
                                    .nesterov(options_.nesterov && options_.momentum > 0)
                                    .weight_decay(options_.weight_decay));
    setup_data();
    mixup_rng_.seed(options_.seed * 3 + 1);
  }

  void run(bool resume);

 private:
  void setup_data() {
    data::DataOptions data_options = data::data_options_from_stack(stack_, options_.batch_size);
    auto full = std::make_shared<const data::ImageSet>(data::load_full_train(data_options));
    auto test = std::make_shared<const data::ImageSet>(data::load_test(data_options));
    const data::Normalization normalization = data::resolve_normalization(data_options, *full);
    write_text_atomically(directory_ / "normalization.json",
                          nlohmann::json{{"mean", normalization.mean}, {"std", normalization.std}}
                                  .dump(2) +
                              "\n");
    data::LoaderOptions train_options = data::loader_options(data_options, true);
    train_options.seed = options_.seed * 11 + 1;
    train_options.drop_last = true;
    train_loader_ = std::make_unique<data::BatchLoader>(full, normalization, train_options);
    test_loader_ = std::make_unique<data::BatchLoader>(test, normalization,
                                                       data::loader_options(data_options, false));
  }

  double learning_rate(std::int64_t step, std::int64_t total) const {
    if (!options_.cosine || total == 0) return options_.lr;
    const double progress = std::min(1.0, static_cast<double>(step) / static_cast<double>(total));
    return 0.5 * options_.lr * (1.0 + std::cos(M_PI * progress));
  }

  std::vector<std::pair<std::string, double>> train_epoch();
  std::pair<double, double> test_epoch();
  void save_checkpoint();
  void load_checkpoint();

  Stack& stack_;
  std::filesystem::path directory_;
  TrainOptions options_;
  space::SearchSpace space_;
  space::Architecture architecture_;
  std::shared_ptr<sdk::Quantizer> quantizer_;
  model::DiscreteNetwork network_;
  torch::Device device_{torch::kCPU};
  std::unique_ptr<torch::optim::SGD> optimizer_;
  std::unique_ptr<data::BatchLoader> train_loader_;
  std::unique_ptr<data::BatchLoader> test_loader_;
  std::mt19937_64 mixup_rng_;
  std::int64_t epoch_ = 0;
  std::int64_t step_ = 0;
};

std::vector<std::pair<std::string, double>> Trainer::train_epoch() {
  network_->train();
  const std::int64_t total = options_.epochs * train_loader_->batches_per_epoch();
  const auto loss_options = torch::nn::functional::CrossEntropyFuncOptions().label_smoothing(
      options_.label_smoothing);
  double loss_sum = 0.0;
  double correct = 0.0;
  double samples = 0.0;
  double lr = options_.lr;
  while (std::optional<data::Batch> next = train_loader_->next()) {
    const data::Batch batch = data::to_device(*next, device_);
    lr = learning_rate(step_, total);
    for (auto& group : optimizer_->param_groups()) {
      static_cast<torch::optim::SGDOptions&>(group.options()).lr(lr);
    }
    optimizer_->zero_grad();
    torch::Tensor loss;
    torch::Tensor logits;
    if (options_.mixup_alpha > 0.0) {
      const data::MixedBatch mixed = data::mixup(batch, options_.mixup_alpha, mixup_rng_);
      logits = network_->forward(mixed.images);
      loss = mixed.lambda * torch::nn::functional::cross_entropy(logits, mixed.labels_a, loss_options) +
             (1.0 - mixed.lambda) *
                 torch::nn::functional::cross_entropy(logits, mixed.labels_b, loss_options);
    } else {
      logits = network_->forward(batch.images);
      loss = torch::nn::functional::cross_entropy(logits, batch.labels, loss_options);
    }
    loss.backward();
    if (options_.clip_value > 0.0) {
      torch::nn::utils::clip_grad_value_(network_->parameters(), options_.clip_value);
    }
    optimizer_->step();
    ++step_;
    const auto count = static_cast<double>(batch.labels.size(0));
    loss_sum += loss.item<double>() * count;
    correct += logits.argmax(1).eq(batch.labels).sum().item<double>();
    samples += count;
  }
  return {{"train_loss", loss_sum / std::max(samples, 1.0)},
          {"train_accuracy", correct / std::max(samples, 1.0)},
          {"learning_rate", lr}};
}

std::pair<double, double> Trainer::test_epoch() {
  network_->eval();
  const torch::NoGradGuard no_grad;
  test_loader_->restore({0, 0, test_loader_->state().rng_state, test_loader_->state().image_count,
                         test_loader_->state().batch_size});
  double loss_sum = 0.0;
  double correct = 0.0;
  double samples = 0.0;
  while (std::optional<data::Batch> next = test_loader_->next()) {
    const data::Batch batch = data::to_device(*next, device_);
    const torch::Tensor logits = network_->forward(batch.images);
    const auto count = static_cast<double>(batch.labels.size(0));
    loss_sum += torch::nn::functional::cross_entropy(logits, batch.labels).item<double>() * count;
    correct += logits.argmax(1).eq(batch.labels).sum().item<double>();
    samples += count;
  }
  return {loss_sum / std::max(samples, 1.0), correct / std::max(samples, 1.0)};
}

void Trainer::save_checkpoint() {
  torch::serialize::OutputArchive archive;
  torch::serialize::OutputArchive network;
  network_->save(network);
  archive.write("network", network);
  torch::serialize::OutputArchive optimizer;
  optimizer_->save(optimizer);
  archive.write("optimizer", optimizer);
  write_loader_state(archive, train_loader_->state());
  std::ostringstream mixup;
  mixup << mixup_rng_;
  const std::string mixup_state = mixup.str();
  archive.write("mixup_rng", torch::tensor(std::vector<std::uint8_t>(mixup_state.begin(),
                                                                     mixup_state.end()),
                                           torch::kUInt8));
  archive.write("counters", torch::tensor({epoch_, step_}));
  replace_file_atomically(directory_ / "train_checkpoint.pt", [&](const std::filesystem::path& path) {
    archive.save_to(path.string());
  });
}

void Trainer::load_checkpoint() {
  const std::filesystem::path file = directory_ / "train_checkpoint.pt";
  torch::serialize::InputArchive archive;
  try {
    archive.load_from(file.string());
  } catch (const c10::Error& error) {
    throw sdk::Error("cannot resume training: " + file.string() +
                     " is not a readable nasq training checkpoint (" +
                     std::string(error.what_without_backtrace()) + ")");
  }
  torch::serialize::InputArchive network;
  try {
    archive.read("network", network);
  } catch (const c10::Error&) {
    throw sdk::Error("cannot resume training: " + file.string() + " is not a training checkpoint "
                     "(it has no network entry); remove it to train from scratch");
  }
  network_->load(network);
  torch::serialize::InputArchive optimizer;
  archive.read("optimizer", optimizer);
  optimizer_->load(optimizer);
  train_loader_->restore(read_loader_state(archive));
  torch::Tensor mixup;
  archive.read("mixup_rng", mixup);
  const torch::Tensor bytes = mixup.contiguous();
  std::istringstream mixup_state(
      std::string(bytes.data_ptr<std::uint8_t>(), bytes.data_ptr<std::uint8_t>() + bytes.numel()));
  mixup_state >> mixup_rng_;
  torch::Tensor counters;
  archive.read("counters", counters);
  epoch_ = counters[0].item<std::int64_t>();
  step_ = counters[1].item<std::int64_t>();
}

void Trainer::run(bool resume) {
  search::MetricsFile metrics(directory_ / "train_metrics.csv");
  if (resume && std::filesystem::exists(directory_ / "train_checkpoint.pt")) {
    load_checkpoint();
    metrics.truncate_to(static_cast<std::size_t>(epoch_));
    log_info("training resumed at epoch " + std::to_string(epoch_ + 1));
  } else {
    metrics.truncate_to(0);
  }
  while (epoch_ < options_.epochs) {
    const auto start = std::chrono::steady_clock::now();
    auto row = train_epoch();
    const auto [test_loss, test_accuracy] = test_epoch();
    ++epoch_;
    row.insert(row.begin(), {"epoch", static_cast<double>(epoch_ - 1)});
    row.push_back({"test_loss", test_loss});
    row.push_back({"test_accuracy", test_accuracy});
    row.push_back({"wall_s", std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count()});
    metrics.append(row);
    save_checkpoint();
    log_info("training epoch " + std::to_string(epoch_) + "/" + std::to_string(options_.epochs) +
             ": train loss " + std::to_string(row[1].second) + ", test accuracy " +
             std::to_string(test_accuracy));
  }
  replace_file_atomically(directory_ / "model.pt", [&](const std::filesystem::path& path) {
    torch::serialize::OutputArchive archive;
    network_->save(archive);
    const std::string labels = exporting::architecture_text(architecture_);
    archive.write(exporting::kModelArchitectureKey,
                  torch::tensor(std::vector<std::uint8_t>(labels.begin(), labels.end()),
                                torch::kUInt8));
    archive.save_to(path.string());
  });
}

}  // namespace

void run_training(PluginFactory& factory, const std::filesystem::path& run_directory,
                  const std::filesystem::path& architecture_file, bool resume) {
  std::filesystem::create_directories(run_directory);
  Trainer trainer(factory, run_directory, architecture_file);
  trainer.run(resume);
}

}  // namespace nasq::train
