#include "common/torch_model/nets.h"

#include <algorithm>

namespace dogsearch::model {
namespace F = torch::nn::functional;
namespace {

torch::Tensor MaxPool3s2(const torch::Tensor& x) {
  return F::max_pool2d(x, F::MaxPool2dFuncOptions(3).stride(2).padding(1));
}

// Folds the batch norms of `net`'s conv-BN-ReLU and residual blocks (it is in eval mode).
void FoldBatchNorms(torch::nn::Module& net, Numerics numerics) {
  for (const auto& m : net.modules(/*include_self=*/false)) {
    if (auto* c = m->as<ConvBnReluImpl>()) c->Fold(numerics);
    if (auto* r = m->as<ResidualBlockImpl>()) r->Fold(numerics);
  }
}

}  // namespace

ConvBnReluImpl::ConvBnReluImpl(int64_t in, int64_t out, int64_t kernel, int64_t stride) {
  conv_ = register_module("conv", torch::nn::Conv2d(torch::nn::Conv2dOptions(in, out, kernel)
                                                        .stride(stride)
                                                        .padding(kernel / 2)
                                                        .bias(false)));
  bn_ = register_module("bn", torch::nn::BatchNorm2d(out));
}

torch::Tensor ConvBnReluImpl::forward(torch::Tensor x) {
  // Folded (serving, no autograd): in place, one allocation fewer per layer.
  return folded_.folded() ? RunFolded(folded_, x).relu_() : torch::relu(bn_(conv_(x)));
}

InceptionImpl::InceptionImpl(int64_t in, const InceptionWidths& w) {
  b1_ = register_module("b1", ConvBnRelu(in, w.b1, 1));
  b2a_ = register_module("b2a", ConvBnRelu(in, w.b2_reduce, 1));
  b2b_ = register_module("b2b", ConvBnRelu(w.b2_reduce, w.b2, 3));
  b3a_ = register_module("b3a", ConvBnRelu(in, w.b3_reduce, 1));
  b3b_ = register_module("b3b", ConvBnRelu(w.b3_reduce, w.b3, 5));
  b4_ = register_module("b4", ConvBnRelu(in, w.b4, 1));
}

torch::Tensor InceptionImpl::forward(torch::Tensor x) {
  torch::Tensor pooled = F::max_pool2d(x, F::MaxPool2dFuncOptions(3).stride(1).padding(1));
  return torch::cat({b1_(x), b2b_(b2a_(x)), b3b_(b3a_(x)), b4_(pooled)}, 1);
}

SeedInceptionNet::SeedInceptionNet(const ModelSpec& spec) : EmbeddingNet(spec) {
  const InceptionWidths w3a{64, 96, 128, 16, 32, 32};
  const InceptionWidths w3b{128, 128, 192, 32, 96, 64};
  conv1_ = register_module("conv1", ConvBnRelu(3, 64, 7, 2));
  conv2_ = register_module("conv2", ConvBnRelu(64, 192, 3));
  inc3a_ = register_module("inception3a", Inception(192, w3a));
  inc3b_ = register_module("inception3b", Inception(w3a.out(), w3b));
  dropout_ = register_module("dropout", torch::nn::Dropout(spec.dropout));
  // The seed hard-wired 69,120 inputs (224x224); size the dense layer from the input instead.
  int64_t features;
  {
    torch::NoGradGuard no_grad;
    const bool was_training = is_training();
    eval();
    features = Features(torch::zeros({1, 3, spec.input.height, spec.input.width})).size(1);
    train(was_training);
  }
  dense_ = register_module("dense", torch::nn::Linear(features, spec.embedding_dim));
}

torch::Tensor SeedInceptionNet::Features(torch::Tensor x) {
  if (prepared()) x = ServingInput(x, numerics());
  x = MaxPool3s2(conv1_(x));
  x = MaxPool3s2(conv2_(x));
  x = inc3b_(inc3a_(x));
  x = MaxPool3s2(x);
  x = F::avg_pool2d(TrunkOutput(x), F::AvgPool2dFuncOptions(3).stride(1));
  return x.flatten(1);
}

void SeedInceptionNet::Prepare(Numerics numerics) { FoldBatchNorms(*this, numerics); }

torch::Tensor SeedInceptionNet::forward(torch::Tensor x) {
  return L2Normalize(dense_(dropout_(Features(x))));
}

ResidualBlockImpl::ResidualBlockImpl(int64_t in, int64_t out, int64_t stride) {
  auto conv = [](int64_t i, int64_t o, int64_t k, int64_t s) {
    return torch::nn::Conv2d(
        torch::nn::Conv2dOptions(i, o, k).stride(s).padding(k / 2).bias(false));
  };
  conv1_ = register_module("conv1", conv(in, out, 3, stride));
  bn1_ = register_module("bn1", torch::nn::BatchNorm2d(out));
  conv2_ = register_module("conv2", conv(out, out, 3, 1));
  bn2_ = register_module("bn2", torch::nn::BatchNorm2d(out));
  shortcut_ = torch::nn::Sequential();
  if (stride != 1 || in != out) {
    shortcut_->push_back(conv(in, out, 1, stride));
    shortcut_->push_back(torch::nn::BatchNorm2d(out));
  }
  register_module("shortcut", shortcut_);
}

void ResidualBlockImpl::Fold(Numerics numerics) {
  folded1_ = FoldConvBn(*conv1_, *bn1_, numerics);
  folded2_ = FoldConvBn(*conv2_, *bn2_, numerics);
  if (!shortcut_->is_empty()) {
    folded_shortcut_ = FoldConvBn(*shortcut_->ptr(0)->as<torch::nn::Conv2dImpl>(),
                                  *shortcut_->ptr(1)->as<torch::nn::BatchNorm2dImpl>(), numerics);
  }
}

torch::Tensor ResidualBlockImpl::forward(torch::Tensor x) {
  if (folded1_.folded()) {
    // Serving, no autograd: in place, two allocations fewer per block.
    torch::Tensor y = RunFolded(folded2_, RunFolded(folded1_, x).relu_());
    y.add_(shortcut_->is_empty() ? x : RunFolded(folded_shortcut_, x));
    return RoundAsServed(std::move(y), folded1_.numerics).relu_();
  }
  torch::Tensor y = bn2_(conv2_(torch::relu(bn1_(conv1_(x)))));
  torch::Tensor skip = shortcut_->is_empty() ? x : shortcut_->forward(x);
  return torch::relu(y + skip);
}

DogFaceNetResNet::DogFaceNetResNet(const ModelSpec& spec) : EmbeddingNet(spec) {
  const std::vector<uint32_t> widths = ResNetStageWidths(spec);
  stem_ = register_module("stem", ConvBnRelu(3, widths[0], 7, 2));
  stages_ = torch::nn::Sequential();
  int64_t in = widths[0];
  const uint32_t blocks = std::max<uint32_t>(1, spec.blocks_per_stage);
  for (size_t i = 0; i < widths.size(); ++i) {
    for (uint32_t b = 0; b < blocks; ++b) {
      stages_->push_back(ResidualBlock(in, widths[i], (i == 0 || b > 0) ? 1 : 2));
      in = widths[i];
    }
  }
  register_module("stages", stages_);
  dropout_ = register_module("dropout", torch::nn::Dropout(spec.dropout));
  dense_ = register_module("dense", torch::nn::Linear(in, spec.embedding_dim));
  if (spec.embedding_batchnorm) {
    embedding_bn_ = register_module("embedding_bn", torch::nn::BatchNorm1d(spec.embedding_dim));
  }
}

void DogFaceNetResNet::Prepare(Numerics numerics) { FoldBatchNorms(*this, numerics); }

torch::Tensor DogFaceNetResNet::forward(torch::Tensor x) {
  if (prepared()) x = ServingInput(x, numerics());
  x = MaxPool3s2(stem_(x));
  x = TrunkOutput(stages_->forward(x));
  x = F::adaptive_avg_pool2d(x, F::AdaptiveAvgPool2dFuncOptions({1, 1})).flatten(1);
  x = dense_(dropout_(x));
  if (embedding_bn_) x = embedding_bn_(x);
  return L2Normalize(x);
}

}  // namespace dogsearch::model
