#include "services/gateway/core/upgrader.h"

#include <algorithm>
#include <thread>

#include "absl/strings/str_cat.h"
#include "common/base/log.h"
#include "common/base/status_macros.h"
#include "common/model/checkpoint_manifest.h"
#include "services/gateway/core/model_setup.h"
#include "services/gateway/core/vectors.h"

namespace dogsearch::gateway {
namespace {

bool Active(v1::UpgradeState s) {
  return s == v1::UPGRADE_STATE_LOADING_MODEL || s == v1::UPGRADE_STATE_REEMBEDDING ||
         s == v1::UPGRADE_STATE_FLIPPING;
}

}  // namespace

Upgrader::Upgrader(GatewayDeps deps, ServingState* state, const GatewayOptions* options)
    : deps_(deps), state_(state), options_(options) {
  progress_.set_state(v1::UPGRADE_STATE_IDLE);
  if (auto saved = deps_.store->GetMeta(kMetaUpgrade)) progress_.ParseFromString(*saved);
}

Upgrader::~Upgrader() { Stop(); }

void Upgrader::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cancel_ = true;
  cv_.notify_all();
  if (worker_.joinable()) worker_.join();
}

v1::UpgradeProgress Upgrader::progress() const {
  std::lock_guard<std::mutex> lock(mu_);
  return progress_;
}

bool Upgrader::running() const {
  std::lock_guard<std::mutex> lock(mu_);
  return running_;
}

void Upgrader::Persist(const v1::UpgradeProgress& progress, const std::string* cursor) {
  std::map<std::string, std::string> values{{kMetaUpgrade, progress.SerializeAsString()}};
  if (cursor) values[kMetaUpgradeCursor] = *cursor;
  if (absl::Status s = deps_.store->SetMeta(values); !s.ok()) {
    DS_LOG(kError, "gateway_upgrade_persist_failed").Kv("status", s);
  }
}

void Upgrader::Update(const std::function<void(v1::UpgradeProgress*)>& change) {
  v1::UpgradeProgress copy;
  {
    std::lock_guard<std::mutex> lock(mu_);
    change(&progress_);
    copy = progress_;
  }
  Persist(copy, nullptr);
}

absl::Status Upgrader::CheckIdleLocked() const {
  if (stopping_) return absl::UnavailableError("the gateway is shutting down");
  if (running_) {
    return absl::AbortedError(
        absl::StrCat("an upgrade to ", progress_.to_version(), " is already running"));
  }
  if (retiring_) {
    return absl::AbortedError(
        absl::StrCat("the previous upgrade is still in its grace period "
                     "before retiring model ",
                     progress_.from_version(), "; retry shortly"));
  }
  return absl::OkStatus();
}

absl::StatusOr<v1::UpgradeProgress> Upgrader::Start(const std::string& version, bool rebuild) {
  DS_RETURN_IF_ERROR(model::ValidateVersionName(version));
  TargetPtr serving = state_->serving();
  if (!serving) return absl::FailedPreconditionError("no model is serving yet");
  if (rebuild && serving->version != version) {
    return absl::InvalidArgumentError("a rebuild re-embeds the serving version only");
  }
  if (serving->version == version && !rebuild) {
    return absl::AlreadyExistsError(absl::StrCat("model ", version, " is already serving"));
  }
  std::thread finished;  // The previous upgrade's thread, done with all its work.
  {
    std::lock_guard<std::mutex> lock(mu_);
    DS_RETURN_IF_ERROR(CheckIdleLocked());
    finished = std::move(worker_);
  }
  if (finished.joinable()) finished.join();
  std::lock_guard<std::mutex> lock(mu_);
  DS_RETURN_IF_ERROR(CheckIdleLocked());  // Another Start may have won meanwhile.
  v1::UpgradeProgress p;
  p.set_state(v1::UPGRADE_STATE_LOADING_MODEL);
  p.set_from_version(serving->version);
  p.set_to_version(version);
  p.set_started_unix_seconds(absl::ToUnixSeconds(absl::Now()));
  progress_ = p;
  running_ = true;
  const std::string empty_cursor;
  Persist(p, &empty_cursor);
  DS_LOG(kInfo, rebuild ? "gateway_rebuild_started" : "gateway_upgrade_started")
      .Kv("from", serving->version)
      .Kv("to", version);
  worker_ = std::thread([this, p] { Run(p, ""); });
  return p;
}

