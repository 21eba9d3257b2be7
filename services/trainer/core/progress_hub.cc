#include "services/trainer/core/progress_hub.h"

#include "absl/strings/str_cat.h"

namespace dogsearch::trainer {

bool IsFinalState(v1::JobState s) {
  return s == v1::JOB_STATE_SUCCEEDED || s == v1::JOB_STATE_FAILED ||
         s == v1::JOB_STATE_CANCELLED || s == v1::JOB_STATE_INTERRUPTED;
}

ProgressHub::ProgressHub(metrics::MetricsRegistry* registry) : registry_(registry) {
  if (registry_ == nullptr) return;
  auto gauge = [&](const char* name, const char* help) { return registry_->GetGauge(name, help); };
  running_ = gauge("dogsearch_trainer_jobs_running", "Training jobs running now");
  step_ = gauge("dogsearch_trainer_step", "Optimiser step of the job that reported last");
  epoch_ = gauge("dogsearch_trainer_epoch", "Epoch (1-based) of the job that reported last");
  steps_per_second_ = gauge("dogsearch_trainer_steps_per_second",
                            "Recent training speed of the job that reported last");
  photos_per_second_ = gauge("dogsearch_trainer_photos_per_second",
                             "Recent photos per second of the job that reported last");
  loss_ = gauge("dogsearch_trainer_loss", "Mean triplet loss of the last step reported");
  validation_rank1_ = gauge("dogsearch_trainer_validation_rank1",
                            "Validation rank-1 of the latest finished epoch reported");
}

void ProgressHub::Publish(const v1::JobProgress& progress) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    Snapshot& s = entries_[progress.job_id()];
    const v1::JobState before = s.progress.state();
    s.progress = progress;
    ++s.version;
    if (registry_ != nullptr) UpdateMetrics(before, progress);
  }
  cv_.notify_all();
}

void ProgressHub::UpdateMetrics(v1::JobState before, const v1::JobProgress& now) {
  running_jobs_ += (now.state() == v1::JOB_STATE_RUNNING) - (before == v1::JOB_STATE_RUNNING);
  running_->Set(running_jobs_);
  step_->Set(static_cast<double>(now.step()));
  epoch_->Set(now.epoch());
  steps_per_second_->Set(now.steps_per_second());
  photos_per_second_->Set(now.photos_per_second());
  if (now.has_last_step()) loss_->Set(now.last_step().loss());
  if (now.has_validation()) validation_rank1_->Set(now.validation().rank1());
  if (IsFinalState(now.state()) && !IsFinalState(before)) {
    registry_
        ->GetCounter("dogsearch_trainer_jobs_finished_total", "Jobs that reached a final state",
                     {{"state", v1::JobState_Name(now.state())}})
        ->Increment();
  }
}

absl::StatusOr<ProgressHub::Snapshot> ProgressHub::WaitNewer(const std::string& job_id,
                                                             uint64_t after,
                                                             absl::Duration timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  if (!entries_.count(job_id)) return absl::NotFoundError(absl::StrCat("no job ", job_id));
  const bool changed = cv_.wait_for(lock, absl::ToChronoMilliseconds(timeout),
                                    [&] { return closed_ || entries_[job_id].version > after; });
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
