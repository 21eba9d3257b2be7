// The "ensemble" architecture: several networks (members) run on the same photo, each member's
// unit embedding weighted, concatenated and projected to the ensemble's embedding dimension by a
// learnt affine map, then L2-normalised (dogsearch.v1.ModelSpec.members). A member with a
// smaller input than the ensemble's sees the photo shrunk to its size (bilinear, antialiased),
// so a 96-px network can join a 128-px one without running at 128. Two networks trained
// apart make different mistakes; their joint embedding separates dogs better than either
// (docs/TRAINING.md, "An ensemble"). The projection keeps the served vector at 128-d, so the
// index and the gateway are unchanged. Includes LibTorch. Internal to common/torch_model and the
// tools that fit an ensemble; built through BuildEmbeddingNet.
#ifndef DOGSEARCH_COMMON_TORCH_MODEL_ENSEMBLE_NET_H_
#define DOGSEARCH_COMMON_TORCH_MODEL_ENSEMBLE_NET_H_

#include <torch/torch.h>

#include <memory>
#include <vector>

#include "common/torch_model/embedding_net.h"

namespace dogsearch::model {

class EnsembleNet : public EmbeddingNet {
 public:
  // `spec` must be a valid ensemble spec (ValidateModelSpec); members are freshly initialised
  // and registered as "member0", "member1", ...; the projection ("projection", a linear layer
  // with bias) is randomly initialised until SetProjection. Throws on an invalid spec.
  explicit EnsembleNet(const ModelSpec& spec);

  // x: [N, 3, H, W] normalised with the ensemble's input spec (H, W: its input size). Returns [N,
  // embedding_dim], unit rows: L2(projection(Concatenated(x))).
  torch::Tensor forward(torch::Tensor x) override;

  // The members' unit embeddings, each scaled by sqrt(w_i / sum w), concatenated: a unit row
  // of ConcatenatedDim() values per photo (what the projection maps).
  torch::Tensor Concatenated(torch::Tensor x);
  int64_t ConcatenatedDim() const { return concatenated_dim_; }

  EmbeddingNet& member(size_t i) { return *members_[i]; }
  // The member itself (its spec is the ensemble's members[i]), shared with the ensemble.
  std::shared_ptr<EmbeddingNet> shared_member(size_t i) const { return members_[i]; }
  size_t member_count() const { return members_.size(); }

  // Projection y = axes (x - center): axes [embedding_dim, ConcatenatedDim()], center
  // [ConcatenatedDim()]. INVALID_ARGUMENT on other shapes or non-finite values.
  absl::Status SetProjection(const torch::Tensor& axes, const torch::Tensor& center);

 protected:
  // Prepares every member with the ensemble's numerics (its serving precision is theirs).
  void Prepare(Numerics numerics) override;

 private:
  std::vector<std::shared_ptr<EmbeddingNet>> members_;
  // Per member: from the ensemble's input normalisation to the member's.
  std::vector<InputConversion> member_input_;
  std::vector<double> member_scale_;  // sqrt(w_i / sum w).
  int64_t concatenated_dim_ = 0;
  torch::nn::Linear projection_{nullptr};
};

}  // namespace dogsearch::model

#endif  // DOGSEARCH_COMMON_TORCH_MODEL_ENSEMBLE_NET_H_
