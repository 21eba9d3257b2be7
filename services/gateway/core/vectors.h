// Moving photos into an embedding space: embed a batch with a pinned model version, and write
// the resulting vectors into that version's collection. Shared by enrolment and upgrades.
// Stateless; thread-safe.
#ifndef DOGSEARCH_SERVICES_GATEWAY_CORE_VECTORS_H_
#define DOGSEARCH_SERVICES_GATEWAY_CORE_VECTORS_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
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

// Header pixels of the photos in one Embed call at most (a larger photo goes alone): the
// embedding service's --max_request_pixels must be at least this.
inline constexpr uint64_t kEmbedCallPixels = 100'000'000;

// One vector per photo, in order, from exactly `target.version`, in as many Embed calls as
// kEmbedCallPixels needs. A version the embedding
// service no longer has is UNAVAILABLE (the gateway reloads it); a vector of the wrong
// dimension or version is INTERNAL.
absl::StatusOr<std::vector<Vector>> EmbedPhotos(EmbeddingBackend* embedding,
                                                const ModelTarget& target,
                                                const std::vector<PhotoBytes>& photos,
                                                absl::Time deadline);

// Upserts (id = photo id, payload = dog and photo id) into target.collection, pinned to
// target.version.
absl::Status UpsertVectors(IndexBackend* index, const ModelTarget& target,
                           const std::vector<PhotoBytes>& photos,
                           const std::vector<Vector>& vectors, absl::Time deadline);

// Deletes photo ids from target.collection (ids not there are fine).
absl::Status DeleteVectors(IndexBackend* index, const ModelTarget& target,
                           const std::vector<std::string>& photo_ids, absl::Time deadline);

// Plain L2 distance of two equal-length vectors.
float L2Distance(const Vector& a, const Vector& b);

}  // namespace dogsearch::gateway

#endif  // DOGSEARCH_SERVICES_GATEWAY_CORE_VECTORS_H_
