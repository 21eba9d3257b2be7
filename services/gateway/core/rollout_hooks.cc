#include "services/gateway/core/rollout_hooks.h"

namespace dogsearch::gateway {

rollout::ReconcilerHooks GatewayRolloutHooks(
    GatewayCore* core, std::function<absl::StatusOr<std::string>()> promoted) {
  rollout::ReconcilerHooks h;
  h.promoted = std::move(promoted);
  h.current = [core]() -> absl::StatusOr<std::string> {
    std::string v = core->serving_version();
    if (v.empty()) return absl::UnavailableError("no model is serving yet");
    return v;
  };
  h.apply = [core](const std::string& version) {
    v1::StartModelUpgradeRequest req;
    req.set_version(version);
    return core->StartModelUpgrade(req).status();
  };
  h.last_failure = [core](const std::string& version) -> std::optional<std::string> {
    const v1::UpgradeProgress p = core->upgrade_progress();
    if (p.to_version() == version && p.state() == v1::UPGRADE_STATE_FAILED) {
      return p.state_reason();
    }
    return std::nullopt;
  };
  return h;
}

v1::Rollout ToProto(const rollout::RolloutStatus& s, absl::Time now) {
  v1::Rollout r;
  r.set_promoted_version(s.promoted);
  r.set_detail(s.detail);
  switch (s.state) {
    case rollout::RolloutState::kUnknown:
      r.set_state(v1::ROLLOUT_STATE_UNKNOWN);
      break;
    case rollout::RolloutState::kNoPromotion:
      r.set_state(v1::ROLLOUT_STATE_NO_PROMOTION);
      break;
    case rollout::RolloutState::kConverged:
      r.set_state(v1::ROLLOUT_STATE_CONVERGED);
      break;
    case rollout::RolloutState::kRollingOut:
      r.set_state(v1::ROLLOUT_STATE_ROLLING_OUT);
      break;
    case rollout::RolloutState::kFailed:
      r.set_state(v1::ROLLOUT_STATE_FAILED);
      break;
    case rollout::RolloutState::kTrainerUnreachable:
      r.set_state(v1::ROLLOUT_STATE_TRAINER_UNREACHABLE);
      break;
  }
  if (s.behind_since != absl::InfiniteFuture()) {
    r.set_behind_seconds(absl::ToInt64Seconds(now - s.behind_since));
  }
  return r;
}

}  // namespace dogsearch::gateway
