// Trainer service state: durable job records (restart turns RUNNING into INTERRUPTED),
// progress fan-out to watchers (late joiners get the current state first), and confinement of
// dataset paths to the data root.
#include <gtest/gtest.h>

#include <filesystem>
#include <thread>

#include "services/trainer/core/data_root.h"
#include "services/trainer/core/job_store.h"
#include "services/trainer/core/progress_hub.h"
#include "tests/testing/temp_dir.h"

namespace dogsearch::trainer {
namespace {
namespace fs = std::filesystem;

v1::Job MakeJob(const std::string& id, v1::JobState state, int64_t created) {
  v1::Job j;
  j.set_id(id);
  j.set_label("label " + id);
  j.set_created_unix_seconds(created);
  j.mutable_config()->set_dataset("dogs");
  j.mutable_config()->set_identities_per_batch(16);
  j.mutable_progress()->set_job_id(id);
  j.mutable_progress()->set_state(state);
  j.mutable_progress()->set_step(42);
  return j;
}

TEST(JobStoreTest, RecordsSurviveReopenAndRunningBecomesInterrupted) {
  testing::TempDir dir;
  {
    auto store = JobStore::Open(dir.path());
    ASSERT_TRUE(store.ok()) << store.status();
    ASSERT_TRUE((*store)->Put(MakeJob("a", v1::JOB_STATE_SUCCEEDED, 10)).ok());
    ASSERT_TRUE((*store)->Put(MakeJob("b", v1::JOB_STATE_RUNNING, 20)).ok());
    ASSERT_TRUE((*store)->Put(MakeJob("c", v1::JOB_STATE_QUEUED, 30)).ok());
    v1::Job b = *(*store)->Get("b");
    b.mutable_progress()->set_step(43);  // Replaced, not appended.
    ASSERT_TRUE((*store)->Put(b).ok());
  }  // "Crash": nothing else is written.
  auto store = JobStore::Open(dir.path());
  ASSERT_TRUE(store.ok());
  EXPECT_EQ((*store)->interrupted_at_open(), std::vector<std::string>{"b"});
  const v1::Job b = *(*store)->Get("b");
  EXPECT_EQ(b.progress().state(), v1::JOB_STATE_INTERRUPTED);
  EXPECT_NE(b.progress().state_reason().find("ResumeJob"), std::string::npos);
  EXPECT_EQ(b.progress().step(), 43u);
  EXPECT_EQ(b.config().identities_per_batch(), 16u);
  EXPECT_EQ((*store)->Get("c")->progress().state(), v1::JOB_STATE_QUEUED);
  const std::vector<v1::Job> all = (*store)->List();
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[0].id(), "c");  // Newest first.
  EXPECT_EQ(all[2].id(), "a");
  // The interruption itself was persisted.
  auto again = JobStore::Open(dir.path());
  EXPECT_EQ((*again)->Get("b")->progress().state(), v1::JOB_STATE_INTERRUPTED);
  EXPECT_TRUE((*again)->interrupted_at_open().empty());
}

TEST(JobStoreTest, BadRecordsAndIdsAreRefusedNotFatal) {
  testing::TempDir dir;
  testing::WriteAll(dir.File("junk.json"), "{not json");
  testing::WriteAll(dir.File("x.json"), R"({"id": "y"})");  // Id does not match the file.
  auto store = JobStore::Open(dir.path());
  ASSERT_TRUE(store.ok());
  EXPECT_TRUE((*store)->List().empty());
  EXPECT_EQ((*store)->Put(MakeJob("../evil", v1::JOB_STATE_QUEUED, 1)).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ((*store)->Get("nope").status().code(), absl::StatusCode::kNotFound);
  const std::string id1 = (*store)->NewId();
  EXPECT_EQ(id1.rfind("job-", 0), 0u);
  ASSERT_TRUE((*store)->Put(MakeJob(id1, v1::JOB_STATE_QUEUED, 1)).ok());
  EXPECT_NE((*store)->NewId(), id1);
}

TEST(ProgressHubTest, WatchersSeeCurrentStateFirstThenChangesToTheFinalOne) {
  ProgressHub hub;
  v1::JobProgress p;
  p.set_job_id("j");
  p.set_state(v1::JOB_STATE_RUNNING);
  p.set_step(1);
  hub.Publish(p);
  EXPECT_EQ(hub.WaitNewer("nope", 0, absl::Milliseconds(1)).status().code(),
            absl::StatusCode::kNotFound);
  // Two watchers, one joining late; both end with the final state.
  std::vector<uint64_t> seen_early, seen_late;
  auto watch = [&hub](std::vector<uint64_t>* seen) {
    uint64_t version = 0;
    for (;;) {
      auto s = hub.WaitNewer("j", version, absl::Seconds(10));
      if (!s.ok()) return;
      version = s->version;
      seen->push_back(s->progress.step());
      if (IsFinalState(s->progress.state())) return;
    }
  };
  std::thread early(watch, &seen_early);
  for (int step = 2; step <= 50; ++step) {
    p.set_step(step);
    hub.Publish(p);
  }
  std::thread late(watch, &seen_late);
  p.set_step(51);
  p.set_state(v1::JOB_STATE_SUCCEEDED);
  hub.Publish(p);
  early.join();
  late.join();
  ASSERT_FALSE(seen_early.empty());
  ASSERT_FALSE(seen_late.empty());
  EXPECT_EQ(seen_early.back(), 51u);
  EXPECT_EQ(seen_late.back(), 51u);
  EXPECT_TRUE(std::is_sorted(seen_early.begin(), seen_early.end()));
  EXPECT_GE(seen_late.front(), 50u);  // Joined late: starts at the current state.
}

TEST(ProgressHubTest, TimeoutAndCloseWakeWaiters) {
  ProgressHub hub;
  v1::JobProgress p;
  p.set_job_id("j");
  hub.Publish(p);
  EXPECT_EQ(hub.WaitNewer("j", 1, absl::Milliseconds(20)).status().code(),
            absl::StatusCode::kDeadlineExceeded);
  std::thread closer([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    hub.Close();
  });
  EXPECT_EQ(hub.WaitNewer("j", 1, absl::Seconds(30)).status().code(),
            absl::StatusCode::kUnavailable);
  closer.join();
}

TEST(ProgressHubTest, KeepsTrainingGaugesAndCountsEachFinishedJobOnce) {
  metrics::MetricsRegistry registry;
  ProgressHub hub(&registry);
  // What a Prometheus scrape reads: the value on the series' line (-1 when absent).
  auto value = [&](const std::string& series) {
    const std::string text = registry.RenderText();
    const size_t at = text.find("\n" + series + " ");
    return at == std::string::npos ? -1.0 : std::stod(text.substr(at + series.size() + 2));
  };
  auto gauge = [&](const char* name) { return value(name); };
  auto finished = [&](const char* state) {
    return value(std::string("dogsearch_trainer_jobs_finished_total{state=\"") + state + "\"}");
  };
  v1::JobProgress p;
  p.set_job_id("a");
  p.set_state(v1::JOB_STATE_RUNNING);
  p.set_epoch(2);
  p.set_step(40);
  p.set_steps_per_second(3.5);
  p.set_photos_per_second(224);
  p.mutable_last_step()->set_loss(0.31);
  hub.Publish(p);
  v1::JobProgress other = p;
  other.set_job_id("b");
  hub.Publish(other);
  EXPECT_EQ(gauge("dogsearch_trainer_jobs_running"), 2);
  EXPECT_EQ(gauge("dogsearch_trainer_step"), 40);
  EXPECT_EQ(gauge("dogsearch_trainer_epoch"), 2);
  EXPECT_DOUBLE_EQ(gauge("dogsearch_trainer_steps_per_second"), 3.5);
  EXPECT_DOUBLE_EQ(gauge("dogsearch_trainer_photos_per_second"), 224);
  EXPECT_DOUBLE_EQ(gauge("dogsearch_trainer_loss"), 0.31);

  p.set_state(v1::JOB_STATE_SUCCEEDED);
  p.set_step(90);
  p.mutable_validation()->set_rank1(0.62);
  hub.Publish(p);
  hub.Publish(p);  // A repeated final state is not a second finish.
  other.set_state(v1::JOB_STATE_FAILED);
  hub.Publish(other);
  EXPECT_EQ(gauge("dogsearch_trainer_jobs_running"), 0);
  EXPECT_EQ(gauge("dogsearch_trainer_step"), 40);  // b reported last.
  EXPECT_DOUBLE_EQ(gauge("dogsearch_trainer_validation_rank1"), 0.62);
  EXPECT_EQ(finished("JOB_STATE_SUCCEEDED"), 1);
  EXPECT_EQ(finished("JOB_STATE_FAILED"), 1);

  p.set_state(v1::JOB_STATE_RUNNING);  // Resumed (as after INTERRUPTED), then done again.
  hub.Publish(p);
  p.set_state(v1::JOB_STATE_SUCCEEDED);
  hub.Publish(p);
  EXPECT_EQ(finished("JOB_STATE_SUCCEEDED"), 2);
}

TEST(DataRootTest, DatasetsStayInsideTheRoot) {
  testing::TempDir dir;
  fs::create_directories(dir.File("root/dogs/a"));
  fs::create_directories(dir.File("outside"));
  fs::create_symlink(dir.File("outside"), dir.File("root/link_out"));
  fs::create_symlink(dir.File("root/dogs"), dir.File("root/link_in"));
  const std::string root = dir.File("root");
  auto ok = ResolveDataset(root, "dogs");
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ(*ok, fs::canonical(dir.File("root/dogs")).string());
  EXPECT_TRUE(ResolveDataset(root, "link_in").ok());
  EXPECT_TRUE(ResolveDataset(root, "dogs/a").ok());
  for (const char* bad : {"", "/etc", "../outside", "dogs/../../outside", "link_out"}) {
    absl::Status s = ResolveDataset(root, bad).status();
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << bad << " " << s;
    EXPECT_NE(s.message().find("dataset"), std::string::npos) << s;
  }
  EXPECT_EQ(ResolveDataset(root, "missing").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(ResolveDataset(dir.File("no_root"), "dogs").status().code(),
            absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace dogsearch::trainer
