// Authentication decided on a call's headers, before its request message is read: a gRPC
// auth metadata processor (the server's auth filter runs it on the initial metadata, for
// plaintext and TLS ports alike). A refused call costs the server a few bytes of headers, not
// the hundreds of MiB its message may declare. The service handlers keep their own checks
// (defence in depth); this is the same rule, applied earlier:
//   - grpc.health.v1.Health is always open (load balancers and probes);
//   - read methods (ReadMethods()) and server reflection need the token only when reads are
//     protected;
//   - everything else (mutating methods, unknown paths) needs the token whenever one is set.
// Immutable after construction; thread-safe.
#ifndef DOGSEARCH_COMMON_RPC_EARLY_AUTH_H_
#define DOGSEARCH_COMMON_RPC_EARLY_AUTH_H_

#include <grpcpp/security/server_credentials.h>

#include <memory>
#include <set>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "common/rpc/token_auth.h"

namespace dogsearch::rpc {

// Full paths ("/dogsearch.v1.Index/Search") of every read RPC of the dogsearch services:
// the one table of which calls only read.
const std::set<std::string>& ReadMethods();

// The rule above for one call; `authorization` is nullptr when the header is absent.
absl::Status EarlyAuthCheck(const TokenAuthenticator& auth, absl::string_view path,
                            const absl::string_view* authorization);

// Server credentials (plaintext when `tls` is null) that apply EarlyAuthCheck with `auth`.
std::shared_ptr<grpc::ServerCredentials> WithEarlyAuth(std::shared_ptr<grpc::ServerCredentials> tls,
                                                       const TokenAuthenticator& auth);

}  // namespace dogsearch::rpc

#endif  // DOGSEARCH_COMMON_RPC_EARLY_AUTH_H_
