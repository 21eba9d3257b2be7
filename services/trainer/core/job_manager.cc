#include "services/trainer/core/job_manager.h"

#include <algorithm>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/base/log.h"
#include "common/base/status_macros.h"
#include "common/model/checkpoint_manifest.h"
#include "common/model/model_spec_proto.h"
#include "services/trainer/core/data_root.h"
#include "services/trainer/core/run_state.h"
#include "services/trainer/core/trainer.h"

namespace dogsearch::trainer {
namespace fs = std::filesystem;
namespace {

int64_t NowSeconds() { return absl::ToUnixSeconds(absl::Now()); }

// Turns the library's reports into the job's progress.
class JobObserver : public TrainingObserver {
 public:
  JobObserver(v1::Job* job, std::function<void(bool persist)> record,
              std::function<void(const std::string&)> on_checkpoint, uint32_t epochs)
      : job_(job),
        record_(std::move(record)),
        on_checkpoint_(std::move(on_checkpoint)),
        epochs_(epochs) {}
  void OnStart(uint32_t, uint32_t, uint32_t, uint32_t, uint32_t batches_per_epoch) override {
    job_->mutable_progress()->set_total_steps(uint64_t{epochs_} * batches_per_epoch);
  }
  void OnStep(const StepReport& r) override {
    v1::JobProgress* p = job_->mutable_progress();
    p->set_epoch(r.epoch + 1);
    p->set_step(r.step);
    p->set_photos_per_second(r.images_per_second);
    p->set_steps_per_second(r.step_seconds > 0 ? 1.0 / r.step_seconds : 0);
    p->set_eta_seconds(r.eta_seconds);
    p->set_elapsed_seconds(r.elapsed_seconds);
    v1::StepStats* s = p->mutable_last_step();
    s->set_loss(r.loss);
    s->set_active_triplet_fraction(r.active_fraction);
    s->set_mean_positive_distance(r.mean_positive);
    s->set_mean_negative_distance(r.mean_negative);
    s->set_learning_rate(r.learning_rate);
    record_(false);
  }
  void OnEpoch(const EpochReport& r) override {
    v1::JobProgress* p = job_->mutable_progress();
    if (r.validated) model::ToProto(r.metrics, p->mutable_validation());
    if (r.best) {
      model::ToProto(r.metrics, p->mutable_best_validation());
      p->set_best_checkpoint_version(r.checkpoint_version);
    }
    p->set_last_checkpoint_version(r.checkpoint_version);
    record_(true);
    if (!r.checkpoint_version.empty()) on_checkpoint_(r.checkpoint_version);
  }

 private:
  v1::Job* job_;
  std::function<void(bool)> record_;
  std::function<void(const std::string&)> on_checkpoint_;
  uint32_t epochs_;
};

}  // namespace

JobManager::JobManager(JobStore* store, ProgressHub* hub, JobManagerOptions options)
    : store_(store), hub_(hub), options_(std::move(options)) {
  std::vector<v1::Job> jobs = store_->List();
  for (auto it = jobs.rbegin(); it != jobs.rend(); ++it) {  // Oldest first.
    hub_->Publish(it->progress());
    if (it->progress().state() == v1::JOB_STATE_QUEUED) queue_.push_back(it->id());
  }
}

JobManager::~JobManager() { Shutdown(); }

void JobManager::Start() {
  std::lock_guard<std::mutex> lock(mu_);
  if (!worker_.joinable() && !stopping_) worker_ = std::thread([this] { Work(); });
}

void JobManager::Shutdown() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
    cancel_running_.store(true);  // The running job stops between steps, INTERRUPTED.
  }
  cv_.notify_all();
  if (worker_.joinable()) worker_.join();
}

void JobManager::Record(v1::Job& job) {
  if (absl::Status s = store_->Put(job); !s.ok()) {
    DS_LOG(kError, "job_record_failed").Kv("job", job.id()).Kv("reason", s);
  }
  hub_->Publish(job.progress());
}

absl::StatusOr<std::string> JobManager::CheckpointFolder(absl::string_view field,
                                                         const std::string& version) const {
  if (version.empty()) return std::string();
  if (absl::Status s = model::ValidateVersionName(version); !s.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(field, ": ", s.message()));
  }
  std::string dir = options_.models_root + "/" + version;
  if (!model::ReadManifest(dir).ok()) {
    return absl::NotFoundError(absl::StrCat(field, " '", version, "' is not a checkpoint"));
  }
  return dir;
}

absl::StatusOr<TrainOptions> JobManager::OptionsFor(const v1::Job& job) const {
  TrainOptions o;
  if (absl::Status s = FromProto(job.config(), &o); !s.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("model: ", s.message()));
  }
  absl::StatusOr<std::string> data = ResolveDataset(options_.data_root, job.config().dataset());
  if (!data.ok()) return data.status();
  o.data_dir = *data;
  o.output_dir = options_.runs_dir + "/" + job.id();
  o.run_name = job.id();
  o.device = options_.device;
  if (o.threads == 0) o.threads = options_.threads;
  DS_ASSIGN_OR_RETURN(o.parent_checkpoint,
                      CheckpointFolder("parent_version", job.config().parent_version()));
  DS_ASSIGN_OR_RETURN(o.teacher_checkpoint,
                      CheckpointFolder("teacher_version", job.config().teacher_version()));
  if (absl::Status s = ValidateTrainOptions(o); !s.ok()) return s;
  return o;
}