void Upgrader::ResumeIfInterrupted() {
  v1::UpgradeProgress p = progress();
  if (auto retire = deps_.store->GetMeta(kMetaRetireVersion); retire && !retire->empty()) {
    TargetPtr serving = state_->serving();
    if (serving && serving->version != *retire) Retire(*retire, false);
  }
  if (!Active(p.state())) return;
  std::string cursor = deps_.store->GetMeta(kMetaUpgradeCursor).value_or("");
  std::lock_guard<std::mutex> lock(mu_);
  if (running_ || stopping_) return;
  running_ = true;
  DS_LOG(kInfo, "gateway_upgrade_resumed")
      .Kv("to", p.to_version())
      .Kv("state", v1::UpgradeState_Name(p.state()))
      .Kv("cursor", cursor);
  worker_ = std::thread([this, p, cursor] { Run(p, cursor); });
}

void Upgrader::Fail(const absl::Status& status, const TargetPtr& target) {
  {
    std::lock_guard<std::mutex> write(state_->write_mutex());
    state_->set_staging(nullptr);
  }
  if (target) {
    // Nothing serves from the half-built collection; drop it so a retry starts clean.
    std::lock_guard<std::mutex> write(state_->write_mutex());
    if (absl::Status s = deps_.index->DropCollection(target->collection,
                                                     absl::Now() + options_->backend_timeout);
        !s.ok() && !absl::IsNotFound(s)) {
      DS_LOG(kWarning, "gateway_upgrade_drop_failed").Kv("status", s);
    }
  }
  const std::string empty_cursor;
  v1::UpgradeProgress copy;
  {
    std::lock_guard<std::mutex> lock(mu_);
    progress_.set_state(v1::UPGRADE_STATE_FAILED);
    progress_.set_state_reason(std::string(status.message()));
    progress_.set_finished_unix_seconds(absl::ToUnixSeconds(absl::Now()));
    copy = progress_;
    running_ = false;
  }
  Persist(copy, &empty_cursor);
  DS_LOG(kWarning, "gateway_upgrade_failed").Kv("to", copy.to_version()).Kv("status", status);
}

void Upgrader::Run(v1::UpgradeProgress p, std::string cursor) {
  TargetPtr from = state_->serving();
  auto prepared = PrepareModel(deps_.embedding, p.to_version(), options_->setup, &cancel_);
  if (cancel_) return;  // Shutting down: the persisted state resumes on restart.
  if (!prepared.ok()) return Fail(prepared.status(), nullptr);
  auto to = std::make_shared<const ModelTarget>(*std::move(prepared));
  // A rebuild re-fills the serving collection itself: never dropped on failure.
  const bool in_place = from && from->version == to->version;
  const TargetPtr drop_on_failure = in_place ? nullptr : to;
  if (absl::Status s = EnsureCollection(deps_.index, *to, options_->setup); !s.ok()) {
    if (cancel_) return;
    return Fail(s, absl::IsFailedPrecondition(s) ? nullptr : drop_on_failure);
  }
  if (p.state() != v1::UPGRADE_STATE_FLIPPING) {
    if (!in_place) {
      // From here on every gallery write reaches both spaces. Under the write mutex, so a write
      // that chose its targets before this has committed its rows before the walk below reads.
      std::lock_guard<std::mutex> write(state_->write_mutex());
      state_->set_staging(to);
    }
    Update([&](v1::UpgradeProgress* q) {
      q->set_state(v1::UPGRADE_STATE_REEMBEDDING);
      q->set_photos_total(deps_.store->CountPhotos());
    });
    if (absl::Status s = Reembed(to, &cursor); !s.ok()) {
      if (cancel_) return;
      return Fail(s, drop_on_failure);
    }
    Update([](v1::UpgradeProgress* q) { q->set_state(v1::UPGRADE_STATE_FLIPPING); });
  }
  if (absl::Status s = Flip(from, to); !s.ok()) {
    if (cancel_) return;
    return Fail(s, drop_on_failure);
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    progress_.set_state(v1::UPGRADE_STATE_SUCCEEDED);
    progress_.set_finished_unix_seconds(absl::ToUnixSeconds(absl::Now()));
    progress_.set_state_reason("");
    running_ = false;
    retiring_ = from && from->version != to->version;
    p = progress_;
  }
  Persist(p, nullptr);
  DS_LOG(kInfo, "gateway_upgrade_succeeded").Kv("from", p.from_version()).Kv("to", p.to_version());
  if (from && from->version != to->version) Retire(from->version, true);
}

