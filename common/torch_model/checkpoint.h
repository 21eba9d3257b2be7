// Writing and loading checkpoint directories (weights + manifest). Includes LibTorch.
//
// Publish: the directory is assembled under a temporary name in the same root
// (".tmp-<version>-<random>"), every file fsynced, then renamed into place and the root
// fsynced, so a reader sees the whole checkpoint or none of it. A crash leaves only a temporary
// directory, which ListCheckpoints and loaders ignore and RemoveStaleTemporaries deletes.
//
// Load: reads the manifest, checks the weights file's size and SHA-256 against it, builds the
// network from the manifest's spec, and copies in every tensor after checking that the set of
// names, each shape and each dtype match exactly. Anything else is refused with
// FAILED_PRECONDITION naming the checkpoint and the mismatch; nothing half-loaded escapes.
// Thread-safe: functions share no state.
#ifndef DOGSEARCH_COMMON_TORCH_MODEL_CHECKPOINT_H_
#define DOGSEARCH_COMMON_TORCH_MODEL_CHECKPOINT_H_

#include <torch/torch.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "common/model/checkpoint_manifest.h"
#include "common/model/cohort.h"
#include "common/torch_model/embedding_net.h"

namespace dogsearch::model {

// Writes net's parameters and buffers plus `manifest` as <root>/<manifest.version>/.
// Fills weights_sha256, weights_bytes and (if 0) created_unix_seconds; manifest.model must
// equal net.spec() but for its test-time views (flip_average, test_time_zoom,
// test_time_four_views: serving choices). ALREADY_EXISTS if the
// version exists. Returns the manifest as written. With a cohort the folder also holds it as
// cohort.bin and the manifest's score_norm points at it (all in the same atomic publish);
// without one, score_norm is cleared. INVALID_ARGUMENT when the cohort's dimension is not the
// model's embedding dimension.
absl::StatusOr<CheckpointManifest> PublishCheckpoint(const std::string& root,
                                                     CheckpointManifest manifest, EmbeddingNet& net,
                                                     const Cohort* cohort = nullptr);

struct LoadedCheckpoint {
  CheckpointManifest manifest;
  std::shared_ptr<EmbeddingNet> net;  // In eval mode, on `device`.
  // The score-normalisation cohort (score_norm.h); null when the manifest has none.
  std::shared_ptr<const Cohort> cohort;
};

// `dir` is the checkpoint directory itself. At most 2 GiB of weights. A manifest with score
// normalisation also needs its cohort file, checked like the weights (score_norm.h).
absl::StatusOr<LoadedCheckpoint> LoadCheckpoint(const std::string& dir,
                                                torch::Device device = torch::kCPU);

// Deletes temporary directories left under `root` by publishes that crashed. Returns how many.
absl::StatusOr<int> RemoveStaleTemporaries(const std::string& root);

}  // namespace dogsearch::model

#endif  // DOGSEARCH_COMMON_TORCH_MODEL_CHECKPOINT_H_
