#include "services/gateway/core/vectors.h"

#include <cmath>

#include "absl/strings/str_cat.h"
#include "common/base/status_macros.h"

namespace dogsearch::gateway {

absl::StatusOr<std::vector<Vector>> EmbedPhotos(EmbeddingBackend* embedding,
                                                const ModelTarget& target,
                                                const std::vector<PhotoBytes>& photos,
                                                absl::Time deadline) {
  v1::EmbedRequest req;
  req.set_model_version(target.version);
  for (const PhotoBytes& p : photos) {
    v1::Photo* photo = req.add_photos();
    photo->set_data(p.data);
    photo->set_name(p.name);
  }
  auto resp = embedding->Embed(req, deadline);
  if (!resp.ok()) {
    if (absl::IsNotFound(resp.status())) {
      return absl::UnavailableError(absl::StrCat("the embedding service does not have model ",
                                                 target.version, " loaded (reloading it): ",
                                                 resp.status().message()));
    }
    return resp.status();
  }
  if (resp->model_version() != target.version ||
      resp->embeddings_size() != static_cast<int>(photos.size())) {
    return absl::InternalError(absl::StrCat("embedding service answered ",
                                            resp->embeddings_size(), " vectors from model ",
                                            resp->model_version(), " for ", photos.size(),
                                            " photos pinned to ", target.version));
  }
  std::vector<Vector> out;
  out.reserve(photos.size());
  for (const v1::EmbeddingVector& e : resp->embeddings()) {
    if (e.values_size() != static_cast<int>(target.dimension)) {
      return absl::InternalError(absl::StrCat("embedding service answered a ", e.values_size(),
                                              "-d vector for a ", target.dimension,
                                              "-d model"));
    }
    out.emplace_back(e.values().begin(), e.values().end());
  }
  return out;
}

absl::Status UpsertVectors(IndexBackend* index, const ModelTarget& target,
                           const std::vector<PhotoBytes>& photos,
                           const std::vector<Vector>& vectors, absl::Time deadline) {
  v1::UpsertRequest req;
  req.set_collection(target.collection);
  req.set_model_version(target.version);
  for (size_t i = 0; i < photos.size(); ++i) {
    v1::Record* r = req.add_records();
    r->set_id(photos[i].photo_id);
    r->mutable_vector()->Add(vectors[i].begin(), vectors[i].end());
    r->mutable_payload()->set_dog_id(photos[i].dog_id);
    r->mutable_payload()->set_photo_id(photos[i].photo_id);
  }
  return index->Upsert(req, deadline).status();
}

absl::Status DeleteVectors(IndexBackend* index, const ModelTarget& target,
                           const std::vector<std::string>& photo_ids, absl::Time deadline) {
  if (photo_ids.empty()) return absl::OkStatus();
  v1::DeleteRequest req;
  req.set_collection(target.collection);
  for (const std::string& id : photo_ids) req.add_ids(id);
  return index->Delete(req, deadline).status();
}

float L2Distance(const Vector& a, const Vector& b) {
  double sum = 0;
  for (size_t i = 0; i < a.size() && i < b.size(); ++i) {
    const double d = double{a[i]} - b[i];
    sum += d * d;
  }
  return static_cast<float>(std::sqrt(sum));
}

}  // namespace dogsearch::gateway