absl::Status Upgrader::EmbedBatch(const TargetPtr& target, const std::vector<PhotoRow>& rows,
                                  std::vector<PhotoBytes>* photos, Embedded* vectors) {
  for (const PhotoRow& r : rows) {
    auto data = deps_.photos->Get(r.photo_id);
    if (!data.ok()) {
      if (!deps_.store->FindPhoto(r.photo_id)) continue;  // Deleted meanwhile.
      return data.status();
    }
    photos->push_back(PhotoBytes{r.photo_id, r.dog_id, r.name, *std::move(data)});
  }
  if (photos->empty()) return absl::OkStatus();
  const absl::Time deadline = absl::Now() + options_->setup.call_timeout;
  DS_ASSIGN_OR_RETURN(*vectors, EmbedPhotos(deps_.embedding, *target, *photos, deadline));
  return absl::OkStatus();
}

absl::Status Upgrader::WriteBatch(const TargetPtr& target, std::vector<PhotoBytes>* photos,
                                  Embedded* vectors) {
  // Photos deleted while this batch was embedded must not be resurrected in the new space.
  std::lock_guard<std::mutex> write(state_->write_mutex());
  std::vector<PhotoBytes> keep;
  Embedded keep_vectors;
  for (size_t i = 0; i < photos->size(); ++i) {
    auto row = deps_.store->FindPhoto((*photos)[i].photo_id);
    if (!row) continue;
    (*photos)[i].dog_id = row->dog_id;
    keep.push_back(std::move((*photos)[i]));
    keep_vectors.Append(std::move(vectors->vectors[i]), vectors->offsets[i]);
  }
  if (keep.empty()) return absl::OkStatus();
  const absl::Time deadline = absl::Now() + options_->setup.call_timeout;
  return UpsertVectors(deps_.index, *target, keep, keep_vectors, deadline);
}

