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

namespace dogsearch::rpc {

class Handlers {
 public:
  // Ends a deferred call (RunDeferred): records its metrics and sends its status.
  using Finish = std::function<void(const absl::Status&)>;

  // `service_full_name`: e.g. v1::Index::service_full_name(); `metrics_prefix`: e.g.
  // "dogsearch_index".
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

 private:
  struct Method {
    std::string name;
    RpcKind kind;
  };
  // The method's entry (its name outlives the call), or nullptr for a name not in the service.
  const Method* Find(absl::string_view method) const;
  // The token rule for `m`; INTERNAL naming `method` when m is nullptr.
  absl::Status Admit(const grpc::ServerContextBase& ctx, absl::string_view method,
                     const Method* m) const;
  // Latency and code under m's name (nothing for an unknown name).
  void Record(const Method* m, absl::StatusCode code, absl::Time start) const;
  // Run and RunInline: the token rule, the body, the record; the call's status.
  absl::Status Handle(const grpc::ServerContextBase& ctx, absl::string_view method,
                      absl::FunctionRef<absl::Status(absl::Time)> body) const;

  std::string service_;  // Full name, e.g. "dogsearch.v1.Index".
  std::map<std::string, Method, std::less<>> methods_;
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
