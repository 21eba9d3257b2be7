// The concrete architectures behind BuildEmbeddingNet (see embedding_net.h). Internal to
// common/model; other code builds networks through BuildEmbeddingNet.
#ifndef DOGSEARCH_COMMON_TORCH_MODEL_NETS_H_
#define DOGSEARCH_COMMON_TORCH_MODEL_NETS_H_

#include <torch/torch.h>

#include "common/torch_model/conv_bn_fold.h"
#include "common/torch_model/embedding_net.h"

namespace dogsearch::model {

// conv -> batch norm -> ReLU.
class ConvBnReluImpl : public torch::nn::Module {
 public:
  ConvBnReluImpl(int64_t in, int64_t out, int64_t kernel, int64_t stride = 1);
  torch::Tensor forward(torch::Tensor x);
  // Serving: the batch norm folded into the convolution (conv_bn_fold.h); eval mode only.
  void Fold(Numerics numerics) { folded_ = FoldConvBn(*conv_, *bn_, numerics); }

 private:
  torch::nn::Conv2d conv_{nullptr};
  torch::nn::BatchNorm2d bn_{nullptr};
  FoldedConvBn folded_;  // Set by Fold only.
};
TORCH_MODULE(ConvBnRelu);

// Inception block: 1x1 | 1x1 -> 3x3 | 1x1 -> 5x5 | 3x3 max-pool -> 1x1, concatenated.
struct InceptionWidths {
  int64_t b1, b2_reduce, b2, b3_reduce, b3, b4;
  int64_t out() const { return b1 + b2 + b3 + b4; }
};

class InceptionImpl : public torch::nn::Module {
 public:
  InceptionImpl(int64_t in, const InceptionWidths& w);
  torch::Tensor forward(torch::Tensor x);

 private:
  ConvBnRelu b1_{nullptr}, b2a_{nullptr}, b2b_{nullptr}, b3a_{nullptr}, b3b_{nullptr}, b4_{nullptr};
};
TORCH_MODULE(Inception);

class SeedInceptionNet : public EmbeddingNet {
 public:
  explicit SeedInceptionNet(const ModelSpec& spec);
  torch::Tensor forward(torch::Tensor x) override;

 protected:
  // Folds every batch norm into its convolution (conv_bn_fold.h).
  void Prepare(Numerics numerics) override;

 private:
  torch::Tensor Features(torch::Tensor x);

  ConvBnRelu conv1_{nullptr}, conv2_{nullptr};
  Inception inc3a_{nullptr}, inc3b_{nullptr};
  torch::nn::Dropout dropout_{nullptr};
  torch::nn::Linear dense_{nullptr};
};

// Two 3x3 conv-BN layers with a skip (1x1 conv-BN when the shape changes), then ReLU.
class ResidualBlockImpl : public torch::nn::Module {
 public:
  ResidualBlockImpl(int64_t in, int64_t out, int64_t stride);
  torch::Tensor forward(torch::Tensor x);
  // Serving: each batch norm folded into its convolution (conv_bn_fold.h); eval mode only.
  void Fold(Numerics numerics);

 private:
  torch::nn::Conv2d conv1_{nullptr}, conv2_{nullptr};
  torch::nn::BatchNorm2d bn1_{nullptr}, bn2_{nullptr};
  torch::nn::Sequential shortcut_{nullptr};  // Empty, or a 1x1 convolution and a batch norm.
  FoldedConvBn folded1_, folded2_, folded_shortcut_;  // Set by Fold only.
};
TORCH_MODULE(ResidualBlock);

class DogFaceNetResNet : public EmbeddingNet {
 public:
  explicit DogFaceNetResNet(const ModelSpec& spec);
  torch::Tensor forward(torch::Tensor x) override;

 protected:
  // Folds every batch norm of the trunk into its convolution (conv_bn_fold.h; the embedding
  // batch norm, a 1-d one after the dense layer, stays). In float32 outputs match to float
  // rounding.
  void Prepare(Numerics numerics) override;

 private:
  ConvBnRelu stem_{nullptr};
  torch::nn::Sequential stages_{nullptr};
  torch::nn::Dropout dropout_{nullptr};
  torch::nn::Linear dense_{nullptr};
  torch::nn::BatchNorm1d embedding_bn_{nullptr};  // Only with spec.embedding_batchnorm.
};

}  // namespace dogsearch::model

#endif  // DOGSEARCH_COMMON_TORCH_MODEL_NETS_H_
