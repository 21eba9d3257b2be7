// Moving photos into an embedding space: embed a batch with a pinned model version, and write
// the resulting vectors into that version's collection. Shared by enrolment and upgrades.
// Stateless; thread-safe.
#ifndef DOGSEARCH_SERVICES_GATEWAY_CORE_VECTORS_H_
#define DOGSEARCH_SERVICES_GATEWAY_CORE_VECTORS_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "services/gateway/core/backends.h"
#include "services/gateway/core/serving_state.h"

namespace dogsearch::gateway {

struct PhotoBytes {
  std::string photo_id;
  std::string dog_id;
  std::string name;
  std::string data;
};

using Vector = std::vector<float>;

// Photos' vectors from one model, in order, with each one's score-normalisation offset
// (dogsearch.v1.EmbeddingVector.score_offset; all 0 when the model has none).
struct Embedded {
  std::vector<Vector> vectors;
  std::vector<float> offsets;

  size_t size() const { return vectors.size(); }
  void Append(Vector v, float offset) {
    vectors.push_back(std::move(v));
    offsets.push_back(offset);
  }
};

// The index record attribute that holds a gallery vector's score offset ("%.9g" of the float).
inline constexpr char kScoreOffsetAttribute[] = "score_offset";

// Header pixels of the photos in one Embed call at most (a larger photo goes alone): the
// embedding service's --max_request_pixels must be at least this.
inline constexpr uint64_t kEmbedCallPixels = 100'000'000;

// One vector per photo, in order, from exactly `target.version`, in as many Embed calls as
// kEmbedCallPixels needs. A version the embedding
// service no longer has is UNAVAILABLE (the gateway reloads it); a vector of the wrong
// dimension or version is INTERNAL.
// An offset outside [-2, 2] is INTERNAL too.
absl::StatusOr<Embedded> EmbedPhotos(EmbeddingBackend* embedding, const ModelTarget& target,
                                     const std::vector<PhotoBytes>& photos, absl::Time deadline);

// Upserts (id = photo id, payload = dog and photo id, and the score offset as attribute
// kScoreOffsetAttribute where the model normalises) into target.collection, pinned to
// target.version.
absl::Status UpsertVectors(IndexBackend* index, const ModelTarget& target,
                           const std::vector<PhotoBytes>& photos, const Embedded& embedded,
                           absl::Time deadline);

// Stores `offset` in the payload as the kScoreOffsetAttribute attribute (what HitScoreOffset
// reads back).
void SetScoreOffset(float offset, v1::Payload* payload);

// A search hit's score offset: its record's attribute, 0 where absent or unreadable (a record
// written before the model normalised: it is then ranked by plain L2 on its side).
float HitScoreOffset(const v1::Payload& payload);

// The distance a target serves between vectors at plain L2 distance l2 with these offsets:
// the normalised distance (common/model/cohort.h) where the model normalises, else l2.
float ServedDistance(const ModelTarget& target, float l2, float offset_a, float offset_b);

// Deletes photo ids from target.collection (ids not there are fine).
absl::Status DeleteVectors(IndexBackend* index, const ModelTarget& target,
                           const std::vector<std::string>& photo_ids, absl::Time deadline);

// Plain L2 distance of two equal-length vectors.
float L2Distance(const Vector& a, const Vector& b);

}  // namespace dogsearch::gateway

#endif  // DOGSEARCH_SERVICES_GATEWAY_CORE_VECTORS_H_
