// The embedding_server binary as a user runs it: it loads the newest checkpoint in its model
// directory, reports SERVING, embeds a photo, picks up a new checkpoint dropped into the
// directory, and exits cleanly on SIGTERM.
#include <grpcpp/grpcpp.h>
#include <signal.h>
#include <sys/wait.h>

#include "absl/strings/str_cat.h"
#include "common/rpc/channel.h"
#include "dogsearch/v1/embedding.grpc.pb.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "gtest/gtest.h"
#include "tests/testing/eventually.h"
#include "tests/testing/random_checkpoints.h"
#include "tests/testing/subprocess.h"
#include "tests/testing/temp_dir.h"
#include "tests/testing/test_images.h"

namespace dogsearch::embedding {
namespace {

void Publish(const std::string& root, const std::string& version, int64_t created) {
  ASSERT_TRUE(testing::PublishRandomCheckpoint(root, version, created).ok());
}

TEST(EmbeddingServerTest, ServesTheNewestCheckpointWatchesForNewOnesAndStopsOnSigterm) {
  testing::TempDir dir;
  Publish(dir.path(), "older", 100);
  Publish(dir.path(), "newer", 200);
  auto server = testing::Subprocess::Start(
      {EMBEDDING_SERVER_PATH, "--address=127.0.0.1:0", "--model_dir=" + dir.path(),
       "--watch_interval_seconds=1", "--watch_make_default", "--log_level=warning"});
  ASSERT_TRUE(server.ok());
  auto line = (*server)->WaitForLine("embedding listening on port", absl::Seconds(60));
  ASSERT_TRUE(line.ok()) << line.status();
  auto channel = *rpc::CreateChannel(absl::StrCat("127.0.0.1:", *testing::PortFromLine(*line)), {});
  auto stub = v1::Embedding::NewStub(channel);

  auto embed = [&](v1::EmbedResponse* resp) {
    v1::EmbedRequest req;
    req.add_photos()->set_data(testing::MakeJpeg(120, 100));
    grpc::ClientContext ctx;
    rpc::PrepareContext(&ctx, {}, absl::Seconds(30));
    return stub->Embed(&ctx, req, resp);
  };
  // The first load happens in the background: wait for health, bounded.
  auto health = grpc::health::v1::Health::NewStub(channel);
  grpc::health::v1::HealthCheckResponse status;
  for (int i = 0; i < 600 && status.status() != status.SERVING; ++i) {
    grpc::ClientContext ctx;
    rpc::PrepareContext(&ctx, {}, absl::Seconds(5));
    grpc::health::v1::HealthCheckRequest req;
    health->Check(&ctx, req, &status);
    if (status.status() != status.SERVING) absl::SleepFor(absl::Milliseconds(50));
  }
  ASSERT_EQ(status.status(), grpc::health::v1::HealthCheckResponse::SERVING);
  v1::EmbedResponse resp;
  grpc::Status s = embed(&resp);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(resp.model_version(), "newer");
  EXPECT_EQ(resp.embeddings(0).values_size(), 32);

  Publish(dir.path(), "newest", 300);  // Dropped in while serving: the watcher takes it.
  grpc::Status embedded;
  (void)dogsearch::testing::Eventually(
      [&] { return !(embedded = embed(&resp)).ok() || resp.model_version() == "newest"; },
      absl::Seconds(30), absl::Milliseconds(50));
  ASSERT_TRUE(embedded.ok()) << embedded.error_message();
  EXPECT_EQ(resp.model_version(), "newest");

  (*server)->Kill(SIGTERM);
  const int wait_status = (*server)->Wait();
  EXPECT_TRUE(WIFEXITED(wait_status) && WEXITSTATUS(wait_status) == 0) << wait_status;
}

}  // namespace
}  // namespace dogsearch::embedding
