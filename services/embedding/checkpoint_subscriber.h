// Follows a trainer: KIND_PUBLISHED events (Trainer.WatchCheckpoints) load the checkpoint
// (default only with make_default_on_publish), and the default model converges to the
// trainer's current promoted version by the rule of common/rollout/reconciler.h (looked up on
// every KIND_PROMOTED event and periodically; the newest promotion wins; a failed load is
// retried after a back-off). A default set by hand is therefore put back to the promoted
// version. The checkpoint directories are read from the embedding server's own --model_dir (a
// volume the trainer publishes into).
//
// Reconnect and catch-up are rpc::CheckpointWatch's (a checkpoint published while the
// subscriber was disconnected is still loaded); publications already applied are recognised
// by version and skipped.
//
// Threading: the watch's thread applies events in order; the reconciler's thread moves the
// default. Lock discipline: mu_ guards applied_.
#ifndef DOGSEARCH_SERVICES_EMBEDDING_CHECKPOINT_SUBSCRIBER_H_
#define DOGSEARCH_SERVICES_EMBEDDING_CHECKPOINT_SUBSCRIBER_H_

#include <memory>
#include <mutex>
#include <set>
#include <string>

#include "absl/time/time.h"
#include "common/rollout/reconciler.h"
#include "common/trainer_client/checkpoint_watch.h"
#include "common/trainer_client/trainer_promotions.h"
#include "services/embedding/core/model_repository.h"

namespace dogsearch::embedding {

struct SubscriberOptions {
  // Channel (token, TLS) and reconnect backoff of the stream.
  rpc::CheckpointWatchOptions watch;
  bool make_default_on_publish = false;
  rollout::ReconcilerOptions reconcile;
};

// The reconciler's hooks for a model repository (no gRPC: `promoted` is given).
rollout::ReconcilerHooks RepositoryRolloutHooks(
    ModelRepository* repository, std::function<absl::StatusOr<std::string>()> promoted);

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
  // Publications applied, duplicates excluded.
  uint64_t applied_events() const;
  rollout::RolloutStatus rollout() const { return reconciler_.status(); }

 private:
  void Apply(const ::dogsearch::v1::CheckpointEvent& event);

  ModelRepository* const repository_;
  const SubscriberOptions options_;

  mutable std::mutex mu_;
  std::set<std::string> applied_ ABSL_GUARDED_BY(mu_);  // Versions whose publication was applied.
  rpc::TrainerPromotions promotions_;
  rollout::Reconciler reconciler_;
  rpc::CheckpointWatch watch_;  // Last: its thread uses the members above.
};

}  // namespace dogsearch::embedding

#endif  // DOGSEARCH_SERVICES_EMBEDDING_CHECKPOINT_SUBSCRIBER_H_
