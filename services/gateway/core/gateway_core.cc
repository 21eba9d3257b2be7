// GatewayCore: lifecycle (supervisor) and the gallery's dogs and photos.
#include "services/gateway/core/gateway_core.h"

#include <set>

#include "absl/strings/str_cat.h"
#include "common/base/log.h"
#include "common/base/status_macros.h"

namespace dogsearch::gateway {

GatewayCore::GatewayCore(GatewayDeps deps, GatewayOptions options)
    : deps_(deps),
      options_(std::move(options)),
      upgrader_(std::make_unique<Upgrader>(deps, &state_, &options_)) {}

GatewayCore::~GatewayCore() { Stop(); }

void GatewayCore::Start() {
  std::lock_guard<std::mutex> lock(mu_);
  if (supervisor_ || stopping_) return;
  supervisor_ = std::make_unique<PeriodicThread>(
      options_.supervise_interval, [this] { SuperviseOnce(); }, PeriodicThread::FirstRun::kNow);
}

void GatewayCore::Stop() {
  std::unique_ptr<PeriodicThread> supervisor;
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
    supervisor = std::move(supervisor_);
  }
  cancel_ = true;
  if (supervisor) supervisor->Stop();  // Joins after a pass in progress returns.
  upgrader_->Stop();
}

absl::Time GatewayCore::Cap(absl::Time deadline) const {
  return std::min(deadline, absl::Now() + options_.backend_timeout);
}

absl::StatusOr<TargetPtr> GatewayCore::ServingOrError() const {
  TargetPtr t = state_.serving();
  if (!t) {
    return absl::FailedPreconditionError(
        "no model is serving yet: the gateway is waiting for the embedding and index services");
  }
  return t;
}

// ---- Supervisor ------------------------------------------------------------------------------

absl::Status GatewayCore::RestoreServing() {
  std::optional<std::string> version = deps_.store->GetMeta(kMetaServingVersion);
  const bool bootstrap = !version.has_value();
  if (bootstrap) {
    DS_ASSIGN_OR_RETURN(v1::ListModelsResponse models,
                        deps_.embedding->ListModels(absl::Now() + options_.backend_timeout));
    if (models.default_version().empty()) {
      return absl::UnavailableError("the embedding service has no default model yet");
    }
    version = models.default_version();
  }
  DS_ASSIGN_OR_RETURN(ModelTarget target,
                      PrepareModel(deps_.embedding, *version, options_.setup, &cancel_));
  DS_RETURN_IF_ERROR(EnsureCollection(deps_.index, target, options_.setup));
  v1::SetAliasRequest alias;
  alias.set_alias(options_.alias);
  alias.set_collection(target.collection);
  DS_RETURN_IF_ERROR(deps_.index->SetAlias(alias, absl::Now() + options_.backend_timeout).status());
  if (bootstrap) DS_RETURN_IF_ERROR(deps_.store->SetMeta({{kMetaServingVersion, *version}}));
  DS_LOG(kInfo, "gateway_serving")
      .Kv("version", target.version)
      .Kv("collection", target.collection)
      .Kv("threshold", target.threshold)
      .Kv("bootstrap", bootstrap);
  state_.set_serving(std::make_shared<const ModelTarget>(std::move(target)));
  return absl::OkStatus();
}

absl::Status GatewayCore::RebuildIfLost(const ModelTarget& serving) {
  if (upgrader_->running()) return absl::OkStatus();
  auto info =
      deps_.index->GetCollection(serving.collection, absl::Now() + options_.backend_timeout);
  if (info.ok() || !absl::IsNotFound(info.status())) return info.status();
  // The index lost the gallery's collection (data wiped or restored from an old backup): the
  // photos are still here, so re-embed them all into a new one.
  DS_LOG(kError, "gateway_collection_lost").Kv("collection", serving.collection);
  DS_RETURN_IF_ERROR(EnsureCollection(deps_.index, serving, options_.setup));
  v1::SetAliasRequest alias;
  alias.set_alias(options_.alias);
  alias.set_collection(serving.collection);
  DS_RETURN_IF_ERROR(deps_.index->SetAlias(alias, absl::Now() + options_.backend_timeout).status());
  return upgrader_->Start(serving.version, /*rebuild=*/true).status();
}

void GatewayCore::SuperviseOnce() {
  TargetPtr serving = state_.serving();
  absl::Status s;
  if (!serving) {
    s = RestoreServing();
  } else {
    // The embedding service may have restarted without our pinned version: load it again.
    auto info = deps_.embedding->GetModel(serving->version, absl::Now() + options_.backend_timeout);
    if (!info.ok() && absl::IsNotFound(info.status())) {
      s = PrepareModel(deps_.embedding, serving->version, options_.setup, &cancel_).status();
    }
    if (s.ok() && supervised_resumed_) s = RebuildIfLost(*serving);
  }
  if (!s.ok() && s.ToString() != supervised_last_.ToString()) {
    DS_LOG(kWarning, "gateway_supervisor").Kv("status", s);
  }
  supervised_last_ = s;
  if (state_.serving() && !supervised_resumed_) {
    supervised_resumed_ = true;
    upgrader_->ResumeIfInterrupted();
  }
}

