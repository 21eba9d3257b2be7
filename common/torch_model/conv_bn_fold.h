// A convolution and the batch norm after it, folded into one convolution for inference
// (EmbeddingNet::PrepareForServing): weight * gamma / sqrt(var + eps), bias beta - mean * that
// scale. On CPU in float32 the folded convolution runs through oneDNN directly: LibTorch 1.13
// would otherwise send small batches (a lone photo; 1x1 convolutions under 16 images with one
// intra-op thread) to its native kernels, an order of magnitude slower (docs/BENCHMARKS.md).
// Internal to common/torch_model.
#ifndef DOGSEARCH_COMMON_TORCH_MODEL_CONV_BN_FOLD_H_
#define DOGSEARCH_COMMON_TORCH_MODEL_CONV_BN_FOLD_H_

#include <torch/torch.h>

#include <array>

#include "common/torch_model/embedding_net.h"

namespace dogsearch::model {

struct FoldedConvBn {
  torch::Tensor weight, bias;  // Undefined until folded.
  std::array<int64_t, 2> stride{1, 1}, padding{0, 0};
  int64_t groups = 1;
  Numerics numerics = Numerics::kFloat32;

  bool folded() const { return weight.defined(); }
};

// Folds `bn` (its running statistics: the network must be in eval mode when it serves) into
// `conv`, which must use zero padding given as sizes and no dilation. The weight is stored
// channels-last, the layout oneDNN runs fastest on CPU; with bfloat16 numerics the folded
// weight and bias are bfloat16 (or float32 holding bfloat16 values, emulated).
FoldedConvBn FoldConvBn(const torch::nn::Conv2dImpl& conv, const torch::nn::BatchNorm2dImpl& bn,
                        Numerics numerics = Numerics::kFloat32);

// The folded convolution of `x` (as ServingInput gives it, or a folded layer's output); with
// emulated bfloat16 the output is rounded to bfloat16 values.
torch::Tensor RunFolded(const FoldedConvBn& f, const torch::Tensor& x);

// A prepared network's input as its folded convolutions take it: channels-last on CPU (the
// layout oneDNN runs fastest on), as is elsewhere; bfloat16, or float32 rounded to bfloat16
// values, as the numerics say.
torch::Tensor ServingInput(const torch::Tensor& x, Numerics numerics);

// `x` after an element-wise sum of two bfloat16 tensors, as kBFloat16 would give it: rounded
// to bfloat16 values when emulated, as is otherwise.
torch::Tensor RoundAsServed(torch::Tensor x, Numerics numerics);

// A trunk's output as pooling and the head take it: float32 if the numerics made it
// bfloat16, as is otherwise.
torch::Tensor TrunkOutput(const torch::Tensor& x);

}  // namespace dogsearch::model

#endif  // DOGSEARCH_COMMON_TORCH_MODEL_CONV_BN_FOLD_H_
