// Keeps a Trainer.WatchCheckpoints stream open and hands every event to a handler, in order, on
// its own thread. The embedding server (load what the trainer publishes) and the gateway
// (upgrade the gallery to what is promoted) both follow the trainer this way.
//
// Reconnect and catch-up: when the stream ends or fails (trainer restarted, network), the watch
// reconnects with exponential backoff and asks for everything published since the newest
// publish time it saw (minus one second: the trainer's clock has 1 s resolution), so nothing
// published while it was disconnected is missed. Events around that second can arrive twice;
// handlers recognise them by version.
//
// Threading: one background thread runs the stream and calls the handler. Lock discipline: mu_
// guards context_ (the call in flight, so Stop() can cancel it), stopping_, started_,
// last_seen_ and connections_; cv_ wakes the backoff sleep.
#ifndef DOGSEARCH_COMMON_TRAINER_CLIENT_CHECKPOINT_WATCH_H_
#define DOGSEARCH_COMMON_TRAINER_CLIENT_CHECKPOINT_WATCH_H_

#include <grpcpp/grpcpp.h>

#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "absl/time/time.h"
#include "common/rpc/channel.h"
#include "dogsearch/v1/trainer.grpc.pb.h"

namespace dogsearch::rpc {

struct CheckpointWatchOptions {
  ChannelOptions channel;
  absl::Duration initial_backoff = absl::Milliseconds(200);
  absl::Duration max_backoff = absl::Seconds(10);
  // Logged (with the status) when a stream ends, e.g. "trainer_watch_ended".
  std::string ended_log_event = "trainer_watch_ended";
};

class CheckpointWatch {
 public:
  using Handler = std::function<void(const ::dogsearch::v1::CheckpointEvent&)>;

  CheckpointWatch(std::shared_ptr<grpc::Channel> channel, CheckpointWatchOptions options,
                  Handler handler);
  ~CheckpointWatch();  // Stop().

  void Start();
  // Cancels the stream in flight and joins the thread (after the handler call in progress, if
  // any, returns). Idempotent.
  void Stop();

  // Streams opened so far (1 after the first connection; more after reconnects).
  uint64_t connections() const;

 private:
  void Loop();
  // One subscription; returns when the stream ends. True if it received at least one message.
  bool RunStream();

  std::unique_ptr<::dogsearch::v1::Trainer::Stub> stub_;
  const CheckpointWatchOptions options_;
  const Handler handler_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  grpc::ClientContext* context_ = nullptr;  // The call in flight, owned by RunStream.
  bool stopping_ = false;
  bool started_ = false;
  int64_t last_seen_ = 0;  // Newest published_unix_seconds received.
  uint64_t connections_ = 0;
  std::thread thread_;
};

}  // namespace dogsearch::rpc

#endif  // DOGSEARCH_COMMON_TRAINER_CLIENT_CHECKPOINT_WATCH_H_
