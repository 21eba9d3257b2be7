#include "common/torch_model/mobilenet_v2.h"

#include "absl/strings/str_cat.h"

namespace dogsearch::model {
namespace {

namespace F = torch::nn::functional;

torch::Tensor Relu6(const torch::Tensor& x) { return torch::clamp(x, 0, 6); }

// Keras' correct_pad for a 3x3 stride-2 convolution: (0, 1) on an even side, (1, 1) on an odd.
torch::Tensor KerasStridePad(const torch::Tensor& x) {
  const int64_t top = x.size(2) % 2 == 0 ? 0 : 1, left = x.size(3) % 2 == 0 ? 0 : 1;
  return F::pad(x, F::PadFuncOptions({left, 1, top, 1}));
}

// (expansion, output channels, repeats, first stride) per stage, as in the paper / Keras.
struct Stage {
  int64_t expansion, out, repeats, stride;
};
constexpr Stage kStages[] = {{1, 16, 1, 1}, {6, 24, 2, 2},  {6, 32, 3, 2}, {6, 64, 4, 2},
                             {6, 96, 3, 1}, {6, 160, 3, 2}, {6, 320, 1, 1}};

}  // namespace

torch::nn::Conv2d MobileNetV2Net::Conv(const std::string& name, int64_t in, int64_t out,
                                       int64_t kernel, int64_t stride, int64_t groups) {
  // Padding: "same" for stride 1 (symmetric); stride 2 pads explicitly (KerasStridePad).
  const int64_t pad = stride == 1 ? kernel / 2 : 0;
  return register_module(name, torch::nn::Conv2d(torch::nn::Conv2dOptions(in, out, kernel)
                                                     .stride(stride)
                                                     .padding(pad)
                                                     .groups(groups)
                                                     .bias(false)));
}

torch::nn::BatchNorm2d MobileNetV2Net::Bn(const std::string& name, int64_t channels) {
  return register_module(name,
                         torch::nn::BatchNorm2d(torch::nn::BatchNormOptions(channels).eps(1e-3)));
}

MobileNetV2Net::MobileNetV2Net(const ModelSpec& spec) : EmbeddingNet(spec) {
  conv1_ = Conv("Conv1", 3, 32, 3, 2, 1);
  bn1_ = Bn("bn_Conv1", 32);
  int64_t in = 32;
  int index = 0;
  for (const Stage& st : kStages) {
    for (int64_t r = 0; r < st.repeats; ++r, ++index) {
      Block b;
      b.name = index == 0 ? "expanded_conv" : absl::StrCat("block_", index);
      b.in = in;
      b.out = st.out;
      b.stride = r == 0 ? st.stride : 1;
      b.expand = st.expansion != 1;
      const int64_t mid = in * st.expansion;
      if (b.expand) {
        b.expand_conv = Conv(b.name + "_expand", in, mid, 1, 1, 1);
        b.expand_bn = Bn(b.name + "_expand_BN", mid);
      }
      b.depthwise = Conv(b.name + "_depthwise", mid, mid, 3, b.stride, mid);
      b.depthwise_bn = Bn(b.name + "_depthwise_BN", mid);
      b.project = Conv(b.name + "_project", mid, st.out, 1, 1, 1);
      b.project_bn = Bn(b.name + "_project_BN", st.out);
      blocks_.push_back(std::move(b));
      in = st.out;
    }
  }
  conv_last_ = Conv("Conv_1", in, 1280, 1, 1, 1);
  bn_last_ = Bn("Conv_1_bn", 1280);
  dropout_ = register_module("dropout", torch::nn::Dropout(spec.dropout));
  dense_ = register_module("dense", torch::nn::Linear(1280, spec.embedding_dim));
}

torch::Tensor MobileNetV2Net::RunBlock(Block& b, torch::Tensor x) {
  torch::Tensor y = b.expand ? Relu6(b.expand_bn(b.expand_conv(x))) : x;
  if (b.stride == 2) y = KerasStridePad(y);
  y = Relu6(b.depthwise_bn(b.depthwise(y)));
  y = b.project_bn(b.project(y));
  return b.stride == 1 && b.in == b.out ? x + y : y;
}

torch::Tensor MobileNetV2Net::Features(torch::Tensor x) {
  x = Relu6(bn1_(conv1_(KerasStridePad(x))));
  for (Block& b : blocks_) x = RunBlock(b, x);
  x = Relu6(bn_last_(conv_last_(x)));
  return F::adaptive_avg_pool2d(x, F::AdaptiveAvgPool2dFuncOptions({1, 1})).flatten(1);
}

torch::Tensor MobileNetV2Net::forward(torch::Tensor x) {
  x = dense_(dropout_(Features(x)));
  return F::normalize(x, F::NormalizeFuncOptions().p(2).dim(1).eps(1e-12));
}

}  // namespace dogsearch::model
