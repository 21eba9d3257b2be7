// CheckpointSubscriber against a fake Trainer service over loopback gRPC: published checkpoints
// are loaded, promotions become the default, a dropped stream reconnects and catches up on what
// was published meanwhile, replays are not applied twice, the token is sent, Stop() is prompt.
#include "services/embedding/checkpoint_subscriber.h"

#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>

#include "common/rpc/grpc_server.h"
#include "tests/embedding/fake_model.h"
#include "tests/testing/eventually.h"

namespace dogsearch::embedding {
namespace {

v1::CheckpointEvent Event(v1::CheckpointEvent::Kind kind, const std::string& version,
                          int64_t published) {
  v1::CheckpointEvent e;
  e.set_kind(kind);
  e.mutable_checkpoint()->mutable_manifest()->set_version(version);
  e.mutable_checkpoint()->set_published_unix_seconds(published);
  return e;
}

// Streams every stored event newer than the request's after_unix_seconds, then new ones as
// they are pushed. DropStreams() ends the open streams with UNAVAILABLE.
// Lock discipline: mu_ guards everything below it; cv_ signals pushes and drops.
class FakeTrainer final : public v1::Trainer::Service {
 public:
  grpc::Status WatchCheckpoints(grpc::ServerContext* ctx, const v1::WatchCheckpointsRequest* req,
                                grpc::ServerWriter<v1::CheckpointEvent>* writer) override {
    std::unique_lock<std::mutex> lock(mu_);
    requests_.push_back(req->after_unix_seconds());
    tokens_.clear();
    for (const auto& [k, v] : ctx->client_metadata()) {
      if (k == "authorization") tokens_.push_back(std::string(v.data(), v.size()));
    }
    const uint64_t generation = drops_;
    size_t next = 0;
    for (;;) {
      if (drops_ != generation) return grpc::Status(grpc::StatusCode::UNAVAILABLE, "dropped");
      for (; next < events_.size(); ++next) {
        if (events_[next].checkpoint().published_unix_seconds() <= req->after_unix_seconds())
          continue;
        const v1::CheckpointEvent e = events_[next];
        lock.unlock();
        const bool ok = writer->Write(e);
        lock.lock();
        if (!ok) return grpc::Status::CANCELLED;
      }
      if (ctx->IsCancelled()) return grpc::Status::CANCELLED;
      cv_.wait_for(lock, std::chrono::milliseconds(20));
    }
  }
  // The promoted version is what ListCheckpoints reports: the latest KIND_PROMOTED pushed,
  // or one set without any event (a missed event).
  grpc::Status ListCheckpoints(grpc::ServerContext*, const v1::ListCheckpointsRequest*,
                               v1::ListCheckpointsResponse* resp) override {
    std::lock_guard<std::mutex> lock(mu_);
    resp->set_promoted_version(promoted_);
    return grpc::Status::OK;
  }
  void Push(const v1::CheckpointEvent& e) {
    std::lock_guard<std::mutex> lock(mu_);
    events_.push_back(e);
    if (e.kind() == v1::CheckpointEvent::KIND_PROMOTED) {
      promoted_ = e.checkpoint().manifest().version();
    }
    cv_.notify_all();
  }
  void PromoteWithoutEvent(const std::string& version) {
    std::lock_guard<std::mutex> lock(mu_);
    promoted_ = version;
  }
  void DropStreams() {
    std::lock_guard<std::mutex> lock(mu_);
    ++drops_;
    cv_.notify_all();
  }
  std::vector<int64_t> requests() {
    std::lock_guard<std::mutex> lock(mu_);
    return requests_;
  }
  std::vector<std::string> tokens() {
    std::lock_guard<std::mutex> lock(mu_);
    return tokens_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<v1::CheckpointEvent> events_;
  std::vector<int64_t> requests_;
  std::vector<std::string> tokens_;
  uint64_t drops_ = 0;
  std::string promoted_;
};

using ::dogsearch::testing::Eventually;

class SubscriberTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto server = rpc::GrpcServer::Start(rpc::GrpcServerOptions{}, {&trainer_});
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    options_.watch.channel.bearer_token = "s3cret";
    options_.watch.initial_backoff = absl::Milliseconds(50);
    options_.watch.max_backoff = absl::Milliseconds(200);
    options_.reconcile.converged_interval = absl::Milliseconds(200);
    options_.reconcile.busy_interval = absl::Milliseconds(50);
    auto channel =
        rpc::CreateChannel("127.0.0.1:" + std::to_string(server_->port()), options_.watch.channel);
    ASSERT_TRUE(channel.ok());
    channel_ = *channel;
  }
  bool Ready(const std::string& v) {
    auto s = repo_.Get(v);
    return s.ok() && s->state == ModelState::kReady;
  }
  bool IsDefault(const std::string& v) {
    auto s = repo_.Get(v);
    return s.ok() && s->is_default;
  }

