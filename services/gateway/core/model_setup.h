// Steps shared by start-up and upgrades: make sure the embedding service has a version READY
// (loading it from its model directory if needed) and describe it; make sure the index has the
// version's collection. Thread-safe (stateless; the backends are).
#ifndef DOGSEARCH_SERVICES_GATEWAY_CORE_MODEL_SETUP_H_
#define DOGSEARCH_SERVICES_GATEWAY_CORE_MODEL_SETUP_H_

#include <atomic>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "dogsearch/v1/index.pb.h"
#include "services/gateway/core/backends.h"
#include "services/gateway/core/serving_state.h"

namespace dogsearch::gateway {

struct ModelSetupOptions {
  std::string collection_prefix = "gallery__";
  v1::HnswParams hnsw;
  // How gallery collections store vectors (UNSPECIFIED: the index's default, float32).
  v1::VectorEncoding vector_encoding = v1::VECTOR_ENCODING_UNSPECIFIED;
  // Cap on records per gallery collection on each index shard (0: the index's default,
  // 10,000,000).
  uint64_t max_records = 0;
  // Used when a manifest has no measured threshold.
  float default_threshold = 1.0f;
  absl::Duration load_timeout = absl::Minutes(5);
  absl::Duration call_timeout = absl::Seconds(30);
};

std::string CollectionFor(const std::string& version, const ModelSetupOptions& options);

// READY model -> target. Loads the version when the embedding service does not have it.
// NOT_FOUND (no such checkpoint), FAILED_PRECONDITION (refused, or FAILED: reason given),
// DEADLINE_EXCEEDED (still loading after load_timeout), UNAVAILABLE.
// `cancel` (may be null) is polled while waiting.
absl::StatusOr<ModelTarget> PrepareModel(EmbeddingBackend* embedding, const std::string& version,
                                         const ModelSetupOptions& options,
                                         const std::atomic<bool>* cancel);

// Creates the target's collection, or checks that an existing one matches (same model version
// and dimension; FAILED_PRECONDITION otherwise).
absl::Status EnsureCollection(IndexBackend* index, const ModelTarget& target,
                              const ModelSetupOptions& options);

}  // namespace dogsearch::gateway

#endif  // DOGSEARCH_SERVICES_GATEWAY_CORE_MODEL_SETUP_H_
