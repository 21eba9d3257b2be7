#include "tests/gateway/fakes.h"

#include <algorithm>
#include <cmath>
#include <random>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"

namespace dogsearch::gateway::testing {
namespace {

absl::Status Down(const char* what) {
  return absl::UnavailableError(absl::StrCat(what, " service: connection refused"));
}

// (dog, photo) from a FakePhoto; (-1, -1) for anything else.
std::pair<int, int> Ids(const std::string& data) {
  const size_t at = data.find("dog=");
  if (at == std::string::npos) return {-1, -1};
  const size_t end = data.find(';', data.find("photo=", at));
  std::pair<int, int> out{-1, -1};
  for (absl::string_view kv : absl::StrSplit(data.substr(at, end - at), ';')) {
    std::pair<std::string, std::string> p = absl::StrSplit(kv, '=');
    if (p.first == "dog") (void)absl::SimpleAtoi(p.second, &out.first);
    if (p.first == "photo") (void)absl::SimpleAtoi(p.second, &out.second);
  }
  return out;
}

std::vector<float> Unit(std::vector<float> v) {
  double n = 0;
  for (float x : v) n += double{x} * x;
  n = std::sqrt(n);
  for (float& x : v) x = static_cast<float>(x / n);
  return v;
}

}  // namespace

std::string FakePhoto(int dog, int photo) {
  const std::string text = absl::StrCat("dog=", dog, ";photo=", photo, ";");
  std::string s = "\xff\xd8";  // SOI
  s += "\xff\xfe";             // COM
  const size_t len = text.size() + 2;
  s += static_cast<char>(len >> 8);
  s += static_cast<char>(len & 0xff);
  s += text;
  // SOF0: length 17, precision 8, 64x64, 3 components.
  s += std::string("\xff\xc0\x00\x11\x08\x00\x40\x00\x40\x03", 10);
  s += std::string("\x01\x22\x00\x02\x11\x01\x03\x11\x01", 9);
  s += "\xff\xd9";  // EOI
  return s;
}

std::vector<float> FakeEmbedding::VectorFor(const std::string& version, const std::string& data) {
  const auto [dog, photo] = Ids(data);
  std::seed_seq centre_seed{static_cast<int>(std::hash<std::string>()(version) & 0x7fffffff), dog};
  std::mt19937 centre_rng(centre_seed);
  std::normal_distribution<float> n(0.0f, 1.0f);
  std::vector<float> v(kDim);
  for (float& x : v) x = n(centre_rng);
  std::seed_seq noise_seed{dog, photo, 7};
  std::mt19937 noise_rng(noise_seed);
  for (float& x : v) x += 0.15f * n(noise_rng);
  if (dog < 0) {  // Not a fake photo: a vector from its bytes.
    std::seed_seq s{static_cast<int>(std::hash<std::string>()(data) & 0x7fffffff)};
    std::mt19937 r(s);
    for (float& x : v) x = n(r);
  }
  return Unit(v);
}

v1::ModelInfo FakeEmbedding::Info(const std::string& version) const {
  v1::ModelInfo info;
  info.set_version(version);
  info.set_state(v1::MODEL_STATE_READY);
  info.set_is_default(version == default_);
  info.mutable_spec()->set_architecture("fake");
  info.mutable_spec()->set_embedding_dim(kDim);
  info.mutable_metrics()->set_threshold(0.6);
  // A 1:N calibration shaped like these vectors' (unit vectors in 16-d around random centres:
  // photos of one dog ~0.2 apart, two dogs' cosine ~ N(0, 1/16)): a stranger closer than 0.45
  // is a 1-in-100,000 event, closer than 1.0 one in 50.
  v1::IdentificationCalibration* c = info.mutable_metrics()->mutable_identification();
  for (auto [f, d] : {std::pair{1e-5, 0.45f}, {1e-3, 0.7f}, {0.02, 1.0f}, {0.5, 1.41f}}) {
    c->add_fmr_fraction(f);
    c->add_fmr_distance(d);
  }
  c->set_tail_slope(8);
  c->set_tail_intercept(-5 - 8 * 0.45);
  c->set_bias(-4);
  c->set_fpir_weight(-1.5);
  c->set_margin_weight(2);
  if (identification_) *c = *identification_;
  if (!score_offsets_.empty()) info.set_cohort_size(100);
  return info;
}

absl::StatusOr<v1::EmbedResponse> FakeEmbedding::Embed(const v1::EmbedRequest& request,
                                                       absl::Time) {
  const int now = ++in_flight_;
  for (int seen = max_in_flight_.load();
       now > seen && !max_in_flight_.compare_exchange_weak(seen, now);) {
  }
  struct Leave {
    std::atomic<int>* n;
    ~Leave() { --*n; }
  } leave{&in_flight_};
  absl::Duration delay;
  {
    std::lock_guard<std::mutex> l(mu_);
    delay = delay_;
  }
  if (delay > absl::ZeroDuration()) absl::SleepFor(delay);
  std::lock_guard<std::mutex> l(mu_);
  call_sizes_.push_back(request.photos_size());
  if (down_) return Down("embedding");
  const std::string version = request.model_version().empty() ? default_ : request.model_version();
  if (!loaded_.count(version)) return absl::NotFoundError(absl::StrCat("no model ", version));
  v1::EmbedResponse resp;
  resp.set_model_version(version);
  resp.set_dimension(kDim);
  for (int i = 0; i < request.photos_size(); ++i) {
    if (fail_dog_ >= 0 && Ids(request.photos(i).data()).first == fail_dog_) {
      return absl::InvalidArgumentError(absl::StrCat("photo ", i, ": cannot decode"));
    }
    auto fixed = vectors_.find(Ids(request.photos(i).data()));
    const auto v =
        fixed != vectors_.end() ? fixed->second : VectorFor(version, request.photos(i).data());
    v1::EmbeddingVector* e = resp.add_embeddings();
    e->mutable_values()->Add(v.begin(), v.end());
    auto offset = score_offsets_.find(Ids(request.photos(i).data()).first);
    if (offset != score_offsets_.end()) e->set_score_offset(offset->second);
  }
  return resp;
}

absl::StatusOr<v1::ModelInfo> FakeEmbedding::GetModel(const std::string& version, absl::Time) {
  std::lock_guard<std::mutex> l(mu_);
  if (down_) return Down("embedding");
  if (!loaded_.count(version)) return absl::NotFoundError(absl::StrCat("no model ", version));
  return Info(version);
}

absl::StatusOr<v1::ListModelsResponse> FakeEmbedding::ListModels(absl::Time) {
  std::lock_guard<std::mutex> l(mu_);
  if (down_) return Down("embedding");
  v1::ListModelsResponse resp;
  resp.set_default_version(default_);
  for (const std::string& v : loaded_) *resp.add_models() = Info(v);
  return resp;
}

absl::StatusOr<v1::ModelInfo> FakeEmbedding::LoadModel(const std::string& version,
                                                       bool make_default, absl::Time) {
  std::lock_guard<std::mutex> l(mu_);
  if (down_) return Down("embedding");
  if (loaded_.count(version)) return absl::AlreadyExistsError("already loaded");
  if (!checkpoints_.count(version) && version != default_) {
    return absl::NotFoundError(absl::StrCat("no checkpoint ", version));
  }
  Add(version);
  if (make_default) default_ = version;
  return Info(version);
}

absl::StatusOr<v1::ModelInfo> FakeEmbedding::SetDefaultModel(const std::string& version,
                                                             absl::Time) {
  std::lock_guard<std::mutex> l(mu_);
  if (down_) return Down("embedding");
  if (!loaded_.count(version)) return absl::NotFoundError("not loaded");
  default_ = version;
  return Info(version);
}

absl::Status FakeEmbedding::UnloadModel(const std::string& version, absl::Time) {
  std::lock_guard<std::mutex> l(mu_);
  if (down_) return Down("embedding");
  if (version == default_) return absl::FailedPreconditionError("default");
  if (!loaded_.erase(version)) return absl::NotFoundError("not loaded");
  return absl::OkStatus();
}

// ---- Index -------------------------------------------------------------------------------

absl::StatusOr<FakeIndex::Collection*> FakeIndex::FindLocked(const std::string& name) {
  auto a = aliases_.find(name);
  const std::string& real = a == aliases_.end() ? name : a->second;
  auto it = collections_.find(real);
  if (it == collections_.end()) return absl::NotFoundError(absl::StrCat("no collection ", name));
  return &it->second;
}

size_t FakeIndex::Count(const std::string& collection) const {
  std::lock_guard<std::mutex> l(mu_);
  auto it = collections_.find(collection);
  return it == collections_.end() ? 0 : it->second.records.size();
}

bool FakeIndex::HasCollection(const std::string& name) const {
  std::lock_guard<std::mutex> l(mu_);
  return collections_.count(name) > 0;
}

std::string FakeIndex::AliasTarget(const std::string& alias) const {
  std::lock_guard<std::mutex> l(mu_);
  auto it = aliases_.find(alias);
  return it == aliases_.end() ? "" : it->second;
}

absl::StatusOr<v1::CollectionInfo> FakeIndex::CreateCollection(
    const v1::CreateCollectionRequest& request, absl::Time) {
  std::lock_guard<std::mutex> l(mu_);
  if (down_) return Down("index");
  if (collections_.count(request.name())) return absl::AlreadyExistsError("exists");
  Collection& c = collections_[request.name()];
  c.info.set_name(request.name());
  c.info.set_dimension(request.dimension());
  c.info.set_model_version(request.model_version());
  c.info.set_vector_encoding(request.vector_encoding());
  c.info.set_max_records(request.max_records());
  *c.info.mutable_hnsw() = request.hnsw();
  return c.info;
}

absl::StatusOr<v1::CollectionInfo> FakeIndex::GetCollection(const std::string& name, absl::Time) {
  std::lock_guard<std::mutex> l(mu_);
  if (down_) return Down("index");
  auto c = FindLocked(name);
  if (!c.ok()) return c.status();
  v1::CollectionInfo info = (*c)->info;
  info.set_record_count((*c)->records.size());
  return info;
}

absl::StatusOr<v1::ListCollectionsResponse> FakeIndex::ListCollections(absl::Time) {
  std::lock_guard<std::mutex> l(mu_);
  if (down_) return Down("index");
  v1::ListCollectionsResponse resp;
  for (const auto& [name, c] : collections_) *resp.add_collections() = c.info;
  return resp;
}

absl::Status FakeIndex::DropCollection(const std::string& name, absl::Time) {
  std::lock_guard<std::mutex> l(mu_);
  if (down_) return Down("index");
  for (const auto& [alias, target] : aliases_) {
    if (target == name) return absl::FailedPreconditionError("alias points at it");
  }
  if (!collections_.erase(name)) return absl::NotFoundError("no collection");
  return absl::OkStatus();
}

absl::StatusOr<v1::UpsertResponse> FakeIndex::Upsert(const v1::UpsertRequest& request, absl::Time) {
  std::lock_guard<std::mutex> l(mu_);
  if (down_) return Down("index");
  auto c = FindLocked(request.collection());
  if (!c.ok()) return c.status();
  if (int& n = fail_upserts_[(*c)->info.name()]; n > 0) {
    --n;
    return Down("index");
  }
  if (request.model_version() != (*c)->info.model_version()) {
    return absl::FailedPreconditionError("model version mismatch");
  }
  v1::UpsertResponse resp;
  for (const v1::Record& r : request.records()) {
    if (r.vector_size() != static_cast<int>((*c)->info.dimension())) {
      return absl::InvalidArgumentError("wrong dimension");
    }
    auto [it, inserted] = (*c)->records.insert_or_assign(r.id(), r);
    if (inserted) {
      resp.set_inserted(resp.inserted() + 1);
    } else {
      resp.set_replaced(resp.replaced() + 1);
    }
  }
  return resp;
}

absl::StatusOr<v1::DeleteResponse> FakeIndex::Delete(const v1::DeleteRequest& request, absl::Time) {
  std::lock_guard<std::mutex> l(mu_);
  if (down_) return Down("index");
  auto c = FindLocked(request.collection());
  if (!c.ok()) return c.status();
  v1::DeleteResponse resp;
  for (const std::string& id : request.ids()) {
    if ((*c)->records.erase(id)) {
      resp.set_deleted(resp.deleted() + 1);
    } else {
      resp.set_not_found(resp.not_found() + 1);
    }
  }
  return resp;
}

absl::StatusOr<v1::GetResponse> FakeIndex::Get(const v1::GetRequest& request, absl::Time) {
  std::lock_guard<std::mutex> l(mu_);
  if (down_) return Down("index");
  auto c = FindLocked(request.collection());
  if (!c.ok()) return c.status();
  v1::GetResponse resp;
  for (const std::string& id : request.ids()) {
    auto it = (*c)->records.find(id);
    if (it == (*c)->records.end()) {
      resp.add_missing_ids(id);
    } else {
      *resp.add_records() = it->second;
    }
  }
  return resp;
}

absl::StatusOr<v1::VectorSearchResponse> FakeIndex::Search(const v1::VectorSearchRequest& request,
                                                           absl::Time) {
  std::lock_guard<std::mutex> l(mu_);
  if (down_) return Down("index");
  auto c = FindLocked(request.collection());
  if (!c.ok()) return c.status();
  if (!request.model_version().empty() && request.model_version() != (*c)->info.model_version()) {
    ++version_mismatches_;
    return absl::FailedPreconditionError("model version mismatch");
  }
  std::vector<std::pair<float, const v1::Record*>> scored;
  for (const auto& [id, r] : (*c)->records) {
    double dot = 0;
    for (int i = 0; i < r.vector_size() && i < request.vector_size(); ++i) {
      dot += double{r.vector(i)} * request.vector(i);
    }
    scored.emplace_back(static_cast<float>(1.0 - dot), &r);
  }
  std::sort(scored.begin(), scored.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  v1::VectorSearchResponse resp;
  resp.set_collection((*c)->info.name());
  resp.set_model_version((*c)->info.model_version());
  for (size_t i = 0; i < scored.size() && i < request.k(); ++i) {
    v1::VectorSearchHit* h = resp.add_hits();
    h->set_id(scored[i].second->id());
    h->set_distance(scored[i].first + distance_noise_);
    *h->mutable_payload() = scored[i].second->payload();
    if (request.include_vectors()) *h->mutable_vector() = scored[i].second->vector();
  }
  return resp;
}

absl::StatusOr<v1::AliasInfo> FakeIndex::SetAlias(const v1::SetAliasRequest& request, absl::Time) {
  std::lock_guard<std::mutex> l(mu_);
  if (down_) return Down("index");
  if (!collections_.count(request.collection())) return absl::NotFoundError("no collection");
  aliases_[request.alias()] = request.collection();
  v1::AliasInfo info;
  info.set_alias(request.alias());
  info.set_collection(request.collection());
  return info;
}

absl::StatusOr<v1::ListAliasesResponse> FakeIndex::ListAliases(absl::Time) {
  std::lock_guard<std::mutex> l(mu_);
  if (down_) return Down("index");
  v1::ListAliasesResponse resp;
  for (const auto& [alias, target] : aliases_) {
    v1::AliasInfo* info = resp.add_aliases();
    info->set_alias(alias);
    info->set_collection(target);
  }
  return resp;
}

absl::StatusOr<v1::ListRecordIdsResponse> FakeIndex::ListRecordIds(
    const v1::ListRecordIdsRequest& request, absl::Time) {
  std::lock_guard<std::mutex> l(mu_);
  if (down_) return Down("index");
  auto c = FindLocked(request.collection());
  if (!c.ok()) return c.status();
  const size_t size = request.page_size() == 0 ? 1000 : request.page_size();
  v1::ListRecordIdsResponse resp;
  auto it = (*c)->records.upper_bound(request.page_token());
  if (request.page_token().empty()) it = (*c)->records.begin();
  for (; it != (*c)->records.end() && static_cast<size_t>(resp.ids_size()) < size; ++it) {
    resp.add_ids(it->first);
  }
  if (it != (*c)->records.end()) resp.set_next_page_token(resp.ids(resp.ids_size() - 1));
  return resp;
}

}  // namespace dogsearch::gateway::testing
