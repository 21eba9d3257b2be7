// The latest progress of every job plus a per-job change counter, for WatchJob streams. A
// watcher gets the current progress at once, then every change it has not seen (a slow watcher
// skips intermediate steps but always sees the newest state, and always the final one).
// Thread-safe. Lock discipline: mu_ guards entries_ and closed_; cv_ is notified on every
// Publish and on Close; it also guards running_jobs_. With a metrics registry, Publish also keeps
// the trainer's gauges (jobs running; step, epoch, speed, loss and validation rank-1 of the job
// that published last) and counts jobs reaching each final state; the metric objects are the
// registry's (thread-safe).
#ifndef DOGSEARCH_SERVICES_TRAINER_CORE_PROGRESS_HUB_H_
#define DOGSEARCH_SERVICES_TRAINER_CORE_PROGRESS_HUB_H_

#include <condition_variable>
#include <map>
#include <mutex>
#include <string>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/metrics/metrics.h"
#include "dogsearch/v1/trainer.pb.h"

namespace dogsearch::trainer {

// SUCCEEDED, FAILED, CANCELLED and INTERRUPTED: nothing more will happen without a ResumeJob.
bool IsFinalState(::dogsearch::v1::JobState state);

class ProgressHub {
 public:
  // `registry` (optional) must outlive the hub.
  explicit ProgressHub(metrics::MetricsRegistry* registry = nullptr);

  struct Snapshot {
    ::dogsearch::v1::JobProgress progress;
    uint64_t version = 0;  // Increases with every Publish for this job; starts at 1.
  };

  void Publish(const ::dogsearch::v1::JobProgress& progress);

  // The job's progress once its version exceeds `after` (after = 0: at once), or DEADLINE_EXCEEDED
  // at the timeout, NOT_FOUND for a job never published, UNAVAILABLE after Close().
  absl::StatusOr<Snapshot> WaitNewer(const std::string& job_id, uint64_t after,
                                     absl::Duration timeout);

  // Wakes every waiter with UNAVAILABLE (server shutting down).
  void Close();

 private:
  // `before`: the job's state before this Publish. REQUIRES mu_ held.
  void UpdateMetrics(::dogsearch::v1::JobState before, const ::dogsearch::v1::JobProgress& now);

  metrics::MetricsRegistry* const registry_;
  metrics::Gauge* running_ = nullptr;
  metrics::Gauge* step_ = nullptr;
  metrics::Gauge* epoch_ = nullptr;
  metrics::Gauge* steps_per_second_ = nullptr;
  metrics::Gauge* photos_per_second_ = nullptr;
  metrics::Gauge* loss_ = nullptr;
  metrics::Gauge* validation_rank1_ = nullptr;

  std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::string, Snapshot> entries_ ABSL_GUARDED_BY(mu_);
  int running_jobs_ ABSL_GUARDED_BY(mu_) =
      0;  // Entries whose state is RUNNING (kept only with a registry).
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace dogsearch::trainer

#endif  // DOGSEARCH_SERVICES_TRAINER_CORE_PROGRESS_HUB_H_
