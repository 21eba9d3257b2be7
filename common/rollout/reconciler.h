// Converges a follower of the trainer (the gateway's gallery, an embedding server's default
// model) to the version the trainer promotes now. The rule, whatever the timing:
//
//   - The target is always the trainer's *current* promoted version, read from the trainer
//     (not replayed from events): a promotion stream only says "look again". Promotions that
//     come and go while the follower is busy are skipped; the newest wins.
//   - A running change is never cancelled: while the follower is busy (its apply answers
//     ABORTED, UNAVAILABLE, FAILED_PRECONDITION or DEADLINE_EXCEEDED), the reconciler waits and
//     looks again, then moves to whatever is promoted by then.
//   - A change that fails (any other status, or `last_failure` reporting one) is retried after
//     failure_backoff, unless the promotion moves on first.
//   - It looks again on every Nudge(), every busy_interval while behind and every
//     converged_interval otherwise, so a missed event, a reconnect or a restart mid-change
//     cannot leave the follower on a version the trainer no longer promotes.
//
// Behind for longer than expected_rollout: one warning log line per expected_rollout, and the
// gauge dogsearch_rollout_behind_seconds{follower} (0 when converged) is always current.
//
// Threading: Start() runs Step() on its own thread; Step() may also be called directly when
// the reconciler is not started (tests). Hooks run on that thread only (a PeriodicThread whose
// wait follows the state; Nudge() wakes it). Lock discipline: mu_ guards status_, stopped_ and
// the thread pointer. failed_version_/retry_at_/last_alarm_ belong to the stepping thread.
#ifndef DOGSEARCH_COMMON_ROLLOUT_RECONCILER_H_
#define DOGSEARCH_COMMON_ROLLOUT_RECONCILER_H_

#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/base/periodic_thread.h"

namespace dogsearch::metrics {
class Gauge;
class MetricsRegistry;
}  // namespace dogsearch::metrics

namespace dogsearch::rollout {

enum class RolloutState {
  kUnknown,             // Not looked yet.
  kNoPromotion,         // The trainer promotes nothing.
  kConverged,           // The follower serves the promoted version.
  kRollingOut,          // Moving to it, or waiting for a running change to end first.
  kFailed,              // The last attempt failed; retried after the backoff.
  kTrainerUnreachable,  // The promoted version could not be read.
};
const char* RolloutStateName(RolloutState s);

struct RolloutStatus {
  RolloutState state = RolloutState::kUnknown;
  std::string promoted;  // Last promoted version read ("" before the first read).
  std::string current;   // What the follower served at the last look.
  std::string detail;    // Why (busy, the failure, the trainer's error).
  absl::Time behind_since = absl::InfiniteFuture();  // When current started differing.
};

struct ReconcilerHooks {
  // The trainer's promoted version now ("" = none).
  std::function<absl::StatusOr<std::string>()> promoted;
  // The version the follower serves now.
  std::function<absl::StatusOr<std::string>()> current;
  // Start (or do) the change to `version`. OK = started or done; see the rule for the rest.
  std::function<absl::Status(const std::string& version)> apply;
  // Optional: the reason the follower's last change to `version` failed, if it did (for
  // followers whose apply only starts the change).
  std::function<std::optional<std::string>(const std::string& version)> last_failure;
};

struct ReconcilerOptions {
  std::string follower = "follower";  // Metric label and log field.
  absl::Duration converged_interval = absl::Seconds(10);
  absl::Duration busy_interval = absl::Seconds(1);
  absl::Duration failure_backoff = absl::Seconds(60);
  absl::Duration expected_rollout = absl::Minutes(10);
  metrics::MetricsRegistry* registry = nullptr;  // nullptr: the default registry.
};

class Reconciler {
 public:
  Reconciler(ReconcilerHooks hooks, ReconcilerOptions options);
  ~Reconciler();  // Stop().
  Reconciler(const Reconciler&) = delete;
  Reconciler& operator=(const Reconciler&) = delete;

  void Start();
  void Stop();
  // Look again now (a promotion event arrived).
  void Nudge();
  // One look: read both versions, act by the rule, return the new status.
  RolloutStatus Step(absl::Time now = absl::Now());
  RolloutStatus status() const;

 private:
  RolloutStatus Decide(absl::Time now, RolloutStatus s);

  const ReconcilerHooks hooks_;
  const ReconcilerOptions options_;
  metrics::Gauge* const behind_gauge_;

  std::string failed_version_;
  absl::Time retry_at_ = absl::InfinitePast();
  absl::Time last_alarm_ = absl::InfinitePast();

  mutable std::mutex mu_;
  RolloutStatus status_ ABSL_GUARDED_BY(mu_);
  bool stopped_ ABSL_GUARDED_BY(mu_) = false;
  // Steps on its own (Start); Nudge() wakes it early. Last: its runs use the members above.
  std::unique_ptr<PeriodicThread> thread_ ABSL_GUARDED_BY(mu_);
};

}  // namespace dogsearch::rollout

#endif  // DOGSEARCH_COMMON_ROLLOUT_RECONCILER_H_
