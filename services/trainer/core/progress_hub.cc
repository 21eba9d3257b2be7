#include "services/trainer/core/progress_hub.h"

#include "absl/strings/str_cat.h"

namespace dogsearch::trainer {
namespace pb = ::dogsearch::v1;

bool IsFinalState(pb::JobState s) {
  return s == pb::JOB_STATE_SUCCEEDED || s == pb::JOB_STATE_FAILED ||
         s == pb::JOB_STATE_CANCELLED || s == pb::JOB_STATE_INTERRUPTED;
}

void ProgressHub::Publish(const pb::JobProgress& progress) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    Snapshot& s = entries_[progress.job_id()];
    s.progress = progress;
    ++s.version;
  }
  cv_.notify_all();
}

absl::StatusOr<ProgressHub::Snapshot> ProgressHub::WaitNewer(const std::string& job_id,
                                                             uint64_t after,
                                                             absl::Duration timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  if (!entries_.count(job_id)) return absl::NotFoundError(absl::StrCat("no job ", job_id));
  const bool changed = cv_.wait_for(lock, absl::ToChronoMilliseconds(timeout), [&] {
    return closed_ || entries_[job_id].version > after;
  });
  if (closed_) return absl::UnavailableError("trainer shutting down");
  if (!changed) return absl::DeadlineExceededError("no change");
  return entries_[job_id];
}

void ProgressHub::Close() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    closed_ = true;
  }
  cv_.notify_all();
}

}  // namespace dogsearch::trainer
