// The end of a training run with score normalisation (TrainingConfig.cohort_k): its best
// checkpoint published once more with a cohort of the training dogs and metrics and a 1:N
// calibration of the normalised distances, as dogsearch-eval --write_cohort --update_manifest
// does for a finished checkpoint. Includes LibTorch. Thread-compatible: reads the photo caches.
#ifndef DOGSEARCH_SERVICES_TRAINER_CORE_NORMALISED_PUBLISH_H_
#define DOGSEARCH_SERVICES_TRAINER_CORE_NORMALISED_PUBLISH_H_

#include <torch/torch.h>

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "common/model/checkpoint_manifest.h"
#include "services/trainer/core/photo_cache.h"

namespace dogsearch::trainer {

struct NormalisedPublish {
  std::string root;          // Checkpoint root of the run.
  std::string from_version;  // A published plain checkpoint under root.
  std::string to_version;    // The version to publish; ALREADY_EXISTS if it is there.
  uint32_t cohort_k = 10;    // Nearest cohort vectors per hubness (weight 1).
  uint64_t seed = 0;         // Evaluation seed.
  torch::Device device = torch::kCPU;
};

// Loads from_version, embeds `training` as served (the manifest's flip) and builds the cohort of
// each training dog's unit mean embedding, embeds `validation`, evaluates and calibrates the
// normalised distances, and publishes to_version: the same weights, the cohort, those metrics,
// parent_version = from_version. INVALID_ARGUMENT when k is not below the training dogs.
absl::StatusOr<model::CheckpointManifest> PublishNormalised(const NormalisedPublish& p,
                                                            const PhotoCache& training,
                                                            const PhotoCache& validation);

}  // namespace dogsearch::trainer

#endif  // DOGSEARCH_SERVICES_TRAINER_CORE_NORMALISED_PUBLISH_H_
