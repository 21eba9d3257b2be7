// The trainer's promoted version right now (Trainer.ListCheckpoints), read by the followers
// that converge to it (common/rollout). Thread-safe (a gRPC stub).
#ifndef DOGSEARCH_COMMON_TRAINER_CLIENT_TRAINER_PROMOTIONS_H_
#define DOGSEARCH_COMMON_TRAINER_CLIENT_TRAINER_PROMOTIONS_H_

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/rpc/channel.h"
#include "dogsearch/v1/trainer.grpc.pb.h"

namespace dogsearch::rpc {

class TrainerPromotions {
 public:
  TrainerPromotions(std::shared_ptr<grpc::Channel> channel, ChannelOptions options,
                    absl::Duration timeout = absl::Seconds(5));
  // "" when nothing is promoted; the RPC's status when the trainer cannot be asked.
  absl::StatusOr<std::string> PromotedVersion() const;

 private:
  std::unique_ptr<::dogsearch::v1::Trainer::Stub> stub_;
  const ChannelOptions options_;
  const absl::Duration timeout_;
};

}  // namespace dogsearch::rpc

#endif  // DOGSEARCH_COMMON_TRAINER_CLIENT_TRAINER_PROMOTIONS_H_
