#include "common/rollout/reconciler.h"

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/base/log.h"
#include "common/metrics/metrics.h"

namespace dogsearch::rollout {
namespace {

bool Busy(const absl::Status& s) {
  return absl::IsAborted(s) || absl::IsUnavailable(s) || absl::IsFailedPrecondition(s) ||
         absl::IsDeadlineExceeded(s);
}

}  // namespace

const char* RolloutStateName(RolloutState s) {
  switch (s) {
    case RolloutState::kUnknown:
      return "unknown";
    case RolloutState::kNoPromotion:
      return "no_promotion";
    case RolloutState::kConverged:
      return "converged";
    case RolloutState::kRollingOut:
      return "rolling_out";
    case RolloutState::kFailed:
      return "failed";
    case RolloutState::kTrainerUnreachable:
      return "trainer_unreachable";
  }
  return "unknown";
}

Reconciler::Reconciler(ReconcilerHooks hooks, ReconcilerOptions options)
    : hooks_(std::move(hooks)),
      options_(std::move(options)),
      behind_gauge_(
          (options_.registry != nullptr ? *options_.registry : metrics::MetricsRegistry::Default())
              .GetGauge("dogsearch_rollout_behind_seconds",
                        "How long this follower has served another version than the "
                        "trainer promotes (0 when converged).",
                        {{"follower", options_.follower}})) {}

Reconciler::~Reconciler() { Stop(); }

void Reconciler::Start() {
  std::lock_guard<std::mutex> lock(mu_);
  if (thread_ || stopped_) return;
  thread_ = std::make_unique<PeriodicThread>([this] {
    const RolloutStatus s = Step();
    return s.state == RolloutState::kConverged || s.state == RolloutState::kNoPromotion
               ? options_.converged_interval
               : options_.busy_interval;
  });
}

void Reconciler::Stop() {
  std::unique_ptr<PeriodicThread> thread;
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopped_ = true;
    thread = std::move(thread_);
  }
  if (thread) thread->Stop();  // Joins after a step in progress.
}

void Reconciler::Nudge() {
  std::lock_guard<std::mutex> lock(mu_);
  if (thread_) thread_->Wake();
}

RolloutStatus Reconciler::status() const {
  std::lock_guard<std::mutex> lock(mu_);
  return status_;
}

RolloutStatus Reconciler::Step(absl::Time now) {
  RolloutStatus s = status();
  absl::StatusOr<std::string> promoted = hooks_.promoted();
  if (!promoted.ok()) {
    s.state = RolloutState::kTrainerUnreachable;
    s.detail = std::string(promoted.status().message());
  } else {
    s.promoted = *promoted;
    s = Decide(now, std::move(s));
  }
  const bool behind = s.behind_since != absl::InfiniteFuture();
  behind_gauge_->Set(behind ? absl::ToDoubleSeconds(now - s.behind_since) : 0);
  if (behind && now - s.behind_since > options_.expected_rollout &&
      now - last_alarm_ > options_.expected_rollout) {
    last_alarm_ = now;
    DS_LOG(kWarning, "rollout_behind")
        .Kv("follower", options_.follower)
        .Kv("serving", s.current)
        .Kv("promoted", s.promoted)
        .Kv("state", RolloutStateName(s.state))
        .Kv("detail", s.detail)
        .Kv("behind_seconds", absl::ToInt64Seconds(now - s.behind_since));
  }
  std::lock_guard<std::mutex> lock(mu_);
  status_ = s;
  return s;
}

RolloutStatus Reconciler::Decide(absl::Time now, RolloutStatus s) {
  if (s.promoted.empty()) {
    s.state = RolloutState::kNoPromotion;
    s.detail.clear();
    s.behind_since = absl::InfiniteFuture();
    return s;
  }
  absl::StatusOr<std::string> current = hooks_.current();
  if (!current.ok()) {
    s.state = RolloutState::kRollingOut;
    s.detail = absl::StrCat("waiting for the follower: ", current.status().message());
    return s;
  }
  s.current = *current;
  if (s.current == s.promoted) {
    s.state = RolloutState::kConverged;
    s.detail.clear();
    s.behind_since = absl::InfiniteFuture();
    failed_version_.clear();
    return s;
  }
  if (s.behind_since == absl::InfiniteFuture()) s.behind_since = now;
  if (hooks_.last_failure) {
    if (std::optional<std::string> why = hooks_.last_failure(s.promoted);
        why.has_value() && failed_version_ != s.promoted) {
      failed_version_ = s.promoted;
      retry_at_ = now + options_.failure_backoff;
      s.detail = *why;
    }
  }
  if (failed_version_ == s.promoted && now < retry_at_) {
    s.state = RolloutState::kFailed;
    return s;
  }
  const absl::Status applied = hooks_.apply(s.promoted);
  if (applied.ok() || absl::IsAlreadyExists(applied)) {
    s.state = RolloutState::kRollingOut;
    s.detail = absl::StrCat("moving to ", s.promoted);
    failed_version_.clear();
  } else if (Busy(applied)) {
    s.state = RolloutState::kRollingOut;
    s.detail = absl::StrCat("waiting: ", applied.message());
  } else {
    s.state = RolloutState::kFailed;
    s.detail = std::string(applied.message());
    failed_version_ = s.promoted;
    retry_at_ = now + options_.failure_backoff;
    DS_LOG(kWarning, "rollout_failed")
        .Kv("follower", options_.follower)
        .Kv("version", s.promoted)
        .Kv("status", applied);
  }
  return s;
}

}  // namespace dogsearch::rollout
