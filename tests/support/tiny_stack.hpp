// A tiny search stack on a 640-image Fashion-MNIST slice for end-to-end CLI tests.
#pragma once

namespace nasq::test {

// Three MB blocks, bits {4, 8}, 4 steps per epoch: a whole search takes seconds.
inline constexpr const char* kTinyStack = R"([run]
name = "tiny"
seed = 3

[data]
train_subset = 640
validation_fraction = 0.5
test_subset = 200
shift_pad = 0
workers = 1

[search_space]
preset = "fashion-mnist"
stem_channels = 8
head_channels = 32
bottleneck_bits = [4, 8]
depthwise_bits = [4, 8]
[[search_space.stages]]
channels = 8
repeats = 2
stride = 2
[[search_space.stages]]
channels = 16
repeats = 1
stride = 2

[hardware.bitfusion]
output_precision = "activation"

[search]
epochs = 2
warmup_epochs = 1
batch_size = 32
steps_per_epoch = 4
checkpoint_every = 2
evaluation_batches = 2
energy_budget = "0.4 mJ"
energy_lambda = 1.0
normalize_cost = true

[search.random]
candidates = 6

[search.evolution]
population = 4
sample = 2
cycles = 6
)";

}  // namespace nasq::test
