// The one place that maps absl::Status to grpc::Status and back. The numeric codes are the
// same in both libraries; messages pass through unchanged.
#ifndef DOGSEARCH_COMMON_RPC_STATUS_UTIL_H_
#define DOGSEARCH_COMMON_RPC_STATUS_UTIL_H_

#include <grpcpp/support/status.h>

#include "absl/status/status.h"

namespace dogsearch::rpc {

grpc::Status ToGrpcStatus(const absl::Status& status);
absl::Status FromGrpcStatus(const grpc::Status& status);

}  // namespace dogsearch::rpc

#endif  // DOGSEARCH_COMMON_RPC_STATUS_UTIL_H_
