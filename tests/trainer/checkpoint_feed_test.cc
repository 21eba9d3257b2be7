// CheckpointFeed: atomic publication into the models root, promotion, the event feed with
// catch-up, and recovery of both from disk after a restart.
#include "services/trainer/core/checkpoint_feed.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <thread>

#include "common/model/checkpoint_manifest.h"
#include "tests/testing/temp_dir.h"

namespace dogsearch::trainer {
namespace {
namespace fs = std::filesystem;

// A checkpoint directory as the training loop leaves it (manifest + weights bytes).
std::string FakeCheckpoint(const testing::TempDir& dir, const std::string& version, int64_t created,
                           double accuracy) {
  model::CheckpointManifest m;
  m.version = version;
  m.weights_sha256 = std::string(64, 'a');
  m.weights_bytes = 5;
  m.created_unix_seconds = created;
  m.metrics.verification_accuracy = accuracy;
  const std::string path = dir.File("run/" + version);
  fs::create_directories(path);
  testing::WriteAll(path + "/manifest.json", model::ManifestToJson(m));
  testing::WriteAll(path + "/weights.pt", "bytes");
  return path;
}

TEST(CheckpointFeedTest, PublishesAtomicallyPromotesAndFeedsWatchers) {
  testing::TempDir dir;
  auto feed = CheckpointFeed::Open(dir.File("models"));
  ASSERT_TRUE(feed.ok()) << feed.status();
  size_t next = 0;
  EXPECT_TRUE((*feed)->Wait(0, &next, absl::Milliseconds(10))->empty());

  const std::string src = FakeCheckpoint(dir, "job-1-abc-s30", 100, 0.9);
  absl::StatusOr<v1::CheckpointInfo> info = (*feed)->Publish(src, "job-1-abc");
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->manifest().version(), "job-1-abc-s30");
  EXPECT_EQ(info->job_id(), "job-1-abc");
  EXPECT_EQ(testing::ReadAll(dir.File("models/job-1-abc-s30/weights.pt")), "bytes");
  EXPECT_EQ((*feed)->Publish(src, "job-1-abc").status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ((*feed)->Publish(dir.File("nowhere"), "x").status().code(),
            absl::StatusCode::kFailedPrecondition);
  for (const auto& e : fs::directory_iterator(dir.File("models"))) {
    EXPECT_NE(e.path().filename().string()[0], '.') << "temporary left behind";
  }

  std::vector<v1::CheckpointEvent> events = *(*feed)->Wait(0, &next, absl::Seconds(1));
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].kind(), v1::CheckpointEvent::KIND_PUBLISHED);
  EXPECT_EQ(next, 1u);

  // A watcher blocked in Wait is woken by a promotion.
  std::thread watcher([&] {
    size_t n2 = 0;
    auto got = (*feed)->Wait(1, &n2, absl::Seconds(10));
    ASSERT_TRUE(got.ok());
    ASSERT_EQ(got->size(), 1u);
    EXPECT_EQ((*got)[0].kind(), v1::CheckpointEvent::KIND_PROMOTED);
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  ASSERT_TRUE((*feed)->Promote("job-1-abc-s30").ok());
  watcher.join();
  EXPECT_EQ((*feed)->promoted(), "job-1-abc-s30");
  EXPECT_DOUBLE_EQ((*feed)->promoted_accuracy(), 0.9);
  EXPECT_EQ((*feed)->Promote("job-9-s1").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ((*feed)->Promote("../x").status().code(), absl::StatusCode::kInvalidArgument);
  const std::vector<v1::CheckpointInfo> list = (*feed)->List("");
  ASSERT_EQ(list.size(), 1u);
  EXPECT_TRUE(list[0].promoted());
  EXPECT_TRUE((*feed)->List("job-other").empty());
}

// A checkpoint with score normalisation is published with its cohort file; one whose cohort
// file is missing is refused and leaves nothing behind.
TEST(CheckpointFeedTest, PublishesTheScoreNormalisationCohortWithTheWeights) {
  testing::TempDir dir;
  auto feed = CheckpointFeed::Open(dir.File("models"));
  ASSERT_TRUE(feed.ok()) << feed.status();
  const std::string src = FakeCheckpoint(dir, "job-1-abc-s30", 100, 0.9);
  model::CheckpointManifest m = *model::ReadManifest(src);
  m.score_norm = model::ScoreNorm{"cohort.bin", std::string(64, 'c'), 6};
  testing::WriteAll(src + "/manifest.json", model::ManifestToJson(m));
  testing::WriteAll(src + "/cohort.bin", "cohort");
  ASSERT_TRUE((*feed)->Publish(src, "job-1-abc").ok());
  EXPECT_EQ(testing::ReadAll(dir.File("models/job-1-abc-s30/cohort.bin")), "cohort");

  const std::string lacking = FakeCheckpoint(dir, "job-2-def-s30", 100, 0.9);
  m.version = "job-2-def-s30";
  testing::WriteAll(lacking + "/manifest.json", model::ManifestToJson(m));
  EXPECT_FALSE((*feed)->Publish(lacking, "job-2-def").ok());
  EXPECT_FALSE(fs::exists(dir.File("models/job-2-def-s30")));
}

TEST(CheckpointFeedTest, RebuildsFromDiskAndCatchesUpByTime) {
  testing::TempDir dir;
  {
    auto feed = *CheckpointFeed::Open(dir.File("models"));
    ASSERT_TRUE(feed->Publish(FakeCheckpoint(dir, "job-1-a-s10", 100, 0.8), "job-1-a").ok());
    ASSERT_TRUE(feed->Publish(FakeCheckpoint(dir, "job-2-b-s20", 200, 0.85), "job-2-b").ok());
    ASSERT_TRUE(feed->Promote("job-2-b-s20").ok());
  }
  fs::create_directories(dir.File("models/.tmp-job-3-c-s5-1234"));  // A crashed publish.
  auto feed = *CheckpointFeed::Open(dir.File("models"));
  EXPECT_EQ(feed->promoted(), "job-2-b-s20");
  const std::vector<v1::CheckpointInfo> list = feed->List("");
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(list[0].manifest().version(), "job-1-a-s10");  // Oldest first (created time).
  EXPECT_EQ(list[1].job_id(), "job-2-b");
  EXPECT_EQ(feed->FirstAfter(0), 0u);
  EXPECT_EQ(feed->FirstAfter(150), 1u);  // Published at their creation times: 100, 200.
  size_t next = 0;
  const auto events = *feed->Wait(feed->FirstAfter(150), &next, absl::Seconds(1));
  ASSERT_EQ(events.size(), 2u);  // job-2's publication and its promotion.
  EXPECT_EQ(events[1].kind(), v1::CheckpointEvent::KIND_PROMOTED);
  feed->Close();
  EXPECT_EQ(feed->Wait(next, &next, absl::Seconds(10)).status().code(),
            absl::StatusCode::kUnavailable);
}

TEST(CheckpointFeedTest, JobOfVersion) {
  EXPECT_EQ(JobOfVersion("job-17-ab12-s300"), "job-17-ab12");
  EXPECT_EQ(JobOfVersion("dfn-resnet96-s12810"), "");
}

}  // namespace
}  // namespace dogsearch::trainer