absl::Status Upgrader::Reembed(const TargetPtr& target, std::string* cursor) {
  // Resumed: the cursor's position in id order is what is already done.
  uint64_t done = cursor->empty() ? 0 : deps_.store->CountPhotosThrough(*cursor);
  const size_t batch = static_cast<size_t>(std::max(1, options_->reembed_batch));
  const size_t streams = static_cast<size_t>(std::max(1, options_->reembed_streams));
  while (!cancel_) {
    // One wave: up to `streams` batches embedded in parallel, written in id order, then the
    // cursor moves past all of them (a restart redoes at most one wave).
    std::vector<PhotoRow> rows = deps_.store->PhotosAfter(*cursor, batch * streams);
    if (rows.empty()) return absl::OkStatus();
    const size_t n = (rows.size() + batch - 1) / batch;
    std::vector<std::vector<PhotoBytes>> photos(n);
    std::vector<Embedded> vectors(n);
    std::vector<absl::Status> status(n);
    auto embed = [&](size_t i) {
      std::vector<PhotoRow> part(rows.begin() + i * batch,
                                 rows.begin() + std::min(rows.size(), (i + 1) * batch));
      status[i] = EmbedBatch(target, part, &photos[i], &vectors[i]);
    };
    std::vector<std::thread> threads;
    for (size_t i = 1; i < n; ++i) threads.emplace_back(embed, i);
    embed(0);
    for (auto& t : threads) t.join();
    for (size_t i = 0; i < n; ++i) {
      DS_RETURN_IF_ERROR(status[i]);
      DS_RETURN_IF_ERROR(WriteBatch(target, &photos[i], &vectors[i]));
    }
    *cursor = rows.back().photo_id;
    done += rows.size();
    v1::UpgradeProgress copy;
    {
      std::lock_guard<std::mutex> lock(mu_);
      progress_.set_photos_done(done);
      progress_.set_photos_total(std::max<uint64_t>(done, deps_.store->CountPhotos()));
      copy = progress_;
    }
    Persist(copy, cursor);
  }
  return absl::CancelledError("stopping");
}

absl::Status Upgrader::Flip(const TargetPtr& from, const TargetPtr& to) {
  const absl::Time deadline = absl::Now() + options_->backend_timeout;
  std::lock_guard<std::mutex> write(state_->write_mutex());
  v1::SetAliasRequest alias;
  alias.set_alias(options_->alias);
  alias.set_collection(to->collection);
  DS_RETURN_IF_ERROR(deps_.index->SetAlias(alias, deadline).status());
  std::map<std::string, std::string> meta{{kMetaServingVersion, to->version}};
  if (from && from->version != to->version) meta[kMetaRetireVersion] = from->version;
  DS_RETURN_IF_ERROR(deps_.store->SetMeta(meta));
  state_->set_serving(to);
  state_->set_staging(nullptr);
  DS_LOG(kInfo, "gateway_upgrade_flipped").Kv("collection", to->collection);
  if (auto s = deps_.embedding->SetDefaultModel(to->version, deadline); !s.ok()) {
    // Searches pin their version, so this only affects other clients of the embedding service.
    DS_LOG(kWarning, "gateway_set_default_failed").Kv("status", s.status());
  }
  return absl::OkStatus();
}

void Upgrader::Retire(const std::string& version, bool wait_grace) {
  if (wait_grace) {
    std::unique_lock<std::mutex> lock(mu_);
    const bool stopped = cv_.wait_for(lock, absl::ToChronoNanoseconds(options_->retire_grace),
                                      [this] { return stopping_; });
    if (stopped) return;  // retire_version is persisted: the next start finishes this.
  }
  RetireNow(version);
  if (wait_grace) {
    std::lock_guard<std::mutex> lock(mu_);
    retiring_ = false;  // The worker's last touch of shared state.
  }
}

void Upgrader::RetireNow(const std::string& version) {
  const absl::Time deadline = absl::Now() + options_->backend_timeout;
  absl::Status dropped =
      deps_.index->DropCollection(CollectionFor(version, options_->setup), deadline);
  if (!dropped.ok() && !absl::IsNotFound(dropped)) {
    DS_LOG(kWarning, "gateway_retire_failed").Kv("version", version).Kv("status", dropped);
    return;  // retire_version stays recorded: the next start tries again.
  }
  absl::Status unloaded = deps_.embedding->UnloadModel(version, deadline);
  if (!unloaded.ok() && !absl::IsNotFound(unloaded)) {
    DS_LOG(kWarning, "gateway_unload_failed").Kv("version", version).Kv("status", unloaded);
  }
  (void)deps_.store->SetMeta({{kMetaRetireVersion, ""}});
  DS_LOG(kInfo, "gateway_retired").Kv("version", version);
}

}  // namespace dogsearch::gateway
