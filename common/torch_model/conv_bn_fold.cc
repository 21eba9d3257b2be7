#include "common/torch_model/conv_bn_fold.h"

namespace dogsearch::model {

FoldedConvBn FoldConvBn(const torch::nn::Conv2dImpl& conv, const torch::nn::BatchNorm2dImpl& bn) {
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
  return f;
}

torch::Tensor RunFolded(const FoldedConvBn& f, const torch::Tensor& x) {
  const std::array<int64_t, 2> dilation = {1, 1};
  if (x.is_cpu() && x.scalar_type() == torch::kFloat32 && at::hasMKLDNN()) {
    return at::mkldnn_convolution(x, f.weight, f.bias, f.padding, f.stride, dilation, f.groups);
  }
  return torch::conv2d(x, f.weight, f.bias, f.stride, f.padding, dilation, f.groups);
}

torch::Tensor ServingLayout(const torch::Tensor& x) {
  return x.is_cpu() ? x.contiguous(at::MemoryFormat::ChannelsLast) : x;
}

}  // namespace dogsearch::model
