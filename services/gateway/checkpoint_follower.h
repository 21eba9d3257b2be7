// Keeps the gateway's gallery on the model the trainer promotes (--trainer_address), by the
// rule of common/rollout/reconciler.h: the target is the trainer's current promoted version
// (Trainer.ListCheckpoints), looked up on every WatchCheckpoints event, every second while
// behind and every 10 s otherwise; an upgrade that is running finishes first, then the newest
// promotion wins; a failed upgrade is retried after a minute. A missed event, a reconnect or a
// gateway restart mid-upgrade therefore ends on the promoted version. The state is reported in
// ModelStatus.rollout (GetModelStatus, `dogsearch status`) and the gauge
// dogsearch_rollout_behind_seconds{follower="gateway"}.
//
// Threading: the watch's stream thread only nudges; the reconciler's thread does the work.
#ifndef DOGSEARCH_SERVICES_GATEWAY_CHECKPOINT_FOLLOWER_H_
#define DOGSEARCH_SERVICES_GATEWAY_CHECKPOINT_FOLLOWER_H_

#include <memory>

#include "common/rollout/reconciler.h"
#include "common/trainer_client/checkpoint_watch.h"
#include "common/trainer_client/trainer_promotions.h"
#include "services/gateway/core/gateway_core.h"

namespace dogsearch::gateway {

class CheckpointFollower {
 public:
  // `core` must outlive the follower. Registers itself as the core's rollout reporter.
  CheckpointFollower(std::shared_ptr<grpc::Channel> channel, rpc::ChannelOptions options,
                     GatewayCore* core, rollout::ReconcilerOptions reconcile = {});
  ~CheckpointFollower();  // Stop().
  void Start();
  void Stop();

 private:
  GatewayCore* const core_;
  rpc::TrainerPromotions promotions_;
  rollout::Reconciler reconciler_;
  rpc::CheckpointWatch watch_;  // Last: its thread nudges the reconciler.
};

}  // namespace dogsearch::gateway

#endif  // DOGSEARCH_SERVICES_GATEWAY_CHECKPOINT_FOLLOWER_H_
