#include "services/embedding/checkpoint_subscriber.h"

#include "common/base/log.h"
#include "common/model/checkpoint_manifest.h"

namespace dogsearch::embedding {

rollout::ReconcilerHooks RepositoryRolloutHooks(
    ModelRepository* repository, std::function<absl::StatusOr<std::string>()> promoted) {
  rollout::ReconcilerHooks h;
  h.promoted = std::move(promoted);
  h.current = [repository]() -> absl::StatusOr<std::string> {
    return repository->default_version();
  };
  // Load (becoming the default once READY), or make the loaded version the default.
  h.apply = [repository](const std::string& version) -> absl::Status {
    absl::StatusOr<ModelStatus> st = repository->Get(version);
    if (!st.ok() || st->state == ModelState::kFailed) {
      absl::Status s = repository->StartLoad(version, /*make_default=*/true);
      DS_LOG(kInfo, "trainer_checkpoint_promoted")
          .Kv("version", version)
          .Kv("action", "loading")
          .Kv("status", s);
      return s;
    }
    if (st->state == ModelState::kLoading) {
      return absl::AbortedError(absl::StrCat("model ", version, " is still loading"));
    }
    absl::Status s = repository->SetDefault(version);
    DS_LOG(kInfo, "trainer_checkpoint_promoted")
        .Kv("version", version)
        .Kv("action", "default")
        .Kv("status", s);
    return s;
  };
  h.last_failure = [repository](const std::string& version) -> std::optional<std::string> {
    absl::StatusOr<ModelStatus> st = repository->Get(version);
    if (st.ok() && st->state == ModelState::kFailed) return st->reason;
    return std::nullopt;
  };
  return h;
}

CheckpointSubscriber::CheckpointSubscriber(std::shared_ptr<grpc::Channel> channel,
                                           ModelRepository* repository, SubscriberOptions options)
    : repository_(repository),
      options_([&options] {
        options.reconcile.follower = "embedding";
        return std::move(options);
      }()),
      promotions_(channel, options_.watch.channel),
      reconciler_(
          RepositoryRolloutHooks(repository, [this] { return promotions_.PromotedVersion(); }),
          options_.reconcile),
      watch_(std::move(channel), options_.watch,
             [this](const v1::CheckpointEvent& event) { Apply(event); }) {}

CheckpointSubscriber::~CheckpointSubscriber() { Stop(); }

void CheckpointSubscriber::Start() {
  reconciler_.Start();
  watch_.Start();
}

void CheckpointSubscriber::Stop() {
  watch_.Stop();
  reconciler_.Stop();
}

uint64_t CheckpointSubscriber::applied_events() const {
  std::lock_guard<std::mutex> lock(mu_);
  return applied_.size();
}

void CheckpointSubscriber::Apply(const v1::CheckpointEvent& event) {
  if (event.kind() == v1::CheckpointEvent::KIND_PROMOTED) {
    reconciler_.Nudge();  // The reconciler reads the promotion from the trainer itself.
    return;
  }
  if (event.kind() != v1::CheckpointEvent::KIND_PUBLISHED) return;
  const std::string& version = event.checkpoint().manifest().version();
  if (!model::ValidateVersionName(version).ok()) {
    DS_LOG(kWarning, "trainer_event_ignored")
        .Kv("reason", "bad version name")
        .Kv("version", version);
    return;
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!applied_.insert(version).second) return;  // Replayed after a reconnect.
  }
  absl::Status s = repository_->StartLoad(version, options_.make_default_on_publish);
  DS_LOG(kInfo, "trainer_checkpoint_published").Kv("version", version).Kv("load", s);
}

}  // namespace dogsearch::embedding
