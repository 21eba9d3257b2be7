// A checkpoint's score-normalisation cohort on disk (dogsearch.v1.ScoreNormalisation): the
// cohort file beside the weights, checked against the size and SHA-256 in the manifest like the
// weights are. Light (no LibTorch): the embedding service loads it with the weights, the
// evaluator writes it. Thread-safe: no shared state.
#ifndef DOGSEARCH_COMMON_MODEL_SCORE_NORM_H_
#define DOGSEARCH_COMMON_MODEL_SCORE_NORM_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "common/model/checkpoint_manifest.h"
#include "common/model/cohort.h"

namespace dogsearch::model {

inline constexpr char kCohortFile[] = "cohort.bin";

// The cohort of the checkpoint in `dir` whose manifest is `m`; nullptr when m has no score
// normalisation. FAILED_PRECONDITION naming the checkpoint when the file is missing, of another
// size or hash than the manifest says, not a cohort, or of another dimension than the model's
// embedding.
absl::StatusOr<std::shared_ptr<const Cohort>> ReadScoreCohort(const std::string& dir,
                                                              const CheckpointManifest& m);

// A cohort as the checkpoint file cohort.bin: its bytes and the manifest entry that describes
// them. INVALID_ARGUMENT when its dimension is not the model's embedding dimension.
struct CohortFile {
  std::string bytes;
  ScoreNorm entry;
};
absl::StatusOr<CohortFile> MakeCohortFile(const Cohort& cohort, const CheckpointManifest& m);

// Writes `cohort` as <dir>/cohort.bin (temp, fsync, rename) and points m->score_norm at it. The
// caller writes the manifest afterwards. INVALID_ARGUMENT on a dimension mismatch.
absl::Status AttachScoreCohort(const std::string& dir, const Cohort& cohort, CheckpointManifest* m);

}  // namespace dogsearch::model

#endif  // DOGSEARCH_COMMON_MODEL_SCORE_NORM_H_
