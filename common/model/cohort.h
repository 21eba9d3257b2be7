// Score normalisation against a cohort of known dogs: hubness reduction by cross-domain
// similarity local scaling (CSLS, Lample et al. 2018, "Word translation without parallel data").
//
// Some photos sit close to many dogs at once (a "hub": a blurred or generic face); in plain
// nearest-neighbour search they become the top answer for strangers and other dogs alike. A
// cohort is a fixed set of unit vectors of dogs that are never searched for (the mean
// embedding of each training dog); a photo's hubness r is its mean cosine similarity to its k
// nearest cohort vectors. The normalised similarity of photos a and b is
//   s_n = cos(a, b) - (r_a + r_b) / 2 + r_mean
// (CSLS up to a factor 2 and a constant; r_mean, the cohort's own mean hubness, keeps the scale
// of plain cosine similarity), and the normalised distance is the L2 distance that similarity
// would have between unit vectors: sqrt(clamp(2 - 2 s_n, 0, 4)), i.e. in [0, 2] like plain L2.
// For a fixed query, ranking by it is ranking by CSLS: hubs are pushed down.
//
// Served one-sided: a vector's offset is w max(0, r - r_mean), so distances only grow, for hubs
// (docs/TRAINING.md: as good as two-sided CSLS on aligned photos, better on loose crops, and a
// photo far from every dog is not pulled onto the gallery). A weight w in (0, 1] shrinks it.
//
// File format (little-endian): "DSCOH1\0\0", u64 rows, u64 dim, u32 k, f32 r_mean, f32 w, then
// rows x dim float32 unit vectors. Plain arithmetic; a Cohort is immutable after Parse/Build,
// so it is thread-safe.
#ifndef DOGSEARCH_COMMON_MODEL_COHORT_H_
#define DOGSEARCH_COMMON_MODEL_COHORT_H_

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace dogsearch::model {

class Cohort {
 public:
  // Limits: 2..200,000 rows of 1..4,096 floats, each of L2 norm 1 within 1e-3; 1 <= k < rows.
  static constexpr size_t kMaxRows = 200'000;
  static constexpr size_t kMaxDim = 4'096;

  // From unit vectors (row-major, rows.size() a multiple of dim); r_mean is measured on the rows
  // themselves (each against the others). INVALID_ARGUMENT naming the problem otherwise.
  static absl::StatusOr<Cohort> Build(std::vector<float> rows, size_t dim, uint32_t k,
                                      float weight = 1.0f);
  // From a file's bytes; INVALID_ARGUMENT naming the problem (magic, size, limits, norms).
  static absl::StatusOr<Cohort> Parse(std::string_view bytes);
  std::string Serialize() const;

  // Mean cosine similarity of the unit vector v (dim() floats) to its k nearest rows.
  float Hubness(const float* v) const;
  // v's score offset, weight() x max(0, Hubness(v) - mean_hubness()): what NormalisedDistance
  // adds per side. One-sided: a hub is pushed away, but a vector far from every cohort dog (an
  // anti-hub, such as a photo that is no dog at all) is never pulled closer than its plain
  // distance, so two distinct photos never collapse to distance 0.
  float Offset(const float* v) const { return weight_ * std::max(0.0f, Hubness(v) - mean_); }
  size_t rows() const { return rows_.size() / dim_; }
  size_t dim() const { return dim_; }
  uint32_t k() const { return k_; }
  float mean_hubness() const { return mean_; }
  float weight() const { return weight_; }

 private:
  Cohort(std::vector<float> rows, size_t dim, uint32_t k)
      : rows_(std::move(rows)), dim_(dim), k_(k) {}
  float TopKMean(const float* v, std::ptrdiff_t skip_row) const;

  std::vector<float> rows_;
  size_t dim_ = 0;
  uint32_t k_ = 0;
  float mean_ = 0;
  float weight_ = 1;
};

// The normalised distance of two unit vectors at plain L2 distance l2 whose score offsets
// (Cohort::Offset) are offset_a and offset_b: sqrt(clamp(l2^2 + offset_a + offset_b, 0, 4)),
// in [0, 2], and 0 where l2 is 0 (the same photo). The one formula that evaluation,
// calibration and serving share.
float NormalisedDistance(float l2, float offset_a, float offset_b);

}  // namespace dogsearch::model

#endif  // DOGSEARCH_COMMON_MODEL_COHORT_H_
