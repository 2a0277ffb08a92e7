// ONNX export of a trained network in QDQ form: RUN_DIR/model.onnx.
//
// The graph (opset 13) computes what the discrete network computes in
// evaluation mode, with every quantizer written as integer math. Each conv and
// the FC layer get QuantizeLinear and DequantizeLinear on their input
// activation and weight, and batch norm is folded into the conv weights and
// biases. The other ops are Clip(0, 6) for ReLU6, residual Add,
// GlobalAveragePool, Flatten and Gemm.
// docs/export.md describes the layout and what b-bit grids in 8-bit
// containers mean for runtimes.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

namespace nasq::model {
class DiscreteNetworkImpl;
}

namespace nasq::exporting {

struct TrainedNetwork;

inline constexpr std::int64_t kOnnxOpset = 13;
inline constexpr const char* kOnnxInputName = "images";   // float [batch, C, H, W]
inline constexpr const char* kOnnxOutputName = "logits";  // float [batch, classes]

// Returns the serialized ONNX model of `network`, which this call puts in
// evaluation mode. The model has passed onnx::checker::check_model and strict
// shape inference. Throws sdk::Error naming the layer when a quantizer cannot
// state its grid (QuantizerOp::export_grid), when a grid needs more than 8
// bits (opset 13 stores int8 and uint8 only), or when a weight grid does not
// reproduce the quantizer's forward().
// `metadata` adds entries to the model's metadata_props.
std::string onnx_model_bytes(model::DiscreteNetworkImpl& network,
                             const std::vector<std::pair<std::string, std::string>>& metadata = {});

// Writes RUN_DIR/model.onnx atomically and returns its path. Throws like
// onnx_model_bytes(), and sdk::Error when the file cannot be written.
std::filesystem::path export_onnx(const TrainedNetwork& trained,
                                  const std::filesystem::path& run_directory);

}  // namespace nasq::exporting
