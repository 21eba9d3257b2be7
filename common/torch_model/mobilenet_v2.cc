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

MobileNetV2Net::ConvBn MobileNetV2Net::MakeConvBn(const std::string& conv_name,
                                                  const std::string& bn_name, int64_t in,
                                                  int64_t out, int64_t kernel, int64_t stride,
                                                  int64_t groups) {
  // Padding: "same" for stride 1 (symmetric); stride 2 pads explicitly (KerasStridePad).
  const int64_t pad = stride == 1 ? kernel / 2 : 0;
  ConvBn cb;
  cb.conv = register_module(conv_name, torch::nn::Conv2d(torch::nn::Conv2dOptions(in, out, kernel)
                                                             .stride(stride)
                                                             .padding(pad)
                                                             .groups(groups)
                                                             .bias(false)));
  cb.bn =
      register_module(bn_name, torch::nn::BatchNorm2d(torch::nn::BatchNormOptions(out).eps(1e-3)));
  return cb;
}

MobileNetV2Net::MobileNetV2Net(const ModelSpec& spec) : EmbeddingNet(spec) {
  stem_ = MakeConvBn("Conv1", "bn_Conv1", 3, 32, 3, 2, 1);
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
      const std::string& n = b.name;
      if (b.expand) b.expand_cb = MakeConvBn(n + "_expand", n + "_expand_BN", in, mid, 1, 1, 1);
      b.depthwise_cb =
          MakeConvBn(n + "_depthwise", n + "_depthwise_BN", mid, mid, 3, b.stride, mid);
      b.project_cb = MakeConvBn(n + "_project", n + "_project_BN", mid, st.out, 1, 1, 1);
      blocks_.push_back(std::move(b));
      in = st.out;
    }
  }
  last_ = MakeConvBn("Conv_1", "Conv_1_bn", in, 1280, 1, 1, 1);
  dropout_ = register_module("dropout", torch::nn::Dropout(spec.dropout));
  dense_ = register_module("dense", torch::nn::Linear(1280, spec.embedding_dim));
}

torch::Tensor MobileNetV2Net::Run(const ConvBn& cb, const torch::Tensor& x) {
  if (cb.folded.folded()) return RunFolded(cb.folded, x);
  return cb.bn.ptr()->forward(cb.conv.ptr()->forward(x));
}

void MobileNetV2Net::Prepare(Numerics numerics) {
  Fold(stem_, numerics);
  for (Block& b : blocks_) {
    if (b.expand) Fold(b.expand_cb, numerics);
    Fold(b.depthwise_cb, numerics);
    Fold(b.project_cb, numerics);
  }
  Fold(last_, numerics);
}

torch::Tensor MobileNetV2Net::RunBlock(const Block& b, torch::Tensor x) {
  torch::Tensor y = b.expand ? Relu6(Run(b.expand_cb, x)) : x;
  if (b.stride == 2) y = KerasStridePad(y);
  y = Relu6(Run(b.depthwise_cb, y));
  y = Run(b.project_cb, y);
  return b.stride == 1 && b.in == b.out ? RoundAsServed(x + y, numerics()) : y;
}

torch::Tensor MobileNetV2Net::Features(torch::Tensor x) {
  if (prepared()) x = ServingInput(x, numerics());
  x = Relu6(Run(stem_, KerasStridePad(x)));
  for (const Block& b : blocks_) x = RunBlock(b, x);
  x = TrunkOutput(Relu6(Run(last_, x)));
  return F::adaptive_avg_pool2d(x, F::AdaptiveAvgPool2dFuncOptions({1, 1})).flatten(1);
}

torch::Tensor MobileNetV2Net::forward(torch::Tensor x) {
  x = dense_(dropout_(Features(x)));
  return L2Normalize(x);
}

}  // namespace dogsearch::model
