// Builds SpaceOptions from a stack: preset, key overrides, stage tables, class count.
#include "core/space/space_config.hpp"

#include <limits>
#include <memory>
#include <set>
#include <utility>

#include "core/config/stack.hpp"
#include "core/space/space_validation.hpp"
#include "nasq/sdk/error.hpp"

namespace nasq::space {
namespace {

using StageViews = std::vector<std::unique_ptr<sdk::ConfigView>>;

constexpr const char* kStagesPath = "search_space.stages";

sdk::KeySpec stage_key(std::string name, std::string default_toml, std::string doc) {
  sdk::KeySpec spec;
  spec.name = std::move(name);
  spec.type = sdk::KeyType::integer;
  spec.default_toml = std::move(default_toml);
  spec.doc = std::move(doc);
  return spec;
}

// Reads an integer list key and narrows it to int; values outside the int
// range are rejected here, the rest by validate_space_options().
std::vector<int> read_choices(const Stack& stack, const std::string& key) {
  const std::string path = "search_space." + key;
  std::vector<int> choices;
  for (const std::int64_t value : stack.get_int_list(path)) {
    if (value < std::numeric_limits<int>::min() || value > std::numeric_limits<int>::max()) {
      throw sdk::ConfigError(path, stack.location(path) + ": " + path + ": choice " +
                                       std::to_string(value) + " is out of range");
    }
    choices.push_back(static_cast<int>(value));
  }
  return choices;
}

// Replaces `target` with the key's value unless the key is 0 ("use the preset's").
void override_if_set(const Stack& stack, const std::string& key, std::int64_t& target) {
  const std::int64_t value = stack.get_int("search_space." + key);
  if (value != 0) target = value;
}

[[noreturn]] void fail_stage_table(const sdk::ConfigView& view, const std::string& key,
                                   const std::string& message) {
  throw sdk::ConfigError(view.table_path() + "." + key,
                         view.location(key) + ": " + view.table_path() + ": " + message);
}

void apply_indexed_stages(const StageViews& views, std::vector<StageSpec>& stages,
                          std::vector<const sdk::ConfigView*>& view_of_stage) {
  std::set<std::int64_t> seen;
  for (const auto& view : views) {
    const std::int64_t index = view->get_int("index");
    if (index < 0 || index >= static_cast<std::int64_t>(stages.size())) {
      fail_stage_table(*view, "index",
                       "index " + std::to_string(index) + " is not a stage of the preset; valid "
                       "indices are 0.." + std::to_string(stages.size() - 1));
    }
    if (!seen.insert(index).second) {
      fail_stage_table(*view, "index", "stage " + std::to_string(index) + " is overridden twice");
    }
    StageSpec& stage = stages[static_cast<std::size_t>(index)];
    if (view->is_set("channels")) stage.channels = view->get_int("channels");
    if (view->is_set("repeats")) stage.repeats = view->get_int("repeats");
    if (view->is_set("stride")) stage.stride = view->get_int("stride");
    view_of_stage[static_cast<std::size_t>(index)] = view.get();
  }
}

std::vector<StageSpec> listed_stages(const StageViews& views,
                                     std::vector<const sdk::ConfigView*>& view_of_stage) {
  std::vector<StageSpec> stages;
  for (const auto& view : views) {
    if (!view->is_set("channels")) {
      fail_stage_table(*view, "channels",
                       "channels is missing; a stage table without index replaces the preset's "
                       "stages and must set channels");
    }
    stages.push_back({view->get_int("channels"), view->get_int("repeats"),
                      view->get_int("stride")});
    view_of_stage.push_back(view.get());
  }
  return stages;
}

// Applies [[search_space.stages]] to the preset's stages. Tables with
// `index` override that preset stage; tables without it list the whole stage
// sequence. Returns, per stage, the table that set it (null: the preset).
std::vector<const sdk::ConfigView*> apply_stage_tables(const StageViews& views,
                                                       std::vector<StageSpec>& stages) {
  std::vector<const sdk::ConfigView*> view_of_stage;
  if (views.empty()) {
    view_of_stage.assign(stages.size(), nullptr);
    return view_of_stage;
  }
  std::size_t indexed = 0;
  for (const auto& view : views) {
    indexed += view->is_set("index") && view->get_int("index") >= 0 ? 1 : 0;
  }
  if (indexed != 0 && indexed != views.size()) {
    fail_stage_table(*views.front(), "index",
                     "either every [[search_space.stages]] table sets index (override preset "
                     "stages) or none does (list all stages)");
  }
  if (indexed == 0) {
    stages = listed_stages(views, view_of_stage);
    return view_of_stage;
  }
  view_of_stage.assign(stages.size(), nullptr);
  apply_indexed_stages(views, stages, view_of_stage);
  return view_of_stage;
}

std::int64_t resolve_classes(const Stack& stack, std::int64_t preset_classes,
                             std::optional<std::int64_t> data_classes) {
  const std::string path = "search_space.num_classes";
  const std::int64_t configured = stack.get_int(path);
  if (configured == 0) return data_classes.value_or(preset_classes);
  if (data_classes && *data_classes != configured) {
    throw sdk::ConfigError(path, stack.location(path) + ": " + path + " = " +
                                     std::to_string(configured) + " but the data set has " +
                                     std::to_string(*data_classes) + " classes; set it to " +
                                     std::to_string(*data_classes) + " or remove it");
  }
  return configured;
}

}  // namespace

std::vector<sdk::KeySpec> stage_keys() {
  return {stage_key("index", "-1",
                    "preset stage (from 0) that this table overrides; without index, the "
                    "tables list every stage in order and replace the preset's"),
          stage_key("channels", "0", "output channels of every block of the stage"),
          stage_key("repeats", "1", "MB blocks in the stage"),
          stage_key("stride", "1", "stride of the stage's first block: 1 or 2")};
}

std::optional<std::int64_t> data_class_count(const Stack& stack) {
  const std::string kind = stack.get_string("data.kind");
  if (kind == "fashion-mnist" || kind == "mnist" || kind == "cifar10") return 10;
  if (kind == "cifar100") return stack.get_string("data.cifar100_labels") == "coarse" ? 20 : 100;
  return std::nullopt;
}

SpaceOptions load_space_options(Stack& stack, std::optional<std::int64_t> data_classes) {
  SpaceOptions options = preset_options(stack.get_string("search_space.preset"));
  const std::pair<const char*, std::int64_t*> overrides[] = {
      {"input_size", &options.input_size},       {"input_channels", &options.input_channels},
      {"stem_channels", &options.stem_channels}, {"stem_stride", &options.stem_stride},
      {"head_channels", &options.head_channels}};
  for (const auto& [key, target] : overrides) override_if_set(stack, key, *target);
  if (!data_classes) data_classes = data_class_count(stack);
  options.num_classes = resolve_classes(stack, options.num_classes, data_classes);

  options.skip_choices = read_choices(stack, "skip_choices");
  options.expansion_choices = read_choices(stack, "expansion_choices");
  options.kernel_choices = read_choices(stack, "kernel_choices");
  options.bottleneck_bits = read_choices(stack, "bottleneck_bits");
  options.depthwise_bits = read_choices(stack, "depthwise_bits");

  const StageViews views = stack.table_array(kStagesPath, stage_keys());
  const std::vector<const sdk::ConfigView*> view_of_stage =
      apply_stage_tables(views, options.stages);

  const OriginLookup origin = [&](const std::string& key, int stage) -> std::string {
    if (stage < 0) return key == "stages" ? stack.location(kStagesPath)
                                          : stack.location("search_space." + key);
    const sdk::ConfigView* view = view_of_stage[static_cast<std::size_t>(stage)];
    return view != nullptr ? view->location(key) : "preset " + options.preset;
  };
  validate_space_options(options, origin);
  return options;
}

SearchSpace load_search_space(Stack& stack, std::optional<std::int64_t> data_classes) {
  return SearchSpace(load_space_options(stack, data_classes));
}

}  // namespace nasq::space
