// Client side of the service plumbing: channels with TLS, message limits, optional
// round-robin over every address a name resolves to (for embedding replicas), and automatic
// retries of UNAVAILABLE for the methods the caller declares idempotent; and client contexts
// carrying a deadline and the bearer token.
#ifndef DOGSEARCH_COMMON_RPC_CHANNEL_H_
#define DOGSEARCH_COMMON_RPC_CHANNEL_H_

#include <grpcpp/channel.h>
#include <grpcpp/client_context.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/rpc/tls.h"

namespace dogsearch::rpc {

struct ChannelOptions {
  TlsFiles tls;
  // Overrides the name checked against the server certificate (tests, IP targets).
  std::string tls_server_name;
  // Sent as "authorization: Bearer <token>" by PrepareContext when non-empty.
  std::string bearer_token;
  // Deadline PrepareContext applies when the caller gives none.
  absl::Duration default_deadline = absl::Seconds(10);
  // Fully qualified methods ("dogsearch.v1.Index/Search") or whole services
  // ("dogsearch.v1.Index") that are safe to retry on UNAVAILABLE.
  std::vector<std::string> idempotent_methods;
  // Attempts in all (including the first), 2..5; used when idempotent_methods is not empty.
  int max_attempts = 3;
  // Spread calls over every resolved address instead of picking the first.
  bool round_robin = false;
  int max_receive_message_bytes = 64 << 20;
  // Longest wait between reconnection attempts to a server that went away (0 = gRPC's default,
  // up to two minutes). Clients that must notice a restarted backend quickly set ~1 s.
  absl::Duration max_reconnect_backoff = absl::ZeroDuration();
};

// The gRPC service config JSON for the options above (exposed for tests).
std::string ServiceConfigJson(const ChannelOptions& options);

// INVALID_ARGUMENT for an empty target or bad options; TLS file errors as MakeChannelCredentials.
// The channel connects lazily: a server that is down shows up as UNAVAILABLE on the first call.
absl::StatusOr<std::shared_ptr<grpc::Channel>> CreateChannel(const std::string& target,
                                                             const ChannelOptions& options);

// Sets the deadline (the given one, else options.default_deadline) and the bearer token.
void PrepareContext(grpc::ClientContext* context, const ChannelOptions& options,
                    absl::Duration deadline = absl::ZeroDuration());

}  // namespace dogsearch::rpc

#endif  // DOGSEARCH_COMMON_RPC_CHANNEL_H_
