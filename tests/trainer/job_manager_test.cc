// JobManager on generated dogs: a job runs to SUCCEEDED with progress for watchers and a durable
// record; bad requests are refused before queueing; the queue is bounded; cancel works queued
// and running; shutdown interrupts, and a new manager resumes the job to completion.
#include "services/trainer/core/job_manager.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "common/torch_model/checkpoint.h"
#include "tests/testing/temp_dir.h"
#include "tests/trainer/synthetic_dogs.h"

namespace dogsearch::trainer {
namespace {

class JobManagerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    testing::WriteSyntheticDogs(dir_.File("data/dogs"), 16, 5, 32, 1);
    std::filesystem::create_directories(dir_.File("models"));
    options_.data_root = dir_.File("data");
    options_.runs_dir = dir_.File("runs");
    options_.models_root = dir_.File("models");
    options_.threads = 2;
    options_.max_queued = 2;
    Reopen();
  }
  void Reopen() {
    manager_.reset();
    store_ = *JobStore::Open(dir_.File("jobs"));
    hub_ = std::make_unique<ProgressHub>();
    manager_ = std::make_unique<JobManager>(store_.get(), hub_.get(), options_);
  }
  v1::StartTrainingRequest Request(uint32_t epochs) {
    v1::StartTrainingRequest r;
    *r.mutable_config() = testing::TinyTrainingConfig("dogs", epochs);
    r.set_label("test");
    return r;
  }
  // Follows the job through the hub until a final state; returns it.
  v1::JobProgress WaitFinal(const std::string& id, std::vector<v1::JobProgress>* seen = nullptr) {
    uint64_t version = 0;
    for (;;) {
      auto s = hub_->WaitNewer(id, version, absl::Seconds(120));
      if (!s.ok()) return v1::JobProgress();
      version = s->version;
      if (seen != nullptr) seen->push_back(s->progress);
      if (IsFinalState(s->progress.state())) return s->progress;
    }
  }
  // Waits until the job has published a checkpoint.
  bool WaitCheckpoint(const std::string& id) {
    uint64_t version = 0;
    for (int i = 0; i < 2000; ++i) {
      auto s = hub_->WaitNewer(id, version, absl::Seconds(60));
      if (!s.ok()) return false;
      version = s->version;
      if (!s->progress.last_checkpoint_version().empty()) return true;
    }
    return false;
  }

  testing::TempDir dir_;
  JobManagerOptions options_;
  std::unique_ptr<JobStore> store_;
  std::unique_ptr<ProgressHub> hub_;
  std::unique_ptr<JobManager> manager_;
};

TEST_F(JobManagerTest, RunsAJobToSuccessWithProgressAndARecord) {
  std::vector<std::string> checkpoints;
  manager_->on_checkpoint = [&](const v1::Job&, const std::string& dir) {
    checkpoints.push_back(dir);
  };
  manager_->Start();
  absl::StatusOr<v1::Job> job = manager_->Submit(Request(3));
  ASSERT_TRUE(job.ok()) << job.status();
  EXPECT_EQ(job->progress().state(), v1::JOB_STATE_QUEUED);
  std::vector<v1::JobProgress> seen;
  const v1::JobProgress final = WaitFinal(job->id(), &seen);
  ASSERT_EQ(final.state(), v1::JOB_STATE_SUCCEEDED) << final.state_reason();
  EXPECT_EQ(final.step(), 9u);
  EXPECT_EQ(final.total_steps(), 9u);
  EXPECT_EQ(final.epoch(), 3u);
  EXPECT_GT(final.photos_per_second(), 0);
  EXPECT_GT(final.validation().roc_auc(), 0);
  EXPECT_FALSE(final.best_checkpoint_version().empty());
  EXPECT_EQ(checkpoints.size(), 3u);
  EXPECT_TRUE(model::LoadCheckpoint(checkpoints.back()).ok());
  bool saw_running = false;
  for (const v1::JobProgress& p : seen) saw_running |= p.state() == v1::JOB_STATE_RUNNING;
  EXPECT_TRUE(saw_running);
  const v1::Job stored = *store_->Get(job->id());
  EXPECT_EQ(stored.progress().state(), v1::JOB_STATE_SUCCEEDED);
  EXPECT_GT(stored.finished_unix_seconds(), 0);
  EXPECT_EQ(stored.label(), "test");
}

