// The model's figures as the product answers: dogs ranked as the gateway's Search ranks them
// (common/model/dog_score.h: the nearest candidate photos by plain L2, their served distances,
// each dog's score blending its best photo with its photos' centroid), where the figures in
// evaluation.h rank a dog by its best photo over the whole gallery. Plain C++ on an
// EmbeddingTable (no LibTorch); pure functions, thread-safe.
#ifndef DOGSEARCH_SERVICES_TRAINER_CORE_SEARCH_RANKING_H_
#define DOGSEARCH_SERVICES_TRAINER_CORE_SEARCH_RANKING_H_

#include <cstdint>
#include <vector>

#include "services/trainer/core/evaluation.h"

namespace dogsearch::trainer {

// The gateway's defaults: --dog_centroid_weight 0.5, a Search of k 5 dogs with 3 photos each.
struct SearchRankingOptions {
  float centroid_weight = 0.5f;
  uint32_t k = 5;
  uint32_t photos_per_dog = 3;
};

// The 1-based rank at which a search with row q finds q's dog among the dogs of the `gallery`
// rows (q itself excluded), as the gateway ranks them; dogs tied with it count below it. 0 where
// none of its photos is among the candidates.
uint32_t SearchRank(const EmbeddingTable& table, uint32_t q, const std::vector<uint32_t>& gallery,
                    const SearchRankingOptions& options);

struct SearchedFigures {
  double rank1_3_enrolled = 0;   // Identify's 3-photo gallery (same seed), every other photo.
  double full_gallery_top1 = 0;  // Every other photo of every dog in the gallery.
  double full_gallery_mrr = 0;   // Mean of 1 / rank (0 where the dog is not among candidates).
};
SearchedFigures AsSearched(const EmbeddingTable& table, uint64_t seed,
                           const SearchRankingOptions& options, int threads);

}  // namespace dogsearch::trainer

#endif  // DOGSEARCH_SERVICES_TRAINER_CORE_SEARCH_RANKING_H_
