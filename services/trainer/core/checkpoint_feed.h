// The trainer's published checkpoints, as the fleet sees them: a models root (the folder the
// embedding servers load from) that finished jobs publish into, the promoted version, and a
// feed of events for WatchCheckpoints streams. No gRPC, no LibTorch.
//
// Publishing copies a run's checkpoint directory into the models root under a temporary name,
// fsyncs every file, renames it into place and fsyncs the root (common/base/file_util), so a
// reader never sees a partial checkpoint. The promoted version is <root>/PROMOTED, replaced
// atomically. At start-up the feed is rebuilt from the root (every complete checkpoint as a
// PUBLISHED event at its creation time, then the promotion), so a watcher that reconnects with
// after_unix_seconds catches up on what it missed even across trainer restarts.
// Thread-safe. Lock discipline: mu_ guards events_, promoted_, closed_; cv_ wakes watchers.
#ifndef DOGSEARCH_SERVICES_TRAINER_CORE_CHECKPOINT_FEED_H_
#define DOGSEARCH_SERVICES_TRAINER_CORE_CHECKPOINT_FEED_H_

#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "dogsearch/v1/trainer.pb.h"

namespace dogsearch::trainer {

class CheckpointFeed {
 public:
  static absl::StatusOr<std::unique_ptr<CheckpointFeed>> Open(const std::string& models_root);

  // Copies `checkpoint_dir` into the models root as its manifest's version; ALREADY_EXISTS if
  // that version is there; FAILED_PRECONDITION if it is not a readable checkpoint.
  absl::StatusOr<::dogsearch::v1::CheckpointInfo> Publish(const std::string& checkpoint_dir,
                                                          const std::string& job_id);
  // NOT_FOUND for an unknown version.
  absl::StatusOr<::dogsearch::v1::CheckpointInfo> Promote(const std::string& version);

  // Oldest first; `job_id` filters ("" = all).
  std::vector<::dogsearch::v1::CheckpointInfo> List(const std::string& job_id) const;
  std::string promoted() const;
  // Verification accuracy of the promoted checkpoint (-1 if none).
  double promoted_accuracy() const;

  // Events with index >= `from`, waiting up to `timeout` for at least one. `next` receives the
  // index to ask for next. UNAVAILABLE after Close().
  absl::StatusOr<std::vector<::dogsearch::v1::CheckpointEvent>> Wait(size_t from, size_t* next,
                                                                     absl::Duration timeout);
  // Index of the first event published after `unix_seconds` (0 = all).
  size_t FirstAfter(int64_t unix_seconds) const;
  void Close();

  const std::string& root() const { return root_; }

 private:
  explicit CheckpointFeed(std::string root) : root_(std::move(root)) {}
  void AddLocked(::dogsearch::v1::CheckpointEvent event);

  const std::string root_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<::dogsearch::v1::CheckpointEvent> events_ ABSL_GUARDED_BY(mu_);
  std::string promoted_ ABSL_GUARDED_BY(mu_);
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
};

// The job that wrote a version named "<job id>-s<step>" ("" for other names).
std::string JobOfVersion(const std::string& version);

// A finished job's best checkpoint to the fleet: published, and promoted when the job asked
// for auto_promote and its validation accuracy beats the promoted checkpoint's by at least
// `margin`. Logs what it did (and why not); returns the first failure.
absl::Status PublishFinishedJob(CheckpointFeed* feed, const ::dogsearch::v1::Job& job,
                                const std::string& best_checkpoint_dir, double margin);

}  // namespace dogsearch::trainer

#endif  // DOGSEARCH_SERVICES_TRAINER_CORE_CHECKPOINT_FEED_H_
