#include "common/metrics/http_route_metrics.h"

#include <array>
#include <atomic>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace dogsearch::metrics {
namespace {

// Counter slots: HTTP statuses kFirst.. kFirst + kStatuses - 1, then refused admissions.
constexpr int kFirst = 100;
constexpr int kStatuses = 500;
constexpr int kSlots = kStatuses + 1;
constexpr int kRefused = -1;

}  // namespace

void InstrumentRoutes(MetricsRegistry* registry, absl::string_view prefix,
                      std::vector<http::Route>* routes) {
  const std::string requests = absl::StrCat(prefix, "_requests_total");
  const std::string seconds = absl::StrCat(prefix, "_request_seconds");
  for (http::Route& r : *routes) {
    const std::string route = absl::StrCat(r.method, " ", r.pattern);
    Histogram* latency = registry->GetHistogram(seconds, "HTTP handler latency by route.",
                                                LatencyBuckets(), {{"route", route}});
    // One counter per HTTP status (kRefused: an admission refused on the head), looked up in
    // the registry on its first use only: GetCounter returns the same counter every time, so
    // two threads filling a slot at once agree.
    auto counters = std::make_shared<std::array<std::atomic<Counter*>, kSlots>>();
    auto count = [registry, requests, route, counters](int status) {
      const bool cached = status == kRefused || (status >= kFirst && status < kFirst + kStatuses);
      std::atomic<Counter*>* slot =
          cached ? &(*counters)[status == kRefused ? kStatuses : status - kFirst] : nullptr;
      Counter* counter = slot ? slot->load(std::memory_order_acquire) : nullptr;
      if (counter == nullptr) {
        counter = registry->GetCounter(
            requests, "HTTP requests by route and status.",
            {{"route", route}, {"code", status == kRefused ? "refused" : std::to_string(status)}});
        if (slot) slot->store(counter, std::memory_order_release);
      }
      counter->Increment();
    };
    if (r.admit) {
      r.admit = [admit = std::move(r.admit), count](const http::HttpRequest& req) {
        absl::Status s = admit(req);
        if (!s.ok()) count(kRefused);
        return s;
      };
    }
    r.handle = [handle = std::move(r.handle), latency, count](const http::HttpRequest& req,
                                                              http::HttpResponse& resp) {
      const absl::Time start = absl::Now();
      handle(req, resp);
      latency->Observe(absl::ToDoubleSeconds(absl::Now() - start));
      count(resp.status);
    };
  }
}

}  // namespace dogsearch::metrics
