#include "services/embedding/core/model_repository.h"

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/base/log.h"

namespace dogsearch::embedding {

ModelRepository::ModelRepository(ModelLoader loader, RepositoryOptions options)
    : loader_(std::move(loader)),
      options_(std::move(options)),
      loader_thread_([this] { LoaderLoop(); }) {}

ModelRepository::~ModelRepository() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  work_cv_.notify_all();
  loader_thread_.join();
}

void ModelRepository::LoaderLoop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    work_cv_.wait(lock, [this] { return stopping_ || !pending_.empty(); });
    if (stopping_) return;
    auto [version, make_default] = pending_.front();
    pending_.pop_front();
    lock.unlock();
    Load(version, make_default);
    lock.lock();
  }
}

void ModelRepository::Changed() const {
  if (options_.on_change) options_.on_change();
}

absl::Status ModelRepository::StartLoad(const std::string& version, bool make_default) {
  if (absl::Status s = model::ValidateVersionName(version); !s.ok()) return s;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return absl::UnavailableError("shutting down");
    auto it = entries_.find(version);
    if (it != entries_.end() && it->second.state != ModelState::kFailed) {
      return absl::AlreadyExistsError(
          absl::StrCat("model ", version, " is already ",
                       it->second.state == ModelState::kReady ? "loaded" : "loading"));
    }
    entries_[version] =
        ModelStatus{version, ModelState::kLoading, "queued for loading", false, nullptr, 0};
    pending_.emplace_back(version, make_default);
    announced_.erase(version);
  }
  work_cv_.notify_all();
  DS_LOG(kInfo, "model_load_started").Kv("version", version).Kv("make_default", make_default);
  Changed();
  return absl::OkStatus();
}

void ModelRepository::Load(const std::string& version, bool make_default) {
  const absl::Time start = absl::Now();
  absl::StatusOr<std::shared_ptr<const EmbeddingModel>> model = loader_(version);
  std::vector<std::shared_ptr<const EmbeddingModel>> retired;  // Freed outside the lock.
  {
    std::lock_guard<std::mutex> lock(mu_);
    ModelStatus& e = entries_[version];
    if (model.ok()) {
      e.state = ModelState::kReady;
      e.reason = "ready";
      e.model = *std::move(model);  // Hold no extra reference past this point.
      e.ready_unix_seconds = absl::ToUnixSeconds(absl::Now());
      e.ready_order = ++ready_count_;
      if (make_default || default_.empty()) default_ = version;
      RetireExtra(&retired);
    } else {
      e.state = ModelState::kFailed;
      e.reason = std::string(model.status().message());
    }
    for (auto& [v, entry] : entries_) entry.is_default = v == default_;
  }
  if (model.ok()) {
    DS_LOG(kInfo, "model_ready")
        .Kv("version", version)
        .Kv("default", default_version())
        .Kv("seconds", absl::ToDoubleSeconds(absl::Now() - start));
  } else {
    DS_LOG(kError, "model_load_failed").Kv("version", version).Kv("status", model.status());
  }
  Changed();
  {
    std::lock_guard<std::mutex> lock(mu_);
    announced_.insert(version);
  }
  loaded_cv_.notify_all();
}

void ModelRepository::RetireExtra(std::vector<std::shared_ptr<const EmbeddingModel>>* retired) {
  while (true) {
    int ready = 0;
    std::string oldest;
    uint64_t oldest_order = UINT64_MAX;
    for (const auto& [v, e] : entries_) {
      if (e.state != ModelState::kReady) continue;
      ++ready;
      if (v != default_ && e.ready_order < oldest_order) {
        oldest = v;
        oldest_order = e.ready_order;
      }
    }
    if (ready <= options_.max_loaded || oldest.empty()) return;
    retired->push_back(entries_[oldest].model);
    entries_.erase(oldest);
    DS_LOG(kInfo, "model_retired").Kv("version", oldest);
  }
}

absl::StatusOr<ModelStatus> ModelRepository::WaitUntilLoaded(const std::string& version,
                                                             absl::Duration timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  loaded_cv_.wait_for(lock, absl::ToChronoNanoseconds(timeout), [&] {
    auto it = entries_.find(version);
    return it == entries_.end() ||
           (it->second.state != ModelState::kLoading && announced_.count(version) > 0);
  });
  auto it = entries_.find(version);
  if (it == entries_.end()) return absl::NotFoundError(absl::StrCat("no model ", version));
  return it->second;
}

absl::StatusOr<std::shared_ptr<const EmbeddingModel>> ModelRepository::Acquire(
    const std::string& version) const {
  std::lock_guard<std::mutex> lock(mu_);
  const std::string& v = version.empty() ? default_ : version;
  if (v.empty()) return absl::FailedPreconditionError("no default model is loaded yet");
  auto it = entries_.find(v);
  if (it == entries_.end()) return absl::NotFoundError(absl::StrCat("model ", v, " is not loaded"));
  if (it->second.state != ModelState::kReady) {
    return absl::FailedPreconditionError(absl::StrCat(
        "model ", v, " is ", it->second.state == ModelState::kLoading ? "still loading" : "failed",
        ": ", it->second.reason));
  }
  return it->second.model;
}

absl::StatusOr<ModelStatus> ModelRepository::Get(const std::string& version) const {
  std::lock_guard<std::mutex> lock(mu_);
  const std::string& v = version.empty() ? default_ : version;
  auto it = entries_.find(v);
  if (it == entries_.end()) {
    return absl::NotFoundError(v.empty() ? "no default model" : absl::StrCat("no model ", v));
  }
  return it->second;
}

absl::Status ModelRepository::SetDefault(const std::string& version) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = entries_.find(version);
    if (it == entries_.end()) return absl::NotFoundError(absl::StrCat("no model ", version));
    if (it->second.state != ModelState::kReady) {
      return absl::FailedPreconditionError(absl::StrCat("model ", version, " is not ready"));
    }
    default_ = version;
    for (auto& [v, entry] : entries_) entry.is_default = v == default_;
  }
  DS_LOG(kInfo, "default_model_set").Kv("version", version);
  Changed();
  return absl::OkStatus();
}

absl::Status ModelRepository::Unload(const std::string& version) {
  std::shared_ptr<const EmbeddingModel> dropped;  // Freed outside the lock.
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = entries_.find(version);
    if (it == entries_.end()) return absl::NotFoundError(absl::StrCat("no model ", version));
    if (version == default_) {
      return absl::FailedPreconditionError(
          absl::StrCat("model ", version, " is the default; make another the default first"));
    }
    if (it->second.state == ModelState::kLoading) {
      return absl::FailedPreconditionError(absl::StrCat("model ", version, " is still loading"));
    }
    dropped = std::move(it->second.model);
    entries_.erase(it);
  }
  DS_LOG(kInfo, "model_unloaded").Kv("version", version);
  Changed();
  return absl::OkStatus();
}

std::vector<ModelStatus> ModelRepository::List() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<ModelStatus> out;
  for (const auto& [v, e] : entries_) out.push_back(e);
  return out;
}

std::string ModelRepository::default_version() const {
  std::lock_guard<std::mutex> lock(mu_);
  return default_;
}

bool ModelRepository::HasReadyDefault() const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = entries_.find(default_);
  return it != entries_.end() && it->second.state == ModelState::kReady;
}

}  // namespace dogsearch::embedding
