// Runs a network over cached photos in eval mode and collects an EmbeddingTable (labels from
// the cache). Includes LibTorch. Thread-compatible: do not train `net` meanwhile.
#ifndef DOGSEARCH_SERVICES_TRAINER_CORE_EMBED_H_
#define DOGSEARCH_SERVICES_TRAINER_CORE_EMBED_H_

#include <torch/torch.h>

#include "absl/status/statusor.h"
#include "common/model/cohort.h"
#include "common/torch_model/embedding_net.h"
#include "services/trainer/core/evaluation.h"
#include "services/trainer/core/photo_cache.h"

namespace dogsearch::trainer {

struct EmbedOptions {
  int batch_size = 64;
  // Embed each photo and its mirror image and average (then re-normalise), as a checkpoint with
  // ModelSpec.flip_average is served; with test_time_zoom (ModelSpec.test_time_zoom), the mirror
  // is of the photo's centre crop. Both off by default: set them from the manifest to measure
  // what is served (common/torch_model/test_time_views.h, shared with the embedding service).
  bool flip_average = false;
  float test_time_zoom = 0.f;
  bool test_time_four_views = false;  // ModelSpec.test_time_four_views (with the zoom).
  torch::Device device = torch::kCPU;

  // The test-time views `spec` is served with (its flip, zoom and four views).
  void ServeAs(const model::ModelSpec& spec) {
    flip_average = spec.flip_average;
    test_time_zoom = spec.test_time_zoom;
    test_time_four_views = spec.test_time_four_views;
  }
};

// Restores the module's training mode afterwards.
EmbeddingTable EmbedCache(model::EmbeddingNet& net, const PhotoCache& cache,
                          const EmbedOptions& options);

// The score-normalisation cohort of the dogs in `cache` (common/model/cohort.h): each dog's unit
// mean embedding under `net`, embedded as `options` say (as served). Cohort::Build's errors.
absl::StatusOr<model::Cohort> BuildDogCohort(model::EmbeddingNet& net, const PhotoCache& cache,
                                             const EmbedOptions& options, uint32_t k,
                                             float weight = 1.0f);

}  // namespace dogsearch::trainer

#endif  // DOGSEARCH_SERVICES_TRAINER_CORE_EMBED_H_
