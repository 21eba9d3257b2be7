// GatewayCore: search, verification and the embedding map.
#include <algorithm>
#include <cmath>
#include <map>
#include <optional>
#include <random>

#include "absl/strings/str_cat.h"
#include "absl/types/span.h"
#include "common/base/status_macros.h"
#include "common/model/dog_score.h"
#include "services/gateway/core/gateway_core.h"
#include "services/gateway/core/pca.h"

namespace dogsearch::gateway {

float GatewayCore::Confidence(float distance, const ModelTarget& target) const {
  const bool fitted = target.confidence_scale > 0;
  const double center = fitted ? target.confidence_center : target.threshold;
  const double scale = fitted ? target.confidence_scale : options_.confidence_scale;
  const double z = (double{distance} - center) / std::max(1e-6, scale);
  return static_cast<float>(1.0 / (1.0 + std::exp(std::clamp(z, -50.0, 50.0))));
}

absl::StatusOr<Embedded> GatewayCore::EmbedQuery(const TargetPtr& target, const v1::Photo& photo,
                                                 absl::string_view label, absl::Time deadline) {
  DS_ASSIGN_OR_RETURN(CheckedPhoto c,
                      CheckPhoto(photo.data(), photo.name(), label, options_.limits));
  std::vector<PhotoBytes> one{PhotoBytes{c.photo_id, "", c.name, photo.data()}};
  return EmbedPhotos(deps_.embedding, *target, one, Cap(deadline));
}

namespace {

// A hit's served distance (vectors.h): the index's cosine distance 1 - cos as plain L2
// sqrt(2 (1 - cos)), score-normalised where the model does so. 1 - cos of float32 unit vectors
// carries a few 1e-7 of rounding (|v|^2 is 1 only to a few ulps, and the same photo embedded in
// another batch differs in its last bits): below kCosineRoundingFloor it is the same photo,
// distance 0 (else sqrt would make 1e-7 into 5e-4 and an enrolled photo could miss a threshold
// of 0).
float HitDistance(const ModelTarget& target, const v1::VectorSearchHit& h, float query_offset,
                  float hit_offset) {
  constexpr float kCosineRoundingFloor = 5e-7f;
  const float cosine = h.distance() <= kCosineRoundingFloor ? 0.f : h.distance();
  return ServedDistance(target, std::sqrt(2.0f * cosine), query_offset, hit_offset);
}

}  // namespace

uint64_t GatewayCore::GalleryPhotos() {
  std::lock_guard<std::mutex> lock(gallery_mu_);
  const absl::Time now = absl::Now();
  if (now - gallery_counted_ >= absl::Seconds(1)) {
    gallery_photos_ = deps_.store->CountPhotos();
    gallery_counted_ = now;
  }
  return gallery_photos_;
}

absl::StatusOr<v1::SearchResponse> GatewayCore::Search(const v1::SearchRequest& req,
                                                       absl::Time deadline) {
  const uint32_t k = req.k() == 0 ? 5 : req.k();
  const uint32_t per_dog = req.photos_per_dog() == 0 ? 3 : req.photos_per_dog();
  if (k > options_.limits.max_k) {
    return absl::InvalidArgumentError(
        absl::StrCat("k must be 1..", options_.limits.max_k, ", got ", k));
  }
  if (per_dog > options_.limits.max_photos_per_dog_in_results) {
    return absl::InvalidArgumentError(
        absl::StrCat("photos_per_dog must be 1..", options_.limits.max_photos_per_dog_in_results));
  }
  DS_ASSIGN_OR_RETURN(TargetPtr target, ServingOrError());
  const absl::Time t0 = absl::Now();
  DS_ASSIGN_OR_RETURN(Embedded embedded, EmbedQuery(target, req.photo(), "photo", deadline));
  const Vector& query = embedded.vectors[0];
  const float query_offset = embedded.offsets[0];
  const absl::Time t1 = absl::Now();

  // Hits are photos; ask for more until k distinct dogs (at least 2: the answer weighs the top
  // dog's margin over the second) are found or the gallery is exhausted. With score
  // normalisation the index's nearest candidates (plain L2) are re-ranked by the normalised
  // distance: the candidates are many more than the photos shown (model::SearchCandidates), so
  // a photo that normalisation would pull in from beyond them is rare.
  const uint32_t want_dogs = std::max<uint32_t>(k, 2);
  const float centroid_weight = options_.dog_centroid_weight;
  std::vector<std::string> dog_order;
  std::map<std::string, v1::DogMatch> dogs;
  uint32_t want = model::SearchCandidates(k, per_dog);
  while (true) {
    v1::VectorSearchRequest sr;
    sr.set_collection(target->collection);
    sr.set_model_version(target->version);
    sr.mutable_vector()->Add(query.begin(), query.end());
    sr.set_k(want);
    sr.set_include_vectors(centroid_weight > 0);  // For each dog's centroid (DogScore).
    DS_ASSIGN_OR_RETURN(v1::VectorSearchResponse hits, deps_.index->Search(sr, Cap(deadline)));
    std::vector<std::string> ids;
    for (const auto& h : hits.hits()) ids.push_back(h.id());
    const auto known = deps_.store->LookupPhotos(ids);  // Unknown ids: deleted meanwhile.
    dog_order.clear();
    dogs.clear();
    std::map<std::string, std::vector<model::DogPhotoHit>> dog_photos;  // Every candidate of a dog.
    std::vector<float> hit_offsets;             // Each hit's score offset, read once.
    std::vector<std::pair<float, int>> ranked;  // (served distance, hit), nearest first.
    for (int i = 0; i < hits.hits_size(); ++i) {
      hit_offsets.push_back(HitScoreOffset(hits.hits(i).payload()));
      ranked.emplace_back(HitDistance(*target, hits.hits(i), query_offset, hit_offsets[i]), i);
    }
    std::stable_sort(ranked.begin(), ranked.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
    for (const auto& [distance, i] : ranked) {
      const v1::VectorSearchHit& h = hits.hits(i);
      auto it = known.find(h.id());
      if (it == known.end()) continue;
      const PhotoRow& row = it->second.first;
      auto [d, inserted] = dogs.try_emplace(row.dog_id);
      if (inserted) {
        dog_order.push_back(row.dog_id);
        d->second.set_dog_id(row.dog_id);
        d->second.set_name(it->second.second);
        d->second.set_distance(distance);
      }
      if (d->second.photos_size() < static_cast<int>(per_dog)) {
        v1::PhotoMatch* m = d->second.add_photos();
        m->set_photo_id(h.id());
        m->set_distance(distance);
      }
      dog_photos[row.dog_id].push_back(model::DogPhotoHit{
          distance, absl::MakeConstSpan(h.vector().data(), h.vector().size()), hit_offsets[i]});
    }
    for (auto& [dog_id, photos] : dog_photos) {
      dogs[dog_id].set_score(
          model::DogScore(target->score_normalised, query, query_offset, photos, centroid_weight));
    }
    if (dog_order.size() >= want_dogs || static_cast<uint32_t>(hits.hits_size()) < want ||
        want >= model::kMaxSearchCandidates) {
      break;
    }
    want = std::min<uint32_t>(model::kMaxSearchCandidates, want * 4);
  }

  // Dogs by score; the answer weighs the top dog's best photo against the nearest other dog's
  // (what the 1:N calibration models; ranking by score can only leave the top dog's best photo
  // as far as the nearest photo of all, or farther, so the promised rate of strangers answered
  // as a match holds).
  std::stable_sort(dog_order.begin(), dog_order.end(),
                   [&](const auto& a, const auto& b) { return dogs[a].score() < dogs[b].score(); });
  v1::SearchResponse resp;
  resp.set_model_version(target->version);
  std::optional<float> top, second;
  if (!dog_order.empty()) top = dogs[dog_order[0]].distance();
  for (size_t i = 1; i < dog_order.size(); ++i) {
    second = std::min(second.value_or(2.f), dogs[dog_order[i]].distance());
  }
  const uint64_t gallery = GalleryPhotos();
  const SearchDecision decision = DecideAnswer(target->identification, target->threshold, top,
                                               second, gallery, options_.answer);
  resp.set_answer(decision.answer);
  resp.set_confident(decision.answer == v1::SEARCH_ANSWER_MATCH);
  resp.set_top_confidence(decision.top_confidence);
  resp.set_match_threshold(decision.match_threshold);
  resp.set_possible_threshold(decision.possible_threshold);
  resp.set_target_fpir(options_.answer.target_fpir);
  resp.set_gallery_photos(gallery);
  for (size_t i = 0; i < dog_order.size() && i < k; ++i) {
    v1::DogMatch m = std::move(dogs[dog_order[i]]);
    m.set_rank(static_cast<uint32_t>(i + 1));
    m.set_confidence(Confidence(m.distance(), *target));
    m.set_same_dog(i == 0 && resp.confident());
    *resp.add_matches() = std::move(m);
  }
  resp.set_embed_seconds(absl::ToDoubleSeconds(t1 - t0));
  resp.set_search_seconds(absl::ToDoubleSeconds(absl::Now() - t1));
  return resp;
}

absl::StatusOr<v1::VerifyResponse> GatewayCore::Verify(const v1::VerifyRequest& req,
                                                       absl::Time deadline) {
  DS_ASSIGN_OR_RETURN(TargetPtr target, ServingOrError());
  DS_ASSIGN_OR_RETURN(CheckedPhoto a, CheckPhoto(req.photo_a().data(), req.photo_a().name(),
                                                 "photo_a", options_.limits));
  DS_ASSIGN_OR_RETURN(CheckedPhoto b, CheckPhoto(req.photo_b().data(), req.photo_b().name(),
                                                 "photo_b", options_.limits));
  std::vector<PhotoBytes> both{PhotoBytes{a.photo_id, "", a.name, req.photo_a().data()},
                               PhotoBytes{b.photo_id, "", b.name, req.photo_b().data()}};
  DS_ASSIGN_OR_RETURN(Embedded v, EmbedPhotos(deps_.embedding, *target, both, Cap(deadline)));
  v1::VerifyResponse resp;
  const float d =
      ServedDistance(*target, L2Distance(v.vectors[0], v.vectors[1]), v.offsets[0], v.offsets[1]);
  resp.set_distance(d);
  resp.set_threshold(target->threshold);
  resp.set_same_dog(d <= target->threshold);
  resp.set_confidence(Confidence(d, *target));
  resp.set_model_version(target->version);
  return resp;
}

absl::StatusOr<std::vector<MapPoint>> GatewayCore::EmbeddingMap(size_t max_points,
                                                                absl::Time deadline) {
  DS_ASSIGN_OR_RETURN(TargetPtr target, ServingOrError());
  // An even sample of the gallery in photo-id order (ids are hashes: effectively random),
  // read without walking the whole gallery.
  const std::vector<PhotoRow> sample = deps_.store->SamplePhotos(max_points);
  std::vector<Vector> vectors;
  std::vector<std::string> ids;
  for (size_t start = 0; start < sample.size(); start += 1000) {
    v1::GetRequest get;
    get.set_collection(target->collection);
    get.set_include_vectors(true);
    for (size_t i = start; i < std::min(sample.size(), start + 1000); ++i) {
      get.add_ids(sample[i].photo_id);
    }
    DS_ASSIGN_OR_RETURN(v1::GetResponse got, deps_.index->Get(get, Cap(deadline)));
    for (const v1::Record& r : got.records()) {
      ids.push_back(r.id());
      vectors.emplace_back(r.vector().begin(), r.vector().end());
    }
  }
  const std::vector<std::pair<float, float>> xy = ProjectPca2(vectors);
  const auto names = deps_.store->LookupPhotos(ids);
  std::vector<MapPoint> out;
  for (size_t i = 0; i < ids.size(); ++i) {
    auto it = names.find(ids[i]);
    if (it == names.end()) continue;
    out.push_back(
        MapPoint{ids[i], it->second.first.dog_id, it->second.second, xy[i].first, xy[i].second});
  }
  return out;
}

}  // namespace dogsearch::gateway
