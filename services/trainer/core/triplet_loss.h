// Online triplet mining inside a PK batch and the triplet losses. Includes LibTorch.
//
// Distances are plain (not squared) L2: d(i,j) = sqrt(max(|x_i|^2 + |x_j|^2 - 2 x_i.x_j, 1e-12)).
// Mining reads the distance matrix without gradient; the loss is then taken on the mined
// entries of the same matrix, so gradients flow to anchors, positives and negatives.
//  - kBatchHard: per anchor, the farthest positive and the closest negative.
//  - kSemiHard (FaceNet): per anchor-positive pair, the closest negative that is farther than
//    the positive; where no negative is farther, the closest negative.
//  - kBatchAll: every valid (anchor, positive, negative) triplet; the hinge loss averages over
//    the active ones (loss > 0), the soft-margin loss over all.
// Loss per triplet: hinge max(0, d_ap - d_an + margin), or soft margin log(1 + exp(d_ap - d_an)).
// A triplet counts as active when d_ap - d_an + margin > 0 (with soft margin: d_ap > d_an).
// All computation stays on the embeddings' device (no host sync except the reported stats).
#ifndef DOGSEARCH_SERVICES_TRAINER_CORE_TRIPLET_LOSS_H_
#define DOGSEARCH_SERVICES_TRAINER_CORE_TRIPLET_LOSS_H_

#include <torch/torch.h>

#include "services/trainer/core/mining_kind.h"

namespace dogsearch::trainer {

struct TripletLossOptions {
  MiningKind mining = MiningKind::kSemiHard;
  float margin = 0.2f;
  bool soft_margin = false;
};

struct MinedTriplets {
  torch::Tensor anchor, positive, negative;  // int64 [T] indices into the batch.
};

struct TripletLossResult {
  torch::Tensor loss;          // Scalar, differentiable.
  int64_t triplets = 0;        // Mined triplets.
  double active_fraction = 0;  // Share of mined triplets that are active.
  double mean_positive = 0;    // Mean d_ap and d_an over the mined triplets.
  double mean_negative = 0;
};

// [N, D] -> [N, N].
torch::Tensor PairwiseDistances(const torch::Tensor& embeddings);

// Which triplets the strategy picks from a distance matrix and labels [N] (any integer dtype).
// Anchors without a positive or without a negative give no triplet.
MinedTriplets MineTriplets(const torch::Tensor& distances, const torch::Tensor& labels,
                           const TripletLossOptions& options);

// Loss over a batch. With no valid triplet the loss is a zero that still has a graph.
TripletLossResult TripletLoss(const torch::Tensor& embeddings, const torch::Tensor& labels,
                              const TripletLossOptions& options);

}  // namespace dogsearch::trainer

#endif  // DOGSEARCH_SERVICES_TRAINER_CORE_TRIPLET_LOSS_H_
