// Follows the trainer's Trainer.WatchCheckpoints stream and upgrades the gallery to each
// promoted checkpoint: the newest PROMOTED version seen becomes pending, and a pending version
// is handed to GatewayCore::StartModelUpgrade as soon as no other upgrade is running. The last
// promotion acted on is recorded in the gallery store, so a restarted gateway, which replays
// the trainer's feed from the start, does not redo (or undo) earlier upgrades.
// rpc::CheckpointWatch reconnects (backoff 200 ms .. 5 s) and catches up when the stream fails.
//
// Threading: two threads (the watch's stream reader, the upgrade starter). mu_ guards pending_
// and stopping_; cv_ wakes the starter on change.
#ifndef DOGSEARCH_SERVICES_GATEWAY_CHECKPOINT_FOLLOWER_H_
#define DOGSEARCH_SERVICES_GATEWAY_CHECKPOINT_FOLLOWER_H_

#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "common/rpc/checkpoint_watch.h"
#include "services/gateway/core/gateway_core.h"

namespace dogsearch::gateway {

inline constexpr char kMetaFollowedPromotion[] = "followed_promotion";

class CheckpointFollower {
 public:
  CheckpointFollower(std::shared_ptr<grpc::Channel> channel, rpc::ChannelOptions options,
                     GatewayCore* core, GalleryStore* store);
  ~CheckpointFollower();  // Stop().
  void Start();
  void Stop();

 private:
  void OnEvent(const v1::CheckpointEvent& event);
  void StartLoop();

  GatewayCore* const core_;
  GalleryStore* const store_;

  std::mutex mu_;
  std::condition_variable cv_;
  std::string pending_;
  bool stopping_ = false;
  std::thread starter_;
  rpc::CheckpointWatch watch_;  // Last: its thread uses the members above.
};

}  // namespace dogsearch::gateway

#endif  // DOGSEARCH_SERVICES_GATEWAY_CHECKPOINT_FOLLOWER_H_
