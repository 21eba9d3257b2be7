#include "services/gateway/core/vectors.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/base/status_macros.h"
#include "common/image_header/image_header.h"
#include "common/model/dog_score.h"

namespace dogsearch::gateway {

namespace {

// Photos [begin, end) in one Embed call, appended to *out.
absl::Status EmbedCall(EmbeddingBackend* embedding, const ModelTarget& target,
                       const std::vector<PhotoBytes>& all, size_t begin, size_t end,
                       absl::Time deadline, Embedded* out) {
  const size_t count = end - begin;
  v1::EmbedRequest req;
  req.set_model_version(target.version);
  for (size_t i = begin; i < end; ++i) {
    const PhotoBytes& p = all[i];
    v1::Photo* photo = req.add_photos();
    photo->set_data(p.data);
    photo->set_name(p.name);
  }
  auto resp = embedding->Embed(req, deadline);
  if (!resp.ok()) {
    if (absl::IsNotFound(resp.status())) {
      return absl::UnavailableError(
          absl::StrCat("the embedding service does not have model ", target.version,
                       " loaded (reloading it): ", resp.status().message()));
    }
    return resp.status();
  }
  if (resp->model_version() != target.version ||
      resp->embeddings_size() != static_cast<int>(count)) {
    return absl::InternalError(absl::StrCat("embedding service answered ", resp->embeddings_size(),
                                            " vectors from model ", resp->model_version(), " for ",
                                            count, " photos pinned to ", target.version));
  }
  for (const v1::EmbeddingVector& e : resp->embeddings()) {
    if (e.values_size() != static_cast<int>(target.dimension)) {
      return absl::InternalError(absl::StrCat("embedding service answered a ", e.values_size(),
                                              "-d vector for a ", target.dimension, "-d model"));
    }
    if (!(e.score_offset() >= -2.0f && e.score_offset() <= 2.0f)) {
      return absl::InternalError(
          absl::StrCat("embedding service answered a score offset of ", e.score_offset()));
    }
    out->Append(Vector(e.values().begin(), e.values().end()),
                target.score_normalised ? e.score_offset() : 0.0f);
  }
  return absl::OkStatus();
}

uint64_t HeaderPixels(absl::string_view data) {
  auto h = image::ReadImageHeader(data);
  return h.ok() ? uint64_t{h->width} * h->height : 0;
}

}  // namespace

absl::StatusOr<Embedded> EmbedPhotos(EmbeddingBackend* embedding, const ModelTarget& target,
                                     const std::vector<PhotoBytes>& photos, absl::Time deadline) {
  // Calls of at most kEmbedCallPixels (a photo larger than that goes alone), so that no call
  // exceeds the embedding service's per-request decoding budget.
  Embedded out;
  out.vectors.reserve(photos.size());
  out.offsets.reserve(photos.size());
  if (photos.size() == 1) {  // One photo goes alone anyway: no header to read (searches).
    DS_RETURN_IF_ERROR(EmbedCall(embedding, target, photos, 0, 1, deadline, &out));
    return out;
  }
  size_t begin = 0;
  uint64_t pixels = 0;
  for (size_t i = 0; i <= photos.size(); ++i) {
    const uint64_t p = i < photos.size() ? HeaderPixels(photos[i].data) : 0;
    if (i > begin && (i == photos.size() || pixels + p > kEmbedCallPixels)) {
      DS_RETURN_IF_ERROR(EmbedCall(embedding, target, photos, begin, i, deadline, &out));
      begin = i;
      pixels = 0;
    }
    pixels += p;
  }
  return out;
}

absl::Status UpsertVectors(IndexBackend* index, const ModelTarget& target,
                           const std::vector<PhotoBytes>& photos, const Embedded& embedded,
                           absl::Time deadline) {
  v1::UpsertRequest req;
  req.set_collection(target.collection);
  req.set_model_version(target.version);
  for (size_t i = 0; i < photos.size(); ++i) {
    v1::Record* r = req.add_records();
    r->set_id(photos[i].photo_id);
    r->mutable_vector()->Add(embedded.vectors[i].begin(), embedded.vectors[i].end());
    r->mutable_payload()->set_dog_id(photos[i].dog_id);
    r->mutable_payload()->set_photo_id(photos[i].photo_id);
    if (target.score_normalised) {
      SetScoreOffset(embedded.offsets[i], r->mutable_payload());
    }
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

void SetScoreOffset(float offset, v1::Payload* payload) {
  (*payload->mutable_attributes())[kScoreOffsetAttribute] = absl::StrFormat("%.9g", offset);
}

float HitScoreOffset(const v1::Payload& payload) {
  auto it = payload.attributes().find(kScoreOffsetAttribute);
  float offset = 0;
  if (it == payload.attributes().end() || !absl::SimpleAtof(it->second, &offset) ||
      !(offset >= -2.0f && offset <= 2.0f)) {
    return 0.0f;
  }
  return offset;
}

float ServedDistance(const ModelTarget& target, float l2, float offset_a, float offset_b) {
  return model::ServedDistance(target.score_normalised, l2, offset_a, offset_b);
}

float L2Distance(const Vector& a, const Vector& b) { return model::L2(a, b); }

}  // namespace dogsearch::gateway
