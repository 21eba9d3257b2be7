#include "services/gateway/checkpoint_follower.h"

#include "absl/time/clock.h"
#include "services/gateway/core/rollout_hooks.h"

namespace dogsearch::gateway {

CheckpointFollower::CheckpointFollower(std::shared_ptr<grpc::Channel> channel,
                                       rpc::ChannelOptions options, GatewayCore* core,
                                       rollout::ReconcilerOptions reconcile)
    : core_(core),
      promotions_(channel, options),
      reconciler_(GatewayRolloutHooks(core, [this] { return promotions_.PromotedVersion(); }),
                  [&reconcile] {
                    reconcile.follower = "gateway";
                    return reconcile;
                  }()),
      watch_(std::move(channel),
             {std::move(options), absl::Milliseconds(200), absl::Seconds(5),
              "gateway_trainer_stream_ended"},
             [this](const v1::CheckpointEvent& event) {
               if (event.kind() == v1::CheckpointEvent::KIND_PROMOTED) reconciler_.Nudge();
             }) {
  core_->SetRolloutReporter([this] { return ToProto(reconciler_.status(), absl::Now()); });
}

CheckpointFollower::~CheckpointFollower() { Stop(); }

void CheckpointFollower::Start() {
  reconciler_.Start();
  watch_.Start();
}

void CheckpointFollower::Stop() {
  watch_.Stop();
  reconciler_.Stop();
  core_->SetRolloutReporter(nullptr);
}

}  // namespace dogsearch::gateway
