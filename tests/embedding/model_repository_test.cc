// ModelRepository with a fake loader: states, default switching, failures that change
// nothing, unloading while in use, retiring old versions.
#include "services/embedding/core/model_repository.h"

#include <atomic>

#include "absl/strings/match.h"
#include "gtest/gtest.h"
#include "tests/embedding/fake_model.h"

namespace dogsearch::embedding {
namespace {

// Loads FakeModels; versions starting with "bad" fail with a verification-like error.
ModelLoader FakeLoader(std::atomic<int>* loads = nullptr) {
  return [loads](const std::string& v) -> absl::StatusOr<std::shared_ptr<const EmbeddingModel>> {
    if (loads) ++*loads;
    if (absl::StartsWith(v, "bad")) {
      return absl::FailedPreconditionError("weights SHA-256 does not match the manifest");
    }
    return std::make_shared<FakeModel>(v);
  };
}

TEST(ModelRepositoryTest, FirstReadyModelBecomesDefaultAndServes) {
  ModelRepository repo(FakeLoader(), {});
  EXPECT_EQ(repo.Acquire("").status().code(), absl::StatusCode::kFailedPrecondition);
  ASSERT_TRUE(repo.StartLoad("v1", false).ok());
  auto st = repo.WaitUntilLoaded("v1", absl::Seconds(10));
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->state, ModelState::kReady);
  EXPECT_TRUE(st->is_default);
  EXPECT_TRUE(repo.HasReadyDefault());
  EXPECT_EQ((*repo.Acquire(""))->version(), "v1");
  EXPECT_EQ(repo.StartLoad("v1", false).code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(repo.Acquire("v9").status().code(), absl::StatusCode::kNotFound);
}

TEST(ModelRepositoryTest, FailedLoadIsReportedAndChangesNothingServed) {
  std::atomic<int> changes{0};
  RepositoryOptions o;
  o.on_change = [&] { ++changes; };
  ModelRepository repo(FakeLoader(), o);
  ASSERT_TRUE(repo.StartLoad("v1", true).ok());
  repo.WaitUntilLoaded("v1", absl::Seconds(10)).IgnoreError();
  ASSERT_TRUE(repo.StartLoad("bad-hash", true).ok());
  auto st = repo.WaitUntilLoaded("bad-hash", absl::Seconds(10));
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->state, ModelState::kFailed);
  EXPECT_TRUE(absl::StrContains(st->reason, "SHA-256")) << st->reason;
  EXPECT_EQ(repo.default_version(), "v1");
  EXPECT_EQ(repo.Acquire("bad-hash").status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(repo.SetDefault("bad-hash").code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(repo.StartLoad("bad-hash", false).ok());  // A failed version may be retried.
  EXPECT_GE(changes.load(), 4);
}

TEST(ModelRepositoryTest, SetDefaultSwitchesAndUnloadRefusesTheDefault) {
  ModelRepository repo(FakeLoader(), {});
  ASSERT_TRUE(repo.StartLoad("v1", true).ok());
  ASSERT_TRUE(repo.StartLoad("v2", false).ok());
  repo.WaitUntilLoaded("v2", absl::Seconds(10)).IgnoreError();
  EXPECT_EQ(repo.default_version(), "v1");
  ASSERT_TRUE(repo.SetDefault("v2").ok());
  EXPECT_EQ((*repo.Acquire(""))->version(), "v2");
  EXPECT_EQ(repo.Unload("v2").code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(repo.Unload("v1").ok());
  EXPECT_EQ(repo.Unload("v1").code(), absl::StatusCode::kNotFound);
}

TEST(ModelRepositoryTest, UnloadedModelLivesUntilItsLastUserLetsGo) {
  ModelRepository repo(FakeLoader(), {});
  ASSERT_TRUE(repo.StartLoad("v1", true).ok());
  ASSERT_TRUE(repo.StartLoad("v2", false).ok());
  repo.WaitUntilLoaded("v2", absl::Seconds(10)).IgnoreError();
  std::shared_ptr<const EmbeddingModel> in_flight = *repo.Acquire("v2");
  std::weak_ptr<const EmbeddingModel> watch = in_flight;
  ASSERT_TRUE(repo.Unload("v2").ok());
  EXPECT_FALSE(watch.expired());  // A running batch still holds it.
  EXPECT_EQ(in_flight->version(), "v2");
  in_flight.reset();
  EXPECT_TRUE(watch.expired());  // Freed with the last reference.
}

TEST(ModelRepositoryTest, LoadingPastTheLimitRetiresTheOldestNonDefault) {
  RepositoryOptions o;
  o.max_loaded = 2;
  ModelRepository repo(FakeLoader(), o);
  for (const char* v : {"v1", "v2", "v3"}) {
    ASSERT_TRUE(repo.StartLoad(v, false).ok());
    repo.WaitUntilLoaded(v, absl::Seconds(10)).IgnoreError();
  }
  EXPECT_EQ(repo.default_version(), "v1");
  EXPECT_TRUE(repo.Acquire("v1").ok());
  EXPECT_EQ(repo.Acquire("v2").status().code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(repo.Acquire("v3").ok());
}

TEST(ModelRepositoryTest, BadVersionNamesAreRefused) {
  ModelRepository repo(FakeLoader(), {});
  EXPECT_EQ(repo.StartLoad("../etc", false).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(repo.StartLoad("", false).code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace dogsearch::embedding
