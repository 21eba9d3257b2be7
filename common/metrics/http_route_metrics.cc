#include "common/metrics/http_route_metrics.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace dogsearch::metrics {

void InstrumentRoutes(MetricsRegistry* registry, absl::string_view prefix,
                      std::vector<http::Route>* routes) {
  const std::string requests = absl::StrCat(prefix, "_requests_total");
  const std::string seconds = absl::StrCat(prefix, "_request_seconds");
  for (http::Route& r : *routes) {
    const std::string route = absl::StrCat(r.method, " ", r.pattern);
    Histogram* latency = registry->GetHistogram(seconds, "HTTP handler latency by route.",
                                                LatencyBuckets(), {{"route", route}});
    auto count = [registry, requests, route](const std::string& code) {
      registry
          ->GetCounter(requests, "HTTP requests by route and status.",
                       {{"route", route}, {"code", code}})
          ->Increment();
    };
    if (r.admit) {
      r.admit = [admit = std::move(r.admit), count](const http::HttpRequest& req) {
        absl::Status s = admit(req);
        if (!s.ok()) count("refused");
        return s;
      };
    }
    r.handle = [handle = std::move(r.handle), latency, count](const http::HttpRequest& req,
                                                              http::HttpResponse& resp) {
      const absl::Time start = absl::Now();
      handle(req, resp);
      latency->Observe(absl::ToDoubleSeconds(absl::Now() - start));
      count(std::to_string(resp.status));
    };
  }
}

}  // namespace dogsearch::metrics
