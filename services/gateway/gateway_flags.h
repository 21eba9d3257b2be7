// The gateway's own flags (the shared server flags are common/rpc/server_shell's) and what
// they configure: the core's options, the backend connections, the web page, the trainer
// follower. Read once, at start-up, by main().
#ifndef DOGSEARCH_SERVICES_GATEWAY_GATEWAY_FLAGS_H_
#define DOGSEARCH_SERVICES_GATEWAY_GATEWAY_FLAGS_H_

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/rollout/reconciler.h"
#include "common/rpc/channel.h"
#include "services/gateway/core/gateway_core.h"
#include "services/gateway/grpc_backends.h"
#include "services/gateway/http_api.h"

namespace dogsearch::gateway {

struct GatewayConfig {
  std::string data_dir;
  std::string photos_dir;
  GatewayOptions core;
  rpc::ChannelOptions backend;  // Token, TLS and reconnect policy for the backends.
  std::string embedding_address;
  std::vector<std::string> index_targets;  // One per shard.
  std::string trainer_address;             // Empty: follow no trainer.
  rollout::ReconcilerOptions rollout;
  std::optional<HttpApiOptions> http;  // Empty: no web page.
  int max_receive_message_bytes = 0;   // gRPC: the largest request the API accepts.
};

// INVALID_ARGUMENT naming the flag when a value is out of range.
absl::StatusOr<GatewayConfig> GatewayConfigFromFlags();

// The embedding backend and the index (sharded over several targets when there are several).
struct Backends {
  std::unique_ptr<GrpcEmbeddingBackend> embedding;
  std::vector<std::unique_ptr<IndexBackend>> shards;
  std::unique_ptr<IndexBackend> sharded;  // Set when there is more than one shard.
  IndexBackend* index = nullptr;
};
absl::StatusOr<Backends> ConnectBackends(const GatewayConfig& config);

}  // namespace dogsearch::gateway

#endif  // DOGSEARCH_SERVICES_GATEWAY_GATEWAY_FLAGS_H_
