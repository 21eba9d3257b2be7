#include "common/trainer_client/checkpoint_watch.h"

#include <algorithm>

#include "common/base/log.h"

namespace dogsearch::rpc {

CheckpointWatch::CheckpointWatch(std::shared_ptr<grpc::Channel> channel,
                                 CheckpointWatchOptions options, Handler handler)
    : stub_(v1::Trainer::NewStub(std::move(channel))),
      options_(std::move(options)),
      handler_(std::move(handler)) {}

CheckpointWatch::~CheckpointWatch() { Stop(); }

void CheckpointWatch::Start() {
  std::lock_guard<std::mutex> lock(mu_);
  if (started_ || stopping_) return;
  started_ = true;
  thread_ = std::thread([this] { Loop(); });
}

void CheckpointWatch::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
    if (context_ != nullptr) context_->TryCancel();
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

uint64_t CheckpointWatch::connections() const {
  std::lock_guard<std::mutex> lock(mu_);
  return connections_;
}

void CheckpointWatch::Loop() {
  absl::Duration backoff = options_.initial_backoff;
  for (;;) {
    if (RunStream()) backoff = options_.initial_backoff;
    std::unique_lock<std::mutex> lock(mu_);
    if (stopping_) return;
    cv_.wait_for(lock, absl::ToChronoMilliseconds(backoff), [&] { return stopping_; });
    if (stopping_) return;
    backoff = std::min(backoff * 2, options_.max_backoff);
  }
}

bool CheckpointWatch::RunStream() {
  grpc::ClientContext context;
  // A watch stream lives as long as the trainer does: a year's deadline (it reconnects after).
  PrepareContext(&context, options_.channel, absl::Hours(24 * 365));
  v1::WatchCheckpointsRequest request;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return false;
    context_ = &context;
    ++connections_;
    request.set_after_unix_seconds(std::max<int64_t>(0, last_seen_ - 1));
  }
  std::unique_ptr<grpc::ClientReader<v1::CheckpointEvent>> reader =
      stub_->WatchCheckpoints(&context, request);
  v1::CheckpointEvent event;
  bool received = false;
  while (reader->Read(&event)) {
    received = true;
    {
      std::lock_guard<std::mutex> lock(mu_);
      last_seen_ = std::max(last_seen_, event.checkpoint().published_unix_seconds());
    }
    handler_(event);
  }
  const grpc::Status status = reader->Finish();
  {
    std::lock_guard<std::mutex> lock(mu_);
    context_ = nullptr;
    if (stopping_) return received;
  }
  DS_LOG(kWarning, options_.ended_log_event)
      .Kv("code", static_cast<int>(status.error_code()))
      .Kv("message", status.error_message())
      .Kv("received", received);
  return received;
}

}  // namespace dogsearch::rpc