// ---- Dogs and photos -------------------------------------------------------------------------

v1::Dog GatewayCore::ToProto(const DogRow& row) const {
  v1::Dog d;
  d.set_dog_id(row.dog_id);
  d.set_name(row.name);
  d.set_notes(row.notes);
  d.set_created_unix_seconds(row.created_unix_seconds);
  for (const PhotoRow& p : row.photos) {
    v1::DogPhoto* out = d.add_photos();
    out->set_photo_id(p.photo_id);
    out->set_name(p.name);
    out->set_width(p.width);
    out->set_height(p.height);
    out->set_bytes(p.bytes);
    out->set_added_unix_seconds(p.added_unix_seconds);
  }
  return d;
}

absl::StatusOr<GatewayCore::CheckedUpload> GatewayCore::CheckUploads(
    const google::protobuf::RepeatedPtrField<v1::Photo>& photos, const std::string& dog_id) const {
  const IntakeLimits& lim = options_.limits;
  if (photos.empty()) return absl::InvalidArgumentError("at least one photo is needed");
  if (static_cast<uint32_t>(photos.size()) > lim.max_photos_per_request) {
    return absl::InvalidArgumentError(absl::StrCat(photos.size(), " photos sent; the limit is ",
                                                   lim.max_photos_per_request, " per request"));
  }
  uint64_t bytes = 0;
  for (const v1::Photo& p : photos) bytes += p.data().size();
  if (bytes > lim.max_request_bytes) {
    return absl::InvalidArgumentError(absl::StrCat("the photos add up to ", bytes,
                                                   " bytes; the limit is ", lim.max_request_bytes,
                                                   " per request (send them in several calls)"));
  }
  CheckedUpload out;
  std::set<std::string> seen;
  const int64_t now = absl::ToUnixSeconds(absl::Now());
  uint64_t pixels = 0;
  for (int i = 0; i < photos.size(); ++i) {
    const v1::Photo& p = photos[i];
    const std::string label = p.name().empty() ? absl::StrCat("photo ", i + 1)
                                               : absl::StrCat("photo ", i + 1, " '", p.name(), "'");
    DS_ASSIGN_OR_RETURN(CheckedPhoto c, CheckPhoto(p.data(), p.name(), label, lim));
    pixels += uint64_t{c.width} * c.height;
    if (pixels > lim.max_request_pixels) {
      return absl::InvalidArgumentError(absl::StrCat("the photos add up to more than ",
                                                     lim.max_request_pixels, " pixels at ", label,
                                                     "; send fewer or smaller photos per request"));
    }
    if (!seen.insert(c.photo_id).second) continue;
    out.photos.push_back(PhotoBytes{c.photo_id, dog_id, c.name, p.data()});
    out.rows.push_back(PhotoRow{c.photo_id, dog_id, c.name, c.width, c.height, c.bytes, now});
  }
  return out;
}

absl::Status GatewayCore::WriteGallery(const std::vector<PhotoBytes>& photos, absl::Time deadline,
                                       const std::function<absl::Status()>& commit) {
  for (int attempt = 0; attempt < 3; ++attempt) {
    const std::vector<TargetPtr> targets = state_.write_targets();
    if (targets.empty()) DS_RETURN_IF_ERROR(ServingOrError().status());
    std::vector<Embedded> vectors;
    for (const TargetPtr& t : targets) {
      DS_ASSIGN_OR_RETURN(auto v, EmbedPhotos(deps_.embedding, *t, photos, Cap(deadline)));
      vectors.push_back(std::move(v));
    }
    std::lock_guard<std::mutex> write(state_.write_mutex());
    if (state_.write_targets() != targets) continue;  // An upgrade started or flipped meanwhile.
    for (const PhotoBytes& p : photos) DS_RETURN_IF_ERROR(deps_.photos->Put(p.photo_id, p.data));
    for (size_t i = 0; i < targets.size(); ++i) {
      DS_RETURN_IF_ERROR(
          UpsertVectors(deps_.index, *targets[i], photos, vectors[i], Cap(deadline)));
    }
    return commit();
  }
  return absl::AbortedError("the serving model changed three times during this write; retry");
}

