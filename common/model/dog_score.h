// How a search ranks dogs: the one definition the gateway's Search and dogsearch-eval's
// "as searched" figures share. Plain arithmetic on float vectors; pure functions, thread-safe.
//
// A search takes the nearest candidate photos of the query (SearchCandidates), groups them by
// dog and ranks the dogs by DogScore: (1 - w) x the dog's best photo's distance + w x the
// distance from the query to the mean direction of the dog's candidate photos. A dog several
// photos agree on outranks a dog with one stray photo that happens to lie close
// (docs/TRAINING.md, "Ranking dogs by all their photos").
#ifndef DOGSEARCH_COMMON_MODEL_DOG_SCORE_H_
#define DOGSEARCH_COMMON_MODEL_DOG_SCORE_H_

#include <cstdint>
#include <vector>

#include "absl/types/span.h"

namespace dogsearch::model {

// A photo this close to the query is the query photo itself (embedded in another batch its
// vector may differ in the last bits) or a copy of it: its dog is the answer, whatever its other
// photos look like. Distinct photos of the held-out dogs are at 0.084 and more (the default
// model, served distances; docs/TRAINING.md "Ranking dogs by all their photos").
inline constexpr float kSamePhotoDistance = 0.05f;

// How many nearest photos a search asks the index for to show k dogs with up to photos_per_dog
// photos each: k x photos_per_dog x 2 + 16, at most kMaxSearchCandidates. Where they hold fewer
// than max(k, 2) dogs the search asks again for 4 times as many (up to the maximum).
inline constexpr uint32_t kMaxSearchCandidates = 1000;
uint32_t SearchCandidates(uint32_t k, uint32_t photos_per_dog);

// Plain L2 distance of two vectors (over the shorter length).
float L2(absl::Span<const float> a, absl::Span<const float> b);

// The distance served between vectors at plain L2 distance l2 with these score offsets: the
// cohort-normalised distance (cohort.h) where the model normalises, else l2.
float ServedDistance(bool normalised, float l2, float offset_a, float offset_b);

// One of a dog's photos among a search's candidates: its served distance to the query, its
// vector (empty where unknown) and its score offset.
struct DogPhotoHit {
  float distance = 0;
  absl::Span<const float> vector;
  float offset = 0;
};

// A dog's ranking score in a search: (1 - w) x its best photo's distance + w x the served
// distance from the query to the mean direction of its photos (their offsets averaged),
// w = centroid_weight clamped to [0, 1]. With one photo, w = 0, a best distance under
// kSamePhotoDistance, or a vector missing or of another length than the query's: the best
// photo's distance. Photos must not be empty.
float DogScore(bool normalised, absl::Span<const float> query, float query_offset,
               const std::vector<DogPhotoHit>& photos, float centroid_weight);

}  // namespace dogsearch::model

#endif  // DOGSEARCH_COMMON_MODEL_DOG_SCORE_H_
