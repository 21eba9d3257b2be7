// Runs training jobs for the trainer service: validates and queues StartTraining requests, trains
// one job at a time on its own thread through the training library (trainer.h), turns the
// library's step and epoch reports into JobProgress for the progress hub (WatchJob) and the
// durable job store, and handles cancel, resume and shutdown. No gRPC here.
//
// Job lifecycle: QUEUED -> RUNNING -> SUCCEEDED | FAILED | CANCELLED; RUNNING -> INTERRUPTED
// when the trainer stops (Shutdown, or a crash noticed by JobStore::Open); Resume() requeues an
// INTERRUPTED job, which continues from its run folder's last checkpoint.
// Each job trains in <runs_dir>/<job id>/ (checkpoints/, state/, metrics.jsonl).
//
// Thread-safe. Lock discipline: mu_ guards queue_, running_, stopping_; cv_ wakes the worker.
// The running job's cancel flag is an atomic the worker's training loop polls between steps.
// Records go to the store (its own lock) and progress to the hub (its own lock), never while
// holding mu_.
#ifndef DOGSEARCH_SERVICES_TRAINER_CORE_JOB_MANAGER_H_
#define DOGSEARCH_SERVICES_TRAINER_CORE_JOB_MANAGER_H_

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "dogsearch/v1/trainer.pb.h"
#include "services/trainer/core/job_store.h"
#include "services/trainer/core/progress_hub.h"
#include "services/trainer/core/train_options.h"

namespace dogsearch::trainer {

struct JobManagerOptions {
  std::string data_root;    // TrainingConfig.dataset is resolved inside it.
  std::string runs_dir;     // Run folders of jobs.
  std::string models_root;  // Where parent checkpoints (parent_version) are found.
  size_t max_queued = 8;
  int threads = 0;  // Intra-op threads for training (0 = all cores).
  std::string device = "auto";
};

class JobManager {
 public:
  // Publishes every stored job's progress to the hub and requeues stored QUEUED jobs.
  JobManager(JobStore* store, ProgressHub* hub, JobManagerOptions options);
  ~JobManager();  // Shutdown().

  void Start();

  // INVALID_ARGUMENT naming the field, NOT_FOUND (dataset, parent checkpoint),
  // RESOURCE_EXHAUSTED (queue full), UNAVAILABLE (shutting down).
  absl::StatusOr<::dogsearch::v1::Job> Submit(const ::dogsearch::v1::StartTrainingRequest& request);
  // NOT_FOUND; FAILED_PRECONDITION when the job already ended. A queued job is cancelled at
  // once; a running one stops between steps (the returned record may still say RUNNING).
  absl::StatusOr<::dogsearch::v1::Job> Cancel(const std::string& id);
  // NOT_FOUND; FAILED_PRECONDITION unless INTERRUPTED; RESOURCE_EXHAUSTED (queue full).
  absl::StatusOr<::dogsearch::v1::Job> Resume(const std::string& id);
  // Stops the running job between steps, recording it INTERRUPTED (resumable); queued jobs stay
  // queued in the store. Idempotent.
  void Shutdown();

  // Called on the training thread after each checkpoint a job publishes (run folder version).
  std::function<void(const ::dogsearch::v1::Job& job, const std::string& checkpoint_dir)>
      on_checkpoint;
  // Called on the training thread when a job SUCCEEDED, with its best checkpoint's directory
  // (the trainer service publishes it to the fleet), before SUCCEEDED is recorded and sent to
  // watchers: whoever sees the job end finds its checkpoint published. Set both hooks before
  // Start().
  std::function<void(const ::dogsearch::v1::Job& job, const std::string& best_checkpoint_dir)>
      on_finished;

 private:
  void Work();
  // Continues from the job's run folder when it holds a saved run state.
  void RunJob(::dogsearch::v1::Job job, std::atomic<bool>* cancel);
  absl::StatusOr<TrainOptions> OptionsFor(const ::dogsearch::v1::Job& job) const;
  // The folder of a checkpoint `version` under the models root ("" for ""); `field` names the
  // config field in errors: INVALID_ARGUMENT (bad name), NOT_FOUND (not a checkpoint).
  absl::StatusOr<std::string> CheckpointFolder(absl::string_view field,
                                               const std::string& version) const;
  void Record(::dogsearch::v1::Job& job);  // Store + hub.

  JobStore* const store_;
  ProgressHub* const hub_;
  const JobManagerOptions options_;

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::string> queue_ ABSL_GUARDED_BY(mu_);  // Job ids, oldest first.
  std::string running_ ABSL_GUARDED_BY(mu_);
  std::atomic<bool> cancel_running_{false};
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread worker_;
};

}  // namespace dogsearch::trainer

#endif  // DOGSEARCH_SERVICES_TRAINER_CORE_JOB_MANAGER_H_