absl::Status GatewayCore::RemoveFromGallery(const std::vector<std::string>& photo_ids,
                                            absl::Time deadline,
                                            const std::function<absl::Status()>& commit) {
  std::lock_guard<std::mutex> write(state_.write_mutex());
  for (const TargetPtr& t : state_.write_targets()) {
    DS_RETURN_IF_ERROR(DeleteVectors(deps_.index, *t, photo_ids, Cap(deadline)));
  }
  DS_RETURN_IF_ERROR(commit());
  for (const std::string& id : photo_ids) {
    if (absl::Status s = deps_.photos->Remove(id); !s.ok()) {
      DS_LOG(kWarning, "gateway_photo_remove_failed").Kv("photo_id", id).Kv("status", s);
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<v1::Dog> GatewayCore::Enroll(const v1::EnrollRequest& req, absl::Time deadline) {
  DS_RETURN_IF_ERROR(CheckDogId(req.dog_id(), options_.limits));
  DS_RETURN_IF_ERROR(CheckName(req.name(), options_.limits));
  DS_RETURN_IF_ERROR(CheckNotes(req.notes(), options_.limits));
  DS_ASSIGN_OR_RETURN(CheckedUpload up, CheckUploads(req.photos(), req.dog_id()));
  // Cheap refusals before any embedding work; the transaction re-checks.
  if (deps_.store->GetDog(req.dog_id()).ok()) {
    return absl::AlreadyExistsError(absl::StrCat("dog '", req.dog_id(), "' is already enrolled"));
  }
  for (const PhotoRow& r : up.rows) {
    if (auto owner = deps_.store->FindPhoto(r.photo_id)) {
      return absl::AlreadyExistsError(absl::StrCat("photo '", r.name, "' (", r.photo_id,
                                                   ") is already enrolled for dog '", owner->dog_id,
                                                   "'"));
    }
  }
  DogRow dog{req.dog_id(), req.name(), req.notes(), absl::ToUnixSeconds(absl::Now()), up.rows};
  DS_RETURN_IF_ERROR(
      WriteGallery(up.photos, deadline, [&] { return deps_.store->InsertDog(dog); }));
  DS_LOG(kInfo, "gateway_enrolled").Kv("dog_id", dog.dog_id).Kv("photos", up.rows.size());
  return GetDog([&] {
    v1::GetDogRequest g;
    g.set_dog_id(dog.dog_id);
    return g;
  }());
}

absl::StatusOr<v1::AddPhotosResponse> GatewayCore::AddPhotos(const v1::AddPhotosRequest& req,
                                                             absl::Time deadline) {
  DS_RETURN_IF_ERROR(CheckDogId(req.dog_id(), options_.limits));
  DS_ASSIGN_OR_RETURN(CheckedUpload up, CheckUploads(req.photos(), req.dog_id()));
  DS_RETURN_IF_ERROR(deps_.store->GetDog(req.dog_id()).status());
  // Photos the dog already has need no embedding.
  CheckedUpload fresh;
  v1::AddPhotosResponse resp;
  for (size_t i = 0; i < up.rows.size(); ++i) {
    auto owner = deps_.store->FindPhoto(up.rows[i].photo_id);
    if (owner && owner->dog_id == req.dog_id()) {
      resp.add_duplicate_photo_ids(up.rows[i].photo_id);
      continue;
    }
    if (owner) {
      return absl::AlreadyExistsError(
          absl::StrCat("photo '", up.rows[i].name, "' (", up.rows[i].photo_id,
                       ") is already enrolled for dog '", owner->dog_id, "'"));
    }
    fresh.photos.push_back(up.photos[i]);
    fresh.rows.push_back(up.rows[i]);
  }
  if (!fresh.rows.empty()) {
    std::vector<std::string> added, dups;
    DS_RETURN_IF_ERROR(WriteGallery(fresh.photos, deadline, [&] {
      return deps_.store->AddPhotos(req.dog_id(), fresh.rows, &added, &dups);
    }));
    for (const std::string& id : added) resp.add_added_photo_ids(id);
    for (const std::string& id : dups) resp.add_duplicate_photo_ids(id);
  }
  DS_ASSIGN_OR_RETURN(DogRow dog, deps_.store->GetDog(req.dog_id()));
  *resp.mutable_dog() = ToProto(dog);
  return resp;
}

absl::StatusOr<v1::Dog> GatewayCore::RemovePhoto(const v1::RemovePhotoRequest& req,
                                                 absl::Time deadline) {
  DS_RETURN_IF_ERROR(CheckDogId(req.dog_id(), options_.limits));
  DS_RETURN_IF_ERROR(CheckPhotoId(req.photo_id()));
  DS_ASSIGN_OR_RETURN(DogRow dog, deps_.store->GetDog(req.dog_id()));
  bool has = false;
  for (const PhotoRow& p : dog.photos) has = has || p.photo_id == req.photo_id();
  if (!has) {
    return absl::NotFoundError(
        absl::StrCat("dog '", req.dog_id(), "' has no photo with id ", req.photo_id()));
  }
  if (dog.photos.size() == 1) {
    return absl::FailedPreconditionError(absl::StrCat("photo ", req.photo_id(),
                                                      " is the last photo of dog '", req.dog_id(),
                                                      "'; delete the dog instead"));
  }
  DS_RETURN_IF_ERROR(RemoveFromGallery({req.photo_id()}, deadline, [&] {
    return deps_.store->RemovePhoto(req.dog_id(), req.photo_id());
  }));
  DS_ASSIGN_OR_RETURN(DogRow after, deps_.store->GetDog(req.dog_id()));
  return ToProto(after);
}

absl::Status GatewayCore::DeleteDog(const v1::DeleteDogRequest& req, absl::Time deadline) {
  DS_RETURN_IF_ERROR(CheckDogId(req.dog_id(), options_.limits));
  DS_ASSIGN_OR_RETURN(DogRow dog, deps_.store->GetDog(req.dog_id()));
  std::vector<std::string> ids;
  for (const PhotoRow& p : dog.photos) ids.push_back(p.photo_id);
  DS_RETURN_IF_ERROR(RemoveFromGallery(ids, deadline, [&]() -> absl::Status {
    auto removed = deps_.store->DeleteDog(req.dog_id());
    return removed.status();
  }));
  DS_LOG(kInfo, "gateway_dog_deleted").Kv("dog_id", req.dog_id()).Kv("photos", ids.size());
  return absl::OkStatus();
}

absl::StatusOr<v1::Dog> GatewayCore::GetDog(const v1::GetDogRequest& req) const {
  DS_RETURN_IF_ERROR(CheckDogId(req.dog_id(), options_.limits));
  DS_ASSIGN_OR_RETURN(DogRow dog, deps_.store->GetDog(req.dog_id()));
  return ToProto(dog);
}

absl::StatusOr<v1::ListDogsResponse> GatewayCore::ListDogs(const v1::ListDogsRequest& req) const {
  const uint32_t size = req.page_size() == 0 ? 50 : req.page_size();
  if (size > options_.limits.max_page_size) {
    return absl::InvalidArgumentError(
        absl::StrCat("page_size ", size, " is above the limit of ", options_.limits.max_page_size));
  }
  if (!req.page_token().empty() && !CheckDogId(req.page_token(), options_.limits).ok()) {
    return absl::InvalidArgumentError("page_token is not one this service returned");
  }
  DS_ASSIGN_OR_RETURN(std::vector<DogRow> dogs,
                      deps_.store->ListDogs(req.page_token(), static_cast<int>(size) + 1));
  v1::ListDogsResponse resp;
  for (size_t i = 0; i < dogs.size() && i < size; ++i) *resp.add_dogs() = ToProto(dogs[i]);
  if (dogs.size() > size) resp.set_next_page_token(dogs[size - 1].dog_id);
  resp.set_total_dogs(deps_.store->CountDogs());
  return resp;
}

absl::StatusOr<std::string> GatewayCore::GetPhoto(const std::string& photo_id) const {
  DS_RETURN_IF_ERROR(CheckPhotoId(photo_id));
  if (!deps_.store->FindPhoto(photo_id)) {
    return absl::NotFoundError(absl::StrCat("photo ", photo_id, " is not enrolled"));
  }
  return deps_.photos->Get(photo_id);
}

// ---- Models ----------------------------------------------------------------------------------

v1::ModelStatus GatewayCore::GetModelStatus() const {
  v1::ModelStatus st;
  if (TargetPtr t = state_.serving()) {
    st.set_serving_version(t->version);
    *st.mutable_spec() = t->spec;
    *st.mutable_metrics() = t->metrics;
  }
  st.set_dogs(deps_.store->CountDogs());
  st.set_photos(deps_.store->CountPhotos());
  *st.mutable_upgrade() = upgrader_->progress();
  std::function<v1::Rollout()> rollout;
  {
    std::lock_guard<std::mutex> lock(rollout_mu_);
    rollout = rollout_;
  }
  if (rollout) *st.mutable_rollout() = rollout();
  return st;
}

std::string GatewayCore::serving_version() const {
  TargetPtr t = state_.serving();
  return t ? t->version : "";
}

v1::UpgradeProgress GatewayCore::upgrade_progress() const { return upgrader_->progress(); }

void GatewayCore::SetRolloutReporter(std::function<v1::Rollout()> rollout) {
  std::lock_guard<std::mutex> lock(rollout_mu_);
  rollout_ = std::move(rollout);
}

absl::StatusOr<v1::ModelStatus> GatewayCore::StartModelUpgrade(
    const v1::StartModelUpgradeRequest& req) {
  DS_RETURN_IF_ERROR(upgrader_->Start(req.version()).status());
  return GetModelStatus();
}

}  // namespace dogsearch::gateway
