// Follows a trainer's Trainer.WatchCheckpoints stream and loads what it announces into the
// model repository: KIND_PUBLISHED -> load (default only with make_default_on_publish),
// KIND_PROMOTED -> load if needed and make it the default. The checkpoint directories are read
// from the embedding server's own --model_dir (a volume the trainer publishes into).
//
// Reconnect and catch-up are rpc::CheckpointWatch's (a checkpoint published while the
// subscriber was disconnected is still loaded); events it has already applied are recognised
// by version and skipped.
//
// Threading: the watch's thread applies events in order. Lock discipline: mu_ guards applied_.
#ifndef DOGSEARCH_SERVICES_EMBEDDING_CHECKPOINT_SUBSCRIBER_H_
#define DOGSEARCH_SERVICES_EMBEDDING_CHECKPOINT_SUBSCRIBER_H_

#include <memory>
#include <mutex>
#include <set>
#include <string>

#include "absl/time/time.h"
#include "common/rpc/checkpoint_watch.h"
#include "services/embedding/core/model_repository.h"

namespace dogsearch::embedding {

struct SubscriberOptions {
  // Channel (token, TLS) and reconnect backoff of the stream.
  rpc::CheckpointWatchOptions watch;
  bool make_default_on_publish = false;
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
  uint64_t connections() const { return watch_.connections(); }
  // Events applied (published or promoted), duplicates excluded.
  uint64_t applied_events() const;

 private:
  void Apply(const ::dogsearch::v1::CheckpointEvent& event);
  void Promote(const std::string& version);

  ModelRepository* const repository_;
  const SubscriberOptions options_;

  mutable std::mutex mu_;
  std::set<std::pair<int, std::string>> applied_;  // (kind, version) already applied.
  rpc::CheckpointWatch watch_;  // Last: its thread uses the members above.
};

}  // namespace dogsearch::embedding

#endif  // DOGSEARCH_SERVICES_EMBEDDING_CHECKPOINT_SUBSCRIBER_H_
