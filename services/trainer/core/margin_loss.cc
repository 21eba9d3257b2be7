#include "services/trainer/core/margin_loss.h"

#include <cmath>

#include "absl/strings/str_cat.h"

namespace dogsearch::trainer {

absl::Status ValidateMarginHeadOptions(const MarginHeadOptions& o) {
  auto bad = [](auto&&... parts) { return absl::InvalidArgumentError(absl::StrCat(parts...)); };
  if (o.classes < 2) return bad("margin head: ", o.classes, " classes (need at least 2)");
  if (o.dim < 2 || o.dim > 4096) return bad("margin head: dim ", o.dim, " is outside 2..4096");
  if (o.subcenters < 1 || o.subcenters > 16) {
    return bad("head_subcenters ", o.subcenters, " is outside 1..16");
  }
  if (!(o.scale >= 1 && o.scale <= 128)) return bad("head_scale ", o.scale, " is outside 1..128");
  const float max_margin = o.kind == MarginKind::kArcFace ? 1.5f : 1.f;
  if (!(o.margin > 0 && o.margin < max_margin)) {
    return bad("head_margin ", o.margin, " is outside (0, ", max_margin, ")");
  }
  return absl::OkStatus();
}

MarginHeadImpl::MarginHeadImpl(const MarginHeadOptions& options) : options_(options) {
  torch::Tensor w = torch::empty({options.classes * options.subcenters, options.dim});
  torch::nn::init::xavier_uniform_(w);
  weight_ = register_parameter("weight", w);
}

torch::Tensor MarginHeadImpl::Cosines(const torch::Tensor& embeddings) {
  const torch::Tensor w = torch::nn::functional::normalize(
      weight_, torch::nn::functional::NormalizeFuncOptions().dim(1).eps(1e-12));
  torch::Tensor cos = torch::matmul(embeddings, w.t());  // [N, C*K]
  if (options_.subcenters > 1) {
    cos = std::get<0>(cos.view({cos.size(0), options_.classes, options_.subcenters}).max(2));
  }
  return cos.clamp(-1.0, 1.0);
}

torch::Tensor MarginHeadImpl::Logits(const torch::Tensor& embeddings, const torch::Tensor& labels) {
  return LogitsFromCosines(Cosines(embeddings), labels);
}

torch::Tensor MarginHeadImpl::LogitsFromCosines(const torch::Tensor& cos,
                                                const torch::Tensor& labels) const {
  const torch::Tensor target = labels.to(torch::kLong).view({-1, 1});
  const torch::Tensor t = cos.gather(1, target);  // [N, 1]
  const double m = options_.margin;
  torch::Tensor t_margin;
  if (options_.kind == MarginKind::kCosFace) {
    t_margin = t - m;
  } else {
    const torch::Tensor sin = torch::sqrt((1.0 - t * t).clamp_min(1e-7));
    const torch::Tensor phi = t * std::cos(m) - sin * std::sin(m);
    // Beyond theta = pi - m, cos(theta + m) would rise again; continue linearly instead.
    t_margin = torch::where(t > std::cos(M_PI - m), phi, t - m * std::sin(m));
  }
  return cos.scatter(1, target, t_margin) * options_.scale;
}

absl::Status InitCentresFromEmbeddings(MarginHead& head, const torch::Tensor& embeddings,
                                       const torch::Tensor& labels) {
  const MarginHeadOptions& o = head->options();
  if (embeddings.dim() != 2 || embeddings.size(1) != o.dim) {
    return absl::InvalidArgumentError(absl::StrCat("centres from embeddings: need [N, ", o.dim,
                                                   "] embeddings, got ", embeddings.dim(), "-d"));
  }
  if (labels.dim() != 1 || labels.size(0) != embeddings.size(0)) {
    return absl::InvalidArgumentError("centres from embeddings: one label per embedding needed");
  }
  const torch::Tensor target = labels.to(torch::kLong).to(embeddings.device());
  if (target.numel() > 0 &&
      (target.min().item<int64_t>() < 0 || target.max().item<int64_t>() >= o.classes)) {
    return absl::InvalidArgumentError(
        absl::StrCat("centres from embeddings: a label is outside [0, ", o.classes, ")"));
  }
  torch::NoGradGuard no_grad;
  const torch::Tensor x = embeddings.to(torch::kFloat);
  torch::Tensor sums = torch::zeros({o.classes, o.dim}, x.options()).index_add_(0, target, x);
  const torch::Tensor counts = torch::bincount(target, {}, o.classes);
  const torch::Tensor has = counts.gt(0).to(head->weight().device());
  torch::Tensor centres = torch::nn::functional::normalize(
      sums, torch::nn::functional::NormalizeFuncOptions().dim(1).eps(1e-12));
  centres = centres.to(head->weight().options());
  torch::Tensor w = head->weight().view({o.classes, o.subcenters, o.dim});
  for (int64_t k = 0; k < o.subcenters; ++k) {
    torch::Tensor c = centres;
    if (k > 0) c = c + 0.01 * torch::randn_like(c);
    const torch::Tensor keep = w.select(1, k);
    w.select(1, k).copy_(torch::where(has.view({-1, 1}), c, keep));
  }
  return absl::OkStatus();
}

MarginLossResult MarginLoss(MarginHead& head, const torch::Tensor& embeddings,
                            const torch::Tensor& labels) {
  MarginLossResult r;
  const torch::Tensor cos_with_grad = head->Cosines(embeddings);  // Once per step.
  const torch::Tensor target = labels.to(torch::kLong);
  r.loss =
      torch::nn::functional::cross_entropy(head->LogitsFromCosines(cos_with_grad, labels), target);
  torch::NoGradGuard no_grad;
  const torch::Tensor cos = cos_with_grad.detach();
  r.accuracy = cos.argmax(1).eq(target).to(torch::kDouble).mean().item<double>();
  r.mean_target_cos = cos.gather(1, target.view({-1, 1})).mean().item<double>();
  return r;
}

}  // namespace dogsearch::trainer
