// Test helper: batch norms that are not identities, so that folding them is really exercised.
#ifndef DOGSEARCH_TESTS_COMMON_BATCH_NORM_TESTING_H_
#define DOGSEARCH_TESTS_COMMON_BATCH_NORM_TESTING_H_

#include <torch/torch.h>

namespace dogsearch::model {

// Draws every 2-d batch norm's affine parameters and running statistics away from identity.
inline void RandomiseBatchNorms(torch::nn::Module& net) {
  torch::NoGradGuard no_grad;
  for (auto& m : net.modules(/*include_self=*/false)) {
    if (auto* bn = m->as<torch::nn::BatchNorm2d>()) {
      bn->weight.uniform_(0.5, 1.5);
      bn->bias.uniform_(-0.2, 0.2);
      bn->running_mean.uniform_(-0.2, 0.2);
      bn->running_var.uniform_(0.5, 2.0);
    }
  }
}

// Shifts every 2-d batch norm's running mean: a network that still runs its batch norms
// changes its output, a folded one does not.
inline void ShiftBatchNormMeans(torch::nn::Module& net) {
  torch::NoGradGuard no_grad;
  for (auto& m : net.modules(/*include_self=*/false)) {
    if (auto* bn = m->as<torch::nn::BatchNorm2d>()) bn->running_mean.add_(5.0);
  }
}

}  // namespace dogsearch::model

#endif  // DOGSEARCH_TESTS_COMMON_BATCH_NORM_TESTING_H_
