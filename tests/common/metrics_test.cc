#include "common/metrics/metrics.h"

#include <httplib.h>

#include <atomic>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "common/metrics/metrics_http_server.h"
#include "common/metrics/rpc_metrics.h"
#include "gtest/gtest.h"

namespace dogsearch::metrics {
namespace {

TEST(MetricsTest, CountersGaugesAndHistogramsRenderInPrometheusTextFormat) {
  MetricsRegistry r;
  r.GetCounter("dogsearch_requests_total", "Requests served.", {{"method", "Embed"}})->Increment(3);
  r.GetGauge("dogsearch_queue_depth", "Queued requests.")->Set(2.5);
  Histogram* h = r.GetHistogram("dogsearch_latency_seconds", "Latency.", {0.1, 1.0});
  h->Observe(0.05);
  h->Observe(0.1);  // On the bound: counted in le="0.1".
  h->Observe(5);
  EXPECT_EQ(r.RenderText(),
            "# HELP dogsearch_latency_seconds Latency.\n"
            "# TYPE dogsearch_latency_seconds histogram\n"
            "dogsearch_latency_seconds_bucket{le=\"0.1\"} 2\n"
            "dogsearch_latency_seconds_bucket{le=\"1\"} 2\n"
            "dogsearch_latency_seconds_bucket{le=\"+Inf\"} 3\n"
            "dogsearch_latency_seconds_sum 5.15\n"
            "dogsearch_latency_seconds_count 3\n"
            "# HELP dogsearch_queue_depth Queued requests.\n"
            "# TYPE dogsearch_queue_depth gauge\n"
            "dogsearch_queue_depth 2.5\n"
            "# HELP dogsearch_requests_total Requests served.\n"
            "# TYPE dogsearch_requests_total counter\n"
            "dogsearch_requests_total{method=\"Embed\"} 3\n");
}

TEST(MetricsTest, SameNameAndLabelsGiveTheSameMetric) {
  MetricsRegistry r;
  Counter* a = r.GetCounter("x_total", "X.", {{"code", "OK"}});
  Counter* b = r.GetCounter("x_total", "X.", {{"code", "OK"}});
  Counter* c = r.GetCounter("x_total", "X.", {{"code", "NOT_FOUND"}});
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
}

TEST(MetricsTest, CountersNeverGoDown) {
  MetricsRegistry r;
  Counter* c = r.GetCounter("c_total", "C.");
  c->Increment(2);
  c->Increment(-5);
  EXPECT_EQ(c->Value(), 2);
}

TEST(MetricsTest, LabelValuesAreEscaped) {
  EXPECT_EQ(RenderLabels({{"path", "a\"b\\c\nd"}}), "{path=\"a\\\"b\\\\c\\nd\"}");
}

TEST(MetricsTest, ConcurrentUpdatesAreAllCounted) {
  MetricsRegistry r;
  Counter* c = r.GetCounter("hits_total", "Hits.");
  Histogram* h = r.GetHistogram("size_bytes", "Sizes.", ExponentialBuckets(1, 2, 10));
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 10000; ++i) {
        c->Increment();
        h->Observe(i % 600);
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(c->Value(), 40000);
  EXPECT_EQ(h->Count(), 40000u);
  uint64_t total = 0;
  for (uint64_t n : h->BucketCounts()) total += n;
  EXPECT_EQ(total, 40000u);
}

TEST(RpcMetricsTest, RecordsCountsByCodeAndLatencyPerMethod) {
  MetricsRegistry r;
  RpcMetrics m(&r, "svc", "Svc", {"Get", "Put"});
  m.Record("Get", absl::StatusCode::kOk, 0.002);
  m.Record("Get", absl::StatusCode::kNotFound, 0.004);
  m.Record("Put", absl::StatusCode::kOk, 0.5);
  m.Record("Unknown", absl::StatusCode::kOk, 1.0);  // Not registered: ignored.
  const std::string text = r.RenderText();
  EXPECT_TRUE(absl::StrContains(text, "svc_requests_total{method=\"Get\",code=\"OK\"} 1\n"));
  EXPECT_TRUE(absl::StrContains(text, "svc_requests_total{method=\"Get\",code=\"NOT_FOUND\"} 1\n"));
  EXPECT_TRUE(absl::StrContains(text, "svc_request_seconds_count{method=\"Get\"} 2\n"));
  EXPECT_TRUE(absl::StrContains(text, "svc_request_seconds_sum{method=\"Put\"} 0.5\n"));
  EXPECT_FALSE(absl::StrContains(text, "Unknown"));
}

TEST(MetricsDeathTest, ConflictingRegistrationAbortsWithAMessage) {
  MetricsRegistry r;
  r.GetCounter("dup_total", "Dup.");
  EXPECT_DEATH(r.GetGauge("dup_total", "Dup."), "registered twice");
  EXPECT_DEATH(r.GetCounter("bad name", "x"), "invalid metric name");
}

TEST(MetricsHttpServerTest, ServesMetricsAndHealthOverHttp) {
  MetricsRegistry r;
  r.GetCounter("served_total", "Served.")->Increment(7);
  // Atomic: the HTTP thread reads it, and the socket that orders the two is invisible to TSan.
  std::atomic<bool> ready{false};
  MetricsHttpOptions opts;
  opts.registry = &r;
  opts.health = [&ready] {
    return ready.load() ? absl::OkStatus() : absl::UnavailableError("no default model");
  };
  auto server = MetricsHttpServer::Create(opts);
  ASSERT_TRUE(server.ok()) << server.status();
  ASSERT_GT((*server)->port(), 0);

  httplib::Client client("127.0.0.1", (*server)->port());
  auto res = client.Get("/metrics");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_TRUE(absl::StrContains(res->body, "served_total 7\n")) << res->body;
  EXPECT_TRUE(absl::StartsWith(res->get_header_value("Content-Type"), "text/plain"));

  auto health = client.Get("/healthz");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 503);
  EXPECT_EQ(health->body, "no default model\n");
  ready = true;
  EXPECT_EQ(client.Get("/healthz")->status, 200);
  (*server)->Stop();
  EXPECT_FALSE(client.Get("/metrics"));
}

TEST(MetricsHttpServerTest, PortInUseIsAClearError) {
  auto first = MetricsHttpServer::Create({});
  ASSERT_TRUE(first.ok());
  MetricsHttpOptions opts;
  opts.port = (*first)->port();
  auto second = MetricsHttpServer::Create(opts);
  EXPECT_EQ(second.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(MetricsHttpServer::Create({"127.0.0.1", 70000, nullptr, nullptr}).status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace dogsearch::metrics