TEST_F(JobManagerTest, RefusesBadRequestsBeforeQueueing) {
  v1::StartTrainingRequest r = Request(1);
  r.mutable_config()->set_dataset("../outside");
  EXPECT_EQ(manager_->Submit(r).status().code(), absl::StatusCode::kInvalidArgument);
  r = Request(1);
  r.mutable_config()->set_dataset("missing");
  EXPECT_EQ(manager_->Submit(r).status().code(), absl::StatusCode::kNotFound);
  r = Request(1);
  r.mutable_config()->set_identities_per_batch(1);
  absl::Status s = manager_->Submit(r).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("identities_per_batch"), std::string::npos) << s;
  r = Request(1);
  r.mutable_config()->set_parent_version("nope");
  EXPECT_EQ(manager_->Submit(r).status().code(), absl::StatusCode::kNotFound);
  r = Request(1);
  r.mutable_config()->set_teacher_version("nope");
  r.mutable_config()->set_distill_weight(1);
  s = manager_->Submit(r).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound);
  EXPECT_NE(s.message().find("teacher_version 'nope'"), std::string::npos) << s;
  r.mutable_config()->set_teacher_version("../x");
  s = manager_->Submit(r).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("teacher_version"), std::string::npos) << s;
  r = Request(1);
  r.mutable_config()->set_distill_weight(1);  // No teacher.
  s = manager_->Submit(r).status();
  EXPECT_NE(s.message().find("distill_weight needs a teacher"), std::string::npos) << s;
  EXPECT_TRUE(store_->List().empty()) << "nothing refused was recorded";
}

TEST_F(JobManagerTest, BoundedQueueAndCancelQueuedAndRunning) {
  manager_->Start();
  absl::StatusOr<v1::Job> a = manager_->Submit(Request(100000));
  ASSERT_TRUE(a.ok());
  ASSERT_TRUE(WaitCheckpoint(a->id()));  // A is running.
  absl::StatusOr<v1::Job> b = manager_->Submit(Request(1));
  absl::StatusOr<v1::Job> c = manager_->Submit(Request(1));
  ASSERT_TRUE(b.ok() && c.ok());
  EXPECT_EQ(manager_->Submit(Request(1)).status().code(), absl::StatusCode::kResourceExhausted);
  absl::StatusOr<v1::Job> cb = manager_->Cancel(b->id());
  ASSERT_TRUE(cb.ok());
  EXPECT_EQ(cb->progress().state(), v1::JOB_STATE_CANCELLED);
  EXPECT_EQ(manager_->Cancel(b->id()).status().code(), absl::StatusCode::kFailedPrecondition);
  ASSERT_TRUE(manager_->Cancel(a->id()).ok());
  const v1::JobProgress fa = WaitFinal(a->id());
  EXPECT_EQ(fa.state(), v1::JOB_STATE_CANCELLED);
  EXPECT_FALSE(fa.last_checkpoint_version().empty());
  EXPECT_EQ(WaitFinal(c->id()).state(), v1::JOB_STATE_SUCCEEDED);  // The queue moved on.
  EXPECT_EQ(manager_->Cancel("job-none").status().code(), absl::StatusCode::kNotFound);
}

TEST_F(JobManagerTest, ShutdownInterruptsAndANewManagerResumesToCompletion) {
  manager_->Start();
  absl::StatusOr<v1::Job> job = manager_->Submit(Request(40));  // 120 steps.
  ASSERT_TRUE(job.ok());
  ASSERT_TRUE(WaitCheckpoint(job->id()));
  manager_->Shutdown();
  EXPECT_EQ(store_->Get(job->id())->progress().state(), v1::JOB_STATE_INTERRUPTED);
  Reopen();
  EXPECT_EQ(manager_->Resume("job-none").status().code(), absl::StatusCode::kNotFound);
  manager_->Start();
  absl::StatusOr<v1::Job> resumed = manager_->Resume(job->id());
  ASSERT_TRUE(resumed.ok()) << resumed.status();
  const v1::JobProgress final = WaitFinal(job->id());
  ASSERT_EQ(final.state(), v1::JOB_STATE_SUCCEEDED) << final.state_reason();
  EXPECT_EQ(final.step(), 120u);
  EXPECT_EQ(manager_->Resume(job->id()).status().code(), absl::StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace dogsearch::trainer
