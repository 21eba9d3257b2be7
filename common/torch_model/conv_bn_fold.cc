#include "common/torch_model/conv_bn_fold.h"

namespace dogsearch::model {

namespace {

// Float32 values rounded to the nearest bfloat16 (ties to even), as float32.
torch::Tensor RoundToBFloat16(const torch::Tensor& x) {
  return x.to(torch::kBFloat16).to(torch::kFloat32);
}

}  // namespace

FoldedConvBn FoldConvBn(const torch::nn::Conv2dImpl& conv, const torch::nn::BatchNorm2dImpl& bn,
                        Numerics numerics) {
  const auto* padding = c10::get_if<torch::ExpandingArray<2>>(&conv.options.padding());
  TORCH_CHECK(
      padding != nullptr && c10::get_if<torch::enumtype::kZeros>(&conv.options.padding_mode()),
      "FoldConvBn: only zero padding given as sizes can be folded");
  TORCH_CHECK((*conv.options.dilation())[0] == 1 && (*conv.options.dilation())[1] == 1,
              "FoldConvBn: dilated convolutions are not folded");
  torch::NoGradGuard no_grad;
  FoldedConvBn f;
  f.stride = {(*conv.options.stride())[0], (*conv.options.stride())[1]};
  f.padding = {(**padding)[0], (**padding)[1]};
  f.groups = conv.options.groups();
  const torch::Tensor w = conv.weight.to(torch::kFloat32);
  const torch::Tensor scale = bn.weight.to(torch::kFloat32) /
                              torch::sqrt(bn.running_var.to(torch::kFloat32) + bn.options.eps());
  torch::Tensor bias = bn.bias.to(torch::kFloat32) - bn.running_mean.to(torch::kFloat32) * scale;
  if (conv.bias.defined()) bias = bias + conv.bias.to(torch::kFloat32) * scale;
  f.weight = (w * scale.view({-1, 1, 1, 1}))
                 .to(conv.weight.scalar_type())
                 .contiguous(at::MemoryFormat::ChannelsLast);
  f.bias = bias.to(conv.weight.scalar_type());
  f.numerics = numerics;
  if (numerics == Numerics::kBFloat16) {
    f.weight = f.weight.to(torch::kBFloat16);  // Keeps the channels-last layout.
    f.bias = f.bias.to(torch::kBFloat16);
  } else if (numerics == Numerics::kBFloat16Emulated) {
    f.weight = RoundToBFloat16(f.weight);
    f.bias = RoundToBFloat16(f.bias);
  }
  return f;
}

torch::Tensor RunFolded(const FoldedConvBn& f, const torch::Tensor& x) {
  const std::array<int64_t, 2> dilation = {1, 1};
  torch::Tensor y;
  const auto dtype = x.scalar_type();
  if (x.is_cpu() && at::hasMKLDNN() &&
      (dtype == torch::kFloat32 || (dtype == torch::kBFloat16 && CpuHasNativeBFloat16()))) {
    y = at::mkldnn_convolution(x, f.weight, f.bias, f.padding, f.stride, dilation, f.groups);
  } else {
    y = torch::conv2d(x, f.weight, f.bias, f.stride, f.padding, dilation, f.groups);
  }
  return f.numerics == Numerics::kBFloat16Emulated ? RoundToBFloat16(y) : y;
}

torch::Tensor ServingInput(const torch::Tensor& x, Numerics numerics) {
  torch::Tensor y = x.is_cpu() ? x.contiguous(at::MemoryFormat::ChannelsLast) : x;
  if (numerics == Numerics::kBFloat16) return y.to(torch::kBFloat16);
  if (numerics == Numerics::kBFloat16Emulated) return RoundToBFloat16(y);
  return y;
}

torch::Tensor RoundAsServed(torch::Tensor x, Numerics numerics) {
  return numerics == Numerics::kBFloat16Emulated ? RoundToBFloat16(x) : x;
}

torch::Tensor TrunkOutput(const torch::Tensor& x) {
  return x.scalar_type() == torch::kBFloat16 ? x.to(torch::kFloat32) : x;
}

}  // namespace dogsearch::model
