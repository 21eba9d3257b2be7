// Settings and collaborators of the gateway core (see gateway_core.h).
#ifndef DOGSEARCH_SERVICES_GATEWAY_CORE_OPTIONS_H_
#define DOGSEARCH_SERVICES_GATEWAY_CORE_OPTIONS_H_

#include <string>

#include "absl/time/time.h"
#include "services/gateway/core/backends.h"
#include "services/gateway/core/gallery_store.h"
#include "services/gateway/core/intake.h"
#include "services/gateway/core/model_setup.h"
#include "services/gateway/core/photo_store.h"
#include "services/gateway/core/search_answer.h"

namespace dogsearch::gateway {

struct GatewayOptions {
  IntakeLimits limits;
  ModelSetupOptions setup;
  // Index alias that always names the serving collection (for other readers of the index).
  std::string alias = "gallery";
  // Longest any single backend call may take, even when the caller's deadline is later.
  absl::Duration backend_timeout = absl::Seconds(10);
  // Logistic scale of the same-dog confidence around the threshold, in distance units:
  // confidence = 1 / (1 + exp((distance - threshold) / scale)).
  float confidence_scale = 0.08f;
  // Search ranks dogs by DogScore (vectors.h): (1 - w) x the best photo's distance + w x the
  // distance to the mean direction of the dog's photos among the candidates; 0 = best photo.
  float dog_centroid_weight = 0.5f;
  // The 1:N answer of a search (search_answer.h): target false-positive identification rates
  // of a confident match and of a possible match.
  AnswerPolicy answer;
  // After an upgrade flips, the old collection and model stay this long for searches in flight.
  absl::Duration retire_grace = absl::Seconds(30);
  // Photos per embedding call while re-embedding the gallery, and how many such calls are in
  // flight at once (each wave of reembed_streams batches is embedded in parallel, then written
  // in order; the resume cursor moves after each wave).
  int reembed_batch = 32;
  int reembed_streams = 2;
  // How often the supervisor checks that the serving model is loaded and the state restored.
  absl::Duration supervise_interval = absl::Seconds(2);
};

// Not owned; must outlive the core.
struct GatewayDeps {
  GalleryStore* store = nullptr;
  const PhotoStore* photos = nullptr;
  EmbeddingBackend* embedding = nullptr;
  IndexBackend* index = nullptr;
};

}  // namespace dogsearch::gateway

#endif  // DOGSEARCH_SERVICES_GATEWAY_CORE_OPTIONS_H_
