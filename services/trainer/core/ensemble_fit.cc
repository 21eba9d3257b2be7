#include "services/trainer/core/ensemble_fit.h"

#include <algorithm>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/base/status_macros.h"
#include "services/trainer/core/weight_average.h"

namespace dogsearch::trainer {
namespace {

// The ensemble's weighted concatenation as an EmbeddingNet, so that EmbedCache (and its flip
// average) produces exactly what the projection will see.
class ConcatenationView : public model::EmbeddingNet {
 public:
  static model::ModelSpec SpecOf(const model::EnsembleNet& e) {
    model::ModelSpec s = e.spec();
    s.embedding_dim = static_cast<uint32_t>(e.ConcatenatedDim());
    return s;
  }
  explicit ConcatenationView(std::shared_ptr<model::EnsembleNet> e)
      : EmbeddingNet(SpecOf(*e)), ensemble_(register_module("ensemble", std::move(e))) {}
  torch::Tensor forward(torch::Tensor x) override { return ensemble_->Concatenated(x); }

 private:
  std::shared_ptr<model::EnsembleNet> ensemble_;
};

// Both networks are built from the same spec, so their ModuleTensors line up one to one.
absl::Status CopyWeights(model::EmbeddingNet& from, model::EmbeddingNet& to, size_t member) {
  torch::NoGradGuard no_grad;
  const std::vector<torch::Tensor> src = ModuleTensors(from), dst = ModuleTensors(to);
  if (src.size() != dst.size()) {
    return absl::InternalError(absl::StrCat("ensemble member ", member, ": ", src.size(),
                                            " tensors to copy into ", dst.size()));
  }
  for (size_t i = 0; i < dst.size(); ++i) {
    if (src[i].sizes() != dst[i].sizes()) {
      return absl::InternalError(
          absl::StrCat("ensemble member ", member, ": tensor ", i, " does not match"));
    }
  }
  for (size_t i = 0; i < dst.size(); ++i) dst[i].detach().copy_(src[i]);
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<model::ModelSpec> EnsembleSpecFor(const std::vector<EnsembleMember>& members,
                                                 uint32_t embedding_dim, bool flip_average) {
  model::ModelSpec s;
  s.architecture = model::kEnsemble;
  s.embedding_dim = embedding_dim;
  s.flip_average = flip_average;
  if (!members.empty()) s.input.width = s.input.height = 0;  // The largest member's, below.
  for (size_t i = 0; i < members.size(); ++i) {
    if (members[i].net == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat("ensemble member ", i, " has no network"));
    }
    model::ModelSpec m = members[i].net->spec();
    s.input.width = std::max(s.input.width, m.input.width);
    s.input.height = std::max(s.input.height, m.input.height);
    m.flip_average = false;
    m.test_time_zoom = 0.f;
    m.test_time_four_views = false;
    s.members.push_back(std::move(m));
    s.member_weights.push_back(members[i].weight);
  }
  DS_RETURN_IF_ERROR(model::ValidateModelSpec(s));
  return s;
}

absl::StatusOr<FittedEnsemble> FitEnsemble(const std::vector<EnsembleMember>& members,
                                           uint32_t embedding_dim, bool flip_average,
                                           const PhotoCache& training, EmbedOptions embed) {
  DS_ASSIGN_OR_RETURN(model::ModelSpec spec, EnsembleSpecFor(members, embedding_dim, flip_average));
  FittedEnsemble out;
  try {
    out.net = std::make_shared<model::EnsembleNet>(spec);
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat("building the ensemble: ", e.what()));
  }
  const int64_t concat = out.net->ConcatenatedDim();
  if (embedding_dim > concat) {
    return absl::InvalidArgumentError(
        absl::StrCat("embedding_dim ", embedding_dim, " is above the members' joint ", concat));
  }
  if (training.size() < 2 * size_t{embedding_dim}) {
    return absl::InvalidArgumentError(
        absl::StrCat("fitting a ", embedding_dim, "-d projection needs at least ",
                     2 * embedding_dim, " training photos, not ", training.size()));
  }
  const cv::Mat& first = training.image(0);
  if (first.cols != static_cast<int>(spec.input.width) ||
      first.rows != static_cast<int>(spec.input.height)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "the training photos are ", first.cols, "x", first.rows, ", the ensemble's input is ",
        spec.input.width, "x", spec.input.height, " (its largest member's)"));
  }
  for (size_t i = 0; i < members.size(); ++i) {
    DS_RETURN_IF_ERROR(CopyWeights(*members[i].net, out.net->member(i), i));
  }
  out.net->to(embed.device);
  out.net->eval();
  embed.flip_average = flip_average;  // As served.
  ConcatenationView view(out.net);
  view.eval();  // EmbedCache restores the mode it found: keep the ensemble in eval mode.
  const EmbeddingTable t = EmbedCache(view, training, embed);
  torch::Tensor x = torch::from_blob(const_cast<float*>(t.vectors.data()),
                                     {static_cast<int64_t>(t.size()), concat}, torch::kFloat)
                        .to(torch::kDouble);
  const torch::Tensor center = x.mean(0);
  x = x - center;
  const torch::Tensor cov = torch::mm(x.t(), x) / static_cast<double>(t.size());
  torch::Tensor values, vectors;
  std::tie(values, vectors) = torch::linalg::eigh(cov, "L");  // Ascending.
  const torch::Tensor axes = vectors.narrow(1, concat - embedding_dim, embedding_dim).flip({1}).t();
  const torch::Tensor clamped = values.clamp_min(0);
  out.variance_kept = (clamped.narrow(0, concat - embedding_dim, embedding_dim).sum() /
                       clamped.sum().clamp_min(1e-30))
                          .item<double>();
  out.photos = t.size();
  DS_RETURN_IF_ERROR(out.net->SetProjection(axes.to(torch::kFloat), center.to(torch::kFloat)));
  return out;
}

}  // namespace dogsearch::trainer
