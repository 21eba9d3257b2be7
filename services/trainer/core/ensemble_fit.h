// Assembling an ensemble checkpoint (common/torch_model/ensemble_net.h) from trained networks:
// their weights copied in unchanged, and the projection to the served embedding dimension
// fitted on training photos only. Includes LibTorch. Thread-compatible.
#ifndef DOGSEARCH_SERVICES_TRAINER_CORE_ENSEMBLE_FIT_H_
#define DOGSEARCH_SERVICES_TRAINER_CORE_ENSEMBLE_FIT_H_

#include <torch/torch.h>

#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "common/torch_model/ensemble_net.h"
#include "services/trainer/core/embed.h"
#include "services/trainer/core/photo_cache.h"

namespace dogsearch::trainer {

struct EnsembleMember {
  std::shared_ptr<model::EmbeddingNet> net;  // Trained; not an ensemble.
  float weight = 1.f;                        // (0, 1].
};

// The ensemble of these members: their specs without flip (flipping is the ensemble's), the
// largest member's input size (smaller members see the photo shrunk) with mean 0 and std 1
// (each member re-normalises), the given embedding dimension and flip. INVALID_ARGUMENT
// (ValidateModelSpec's, naming the member) otherwise.
absl::StatusOr<model::ModelSpec> EnsembleSpecFor(const std::vector<EnsembleMember>& members,
                                                 uint32_t embedding_dim, bool flip_average);

struct FittedEnsemble {
  std::shared_ptr<model::EnsembleNet> net;  // In eval mode, on the embed options' device.
  // Share of the training concatenations' variance along the kept axes, in [0, 1].
  double variance_kept = 0;
  size_t photos = 0;  // Training photos the projection was fitted on.
};

// Builds the ensemble of `members` (spec as EnsembleSpecFor), copies each member's weights in,
// and sets the projection to the top embedding_dim principal axes (centred) of the weighted
// concatenations of `training`'s photos, embedded as served (flip-averaged when flip_average).
// `training` must be loaded at the ensemble's input spec. INVALID_ARGUMENT for a bad spec,
// training photos of another size, an embedding dimension above the concatenation's, or fewer
// training photos than 2 x that dimension.
absl::StatusOr<FittedEnsemble> FitEnsemble(const std::vector<EnsembleMember>& members,
                                           uint32_t embedding_dim, bool flip_average,
                                           const PhotoCache& training, EmbedOptions embed);

}  // namespace dogsearch::trainer

#endif  // DOGSEARCH_SERVICES_TRAINER_CORE_ENSEMBLE_FIT_H_
