// The embedding networks: photo tensor [N, 3, H, W] -> L2-normalised [N, embedding_dim].
// Includes LibTorch: include this only where models run (embedding service, trainer, tools).
//
// The architectures, built by name from a ModelSpec:
//  - seed_inception: the seed project's network (conv-BN-ReLU blocks, two inception blocks,
//    pooling, dense, L2), with the dense layer sized from the input spec.
//  - dogfacenet_resnet: 7x7/2 stem, residual stages of two 3x3 convs with a skip, global
//    average pooling, dropout, dense, L2 (in the style of the DogFaceNet paper).
//  - mobilenet_v2: Keras' MobileNetV2 trunk (for converted ImageNet weights, mobilenet_v2.h),
//    global average pooling, dropout, dense, L2.
//  - ensemble: several of the above on one photo, concatenated and projected (ensemble_net.h).
// A module is not thread-safe for training; for inference (eval mode, no grad) concurrent
// forward() calls on one module are safe in LibTorch.
#ifndef DOGSEARCH_COMMON_TORCH_MODEL_EMBEDDING_NET_H_
#define DOGSEARCH_COMMON_TORCH_MODEL_EMBEDDING_NET_H_

#include <torch/torch.h>

#include <memory>

#include "absl/status/statusor.h"
#include "common/model/model_spec.h"

namespace dogsearch::model {

class EmbeddingNet : public torch::nn::Module {
 public:
  explicit EmbeddingNet(ModelSpec spec) : spec_(std::move(spec)) {}
  ~EmbeddingNet() override = default;

  // x: float [N, 3, input.height, input.width]. Returns [N, embedding_dim], unit rows.
  virtual torch::Tensor forward(torch::Tensor x) = 0;

  const ModelSpec& spec() const { return spec_; }

  // Called once by the serving side after the network reached its device and precision, before
  // it is shared: a network may fold its batch norms into the convolutions before them and run
  // those on faster inference kernels. Afterwards forward() must only run in eval mode without
  // gradients, and the weights must not change (training never calls this). Default: nothing.
  virtual void PrepareForServing() {}

 private:
  const ModelSpec spec_;
};

// Validates the spec and builds a freshly initialised network of that architecture.
// INVALID_ARGUMENT for a bad spec; INTERNAL if LibTorch throws.
absl::StatusOr<std::shared_ptr<EmbeddingNet>> BuildEmbeddingNet(const ModelSpec& spec);

// Rows scaled to unit L2 norm (the last step of every network's forward).
torch::Tensor L2Normalize(const torch::Tensor& x);

// Re-normalises a batch prepared for one input spec ([N, 3, H, W], (pixel - mean) / std) for
// another of the same size: pixel = x * std_from + mean_from, then (pixel - mean_to) / std_to,
// as one per-channel multiply-add. Used where two networks see the same photo (an ensemble's
// members, a distillation teacher).
class InputConversion {
 public:
  InputConversion(const InputSpec& from, const InputSpec& to);
  torch::Tensor Apply(const torch::Tensor& x) const;

 private:
  torch::Tensor scale_, shift_;  // [1, 3, 1, 1] float32 on the CPU; moved per call (6 floats).
};

// Number of trainable scalars.
int64_t CountParameters(const torch::nn::Module& module);

}  // namespace dogsearch::model

#endif  // DOGSEARCH_COMMON_TORCH_MODEL_EMBEDDING_NET_H_
