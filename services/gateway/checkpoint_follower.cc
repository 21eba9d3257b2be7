#include "services/gateway/checkpoint_follower.h"

#include <algorithm>

#include "common/base/log.h"
#include "common/rpc/token_auth.h"

namespace dogsearch::gateway {

CheckpointFollower::CheckpointFollower(std::shared_ptr<grpc::Channel> channel,
                                       rpc::ChannelOptions options, GatewayCore* core,
                                       GalleryStore* store)
    : stub_(v1::Trainer::NewStub(channel)), options_(std::move(options)), core_(core),
      store_(store) {}

CheckpointFollower::~CheckpointFollower() { Stop(); }

void CheckpointFollower::Start() {
  reader_ = std::thread([this] { ReadLoop(); });
  starter_ = std::thread([this] { StartLoop(); });
}

void CheckpointFollower::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
    if (context_) context_->TryCancel();
  }
  cv_.notify_all();
  if (reader_.joinable()) reader_.join();
  if (starter_.joinable()) starter_.join();
}

void CheckpointFollower::ReadLoop() {
  absl::Duration backoff = absl::Milliseconds(200);
  while (true) {
    grpc::ClientContext ctx;
    if (!options_.bearer_token.empty()) {
      ctx.AddMetadata(rpc::kAuthorizationKey, rpc::BearerValue(options_.bearer_token));
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stopping_) return;
      context_ = &ctx;
    }
    auto reader = stub_->WatchCheckpoints(&ctx, v1::WatchCheckpointsRequest());
    v1::CheckpointEvent event;
    bool got = false;
    while (reader->Read(&event)) {
      got = true;
      if (event.kind() != v1::CheckpointEvent::KIND_PROMOTED) continue;
      const std::string& version = event.checkpoint().manifest().version();
      if (store_->GetMeta(kMetaFollowedPromotion).value_or("") == version) continue;
      {
        std::lock_guard<std::mutex> lock(mu_);
        pending_ = version;
      }
      cv_.notify_all();
    }
    const grpc::Status st = reader->Finish();
    {
      std::lock_guard<std::mutex> lock(mu_);
      context_ = nullptr;
      if (stopping_) return;
    }
    if (got) backoff = absl::Milliseconds(200);
    DS_LOG(kWarning, "gateway_trainer_stream_ended").Kv("status", st.error_message());
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait_for(lock, absl::ToChronoNanoseconds(backoff), [this] { return stopping_; });
    backoff = std::min(backoff * 2, absl::Seconds(5));
  }
}

void CheckpointFollower::StartLoop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stopping_) {
    cv_.wait_for(lock, std::chrono::milliseconds(500),
                 [this] { return stopping_ || !pending_.empty(); });
    if (stopping_) return;
    if (pending_.empty()) continue;
    const std::string version = pending_;
    lock.unlock();
    v1::StartModelUpgradeRequest req;
    req.set_version(version);
    absl::Status s = core_->StartModelUpgrade(req).status();
    const bool retry = absl::IsAborted(s) || absl::IsFailedPrecondition(s) || absl::IsUnavailable(s);
    if (!retry) {
      DS_LOG(kInfo, "gateway_followed_promotion").Kv("version", version).Kv("status", s);
      (void)store_->SetMeta({{kMetaFollowedPromotion, version}});
    }
    lock.lock();
    if (!retry && pending_ == version) pending_.clear();
    if (retry) cv_.wait_for(lock, std::chrono::seconds(1), [this] { return stopping_; });
  }
}

}  // namespace dogsearch::gateway
