// Follows a trainer's Trainer.WatchCheckpoints stream and loads what it announces into the
// model repository: KIND_PUBLISHED -> load (default only with make_default_on_publish),
// KIND_PROMOTED -> load if needed and make it the default. The checkpoint directories are read
// from the embedding server's own --model_dir (a volume the trainer publishes into).
//
// Reconnect and catch-up: when the stream ends or fails (trainer restarted, network), the
// subscriber reconnects with exponential backoff and asks for everything published since the
// newest publish time it saw (minus one second: the trainer's clock has 1 s resolution), so a
// checkpoint published while it was disconnected is still loaded; events it has already applied
// are recognised by version and skipped.
//
// Threading: one background thread runs the stream and applies events in order. Lock
// discipline: mu_ guards context_ (the call in flight, so Stop() can cancel it), stopping_,
// last_seen_, applied_; cv_ wakes the backoff sleep.
#ifndef DOGSEARCH_SERVICES_EMBEDDING_CHECKPOINT_SUBSCRIBER_H_
#define DOGSEARCH_SERVICES_EMBEDDING_CHECKPOINT_SUBSCRIBER_H_

#include <grpcpp/grpcpp.h>

#include <condition_variable>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>

#include "absl/time/time.h"
#include "common/rpc/channel.h"
#include "dogsearch/v1/trainer.grpc.pb.h"
#include "services/embedding/core/model_repository.h"

namespace dogsearch::embedding {

struct SubscriberOptions {
  rpc::ChannelOptions channel;
  bool make_default_on_publish = false;
  absl::Duration initial_backoff = absl::Milliseconds(200);
  absl::Duration max_backoff = absl::Seconds(10);
  // How long a promotion waits for its model to finish loading before giving up on it.
  absl::Duration load_timeout = absl::Minutes(5);
};

class CheckpointSubscriber {
 public:
  // `repository` must outlive the subscriber.
  CheckpointSubscriber(std::shared_ptr<grpc::Channel> channel, ModelRepository* repository,
                       SubscriberOptions options);
  ~CheckpointSubscriber();  // Stop().

  void Start();
  // Cancels the stream in flight and joins the thread. Idempotent.
  void Stop();

  // Streams opened so far (1 after the first connection; more after reconnects).
  uint64_t connections() const;
  // Events applied (published or promoted), duplicates excluded.
  uint64_t applied_events() const;

 private:
  void Loop();
  // One subscription; returns when the stream ends. True if it received at least one message.
  bool RunStream();
  void Apply(const ::dogsearch::v1::CheckpointEvent& event);
  void Promote(const std::string& version);

  std::unique_ptr<::dogsearch::v1::Trainer::Stub> stub_;
  ModelRepository* const repository_;
  const SubscriberOptions options_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  grpc::ClientContext* context_ = nullptr;  // The call in flight, owned by RunStream.
  bool stopping_ = false;
  bool started_ = false;
  int64_t last_seen_ = 0;  // Newest published_unix_seconds applied.
  std::set<std::pair<int, std::string>> applied_;  // (kind, version) already applied.
  uint64_t connections_ = 0;
  std::thread thread_;
};

}  // namespace dogsearch::embedding

#endif  // DOGSEARCH_SERVICES_EMBEDDING_CHECKPOINT_SUBSCRIBER_H_
