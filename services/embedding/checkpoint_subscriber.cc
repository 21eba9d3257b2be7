#include "services/embedding/checkpoint_subscriber.h"

#include "common/base/log.h"
#include "common/model/checkpoint_manifest.h"

namespace dogsearch::embedding {
namespace pb = ::dogsearch::v1;

CheckpointSubscriber::CheckpointSubscriber(std::shared_ptr<grpc::Channel> channel,
                                           ModelRepository* repository,
                                           SubscriberOptions options)
    : repository_(repository),
      options_(std::move(options)),
      watch_(std::move(channel), options_.watch,
             [this](const pb::CheckpointEvent& event) { Apply(event); }) {}

CheckpointSubscriber::~CheckpointSubscriber() { Stop(); }

void CheckpointSubscriber::Start() { watch_.Start(); }

void CheckpointSubscriber::Stop() { watch_.Stop(); }

uint64_t CheckpointSubscriber::applied_events() const {
  std::lock_guard<std::mutex> lock(mu_);
  return applied_.size();
}

void CheckpointSubscriber::Apply(const pb::CheckpointEvent& event) {
  const std::string& version = event.checkpoint().manifest().version();
  if (!model::ValidateVersionName(version).ok()) {
    DS_LOG(kWarning, "trainer_event_ignored").Kv("reason", "bad version name").Kv("version", version);
    return;
  }
  const int kind = static_cast<int>(event.kind());
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!applied_.insert({kind, version}).second) return;  // Replayed after a reconnect.
  }
  if (event.kind() == pb::CheckpointEvent::KIND_PUBLISHED) {
    absl::Status s = repository_->StartLoad(version, options_.make_default_on_publish);
    DS_LOG(kInfo, "trainer_checkpoint_published").Kv("version", version).Kv("load", s);
  } else if (event.kind() == pb::CheckpointEvent::KIND_PROMOTED) {
    Promote(version);
  }
}

void CheckpointSubscriber::Promote(const std::string& version) {
  absl::Status s = repository_->StartLoad(version, /*make_default=*/true);
  if (s.ok()) {
    DS_LOG(kInfo, "trainer_checkpoint_promoted").Kv("version", version).Kv("action", "loading");
    return;
  }
  if (!absl::IsAlreadyExists(s)) {
    DS_LOG(kWarning, "trainer_promotion_failed").Kv("version", version).Kv("reason", s);
    return;
  }
  absl::StatusOr<ModelStatus> loaded = repository_->WaitUntilLoaded(version, options_.load_timeout);
  absl::Status set = loaded.ok() ? repository_->SetDefault(version) : loaded.status();
  if (set.ok()) {
    DS_LOG(kInfo, "trainer_checkpoint_promoted").Kv("version", version).Kv("action", "default");
  } else {
    DS_LOG(kWarning, "trainer_promotion_failed").Kv("version", version).Kv("reason", set);
  }
}

}  // namespace dogsearch::embedding
