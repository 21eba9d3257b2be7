// rpc::Handlers: the token rule by method (kind from the one read-method table), metrics for
// every method of the descriptor, unknown method names refused loudly, statuses mapped; and the
// HTTP side, metrics::InstrumentRoutes.
#include "common/rpc/handler.h"

#include <google/protobuf/descriptor.h>
#include <grpcpp/server_context.h>

#include "common/metrics/http_route_metrics.h"
#include "common/metrics/metrics.h"
#include "dogsearch/v1/index.grpc.pb.h"
#include "gtest/gtest.h"

namespace dogsearch::rpc {
namespace {

bool Has(const std::string& text, const std::string& line) {
  return text.find(line) != std::string::npos;
}

TEST(HandlersTest, EveryMethodOfTheServiceHasMetricsBeforeAnyCall) {
  metrics::MetricsRegistry registry;
  Handlers h(v1::Index::service_full_name(), "test_index", TokenAuthenticator("", false),
             &registry);
  const std::string text = registry.RenderText();
  const auto* service = google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(
      v1::Index::service_full_name());
  ASSERT_NE(service, nullptr);
  ASSERT_GT(service->method_count(), 10);
  for (int i = 0; i < service->method_count(); ++i) {
    const std::string m = service->method(i)->name();
    EXPECT_TRUE(Has(text, "test_index_requests_total{method=\"" + m + "\",code=\"OK\"} 0")) << m;
    EXPECT_TRUE(Has(text, "test_index_request_seconds_count{method=\"" + m + "\"} 0")) << m;
  }
}

TEST(HandlersTest, MutatingMethodsNeedTheTokenAndTheBodyDoesNotRunWithoutIt) {
  metrics::MetricsRegistry registry;
  Handlers h(v1::Index::service_full_name(), "test_index", TokenAuthenticator("secret", false),
             &registry);
  grpc::ServerContext ctx;  // No authorization header.
  bool ran = false;
  grpc::Status s = h.Run(&ctx, "Upsert", [&](absl::Time) {
    ran = true;
    return absl::OkStatus();
  });
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_FALSE(ran);
  // Search only reads: open while reads are not protected.
  s = h.Run(&ctx, "Search", [&](absl::Time) {
    ran = true;
    return absl::NotFoundError("no collection 'x'");
  });
  EXPECT_TRUE(ran);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(s.error_message(), "no collection 'x'");
  const std::string text = registry.RenderText();
  EXPECT_TRUE(Has(text, "test_index_requests_total{method=\"Upsert\",code=\"UNAUTHENTICATED\"} 1"));
  EXPECT_TRUE(Has(text, "test_index_requests_total{method=\"Search\",code=\"NOT_FOUND\"} 1"));
}

TEST(HandlersTest, ReadsNeedTheTokenWhenProtected) {
  metrics::MetricsRegistry registry;
  Handlers h(v1::Index::service_full_name(), "test_index", TokenAuthenticator("secret", true),
             &registry);
  grpc::ServerContext ctx;
  grpc::Status s = h.Run(&ctx, "Search", [](absl::Time) { return absl::OkStatus(); });
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED);
}

TEST(HandlersTest, AMethodNameNotInTheServiceIsRefusedWithInternal) {
  metrics::MetricsRegistry registry;
  Handlers h(v1::Index::service_full_name(), "test_index", TokenAuthenticator("", false),
             &registry);
  grpc::ServerContext ctx;
  bool ran = false;
  grpc::Status s = h.Run(&ctx, "Serch", [&](absl::Time) {
    ran = true;
    return absl::OkStatus();
  });
  EXPECT_FALSE(ran);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INTERNAL);
  EXPECT_NE(s.error_message().find("'Serch'"), std::string::npos) << s.error_message();
  EXPECT_NE(s.error_message().find("dogsearch.v1.Index"), std::string::npos);
}

TEST(HandlersTest, IntoMovesTheValueOrPassesTheError) {
  std::string out;
  EXPECT_TRUE(Into(absl::StatusOr<std::string>("rex"), &out).ok());
  EXPECT_EQ(out, "rex");
  EXPECT_EQ(Into(absl::StatusOr<std::string>(absl::NotFoundError("x")), &out).code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(out, "rex");
}

TEST(HttpRouteMetricsTest, EveryRouteIsCountedByStatusAndRefusedAdmissionsToo) {
  metrics::MetricsRegistry registry;
  std::vector<http::Route> routes(2);
  routes[0].method = "GET";
  routes[0].pattern = "/api/dogs/{}";
  routes[0].handle = [](const http::HttpRequest&, http::HttpResponse& r) { r.status = 404; };
  routes[1].method = "POST";
  routes[1].pattern = "/api/dogs";
  routes[1].admit = [](const http::HttpRequest&) { return absl::UnauthenticatedError("token"); };
  routes[1].handle = [](const http::HttpRequest&, http::HttpResponse& r) { r.status = 200; };
  metrics::InstrumentRoutes(&registry, "test_http", &routes);
  http::HttpRequest req;
  http::HttpResponse resp;
  routes[0].handle(req, resp);
  routes[0].handle(req, resp);
  EXPECT_EQ(routes[1].admit(req).code(), absl::StatusCode::kUnauthenticated);
  const std::string text = registry.RenderText();
  EXPECT_TRUE(Has(text, "test_http_requests_total{route=\"GET /api/dogs/{}\",code=\"404\"} 2"))
      << text;
  EXPECT_TRUE(Has(text, "test_http_requests_total{route=\"POST /api/dogs\",code=\"refused\"} 1"))
      << text;
  EXPECT_TRUE(Has(text, "test_http_request_seconds_count{route=\"GET /api/dogs/{}\"} 2")) << text;
  EXPECT_TRUE(Has(text, "test_http_request_seconds_count{route=\"POST /api/dogs\"} 0")) << text;
}

}  // namespace
}  // namespace dogsearch::rpc
