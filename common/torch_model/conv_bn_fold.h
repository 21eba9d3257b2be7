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

namespace dogsearch::model {

struct FoldedConvBn {
  torch::Tensor weight, bias;  // Undefined until folded.
  std::array<int64_t, 2> stride{1, 1}, padding{0, 0};
  int64_t groups = 1;

  bool folded() const { return weight.defined(); }
};

// Folds `bn` (its running statistics: the network must be in eval mode when it serves) into
// `conv`, which must use zero padding given as sizes and no dilation. The weight is stored
// channels-last, the layout oneDNN runs fastest on CPU.
FoldedConvBn FoldConvBn(const torch::nn::Conv2dImpl& conv, const torch::nn::BatchNorm2dImpl& bn);

// The folded convolution of `x`.
torch::Tensor RunFolded(const FoldedConvBn& f, const torch::Tensor& x);

// `x` in the layout folded convolutions run fastest on: channels-last on CPU, as is elsewhere.
torch::Tensor ServingLayout(const torch::Tensor& x);

}  // namespace dogsearch::model

#endif  // DOGSEARCH_COMMON_TORCH_MODEL_CONV_BN_FOLD_H_
