#include "common/rpc/channel.h"

#include <grpcpp/create_channel.h>
#include <grpcpp/support/channel_arguments.h>

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/base/status_macros.h"
#include "common/rpc/token_auth.h"

namespace dogsearch::rpc {
namespace {

// {"service": "a.B", "method": "C"} (or without "method" for the whole service).
std::string MethodName(const std::string& m) {
  std::vector<std::string> parts = absl::StrSplit(m, '/');
  if (parts.size() == 2) {
    return absl::StrCat("{\"service\":\"", parts[0], "\",\"method\":\"", parts[1], "\"}");
  }
  return absl::StrCat("{\"service\":\"", m, "\"}");
}

}  // namespace

std::string ServiceConfigJson(const ChannelOptions& options) {
  std::vector<std::string> fields;
  if (options.round_robin) fields.push_back("\"loadBalancingConfig\":[{\"round_robin\":{}}]");
  if (!options.idempotent_methods.empty()) {
    std::vector<std::string> names;
    for (const auto& m : options.idempotent_methods) names.push_back(MethodName(m));
    fields.push_back(
        absl::StrCat("\"methodConfig\":[{\"name\":[", absl::StrJoin(names, ","),
                     "],\"retryPolicy\":{\"maxAttempts\":", options.max_attempts,
                     ",\"initialBackoff\":\"0.05s\",\"maxBackoff\":\"1s\",\"backoffMultiplier\":2,"
                     "\"retryableStatusCodes\":[\"UNAVAILABLE\"]}}]"));
  }
  return absl::StrCat("{", absl::StrJoin(fields, ","), "}");
}

absl::StatusOr<std::shared_ptr<grpc::Channel>> CreateChannel(const std::string& target,
                                                             const ChannelOptions& options) {
  if (target.empty()) return absl::InvalidArgumentError("empty gRPC target address");
  if (!options.idempotent_methods.empty() &&
      (options.max_attempts < 2 || options.max_attempts > 5)) {
    return absl::InvalidArgumentError(
        absl::StrCat("max_attempts must be 2..5, got ", options.max_attempts));
  }
  DS_ASSIGN_OR_RETURN(auto creds, MakeChannelCredentials(options.tls));
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(options.max_receive_message_bytes);
  args.SetServiceConfigJSON(ServiceConfigJson(options));
  // Without declared retries, leave the retry filter (which buffers every call) out of the
  // stack.
  if (options.idempotent_methods.empty()) args.SetInt(GRPC_ARG_ENABLE_RETRIES, 0);
  if (options.max_reconnect_backoff > absl::ZeroDuration()) {
    const int ms = static_cast<int>(absl::ToInt64Milliseconds(options.max_reconnect_backoff));
    args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, std::min(ms, 100));
    args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, std::min(ms, 100));
    args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, ms);
  }
  if (!options.tls_server_name.empty()) {
    args.SetSslTargetNameOverride(options.tls_server_name);
  }
  return grpc::CreateCustomChannel(target, creds, args);
}

void PrepareContext(grpc::ClientContext* context, const ChannelOptions& options,
                    absl::Duration deadline) {
  absl::Duration d = deadline > absl::ZeroDuration() ? deadline : options.default_deadline;
  context->set_deadline(absl::ToChronoTime(absl::Now() + d));
  if (!options.bearer_token.empty()) {
    context->AddMetadata(kAuthorizationKey, BearerValue(options.bearer_token));
  }
}

}  // namespace dogsearch::rpc
