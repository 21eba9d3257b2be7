// Margin-based softmax losses over the training dogs (ArcFace, CosFace, sub-center ArcFace).
// Includes LibTorch.
//
// The head holds C*K unit-normalised class centres (C training dogs, K sub-centres each). For a
// unit embedding x and centre w, cos(theta) = x.w; a dog's cosine is the largest over its K
// sub-centres (Deng et al., sub-center ArcFace). The photo's own dog gets a margin:
//   ArcFace: cos(theta + m), where theta + m would pass pi, cos(theta) - m sin(m) instead
//            (keeps the target logit decreasing in theta; InsightFace's rule);
//   CosFace: cos(theta) - m.
// Logits are s times those cosines; the loss is the cross-entropy over the C dogs.
// The head is training-only: it is never part of a published checkpoint (the trainer saves it
// beside the optimiser state so that a resumed run continues with it).
// Not thread-safe: owned by the training loop.
#ifndef DOGSEARCH_SERVICES_TRAINER_CORE_MARGIN_LOSS_H_
#define DOGSEARCH_SERVICES_TRAINER_CORE_MARGIN_LOSS_H_

#include <torch/torch.h>

#include <cstdint>

#include "absl/status/status.h"

namespace dogsearch::trainer {

enum class MarginKind { kArcFace, kCosFace };

struct MarginHeadOptions {
  MarginKind kind = MarginKind::kArcFace;
  int64_t classes = 0;     // Training dogs, >= 2.
  int64_t dim = 128;       // Embedding length.
  int64_t subcenters = 1;  // 1..16.
  float scale = 30.f;      // s.
  float margin = 0.3f;     // m: radians (ArcFace) or cosine (CosFace).
};

// INVALID_ARGUMENT naming the bad field.
absl::Status ValidateMarginHeadOptions(const MarginHeadOptions& options);

class MarginHeadImpl : public torch::nn::Module {
 public:
  // REQUIRES: ValidateMarginHeadOptions(options).ok().
  explicit MarginHeadImpl(const MarginHeadOptions& options);

  // embeddings [N, dim] with unit rows -> [N, classes]: each dog's cosine (best sub-centre).
  torch::Tensor Cosines(const torch::Tensor& embeddings);
  // [N, classes] scaled logits with the margin applied at labels[i] (int, in [0, classes)).
  torch::Tensor Logits(const torch::Tensor& embeddings, const torch::Tensor& labels);
  // The same from Cosines(embeddings) already computed.
  torch::Tensor LogitsFromCosines(const torch::Tensor& cosines, const torch::Tensor& labels) const;

  const MarginHeadOptions& options() const { return options_; }
  torch::Tensor weight() const { return weight_; }  // [classes * subcenters, dim].

 private:
  MarginHeadOptions options_;
  torch::Tensor weight_;
};
TORCH_MODULE(MarginHead);

// Starts each dog's centre at the normalised mean of its rows of `embeddings` ([N, dim] unit
// rows, labels [N] int in [0, classes)); each of its sub-centres at that mean plus a little
// noise (seeded by torch's generator) so that they can part. Dogs without a row keep their
// centres. INVALID_ARGUMENT for mismatched shapes or a label out of range.
absl::Status InitCentresFromEmbeddings(MarginHead& head, const torch::Tensor& embeddings,
                                       const torch::Tensor& labels);

struct MarginLossResult {
  torch::Tensor loss;          // Scalar, differentiable: mean cross-entropy.
  double accuracy = 0;         // Share of photos whose own dog has the largest plain cosine.
  double mean_target_cos = 0;  // Mean cos(theta) to the own dog (no margin).
};

MarginLossResult MarginLoss(MarginHead& head, const torch::Tensor& embeddings,
                            const torch::Tensor& labels);

}  // namespace dogsearch::trainer

#endif  // DOGSEARCH_SERVICES_TRAINER_CORE_MARGIN_LOSS_H_
