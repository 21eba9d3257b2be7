#include "common/metrics/rpc_metrics.h"

#include "absl/strings/str_cat.h"

namespace dogsearch::metrics {

RpcMetrics::RpcMetrics(MetricsRegistry* registry, absl::string_view prefix,
                       absl::string_view service, const std::vector<std::string>& methods) {
  const std::string requests = absl::StrCat(prefix, "_requests_total");
  const std::string seconds = absl::StrCat(prefix, "_request_seconds");
  for (const std::string& name : methods) {
    Method& m = methods_[name];
    m.latency = registry->GetHistogram(seconds, absl::StrCat(service, " RPC latency."),
                                       LatencyBuckets(), {{"method", name}});
    for (int code = 0; code < kCodes; ++code) {
      m.by_code[code] = registry->GetCounter(
          requests, absl::StrCat(service, " RPCs by method and code."),
          {{"method", name},
           {"code", absl::StatusCodeToString(static_cast<absl::StatusCode>(code))}});
    }
  }
}

void RpcMetrics::Record(absl::string_view method, absl::StatusCode code, double seconds) const {
  auto it = methods_.find(method);
  if (it == methods_.end()) return;
  const int c = static_cast<int>(code);
  if (c >= 0 && c < kCodes) it->second.by_code[c]->Increment();
  it->second.latency->Observe(seconds);
}

}  // namespace dogsearch::metrics
