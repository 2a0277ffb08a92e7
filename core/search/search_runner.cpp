// The search loop behind `nasq search`: setup, warm-up, search epochs,
// progress, the run record and the derived architecture.
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <iomanip>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/data/dataset.hpp"
#include "core/data/stack_options.hpp"
#include "core/plugin/torch_plugins.hpp"
#include "core/search/runner_impl.hpp"
#include "core/space/network_graph.hpp"
#include "core/space/space_config.hpp"
#include "core/util/atomic_file.hpp"
#include "core/util/log.hpp"
#include "nasq/sdk/error.hpp"

namespace nasq::search {
namespace {

RunnerOptions read_options(const Stack& stack) {
  RunnerOptions options;
  options.strategy = stack.get_string("search.plugin");
  options.epochs = stack.get_int("search.epochs");
  options.warmup_epochs = stack.get_int("search.warmup_epochs");
  options.batch_size = stack.get_int("search.batch_size");
  options.steps_per_epoch = stack.get_int("search.steps_per_epoch");
  options.weight_lr = stack.get_double("search.weight_lr");
  options.weight_momentum = stack.get_double("search.weight_momentum");
  options.weight_decay = stack.get_double("search.weight_decay");
  options.cosine_schedule = stack.get_string("search.weight_lr_schedule") == "cosine";
  options.checkpoint_every = stack.get_int("search.checkpoint_every");
  options.evaluation_batches = stack.get_int("search.evaluation_batches");
  options.seed = static_cast<std::uint64_t>(stack.get_int("run.seed"));
  options.device = stack.get_string("run.device");
  options.deterministic = stack.get_bool("run.deterministic");
  options.threads = stack.get_int("run.threads");
  options.supernet.weight_sharing = stack.get_string("search.weight_sharing");
  options.supernet.bit_mixing = stack.get_string("search.bit_mixing");
  return options;
}

std::string format_duration(double seconds) {
  const auto total = static_cast<long long>(std::max(0.0, seconds));
  char text[32];
  std::snprintf(text, sizeof text, "%lldm%02llds", total / 60, total % 60);
  return text;
}

// Seconds with two decimals, such as "0.42 s".
std::string format_seconds(double seconds) {
  char text[32];
  std::snprintf(text, sizeof text, "%.2f s", seconds);
  return text;
}

double entropy(const torch::Tensor& probabilities) {
  const torch::Tensor p = probabilities.to(torch::kFloat64).clamp_min(1e-12);
  return -(p * p.log()).sum().item<double>();
}

}  // namespace

Runner::Runner(PluginFactory& factory, std::filesystem::path run_directory)
    : factory_(factory),
      stack_(factory.stack()),
      directory_(std::move(run_directory)),
      options_(read_options(factory.stack())),
      logger_(make_plugin_logger(options_.strategy)) {}

void Runner::setup() {
  if (options_.deterministic) {
    torch::set_num_threads(1);
  } else if (options_.threads > 0) {
    torch::set_num_threads(static_cast<int>(options_.threads));
  }
  device_ = data::parse_device(options_.device);
  torch::manual_seed(options_.seed);
  strategy_rng_.seed(options_.seed * 2 + 1);
  warmup_rng_.seed(options_.seed * 2 + 2);

  setup_data();
  space_ = std::make_unique<space::SearchSpace>(space::load_search_space(stack_));
  for (const auto& decision : space_->decisions()) {
    decisions_.push_back({decision.name, decision.kind, decision.block, decision.choices});
  }
  quantizer_ = create_quantizer(factory_, stack_.get_string("quantizer.plugin"));
  supernet_.emplace(*space_, *quantizer_, options_.supernet);
  (*supernet_)->to(device_);
  optimizer_ = std::make_unique<torch::optim::SGD>(
      (*supernet_)->parameters(), torch::optim::SGDOptions(options_.weight_lr)
                                      .momentum(options_.weight_momentum)
                                      .weight_decay(options_.weight_decay));
  setup_costs();
  setup_budgets();
  setup_strategy();
  log_info("search: " + std::to_string(space_->blocks().size()) + " blocks, " +
           std::to_string(decisions_.size()) + " decisions, space size 10^" +
           std::to_string(space_->size().log10).substr(0, 5) + ", " +
           std::to_string(steps_per_epoch_) + " steps per epoch, " +
           std::to_string(options_.warmup_epochs) + " warm-up + " +
           std::to_string(options_.epochs) + " search epochs, device " + options_.device +
           ", " + std::to_string(torch::get_num_threads()) + " threads");
}

void Runner::setup_data() {
  data_options_ = data::data_options_from_stack(stack_, options_.batch_size);
  auto splits = data::load_search_splits(data_options_);
  if (splits.validation.count == 0) {
    throw sdk::ConfigError("data.validation_fraction",
                           stack_.location("data.validation_fraction") +
                               ": the search needs a validation split; set "
                               "data.validation_fraction above 0");
  }
  const data::Normalization normalization =
      data::resolve_normalization(data_options_, splits.train);
  auto train = std::make_shared<const data::ImageSet>(std::move(splits.train));
  auto validation = std::make_shared<const data::ImageSet>(std::move(splits.validation));

  data::LoaderOptions train_options = data::loader_options(data_options_, true);
  train_options.seed = options_.seed * 7 + 1;
  train_options.drop_last = true;
  data::LoaderOptions validation_options = data::loader_options(data_options_, false);
  validation_options.shuffle = true;
  validation_options.drop_last = true;
  validation_options.seed = options_.seed * 7 + 2;
  data::LoaderOptions evaluation_options = data::loader_options(data_options_, false);

  train_loader_ = std::make_unique<data::BatchLoader>(train, normalization, train_options);
  validation_loader_ =
      std::make_unique<data::BatchLoader>(validation, normalization, validation_options);
  evaluation_loader_ =
      std::make_unique<data::BatchLoader>(validation, normalization, evaluation_options);
  steps_per_epoch_ = options_.steps_per_epoch > 0 ? options_.steps_per_epoch
                                                  : train_loader_->batches_per_epoch();
  if (steps_per_epoch_ < 1) {
    throw sdk::ConfigError("search.batch_size",
                           stack_.location("search.batch_size") + ": the training split has " +
                               std::to_string(train->count) + " images, fewer than one batch of " +
                               std::to_string(options_.batch_size));
  }
}

void Runner::setup_costs() {
  const std::string plugin = stack_.selected_plugin("hardware");
  oracle_ = std::make_unique<CostOracle>(factory_.hardware_model(plugin), plugin);
  cost_batch_ = stack_.get_int("hardware.batch");

  std::vector<int> bits;
  for (const auto& slot : space_->blocks()) {
    bits.insert(bits.end(), slot.bottleneck_bits.begin(), slot.bottleneck_bits.end());
    bits.insert(bits.end(), slot.depthwise_bits.begin(), slot.depthwise_bits.end());
  }
  bits.push_back(space::kFixedLayerBits);
  oracle_->check_bits(bits, stack_.location("search_space") + ": [search_space] bit choices");
  oracle_->prepare(space_layers(*space_, cost_batch_));

  if (oracle_->capabilities().additive) {
    table_ = std::make_unique<BlockCostTable>(*space_, *oracle_, cost_batch_);
  } else {
    log_warn("hardware plugin '" + plugin + "' is not additive: costs are computed per "
             "architecture and cost bounds are estimated by sampling");
  }
}

void Runner::setup_budgets() {
  struct BudgetKeys {
    const char* budget;
    const char* lambda;
    const char* metric;
    const char* unit;
    double scale;  // metric value per unit of the budget key
  };
  const BudgetKeys keys[] = {
      {"energy_budget", "energy_lambda", "energy_mj", "mJ", 1.0},
      {"latency_budget", "latency_lambda", "latency_ms", "ms", 1.0},
      {"model_size_budget", "model_size_lambda", "weight_memory_bits", "B", 8.0},
      {"bitops_budget", "bitops_lambda", "bitops", "G", 1e9},
  };
  const bool normalize = stack_.get_bool("search.normalize_cost");
  for (const auto& key : keys) {
    const std::string budget_path = std::string("search.") + key.budget;
    const double value = stack_.get_quantity(budget_path) * key.scale;
    if (value <= 0.0) continue;
    if (!oracle_->reports(key.metric)) {
      throw sdk::ConfigError(budget_path, stack_.location(budget_path) + ": hardware plugin '" +
                                              oracle_->plugin_name() + "' does not report " +
                                              key.metric + "; remove the budget or choose "
                                              "another hardware model");
    }
    const CostBounds bounds =
        table_ ? table_->bounds(key.metric)
               : sampled_bounds(*space_, *oracle_, cost_batch_, key.metric, 64, options_.seed);
    const auto in_unit = [&](double metric_value) {
      std::ostringstream text;
      text << std::setprecision(6) << metric_value / key.scale << " " << key.unit;
      return text.str();
    };
    if (value < bounds.min) {
      throw sdk::ConfigError(budget_path,
                             stack_.location(budget_path) + ": " + budget_path + " " +
                                 in_unit(value) + " is below the " +
                                 (bounds.exact ? "minimum" : "estimated minimum") +
                                 " the search space can reach, " + in_unit(bounds.min) +
                                 "; raise the budget or enlarge the space");
    }
    if (value >= bounds.max) {
      log_warn(budget_path + " " + in_unit(value) + " is at or above the " +
               (bounds.exact ? "maximum" : "estimated maximum") + " of the space (" +
               in_unit(bounds.max) + "): the constraint never binds and its penalty is zero");
    }
    budgets_.push_back({key.metric, value, stack_.get_double(std::string("search.") + key.lambda),
                        normalize, bounds.min, bounds.max});
    log_info("budget " + std::string(key.metric) + " = " + in_unit(value) + " (space range " +
             in_unit(bounds.min) + " .. " + in_unit(bounds.max) +
             (bounds.exact ? "" : ", estimated by sampling") + ")");
  }
}

void Runner::setup_strategy() {
  strategy_ = create_strategy(factory_, options_.strategy);
}

data::Batch Runner::next_batch(data::BatchLoader& loader) {
  const auto start = std::chrono::steady_clock::now();
  std::optional<data::Batch> batch = loader.next();
  if (!batch) batch = loader.next();
  if (!batch) throw sdk::Error("internal error: a data loader returned an empty epoch");
  data::Batch placed = data::to_device(*batch, device_);
  sums_.data_seconds +=
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return placed;
}

void Runner::set_learning_rate() {
  double lr = options_.weight_lr;
  if (options_.cosine_schedule) {
    const double total =
        static_cast<double>((options_.warmup_epochs + options_.epochs) * steps_per_epoch_);
    const double progress = total > 0 ? static_cast<double>(global_step_) / total : 0.0;
    lr = 0.5 * options_.weight_lr * (1.0 + std::cos(M_PI * std::min(progress, 1.0)));
  }
  for (auto& group : optimizer_->param_groups()) {
    static_cast<torch::optim::SGDOptions&>(group.options()).lr(lr);
  }
}

sdk::StepResult Runner::train_weights(const std::vector<torch::Tensor>& weights) {
  std::vector<torch::Tensor> detached;
  detached.reserve(weights.size());
  for (const auto& weight : weights) detached.push_back(weight.detach().to(device_));

  const data::Batch batch = next_batch(*train_loader_);
  (*supernet_)->train();
  set_learning_rate();
  optimizer_->zero_grad();
  const torch::Tensor logits = (*supernet_)->forward(batch.images, detached);
  const torch::Tensor loss = torch::nn::functional::cross_entropy(logits, batch.labels);
  loss.backward();
  optimizer_->step();

  const double correct = logits.argmax(1).eq(batch.labels).sum().item<double>();
  const auto samples = batch.labels.size(0);
  sums_.train_loss += loss.item<double>();
  sums_.train_correct += correct;
  sums_.train_samples += static_cast<double>(samples);
  sums_.train_steps += 1.0;
  return {loss.detach(), correct / static_cast<double>(samples), samples};
}

sdk::StepResult Runner::validation_loss(const std::vector<torch::Tensor>& weights) {
  const data::Batch batch = next_batch(*validation_loader_);
  (*supernet_)->train();
  std::vector<torch::Tensor> on_device;
  on_device.reserve(weights.size());
  for (const auto& weight : weights) on_device.push_back(weight.to(device_));
  const torch::Tensor logits = (*supernet_)->forward(batch.images, on_device);
  const torch::Tensor loss = torch::nn::functional::cross_entropy(logits, batch.labels);

  const double correct = logits.argmax(1).eq(batch.labels).sum().item<double>();
  const auto samples = batch.labels.size(0);
  sums_.val_loss += loss.item<double>();
  sums_.val_correct += correct;
  sums_.val_samples += static_cast<double>(samples);
  sums_.val_steps += 1.0;
  return {loss, correct / static_cast<double>(samples), samples};
}

sdk::Candidate Runner::evaluate(const sdk::ChoiceIndices& choices) {
  if (choices.size() != decisions_.size()) {
    throw sdk::Error("evaluate: expected " + std::to_string(decisions_.size()) +
                     " choice indices, got " + std::to_string(choices.size()));
  }
  std::vector<torch::Tensor> weights;
  for (std::size_t d = 0; d < decisions_.size(); ++d) {
    const auto count = static_cast<std::int64_t>(decisions_[d].choices.size());
    weights.push_back(torch::one_hot(torch::tensor(static_cast<std::int64_t>(choices[d])), count)
                          .to(torch::kFloat32)
                          .to(device_));
  }
  const torch::NoGradGuard no_grad;
  // Batch statistics: running statistics of shared BatchNorm layers mix
  // every path the supernet trained, so they do not fit one architecture.
  (*supernet_)->train();
  evaluation_loader_->restore({0, 0, evaluation_loader_->state().rng_state,
                               evaluation_loader_->state().image_count,
                               evaluation_loader_->state().batch_size});
  double loss = 0.0;
  double correct = 0.0;
  double samples = 0.0;
  for (std::int64_t i = 0; i < options_.evaluation_batches; ++i) {
    const auto start = std::chrono::steady_clock::now();
    std::optional<data::Batch> batch = evaluation_loader_->next();
    if (!batch) break;
    const data::Batch placed = data::to_device(*batch, device_);
    sums_.data_seconds +=
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const torch::Tensor logits = (*supernet_)->forward(placed.images, weights);
    const auto count = static_cast<double>(placed.labels.size(0));
    loss += torch::nn::functional::cross_entropy(logits, placed.labels).item<double>() * count;
    correct += logits.argmax(1).eq(placed.labels).sum().item<double>();
    samples += count;
  }
  sdk::Candidate candidate;
  candidate.choices = choices;
  candidate.validation_loss = loss / std::max(samples, 1.0);
  candidate.validation_accuracy = correct / std::max(samples, 1.0);
  candidate.cost = cost(choices);
  return candidate;
}

sdk::Cost Runner::cost(const sdk::ChoiceIndices& choices) {
  if (table_) return table_->architecture_cost(choices);
  const auto architecture = space::architecture_from_indices(*space_, choices);
  return oracle_->total(space::build_network(*space_, architecture).layer_specs(cost_batch_));
}

torch::Tensor Runner::expected_cost(const std::vector<torch::Tensor>& probabilities,
                                    const std::string& metric) {
  if (!table_) {
    throw sdk::Error("the exact expected cost needs an additive hardware model, and '" +
                     oracle_->plugin_name() + "' is not; use the reinforce-hybrid strategy");
  }
  auto& expected = expected_[metric];
  if (!expected) expected = std::make_unique<ExpectedCost>(*table_, metric);
  return (*expected)(probabilities);
}

void Runner::record(const std::string& column, double value) { sums_.records[column] = value; }

std::vector<torch::Tensor> Runner::uniform_sample() {
  std::vector<torch::Tensor> weights;
  weights.reserve(decisions_.size());
  for (const auto& decision : decisions_) {
    const auto count = static_cast<std::int64_t>(decision.choices.size());
    std::uniform_int_distribution<std::int64_t> pick(0, count - 1);
    weights.push_back(torch::one_hot(torch::tensor(pick(warmup_rng_)), count).to(torch::kFloat32));
  }
  return weights;
}

void Runner::take_step(bool warmup) {
  if (warmup) {
    train_weights(uniform_sample());
  } else {
    strategy_->step(*this);
  }
  ++step_in_epoch_;
  ++global_step_;
  if (step_in_epoch_ < steps_per_epoch_ && global_step_ % options_.checkpoint_every == 0) {
    save_checkpoint();
  }
  report_progress(false);
}

void Runner::run_epoch() {
  const bool warmup = epoch_index_ < options_.warmup_epochs;
  epoch_start_ = std::chrono::steady_clock::now();
  while (step_in_epoch_ < steps_per_epoch_) take_step(warmup);
  if (!warmup) strategy_->end_epoch(*this);
  finish_epoch();
}

void Runner::finish_epoch() {
  const double seconds = epoch_seconds_before_resume_ +
                         std::chrono::duration<double>(std::chrono::steady_clock::now() -
                                                       epoch_start_).count();
  const bool warmup = epoch_index_ < options_.warmup_epochs;
  std::vector<std::pair<std::string, double>> row = {
      {"epoch", static_cast<double>(epoch_index_)},
      {"warmup", warmup ? 1.0 : 0.0},
      {"train_loss", sums_.train_loss / std::max(sums_.train_steps, 1.0)},
      {"train_accuracy", sums_.train_correct / std::max(sums_.train_samples, 1.0)},
      {"val_loss", sums_.val_steps > 0 ? sums_.val_loss / sums_.val_steps : NAN},
      {"val_accuracy", sums_.val_samples > 0 ? sums_.val_correct / sums_.val_samples : NAN}};

  const std::vector<torch::Tensor> probabilities = strategy_->probabilities();
  for (const auto& budget : budgets_) {
    const double value = table_ ? expected_cost(probabilities, budget.metric).item<double>() : NAN;
    row.push_back({"expected_" + budget.metric, value});
  }
  if (table_ && budgets_.empty()) {
    row.push_back({"expected_energy_mj",
                   oracle_->reports("energy_mj")
                       ? expected_cost(probabilities, "energy_mj").item<double>()
                       : NAN});
  }
  for (const char* kind : space::kDecisionKinds) {
    double sum = 0.0;
    double count = 0.0;
    for (std::size_t d = 0; d < decisions_.size(); ++d) {
      if (decisions_[d].kind != kind || decisions_[d].choices.size() < 2) continue;
      sum += entropy(probabilities[d]);
      count += 1.0;
    }
    row.push_back({std::string("entropy_") + kind, count > 0 ? sum / count : 0.0});
  }
  std::map<int, std::pair<double, double>> skip_by_stage;
  for (std::size_t d = 0; d < decisions_.size(); ++d) {
    if (decisions_[d].kind != "s") continue;
    const auto& slot = space_->blocks()[static_cast<std::size_t>(decisions_[d].block)];
    auto& [sum, count] = skip_by_stage[slot.stage];
    if (decisions_[d].choices.size() == 2) sum += probabilities[d][1].item<double>();
    count += 1.0;
  }
  for (const auto& [stage, values] : skip_by_stage) {
    row.push_back({"skip_probability_stage" + std::to_string(stage), values.first / values.second});
  }
  for (const auto& [column, value] : sums_.records) row.push_back({column, value});
  row.push_back({"wall_s", seconds});
  row.push_back({"data_s", sums_.data_seconds});

  metrics_->append(row);
  write_probabilities();
  log_info("epoch " + std::to_string(epoch_index_ + 1) + "/" +
           std::to_string(options_.warmup_epochs + options_.epochs) + (warmup ? " (warm-up)" : "") +
           ": train loss " + std::to_string(row[2].second) + ", train accuracy " +
           std::to_string(row[3].second) +
           // Warm-up epochs run no validation batches.
           (warmup ? std::string() : ", validation accuracy " + std::to_string(row[5].second)) +
           ", " + format_duration(seconds) + " (data loading " +
           format_seconds(sums_.data_seconds) + ")");

  ++epoch_index_;
  ++rows_written_;
  step_in_epoch_ = 0;
  sums_ = EpochSums{};
  epoch_seconds_before_resume_ = 0.0;
  save_checkpoint();
}

void Runner::write_probabilities() {
  nlohmann::json line = {{"epoch", epoch_index_}, {"decisions", nlohmann::json::object()}};
  const std::vector<torch::Tensor> probabilities = strategy_->probabilities();
  for (std::size_t d = 0; d < decisions_.size(); ++d) {
    const torch::Tensor p = probabilities[d].to(torch::kFloat64).cpu().contiguous();
    line["decisions"][decisions_[d].name] =
        std::vector<double>(p.data_ptr<double>(), p.data_ptr<double>() + p.numel());
  }
  std::ofstream stream(directory_ / "probabilities.jsonl", std::ios::app);
  stream << line.dump() << "\n";
}

void Runner::report_progress(bool force) {
  const auto now = std::chrono::steady_clock::now();
  const bool terminal = ::isatty(STDERR_FILENO) != 0;
  const double since = std::chrono::duration<double>(now - last_progress_).count();
  if (!force && since < (terminal ? 1.0 : 30.0)) return;
  last_progress_ = now;

  const double elapsed = std::chrono::duration<double>(now - epoch_start_).count();
  const double per_step = elapsed / std::max<std::int64_t>(step_in_epoch_, 1);
  const std::int64_t total_epochs = options_.warmup_epochs + options_.epochs;
  const std::int64_t remaining =
      (total_epochs - epoch_index_) * steps_per_epoch_ - step_in_epoch_;
  std::ostringstream line;
  line << "epoch " << epoch_index_ + 1 << "/" << total_epochs << " step " << step_in_epoch_ << "/"
       << steps_per_epoch_ << " loss " << std::fixed << std::setprecision(3)
       << sums_.train_loss / std::max(sums_.train_steps, 1.0);
  if (table_ && !budgets_.empty() && epoch_index_ >= options_.warmup_epochs) {
    line << " E[" << budgets_.front().metric << "] " << std::setprecision(4)
         << expected_cost(strategy_->probabilities(), budgets_.front().metric).item<double>();
  }
  line << " ETA " << format_duration(per_step * static_cast<double>(remaining));
  if (terminal) {
    std::fprintf(stderr, "\r%s   ", line.str().c_str());
    std::fflush(stderr);
  } else {
    log_info(line.str());
  }
}

SearchResult Runner::derive() {
  if (::isatty(STDERR_FILENO) != 0) std::fprintf(stderr, "\n");
  std::vector<sdk::Candidate> pareto;
  const sdk::ChoiceIndices choices = strategy_->derive(*this, pareto);
  const space::Architecture architecture = space::architecture_from_indices(*space_, choices);
  space::save_architecture(*space_, architecture, directory_ / "arch.json");

  if (!pareto.empty()) {
    nlohmann::json set = nlohmann::json::array();
    for (const auto& candidate : pareto) {
      const auto candidate_architecture = space::architecture_from_indices(*space_, candidate.choices);
      nlohmann::json blocks = nlohmann::json::array();
      for (const auto& block : candidate_architecture.blocks) blocks.push_back(space::block_label(block));
      set.push_back({{"blocks", blocks},
                     {"choices", candidate.choices},
                     {"validation_loss", candidate.validation_loss},
                     {"validation_accuracy", candidate.validation_accuracy},
                     {"energy_mj", candidate.cost.energy_mj},
                     {"latency_ms", candidate.cost.latency_ms}});
    }
    write_text_atomically(directory_ / "pareto.json", set.dump(2) + "\n");
  }

  const sdk::Cost found = cost(choices);
  std::string labels;
  nlohmann::json blocks = nlohmann::json::array();
  for (const auto& block : architecture.blocks) {
    labels += " | " + space::block_label(block);
    blocks.push_back(space::block_label(block));
  }
  // Values the strategy recorded while deriving (for example the rejection
  // rate of a population search) have no epoch row, so they go here.
  nlohmann::json summary = {{"strategy", options_.strategy},
                            {"architecture", blocks},
                            {"choices", choices},
                            {"energy_mj", found.energy_mj},
                            {"latency_ms", found.latency_ms},
                            {"derive_records", sums_.records}};
  write_text_atomically(directory_ / "search.json", summary.dump(2) + "\n");
  log_info("derived architecture:" + labels);
  log_info("its cost: " + std::to_string(found.energy_mj) + " mJ, " +
           std::to_string(found.latency_ms) + " ms per batch of " + std::to_string(cost_batch_));
  return {architecture, directory_};
}

SearchResult Runner::run(bool resume) {
  std::filesystem::create_directories(directory_);
  add_log_file(directory_ / "nasq.log");
  setup();
  metrics_ = std::make_unique<MetricsFile>(directory_ / "metrics.csv");
  strategy_->begin(*this);
  if (resume) {
    load_checkpoint();
    metrics_->truncate_to(static_cast<std::size_t>(rows_written_));
    truncate_lines(directory_ / "probabilities.jsonl", static_cast<std::size_t>(rows_written_));
    log_info("resumed " + directory_.string() + " at epoch " + std::to_string(epoch_index_ + 1) +
             ", step " + std::to_string(step_in_epoch_));
  } else {
    write_text_atomically(directory_ / "config.toml", stack_.to_toml() + "\n");
    metrics_->truncate_to(0);
    write_text_atomically(directory_ / "probabilities.jsonl", "");
  }
  last_progress_ = std::chrono::steady_clock::now();
  while (epoch_index_ < options_.warmup_epochs + options_.epochs) run_epoch();
  return derive();
}

SearchResult run_search(PluginFactory& factory, const std::filesystem::path& run_directory,
                        bool resume) {
  Runner runner(factory, run_directory);
  return runner.run(resume);
}

}  // namespace nasq::search
