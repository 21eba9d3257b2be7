// A checkpoint's manifest: what the weights are, where they came from, how good they are, and
// the hash that proves the weights file is the one written. Plain data plus its JSON form
// (protobuf's JSON mapping of dogsearch.v1.CheckpointManifest). No LibTorch here: the gateway
// and the trainer's RPC layer read manifests without loading models.
// On-disk layout and rules: docs/CHECKPOINT_FORMAT.md.
#ifndef DOGSEARCH_COMMON_MODEL_CHECKPOINT_MANIFEST_H_
#define DOGSEARCH_COMMON_MODEL_CHECKPOINT_MANIFEST_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/model/model_spec.h"

namespace dogsearch::model {

inline constexpr char kCheckpointFormat[] = "dogsearch-checkpoint";
inline constexpr uint32_t kCheckpointFormatVersion = 1;
inline constexpr char kManifestFile[] = "manifest.json";
inline constexpr char kWeightsFile[] = "weights.pt";

// Mirrors dogsearch.v1.IdentificationCalibration; the arithmetic is in identification.h.
struct IdentificationCalibration {
  std::vector<double> fmr_fraction;  // Ascending; empty = not calibrated.
  std::vector<float> fmr_distance;   // Same length, ascending.
  double tail_intercept = 0, tail_slope = 0;
  double bias = 0, fpir_weight = 0, margin_weight = 0;
  double confidence_ece = 0;
  uint32_t photos = 0;
  uint64_t pairs = 0;

  bool calibrated() const { return !fmr_fraction.empty(); }
};

// Mirrors dogsearch.v1.EvalMetrics (fractions in [0, 1]; threshold is a plain L2 distance).
struct EvalMetrics {
  double verification_accuracy = 0, verification_accuracy_std = 0, roc_auc = 0;
  double tar_at_far_1e3 = 0, rank1 = 0, recall_at_5 = 0, mean_average_precision = 0;
  double threshold = 0;
  // Platt calibration (see dogsearch.v1.EvalMetrics); scale 0 = not fitted.
  double confidence_center = 0;
  double confidence_scale = 0;
  uint32_t identities = 0, photos = 0, pairs = 0;
  // Product-shaped figures (see dogsearch.v1.EvalMetrics); 0 = not measured.
  double full_gallery_top1 = 0, full_gallery_mrr = 0, rank1_3_enrolled = 0;
  double dir_at_fpir_1e2 = 0, dir_at_fpir_5e2 = 0, dir_at_fpir_1e1 = 0;
  IdentificationCalibration identification;
};

// Mirrors dogsearch.v1.ScoreNormalisation: a cohort file beside the weights (cohort.h).
struct ScoreNorm {
  std::string cohort_file;  // "" = plain L2 distances.
  std::string cohort_sha256;
  uint64_t cohort_bytes = 0;

  bool enabled() const { return !cohort_file.empty(); }
};

struct CheckpointManifest {
  std::string version;
  ModelSpec model;
  // dogsearch.v1.TrainingConfig in protobuf JSON ("" = none). Opaque to this library.
  std::string training_config_json;
  std::string dataset_fingerprint;
  EvalMetrics metrics;
  std::string parent_version;
  std::string weights_file = kWeightsFile;
  std::string weights_sha256;
  uint64_t weights_bytes = 0;
  int64_t created_unix_seconds = 0;
  uint32_t epoch = 0;
  uint64_t step = 0;
  std::string notes;
  ScoreNorm score_norm;
};

// Version ids name directories: [A-Za-z0-9._-], 1..64 chars, not starting with '.'.
absl::Status ValidateVersionName(absl::string_view version);

std::string ManifestToJson(const CheckpointManifest& manifest);

// FAILED_PRECONDITION naming the problem for malformed JSON, a wrong format name, a newer
// format version, an invalid version name, weights file name or model spec.
absl::StatusOr<CheckpointManifest> ManifestFromJson(absl::string_view json);

// Reads <dir>/manifest.json (at most 1 MiB). NOT_FOUND if the directory or file is missing.
absl::StatusOr<CheckpointManifest> ReadManifest(const std::string& dir);

// Versions of complete checkpoints under `root` (directories with a readable manifest whose
// version matches the directory name), oldest first by creation time. Temporary directories
// (names starting with '.') and broken checkpoints are skipped.
absl::StatusOr<std::vector<CheckpointManifest>> ListCheckpoints(const std::string& root);

}  // namespace dogsearch::model

#endif  // DOGSEARCH_COMMON_MODEL_CHECKPOINT_MANIFEST_H_
