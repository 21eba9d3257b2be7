// Per-method RPC metrics registered once up front: `<prefix>_requests_total{method,code}` and
// `<prefix>_request_seconds{method}`. Record() takes no lock and does no registry lookup, so it
// is cheap on every request. Immutable after construction; thread-safe.
#ifndef DOGSEARCH_COMMON_METRICS_RPC_METRICS_H_
#define DOGSEARCH_COMMON_METRICS_RPC_METRICS_H_

#include <array>
#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "common/metrics/metrics.h"

namespace dogsearch::metrics {

class RpcMetrics {
 public:
  // `registry` must outlive this object.
  RpcMetrics(MetricsRegistry* registry, absl::string_view prefix, absl::string_view service,
             const std::vector<std::string>& methods);

  // REQUIRES: `method` is one of those given at construction.
  void Record(absl::string_view method, absl::StatusCode code, double seconds) const;

 private:
  static constexpr int kCodes = 17;  // absl::StatusCode values 0..16.
  struct Method {
    Histogram* latency = nullptr;
    std::array<Counter*, kCodes> by_code{};
  };
  std::map<std::string, Method, std::less<>> methods_;
};

}  // namespace dogsearch::metrics

#endif  // DOGSEARCH_COMMON_METRICS_RPC_METRICS_H_
