#include "services/gateway/checkpoint_follower.h"

#include "common/base/log.h"

namespace dogsearch::gateway {

CheckpointFollower::CheckpointFollower(std::shared_ptr<grpc::Channel> channel,
                                       rpc::ChannelOptions options, GatewayCore* core,
                                       GalleryStore* store)
    : core_(core),
      store_(store),
      watch_(std::move(channel),
             {std::move(options), absl::Milliseconds(200), absl::Seconds(5),
              "gateway_trainer_stream_ended"},
             [this](const v1::CheckpointEvent& event) { OnEvent(event); }) {}

CheckpointFollower::~CheckpointFollower() { Stop(); }

void CheckpointFollower::Start() {
  starter_ = std::thread([this] { StartLoop(); });
  watch_.Start();
}

void CheckpointFollower::Stop() {
  watch_.Stop();
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (starter_.joinable()) starter_.join();
}

void CheckpointFollower::OnEvent(const v1::CheckpointEvent& event) {
  if (event.kind() != v1::CheckpointEvent::KIND_PROMOTED) return;
  const std::string& version = event.checkpoint().manifest().version();
  if (store_->GetMeta(kMetaFollowedPromotion).value_or("") == version) return;
  {
    std::lock_guard<std::mutex> lock(mu_);
    pending_ = version;
  }
  cv_.notify_all();
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
