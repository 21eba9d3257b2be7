// Bearer-token authentication for RPCs. A service class calls Check() first thing in each
// handler, saying whether the RPC mutates state. With an empty token every call is allowed.
// Otherwise mutating calls (and read calls, when protect_reads is set) must carry the
// metadata "authorization: Bearer <token>"; the comparison takes constant time.
// No mutators (assignable as a whole); thread-safe.
#ifndef DOGSEARCH_COMMON_RPC_TOKEN_AUTH_H_
#define DOGSEARCH_COMMON_RPC_TOKEN_AUTH_H_

#include <grpcpp/server_context.h>

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace dogsearch::rpc {

enum class RpcKind { kRead, kMutating };

class TokenAuthenticator {
 public:
  TokenAuthenticator(std::string token, bool protect_reads)
      : token_(std::move(token)), protect_reads_(protect_reads) {}

  bool enabled() const { return !token_.empty(); }
  // Whether read calls need the token too.
  bool protects_reads() const { return enabled() && protect_reads_; }

  // OK or UNAUTHENTICATED with a message saying what was missing or wrong.
  absl::Status Check(const grpc::ServerContextBase& context, RpcKind kind) const;

  // The core of Check, given the raw "authorization" header value (nullptr when absent).
  absl::Status CheckHeader(const absl::string_view* header, RpcKind kind) const;

 private:
  std::string token_;
  bool protect_reads_;
};

// Metadata key and value a client sends for a token.
inline constexpr char kAuthorizationKey[] = "authorization";
std::string BearerValue(absl::string_view token);

}  // namespace dogsearch::rpc

#endif  // DOGSEARCH_COMMON_RPC_TOKEN_AUTH_H_
