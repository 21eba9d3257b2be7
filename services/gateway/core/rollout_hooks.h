// What the trainer-promotion reconciler (common/rollout) needs from a gateway core: the
// serving version, starting an upgrade, the last upgrade's failure; and the status it reports
// in ModelStatus.rollout. No gRPC.
#ifndef DOGSEARCH_SERVICES_GATEWAY_CORE_ROLLOUT_HOOKS_H_
#define DOGSEARCH_SERVICES_GATEWAY_CORE_ROLLOUT_HOOKS_H_

#include <functional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/rollout/reconciler.h"
#include "services/gateway/core/gateway_core.h"

namespace dogsearch::gateway {

// `core` must outlive the hooks; `promoted` reads the trainer's promoted version.
rollout::ReconcilerHooks GatewayRolloutHooks(GatewayCore* core,
                                             std::function<absl::StatusOr<std::string>()> promoted);
// ModelStatus.rollout from a reconciler's status.
v1::Rollout ToProto(const rollout::RolloutStatus& s, absl::Time now);

}  // namespace dogsearch::gateway

#endif  // DOGSEARCH_SERVICES_GATEWAY_CORE_ROLLOUT_HOOKS_H_
