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

// How a network prepared for serving computes: ModelSpec::serving_precision on a device.
//  - kFloat32: float32 throughout (or the network's own dtype, e.g. half on CUDA).
//  - kBFloat16: convolutions take bfloat16 inputs and weights, accumulate in float32 and give
//    bfloat16 outputs (oneDNN's kernels on a CPU with AVX512-BF16; CUDA).
//  - kBFloat16Emulated: the same roundings applied to float32 tensors around float32
//    convolutions, where the CPU has no bfloat16 arithmetic: the same vectors as kBFloat16 up
//    to the order of float32 accumulation, at float32's speed.
// After the convolutional trunk (pooled features, dense layer, normalisation) all are float32.
enum class Numerics { kFloat32, kBFloat16, kBFloat16Emulated };

// The numerics serving `precision` takes on `device`.
Numerics ResolveNumerics(ServingPrecision precision, const torch::Device& device);
// Whether this CPU runs bfloat16 convolutions natively (AVX512-BF16, LibTorch with oneDNN).
bool CpuHasNativeBFloat16();
const char* NumericsName(Numerics n);

class EmbeddingNet : public torch::nn::Module {
 public:
  explicit EmbeddingNet(ModelSpec spec) : spec_(std::move(spec)) {}
  ~EmbeddingNet() override = default;

  // x: float [N, 3, input.height, input.width]. Returns [N, embedding_dim], unit rows.
  virtual torch::Tensor forward(torch::Tensor x) = 0;

  const ModelSpec& spec() const { return spec_; }

  // Called once by the serving side after the network reached its device (and dtype), before
  // it is shared: puts it in eval mode, and a network may fold its batch norms into the
  // convolutions before them and run those on faster inference kernels, with `numerics`
  // (default: ResolveNumerics of the spec's serving precision on the device of the weights).
  // Afterwards forward() must only run in eval mode without gradients, and the weights must
  // not change (training never calls this). Call it at most once.
  void PrepareForServing();
  void PrepareForServing(Numerics numerics);
  // Whether PrepareForServing ran, and with what.
  bool prepared() const { return prepared_; }
  Numerics numerics() const { return numerics_; }

 protected:
  // The architecture's part of PrepareForServing. Default: nothing (float32 only).
  virtual void Prepare(Numerics /*numerics*/) {}

 private:
  const ModelSpec spec_;
  bool prepared_ = false;                   // Set once by PrepareForServing, before sharing.
  Numerics numerics_ = Numerics::kFloat32;  // Likewise.
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
