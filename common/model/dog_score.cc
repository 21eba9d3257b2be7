#include "common/model/dog_score.h"

#include <algorithm>
#include <cmath>

#include "common/model/cohort.h"

namespace dogsearch::model {

uint32_t SearchCandidates(uint32_t k, uint32_t photos_per_dog) {
  const uint64_t shown = uint64_t{k} * photos_per_dog;  // At most (2^32 - 1)^2: no overflow.
  if (shown >= kMaxSearchCandidates) return kMaxSearchCandidates;
  return static_cast<uint32_t>(std::min<uint64_t>(kMaxSearchCandidates, shown * 2 + 16));
}

float L2(absl::Span<const float> a, absl::Span<const float> b) {
  double sum = 0;
  for (size_t i = 0; i < a.size() && i < b.size(); ++i) {
    const double d = double{a[i]} - b[i];
    sum += d * d;
  }
  return static_cast<float>(std::sqrt(sum));
}

float ServedDistance(bool normalised, float l2, float offset_a, float offset_b) {
  return normalised ? NormalisedDistance(l2, offset_a, offset_b) : l2;
}

float DogScore(bool normalised, absl::Span<const float> query, float query_offset,
               const std::vector<DogPhotoHit>& photos, float centroid_weight) {
  float best = photos.front().distance;
  for (const DogPhotoHit& p : photos) best = std::min(best, p.distance);
  const float w = std::clamp(centroid_weight, 0.0f, 1.0f);
  if (photos.size() < 2 || w == 0.0f || best < kSamePhotoDistance) return best;
  std::vector<double> sum(query.size(), 0.0);
  double offset = 0;
  for (const DogPhotoHit& p : photos) {
    if (p.vector.size() != query.size()) return best;
    for (size_t i = 0; i < sum.size(); ++i) sum[i] += p.vector[i];
    offset += p.offset;
  }
  double norm = 0;
  for (double v : sum) norm += v * v;
  norm = std::sqrt(norm);
  if (!(norm > 1e-9)) return best;  // Photos that cancel out have no mean direction.
  std::vector<float> centroid(sum.size());
  for (size_t i = 0; i < sum.size(); ++i) centroid[i] = static_cast<float>(sum[i] / norm);
  const float to_centroid =
      ServedDistance(normalised, L2(query, centroid), query_offset,
                     static_cast<float>(offset / static_cast<double>(photos.size())));
  return (1.0f - w) * best + w * to_centroid;
}

}  // namespace dogsearch::model
