// The one way every dogsearch service runs an RPC handler, in the sync and the callback form:
//   - the token rule (a second check behind early auth, common/rpc/early_auth.h); whether a
//     method only reads comes from the same table (ReadMethods()), so no handler can name the
//     wrong kind;
//   - the call's deadline, handed to the body as an absl::Time;
//   - latency and status-code metrics (<prefix>_request_seconds, <prefix>_requests_total) for
//     every method of the service descriptor, so none can be missed;
//   - absl::Status -> grpc::Status (common/rpc/status_util.h).
// A method name that is not in the descriptor is refused with INTERNAL naming it (a test that
// calls the RPC then fails), never silently unmeasured.
// Immutable after construction; thread-safe. The registry must outlive it.
#ifndef DOGSEARCH_COMMON_RPC_HANDLER_H_
#define DOGSEARCH_COMMON_RPC_HANDLER_H_

#include <grpcpp/server_context.h>
#include <grpcpp/support/server_callback.h>

#include <functional>
#include <map>
#include <string>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/metrics/rpc_metrics.h"
#include "common/rpc/token_auth.h"

namespace google::protobuf {
class ServiceDescriptor;
}

namespace dogsearch::rpc {

class Handlers {
 public:
  // Ends a call started by Begin: records its metrics and returns its gRPC status.
  using Finish = std::function<void(const absl::Status&)>;

  // `service`: the generated service's descriptor (v1::Index::service_full_name() resolved by
  // the generated pool); `metrics_prefix`: e.g. "dogsearch_index".
  Handlers(const google::protobuf::ServiceDescriptor* service, absl::string_view metrics_prefix,
           TokenAuthenticator auth, metrics::MetricsRegistry* registry);
  // Same, the descriptor found by its full name ("dogsearch.v1.Index").
  Handlers(absl::string_view service_full_name, absl::string_view metrics_prefix,
           TokenAuthenticator auth, metrics::MetricsRegistry* registry);

  // Sync services: the token rule, then body(deadline); metrics; the status mapped.
  grpc::Status Run(grpc::ServerContext* ctx, absl::string_view method,
                   absl::FunctionRef<absl::Status(absl::Time deadline)> body) const;

  // Callback services, finished before returning.
  grpc::ServerUnaryReactor* RunInline(
      grpc::CallbackServerContext* ctx, absl::string_view method,
      absl::FunctionRef<absl::Status(absl::Time deadline)> body) const;

  // Callback services that finish later (on a pool, after batching): the token rule, then
  // body(deadline, finish); the body (or what it hands the work to) calls `finish` exactly once,
  // from any thread. When the token rule refuses, the call is finished and body is not run.
  grpc::ServerUnaryReactor* RunDeferred(
      grpc::CallbackServerContext* ctx, absl::string_view method,
      absl::FunctionRef<void(absl::Time deadline, Finish finish)> body) const;

  // Server-streaming handlers, which finish in their own way: the token rule for `method`
  // (INTERNAL for an unknown name), and Record when the stream ends.
  absl::Status Admit(const grpc::ServerContextBase& ctx, absl::string_view method) const;
  void Record(absl::string_view method, absl::StatusCode code, absl::Time start) const;

 private:
  absl::StatusOr<RpcKind> KindOf(absl::string_view method) const;

  std::string service_;  // Full name, e.g. "dogsearch.v1.Index".
  std::map<std::string, RpcKind, std::less<>> kinds_;
  TokenAuthenticator auth_;
  metrics::RpcMetrics metrics_;
};

// Moves a StatusOr's value into *out: `return Into(core->Get(...), resp);`.
template <typename T, typename U>
absl::Status Into(absl::StatusOr<T> result, U* out) {
  if (!result.ok()) return result.status();
  *out = *std::move(result);
  return absl::OkStatus();
}

}  // namespace dogsearch::rpc

#endif  // DOGSEARCH_COMMON_RPC_HANDLER_H_