  FakeTrainer trainer_;
  std::unique_ptr<rpc::GrpcServer> server_;
  std::shared_ptr<grpc::Channel> channel_;
  SubscriberOptions options_;
  ModelRepository repo_{
      [](const std::string& v) -> absl::StatusOr<std::shared_ptr<const EmbeddingModel>> {
        return std::make_shared<FakeModel>(v);
      },
      RepositoryOptions{}};
};

TEST_F(SubscriberTest, LoadsPublishedAndMakesPromotedTheDefault) {
  ASSERT_TRUE(repo_.StartLoad("base", /*make_default=*/true).ok());
  ASSERT_TRUE(Eventually([&] { return IsDefault("base"); }));
  trainer_.Push(Event(v1::CheckpointEvent::KIND_PUBLISHED, "v1", 100));
  CheckpointSubscriber sub(channel_, &repo_, options_);
  sub.Start();
  ASSERT_TRUE(Eventually([&] { return Ready("v1"); }));
  EXPECT_FALSE(IsDefault("v1"));  // Published is not promoted.
  trainer_.Push(Event(v1::CheckpointEvent::KIND_PROMOTED, "v1", 100));
  EXPECT_TRUE(Eventually([&] { return IsDefault("v1"); }));
  // Promoting one it has not loaded yet loads it and makes it the default.
  trainer_.Push(Event(v1::CheckpointEvent::KIND_PROMOTED, "v2", 101));
  EXPECT_TRUE(Eventually([&] { return IsDefault("v2"); }));
  EXPECT_EQ(trainer_.tokens(), std::vector<std::string>{"Bearer s3cret"});
  EXPECT_EQ(trainer_.requests().front(), 0);
  sub.Stop();
}

// Issue #17: A, then B, then A again: the default ends on A, the trainer's last promotion.
TEST_F(SubscriberTest, TheDefaultConvergesToTheLastPromotionWhateverTheOrder) {
  for (const char* v : {"a", "b"}) {
    trainer_.Push(Event(v1::CheckpointEvent::KIND_PUBLISHED, v, 100));
  }
  CheckpointSubscriber sub(channel_, &repo_, options_);
  sub.Start();
  ASSERT_TRUE(Eventually([&] { return Ready("a") && Ready("b"); }));
  trainer_.Push(Event(v1::CheckpointEvent::KIND_PROMOTED, "a", 101));
  ASSERT_TRUE(Eventually([&] { return IsDefault("a"); }));
  trainer_.Push(Event(v1::CheckpointEvent::KIND_PROMOTED, "b", 102));
  ASSERT_TRUE(Eventually([&] { return IsDefault("b"); }));
  trainer_.Push(Event(v1::CheckpointEvent::KIND_PROMOTED, "a", 103));  // Seen before.
  EXPECT_TRUE(Eventually([&] { return IsDefault("a"); }));
  // A promotion whose event never arrives, and a default changed by hand: both converge.
  trainer_.PromoteWithoutEvent("b");
  EXPECT_TRUE(Eventually([&] { return IsDefault("b"); }));
  ASSERT_TRUE(repo_.SetDefault("a").ok());
  EXPECT_TRUE(Eventually([&] { return IsDefault("b"); }));
  EXPECT_TRUE(Eventually([&] { return sub.rollout().state == rollout::RolloutState::kConverged; }));
  sub.Stop();
}

TEST_F(SubscriberTest, ReconnectsAndCatchesUpOnWhatWasPublishedWhileDisconnected) {
  trainer_.Push(Event(v1::CheckpointEvent::KIND_PUBLISHED, "v1", 100));
  options_.watch.initial_backoff = absl::Milliseconds(300);  // A window to publish into.
  CheckpointSubscriber sub(channel_, &repo_, options_);
  sub.Start();
  ASSERT_TRUE(Eventually([&] { return Ready("v1"); }));
  trainer_.DropStreams();
  trainer_.Push(Event(v1::CheckpointEvent::KIND_PUBLISHED, "v2", 105));
  ASSERT_TRUE(Eventually([&] { return Ready("v2"); }));
  EXPECT_GE(sub.connections(), 2u);
  const std::vector<int64_t> after = trainer_.requests();
  ASSERT_GE(after.size(), 2u);
  EXPECT_EQ(after[1], 99);  // Newest seen (100) minus the 1 s clock resolution.
  // v1 was replayed on reconnect (published at 100 > 99) but applied once only.
  EXPECT_EQ(sub.applied_events(), 2u);
  sub.Stop();
}

TEST_F(SubscriberTest, KeepsRetryingWhileTheTrainerIsDownAndStopsPromptly) {
  server_->Shutdown(absl::ZeroDuration());
  CheckpointSubscriber sub(channel_, &repo_, options_);
  sub.Start();
  std::this_thread::sleep_for(std::chrono::milliseconds(600));
  EXPECT_GE(sub.connections(), 2u) << "no retries";
  const auto start = std::chrono::steady_clock::now();
  sub.Stop();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
}

TEST_F(SubscriberTest, IgnoresEventsWithUnsafeVersionNames) {
  trainer_.Push(Event(v1::CheckpointEvent::KIND_PUBLISHED, "../etc", 100));
  trainer_.Push(Event(v1::CheckpointEvent::KIND_PUBLISHED, "ok", 101));
  CheckpointSubscriber sub(channel_, &repo_, options_);
  sub.Start();
  ASSERT_TRUE(Eventually([&] { return Ready("ok"); }));
  EXPECT_EQ(repo_.List().size(), 1u);  // Only "ok".
  sub.Stop();
}

}  // namespace
}  // namespace dogsearch::embedding
