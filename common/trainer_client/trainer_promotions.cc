#include "common/trainer_client/trainer_promotions.h"

#include "common/rpc/status_util.h"

namespace dogsearch::rpc {

TrainerPromotions::TrainerPromotions(std::shared_ptr<grpc::Channel> channel, ChannelOptions options,
                                     absl::Duration timeout)
    : stub_(::dogsearch::v1::Trainer::NewStub(std::move(channel))),
      options_(std::move(options)),
      timeout_(timeout) {}

absl::StatusOr<std::string> TrainerPromotions::PromotedVersion() const {
  grpc::ClientContext ctx;
  PrepareContext(&ctx, options_, timeout_);
  ::dogsearch::v1::ListCheckpointsResponse resp;
  grpc::Status s = stub_->ListCheckpoints(&ctx, ::dogsearch::v1::ListCheckpointsRequest(), &resp);
  if (!s.ok()) return FromGrpcStatus(s);
  return resp.promoted_version();
}

}  // namespace dogsearch::rpc
