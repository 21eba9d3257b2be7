#include "services/trainer/core/search_ranking.h"

#include <algorithm>
#include <map>

#include "absl/types/span.h"
#include "common/model/dog_score.h"

namespace dogsearch::trainer {

uint32_t SearchRank(const EmbeddingTable& t, uint32_t q, const std::vector<uint32_t>& gallery,
                    const SearchRankingOptions& o) {
  const absl::Span<const float> query(t.row(q), t.dim);
  const float q_offset = t.offsets.empty() ? 0.0f : t.offsets[q];
  std::vector<std::pair<float, uint32_t>> by_l2;  // What the index returns: nearest by plain L2.
  by_l2.reserve(gallery.size());
  for (uint32_t g : gallery) {
    if (g != q) by_l2.emplace_back(L2Distance(t.row(q), t.row(g), t.dim), g);
  }
  const size_t want_dogs = std::max<uint32_t>(o.k, 2);
  uint32_t want = model::SearchCandidates(o.k, o.photos_per_dog);
  std::map<int32_t, std::vector<model::DogPhotoHit>> dogs;
  while (true) {
    const size_t n = std::min<size_t>(want, by_l2.size());
    std::partial_sort(by_l2.begin(), by_l2.begin() + n, by_l2.end());
    dogs.clear();
    for (size_t i = 0; i < n; ++i) {
      const uint32_t g = by_l2[i].second;
      const float offset = t.offsets.empty() ? 0.0f : t.offsets[g];
      dogs[t.labels[g]].push_back(
          model::DogPhotoHit{t.distance(q, g), absl::Span<const float>(t.row(g), t.dim), offset});
    }
    if (dogs.size() >= want_dogs || n < want || want >= model::kMaxSearchCandidates) break;
    want = std::min<uint32_t>(model::kMaxSearchCandidates, want * 4);
  }
  auto score = [&](const std::vector<model::DogPhotoHit>& photos) {
    return model::DogScore(!t.offsets.empty(), query, q_offset, photos, o.centroid_weight);
  };
  auto own = dogs.find(t.labels[q]);
  if (own == dogs.end()) return 0;
  const float own_score = score(own->second);
  uint32_t rank = 1;
  for (const auto& [label, photos] : dogs)
    rank += label != t.labels[q] && score(photos) < own_score;
  return rank;
}

SearchedFigures AsSearched(const EmbeddingTable& t, uint64_t seed, const SearchRankingOptions& o,
                           int threads) {
  SearchedFigures r;
  const std::vector<uint32_t> gallery3 = Identify(t, seed, 3).gallery;
  std::vector<bool> in_gallery3(t.size(), false);
  for (uint32_t g : gallery3) in_gallery3[g] = true;
  std::map<int32_t, uint32_t> photos_of;
  for (int32_t l : t.labels) ++photos_of[l];
  std::vector<uint32_t> everyone(t.size());
  for (uint32_t i = 0; i < t.size(); ++i) everyone[i] = i;
  // Per row: rank in the 3-photo gallery (probes only) and in the full gallery (rows whose
  // dog has another photo only); 0 = not found, UINT32_MAX = not a query.
  std::vector<uint32_t> rank3(t.size(), UINT32_MAX), rank_full(t.size(), UINT32_MAX);
  ParallelFor(t.size(), threads, [&](size_t q) {
    if (!in_gallery3[q]) rank3[q] = SearchRank(t, static_cast<uint32_t>(q), gallery3, o);
    if (photos_of.at(t.labels[q]) >= 2)
      rank_full[q] = SearchRank(t, static_cast<uint32_t>(q), everyone, o);
  });
  size_t probes3 = 0, hits3 = 0, queries = 0, top1 = 0;
  double rr = 0;
  for (size_t q = 0; q < t.size(); ++q) {
    if (rank3[q] != UINT32_MAX) {
      ++probes3;
      hits3 += rank3[q] == 1;
    }
    if (rank_full[q] != UINT32_MAX) {
      ++queries;
      top1 += rank_full[q] == 1;
      rr += rank_full[q] == 0 ? 0.0 : 1.0 / rank_full[q];
    }
  }
  if (probes3 > 0) r.rank1_3_enrolled = static_cast<double>(hits3) / probes3;
  if (queries > 0) {
    r.full_gallery_top1 = static_cast<double>(top1) / queries;
    r.full_gallery_mrr = rr / queries;
  }
  return r;
}

}  // namespace dogsearch::trainer
