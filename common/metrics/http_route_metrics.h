// Latency and status metrics for every route of an HTTP route table (common/http), the HTTP side
// of common/rpc/handler.h: wrapping the table, not each handler, so no route can be missed.
//   <prefix>_requests_total{route="POST /api/search", code="200"}   (code "refused" for an
//                                                                    admission refused on the head)
//   <prefix>_request_seconds{route="POST /api/search"}               handler time
// The registry must outlive the routes.
#ifndef DOGSEARCH_COMMON_METRICS_HTTP_ROUTE_METRICS_H_
#define DOGSEARCH_COMMON_METRICS_HTTP_ROUTE_METRICS_H_

#include <vector>

#include "absl/strings/string_view.h"
#include "common/http/http_server.h"
#include "common/metrics/metrics.h"

namespace dogsearch::metrics {

void InstrumentRoutes(MetricsRegistry* registry, absl::string_view prefix,
                      std::vector<http::Route>* routes);

}  // namespace dogsearch::metrics

#endif  // DOGSEARCH_COMMON_METRICS_HTTP_ROUTE_METRICS_H_
