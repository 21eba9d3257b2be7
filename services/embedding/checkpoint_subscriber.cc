#include "services/embedding/checkpoint_subscriber.h"

#include <algorithm>

#include "common/base/log.h"
#include "common/model/checkpoint_manifest.h"

namespace dogsearch::embedding {
namespace pb = ::dogsearch::v1;

CheckpointSubscriber::CheckpointSubscriber(std::shared_ptr<grpc::Channel> channel,
                                           ModelRepository* repository,
                                           SubscriberOptions options)
    : stub_(pb::Trainer::NewStub(std::move(channel))),
      repository_(repository),
      options_(std::move(options)) {}

CheckpointSubscriber::~CheckpointSubscriber() { Stop(); }

void CheckpointSubscriber::Start() {
  std::lock_guard<std::mutex> lock(mu_);
  if (started_ || stopping_) return;
  started_ = true;
  thread_ = std::thread([this] { Loop(); });
}

void CheckpointSubscriber::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
    if (context_ != nullptr) context_->TryCancel();
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

uint64_t CheckpointSubscriber::connections() const {
  std::lock_guard<std::mutex> lock(mu_);
  return connections_;
}

uint64_t CheckpointSubscriber::applied_events() const {
  std::lock_guard<std::mutex> lock(mu_);
  return applied_.size();
}

void CheckpointSubscriber::Loop() {
  absl::Duration backoff = options_.initial_backoff;
  for (;;) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stopping_) return;
    }
    if (RunStream()) backoff = options_.initial_backoff;
    std::unique_lock<std::mutex> lock(mu_);
    if (stopping_) return;
    cv_.wait_for(lock, absl::ToChronoMilliseconds(backoff), [&] { return stopping_; });
    backoff = std::min(backoff * 2, options_.max_backoff);
  }
}

bool CheckpointSubscriber::RunStream() {
  grpc::ClientContext context;
  // A watch stream lives as long as the trainer does: a year's deadline (it reconnects after).
  rpc::PrepareContext(&context, options_.channel, absl::Hours(24 * 365));
  pb::WatchCheckpointsRequest request;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return false;
    context_ = &context;
    ++connections_;
    request.set_after_unix_seconds(std::max<int64_t>(0, last_seen_ - 1));
  }
  std::unique_ptr<grpc::ClientReader<pb::CheckpointEvent>> reader =
      stub_->WatchCheckpoints(&context, request);
  pb::CheckpointEvent event;
  bool received = false;
  while (reader->Read(&event)) {
    received = true;
    Apply(event);
  }
  const grpc::Status status = reader->Finish();
  {
    std::lock_guard<std::mutex> lock(mu_);
    context_ = nullptr;
    if (stopping_) return received;
  }
  DS_LOG(kWarning, "trainer_watch_ended")
      .Kv("code", static_cast<int>(status.error_code()))
      .Kv("message", status.error_message())
      .Kv("received", received);
  return received;
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
    last_seen_ = std::max(last_seen_, event.checkpoint().published_unix_seconds());
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
