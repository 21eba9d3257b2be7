// Loads Keras-named float32 tensors (tools/pretrained/convert_nsfwjs.mjs's output) into a
// network built with Keras' layer names (mobilenet_v2): each of the network's convolution and
// batch-norm tensors is looked up by its Keras name and transposed to LibTorch's layout:
//   Conv2D kernel [kh, kw, in, out]             -> weight [out, in, kh, kw]
//   DepthwiseConv2D kernel [kh, kw, in, 1]      -> weight [in, 1, kh, kw]
//   BatchNormalization gamma/beta/moving_mean/moving_variance -> weight/bias/running_mean/var
// Tensors of the network without a Keras counterpart (this project's dense head) keep their
// initialisation; Keras tensors the network does not have (the source's classifier) are
// ignored. Includes LibTorch.
#ifndef DOGSEARCH_TOOLS_PRETRAINED_KERAS_IMPORT_H_
#define DOGSEARCH_TOOLS_PRETRAINED_KERAS_IMPORT_H_

#include <torch/torch.h>

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace dogsearch::pretrained {

struct KerasTensor {
  std::vector<int64_t> shape;
  std::vector<float> values;
};
using KerasTensors = std::map<std::string, KerasTensor>;

// Reads <dir>/keras_weights.txt ("<name> <offset> <dim>..." per line) and keras_weights.bin.
// INVALID_ARGUMENT naming the line or tensor that does not fit; NOT_FOUND for missing files.
absl::StatusOr<KerasTensors> ReadKerasTensors(const std::string& dir);

struct ImportReport {
  int imported = 0;                 // Network tensors filled from Keras tensors.
  std::vector<std::string> kept;    // Network tensors left as initialised.
  std::vector<std::string> unused;  // Keras tensors not used.
};

// FAILED_PRECONDITION naming the tensor on a shape mismatch, or when a tensor of a Keras-named
// layer (a conv or batch norm) is missing from `keras`.
absl::StatusOr<ImportReport> ImportKeras(const KerasTensors& keras, torch::nn::Module& net);

}  // namespace dogsearch::pretrained

#endif  // DOGSEARCH_TOOLS_PRETRAINED_KERAS_IMPORT_H_
