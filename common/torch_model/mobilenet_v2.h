// MobileNetV2 (Sandler et al. 2018; width 1.0) laid out exactly as Keras builds it, so that
// ImageNet-pretrained weights converted from Keras/TensorFlow.js load by name
// (tools/pretrained/, docs/TRAINING.md "Pretrained start"): every convolution and batch norm is
// registered under its Keras layer name (Conv1, bn_Conv1, expanded_conv_depthwise, ...,
// block_16_project_BN, Conv_1, Conv_1_bn); batch norms use Keras' epsilon 1e-3; a stride-2
// convolution is preceded by Keras' asymmetric zero padding (one row/column more at the bottom
// and right for even sizes); activations are ReLU6. Then global average pooling, dropout, a
// dense layer to the embedding and L2 normalisation (this project's head; the Keras
// classifier is not part of it). Inputs are expected in [-1, 1] (InputSpec mean = std = 0.5).
// Internal to common/torch_model; built through BuildEmbeddingNet.
#ifndef DOGSEARCH_COMMON_TORCH_MODEL_MOBILENET_V2_H_
#define DOGSEARCH_COMMON_TORCH_MODEL_MOBILENET_V2_H_

#include <torch/torch.h>

#include <string>
#include <vector>

#include "common/torch_model/conv_bn_fold.h"
#include "common/torch_model/embedding_net.h"

namespace dogsearch::model {

class MobileNetV2Net : public EmbeddingNet {
 public:
  explicit MobileNetV2Net(const ModelSpec& spec);
  torch::Tensor forward(torch::Tensor x) override;

  // The pooled 1280-d features before the head (what a converter checks against its source).
  torch::Tensor Features(torch::Tensor x);

 protected:
  // Folds every batch norm into the convolution before it and runs the folded convolutions
  // through oneDNN on CPU (conv_bn_fold.h: LibTorch 1.13 would otherwise send the 1x1
  // convolutions of a batch under 16 images with one intra-op thread to its native kernel, an
  // order of magnitude slower here; docs/BENCHMARKS.md). In float32 outputs match the unfolded
  // network to float rounding.
  void Prepare(Numerics numerics) override;

 private:
  // A convolution and the batch norm after it; `folded` is set by PrepareForServing only.
  struct ConvBn {
    torch::nn::Conv2d conv{nullptr};
    torch::nn::BatchNorm2d bn{nullptr};
    FoldedConvBn folded;
  };
  struct Block {
    std::string name;  // "expanded_conv" or "block_<i>".
    int64_t in = 0, out = 0, stride = 1;
    bool expand = false;
    ConvBn expand_cb, depthwise_cb, project_cb;
  };
  ConvBn MakeConvBn(const std::string& conv_name, const std::string& bn_name, int64_t in,
                    int64_t out, int64_t kernel, int64_t stride, int64_t groups);
  static torch::Tensor Run(const ConvBn& cb, const torch::Tensor& x);
  static void Fold(ConvBn& cb, Numerics n) { cb.folded = FoldConvBn(*cb.conv, *cb.bn, n); }
  torch::Tensor RunBlock(const Block& b, torch::Tensor x);

  ConvBn stem_, last_;
  std::vector<Block> blocks_;
  torch::nn::Dropout dropout_{nullptr};
  torch::nn::Linear dense_{nullptr};
};

}  // namespace dogsearch::model

#endif  // DOGSEARCH_COMMON_TORCH_MODEL_MOBILENET_V2_H_
