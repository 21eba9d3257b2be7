// Identity-folder data sets: <root>/<identity>/<photo>.{jpg,jpeg,png,webp}. Plain data: no
// OpenCV, no LibTorch. Scanning is sorted (identities and photos by name), so everything derived
// from a scan (split, fingerprint, sampling) is deterministic. Thread-safe: pure functions.
#ifndef DOGSEARCH_SERVICES_TRAINER_CORE_DATASET_H_
#define DOGSEARCH_SERVICES_TRAINER_CORE_DATASET_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace dogsearch::trainer {

struct Photo {
  std::string path;  // Full path.
  uint64_t bytes = 0;
};

struct Identity {
  std::string name;  // Folder name.
  std::vector<Photo> photos;
};

struct Dataset {
  std::string root;
  std::vector<Identity> identities;

  size_t PhotoCount() const;
};

struct ScanLimits {
  size_t max_identities = 1'000'000;
  size_t max_photos = 10'000'000;
  size_t max_photos_per_identity = 100'000;
};

// NOT_FOUND if root is missing; INVALID_ARGUMENT if it is not a directory, holds no identity
// folder with a photo, or exceeds a limit. Files other than photos and hidden entries are
// ignored; empty identity folders are skipped.
absl::StatusOr<Dataset> ScanDataset(const std::string& root, const ScanLimits& limits = {});

// SHA-256 (hex) over every "<identity>/<file> <bytes>" line in scan order: the same photos give
// the same fingerprint wherever the folder lives. Recorded in checkpoint manifests.
std::string DatasetFingerprint(const Dataset& dataset);

struct DatasetSplit {
  Dataset train;
  Dataset validation;
};

// Identity-disjoint split (open set): round(fraction * identities) identities, chosen by a
// seeded shuffle, go to validation; the rest to training. Deterministic in (dataset, seed).
// Identities with a single photo stay usable on both sides (training uses them as negatives
// only; evaluation as distractors). REQUIRES: 0 <= fraction < 1.
DatasetSplit SplitByIdentity(const Dataset& dataset, double validation_fraction, uint64_t seed);

}  // namespace dogsearch::trainer

#endif  // DOGSEARCH_SERVICES_TRAINER_CORE_DATASET_H_