absl::StatusOr<v1::Job> JobManager::Submit(const v1::StartTrainingRequest& request) {
  if (request.label().size() > 128)
    return absl::InvalidArgumentError("label: longer than 128 bytes");
  v1::Job job;
  job.set_id(store_->NewId());
  job.set_label(request.label());
  *job.mutable_config() = request.config();
  job.set_auto_promote(request.auto_promote());
  job.set_created_unix_seconds(NowSeconds());
  absl::StatusOr<TrainOptions> o = OptionsFor(job);
  if (!o.ok()) return o.status();
  job.mutable_progress()->set_job_id(job.id());
  job.mutable_progress()->set_state(v1::JOB_STATE_QUEUED);
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return absl::UnavailableError("trainer shutting down");
    if (queue_.size() >= options_.max_queued) {
      return absl::ResourceExhaustedError(
          absl::StrCat("the queue is full (", options_.max_queued, " jobs waiting)"));
    }
    if (absl::Status s = store_->Put(job); !s.ok()) return s;
    queue_.push_back(job.id());
  }
  hub_->Publish(job.progress());
  cv_.notify_all();
  return job;
}

absl::StatusOr<v1::Job> JobManager::Cancel(const std::string& id) {
  absl::StatusOr<v1::Job> job = store_->Get(id);
  if (!job.ok()) return job.status();
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (running_ == id) {
      cancel_running_.store(true);
      return job;
    }
    auto it = std::find(queue_.begin(), queue_.end(), id);
    if (it == queue_.end()) {
      return absl::FailedPreconditionError(absl::StrCat("job ", id, " is not queued or running"));
    }
    queue_.erase(it);
  }
  job->mutable_progress()->set_state(v1::JOB_STATE_CANCELLED);
  job->mutable_progress()->set_state_reason("cancelled while queued");
  job->set_finished_unix_seconds(NowSeconds());
  Record(*job);
  return job;
}

absl::StatusOr<v1::Job> JobManager::Resume(const std::string& id) {
  absl::StatusOr<v1::Job> job = store_->Get(id);
  if (!job.ok()) return job.status();
  if (job->progress().state() != v1::JOB_STATE_INTERRUPTED) {
    return absl::FailedPreconditionError(absl::StrCat("job ", id, " is not interrupted"));
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return absl::UnavailableError("trainer shutting down");
    if (queue_.size() >= options_.max_queued) {
      return absl::ResourceExhaustedError("the queue is full");
    }
    queue_.push_back(id);
  }
  job->mutable_progress()->set_state(v1::JOB_STATE_QUEUED);
  job->mutable_progress()->set_state_reason("resumed");
  Record(*job);
  cv_.notify_all();
  return job;
}

void JobManager::Work() {
  for (;;) {
    std::string next;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (stopping_) return;
      next = queue_.front();
      queue_.pop_front();
      running_ = next;
      cancel_running_.store(false);
    }
    absl::StatusOr<v1::Job> job = store_->Get(next);
    if (job.ok()) RunJob(*job, &cancel_running_);
    std::lock_guard<std::mutex> lock(mu_);
    running_.clear();
  }
}

void JobManager::RunJob(v1::Job job, std::atomic<bool>* cancel) {
  v1::JobProgress* p = job.mutable_progress();
  absl::StatusOr<TrainOptions> o = OptionsFor(job);
  if (!o.ok()) {
    p->set_state(v1::JOB_STATE_FAILED);
    p->set_state_reason(std::string(o.status().message()));
    job.set_finished_unix_seconds(NowSeconds());
    Record(job);
    return;
  }
  // Continue from the run folder's last checkpoint whenever it has one (a resumed job, or a
  // queued one whose earlier run was cut short); otherwise start over cleanly.
  o->resume = LoadRunState(o->output_dir).ok();
  if (!o->resume) {
    std::error_code ec;
    fs::remove_all(o->output_dir, ec);
  }
  p->set_state(v1::JOB_STATE_RUNNING);
  p->set_state_reason("");
  if (job.started_unix_seconds() == 0) job.set_started_unix_seconds(NowSeconds());
  Record(job);
  JobObserver observer(
      &job,
      [&](bool persist) {
        if (persist) {
          Record(job);
        } else {
          hub_->Publish(job.progress());
        }
      },
      [&](const std::string& version) {
        if (on_checkpoint) on_checkpoint(job, CheckpointRoot(o->output_dir) + "/" + version);
      },
      o->epochs);
  absl::StatusOr<TrainResult> r = Train(*o, &observer, cancel);
  bool shutting_down;
  {
    std::lock_guard<std::mutex> lock(mu_);
    shutting_down = stopping_;
  }
  if (!r.ok()) {
    p->set_state(v1::JOB_STATE_FAILED);
    p->set_state_reason(std::string(r.status().message()));
  } else if (r->cancelled) {
    p->set_state(shutting_down ? v1::JOB_STATE_INTERRUPTED : v1::JOB_STATE_CANCELLED);
    p->set_state_reason(shutting_down ? "the trainer shut down; ResumeJob continues it"
                                      : "cancelled; the last checkpoint is kept");
  } else {
    p->set_state(v1::JOB_STATE_SUCCEEDED);
  }
  if (p->state() != v1::JOB_STATE_INTERRUPTED) job.set_finished_unix_seconds(NowSeconds());
  // Publish before announcing SUCCEEDED: a client that watches the job to its end and then
  // lists (or promotes) the checkpoints must find the new one there.
  if (p->state() == v1::JOB_STATE_SUCCEEDED && on_finished && !r->best_version.empty()) {
    on_finished(job, CheckpointRoot(o->output_dir) + "/" + r->best_version);
  }
  Record(job);
  DS_LOG(kInfo, "job_finished").Kv("job", job.id()).Kv("state", v1::JobState_Name(p->state()));
}

}  // namespace dogsearch::trainer
