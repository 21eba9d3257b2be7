#include "common/torch_model/ensemble_net.h"

#include <cmath>
#include <stdexcept>
#include <string>

#include "absl/strings/str_cat.h"

namespace dogsearch::model {

EnsembleNet::EnsembleNet(const ModelSpec& spec) : EmbeddingNet(spec) {
  if (absl::Status s = ValidateModelSpec(spec); !s.ok() || spec.architecture != kEnsemble) {
    throw std::invalid_argument(s.ok() ? "not an ensemble spec" : std::string(s.message()));
  }
  double weight_sum = 0;
  for (float w : spec.member_weights) weight_sum += w;
  for (size_t i = 0; i < spec.members.size(); ++i) {
    const ModelSpec& m = spec.members[i];
    absl::StatusOr<std::shared_ptr<EmbeddingNet>> net = BuildEmbeddingNet(m);
    if (!net.ok()) throw std::invalid_argument(std::string(net.status().message()));
    members_.push_back(register_module(absl::StrCat("member", i), *net));
    member_input_.emplace_back(spec.input, m.input);
    member_scale_.push_back(std::sqrt(spec.member_weights[i] / weight_sum));
    concatenated_dim_ += m.embedding_dim;
  }
  projection_ = register_module("projection", torch::nn::Linear(torch::nn::LinearOptions(
                                                  concatenated_dim_, spec.embedding_dim)));
}

torch::Tensor EnsembleNet::Concatenated(torch::Tensor x) {
  std::vector<torch::Tensor> parts;
  for (size_t i = 0; i < members_.size(); ++i) {
    const InputSpec& own = members_[i]->spec().input;
    torch::Tensor xi = x;
    if (x.size(2) != own.height || x.size(3) != own.width) {
      namespace F = torch::nn::functional;
      // Antialiased, so that the shrunk photo is close to one decoded at the member's size
      // (the decoder shrinks with area averaging).
      xi = F::interpolate(x, F::InterpolateFuncOptions()
                                 .size(std::vector<int64_t>{own.height, own.width})
                                 .mode(torch::kBilinear)
                                 .align_corners(false)
                                 .antialias(true));
    }
    parts.push_back(members_[i]->forward(member_input_[i].Apply(xi)) * member_scale_[i]);
  }
  return torch::cat(parts, 1);
}

torch::Tensor EnsembleNet::forward(torch::Tensor x) {
  return L2Normalize(projection_->forward(Concatenated(std::move(x))));
}

absl::Status EnsembleNet::SetProjection(const torch::Tensor& axes, const torch::Tensor& center) {
  const int64_t dim = spec().embedding_dim;
  if (axes.dim() != 2 || axes.size(0) != dim || axes.size(1) != concatenated_dim_ ||
      center.dim() != 1 || center.size(0) != concatenated_dim_) {
    return absl::InvalidArgumentError(absl::StrCat("an ensemble projection is [", dim, ", ",
                                                   concatenated_dim_, "] with a center of ",
                                                   concatenated_dim_, " values"));
  }
  if (!torch::isfinite(axes).all().item<bool>() || !torch::isfinite(center).all().item<bool>()) {
    return absl::InvalidArgumentError("the ensemble projection has non-finite values");
  }
  torch::NoGradGuard no_grad;
  const auto& w = projection_->weight;
  torch::Tensor a = axes.to(w.device(), w.scalar_type());
  w.copy_(a);
  projection_->bias.copy_(-torch::mv(a, center.to(w.device(), w.scalar_type())));
  return absl::OkStatus();
}

void EnsembleNet::Prepare(Numerics numerics) {
  for (auto& m : members_) m->PrepareForServing(numerics);
}

}  // namespace dogsearch::model
