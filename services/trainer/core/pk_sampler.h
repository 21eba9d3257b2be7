// PK sampling: every batch holds P identities x K photos, so each anchor has K-1 positives and
// (P-1)K negatives inside the batch for online mining. Plain data, no dependencies.
//
// An epoch visits every identity with at least 2 photos once, in a seeded shuffle, P at a time
// (the incomplete last group is dropped). An identity with K or more photos gives K distinct
// photos; one with fewer gives all of them plus random repeats (augmentation makes repeats
// differ). Identities with a single photo cannot supply a positive pair and are not sampled;
// `skipped_identities()` says how many. Batch b of epoch e depends only on (seed, e, b), so a
// run resumed at an epoch boundary continues exactly as it would have.
// Not thread-safe: one owner (the batch loader's producer).
#ifndef DOGSEARCH_SERVICES_TRAINER_CORE_PK_SAMPLER_H_
#define DOGSEARCH_SERVICES_TRAINER_CORE_PK_SAMPLER_H_

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"

namespace dogsearch::trainer {

struct PkBatch {
  uint32_t epoch = 0;
  uint32_t index = 0;           // Batch number within the epoch.
  std::vector<int32_t> photos;  // P*K photo ids, grouped by identity.
  std::vector<int32_t> labels;  // Identity index of each photo.
};

class PkSampler {
 public:
  // photos_of[i] = photo ids of identity i. INVALID_ARGUMENT if P < 2, K < 2, or fewer than P
  // identities have 2 or more photos.
  static absl::StatusOr<PkSampler> Create(std::vector<std::vector<int32_t>> photos_of, uint32_t p,
                                          uint32_t k, uint64_t seed);

  uint32_t batches_per_epoch() const { return batches_per_epoch_; }
  uint32_t skipped_identities() const { return skipped_; }

  // The b-th batch of epoch e. REQUIRES: b < batches_per_epoch().
  PkBatch Batch(uint32_t epoch, uint32_t b) const;

 private:
  PkSampler() = default;
  std::vector<uint32_t> EpochOrder(uint32_t epoch) const;

  std::vector<std::vector<int32_t>> photos_of_;
  std::vector<uint32_t> eligible_;  // Identities with >= 2 photos.
  uint32_t p_ = 0, k_ = 0, batches_per_epoch_ = 0, skipped_ = 0;
  uint64_t seed_ = 0;
};

}  // namespace dogsearch::trainer

#endif  // DOGSEARCH_SERVICES_TRAINER_CORE_PK_SAMPLER_H_
