// The gateway's two front doors in one process, over the in-memory backends: the gRPC
// DogSearchService and the HTTP API, hammered concurrently (gRPC and HTTP clients searching and
// enrolling while an upgrade runs), plus the adapters' own duties: bearer tokens, status codes,
// deadlines passed down. Needs neither LibTorch nor OpenCV, so it runs under ThreadSanitizer.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <httplib.h>

#include <atomic>
#include <thread>

#include "absl/strings/str_cat.h"
#include "common/base/sha256.h"
#include "common/metrics/metrics.h"
#include "common/rpc/channel.h"
#include "common/rpc/grpc_server.h"
#include "services/gateway/dogsearch_service.h"
#include "services/gateway/http_api.h"
#include "tests/gateway/fakes.h"
#include "tests/testing/eventually.h"
#include "tests/testing/temp_dir.h"

namespace dogsearch::gateway {
namespace {

using testing::FakePhoto;

class GatewayServiceTest : public ::testing::Test {
 protected:
  GatewayServiceTest() : embedding_("v1") {
    embedding_.AddCheckpoint("v2");
    store_ = *GalleryStore::Open(dir_.File("gallery.sqlite"));
    photos_ = std::make_unique<PhotoStore>(*PhotoStore::Open(dir_.File("photos")));
    GatewayOptions o;
    o.supervise_interval = absl::Milliseconds(20);
    o.retire_grace = absl::Milliseconds(100);
    o.reembed_batch = 2;
    core_ = std::make_unique<GatewayCore>(
        GatewayDeps{store_.get(), photos_.get(), &embedding_, &index_}, o);
    core_->Start();
    (void)dogsearch::testing::Eventually([&] { return core_->serving(); }, absl::Seconds(3),
                                         absl::Milliseconds(10));
    const rpc::TokenAuthenticator auth("tok", false);
    service_ = std::make_unique<DogSearchService>(core_.get(), auth, &registry_);
    rpc::GrpcServerOptions so;
    so.address = "127.0.0.1:0";
    server_ = *rpc::GrpcServer::Start(so, {service_.get()});
    HttpApiOptions ho;
    ho.port = 0;
    http_ = *HttpApi::Start(core_.get(), auth, ho);
    options_.bearer_token = "tok";
    stub_ = v1::DogSearch::NewStub(
        *rpc::CreateChannel(absl::StrCat("127.0.0.1:", server_->port()), options_));
  }
  ~GatewayServiceTest() override {
    http_->Stop();
    server_->Shutdown(absl::Seconds(1));
    core_->Stop();
  }
  grpc::Status Enroll(int dog, bool token = true) {
    v1::EnrollRequest r;
    r.set_dog_id(absl::StrCat("dog", dog));
    r.set_name(absl::StrCat("Dog ", dog));
    for (int p = 0; p < 2; ++p) r.add_photos()->set_data(FakePhoto(dog, p));
    grpc::ClientContext ctx;
    rpc::ChannelOptions o = options_;
    if (!token) o.bearer_token.clear();
    rpc::PrepareContext(&ctx, o);
    v1::Dog out;
    return stub_->Enroll(&ctx, r, &out);
  }
  grpc::Status Search(int dog, v1::SearchResponse* resp,
                      absl::Duration deadline = absl::Seconds(10)) {
    v1::SearchRequest r;
    r.mutable_photo()->set_data(FakePhoto(dog, 9));
    grpc::ClientContext ctx;
    rpc::PrepareContext(&ctx, options_, deadline);
    return stub_->Search(&ctx, r, resp);
  }

  dogsearch::testing::TempDir dir_;
  testing::FakeEmbedding embedding_;
  testing::FakeIndex index_;
  std::unique_ptr<GalleryStore> store_;
  std::unique_ptr<PhotoStore> photos_;
  std::unique_ptr<GatewayCore> core_;
  metrics::MetricsRegistry registry_;
  std::unique_ptr<DogSearchService> service_;
  std::unique_ptr<rpc::GrpcServer> server_;
  std::unique_ptr<HttpApi> http_;
  rpc::ChannelOptions options_;
  std::unique_ptr<v1::DogSearch::Stub> stub_;
};

TEST_F(GatewayServiceTest, TokensAndStatusCodes) {
  ASSERT_TRUE(core_->serving());
  EXPECT_EQ(Enroll(1, false).error_code(), grpc::StatusCode::UNAUTHENTICATED);
  ASSERT_TRUE(Enroll(1).ok());
  EXPECT_EQ(Enroll(1).error_code(), grpc::StatusCode::ALREADY_EXISTS);
  v1::SearchResponse r;
  ASSERT_TRUE(Search(1, &r).ok());
  EXPECT_EQ(r.matches(0).dog_id(), "dog1");
  grpc::ClientContext ctx;
  rpc::PrepareContext(&ctx, options_);
  v1::Dog dog;
  v1::GetDogRequest g;
  g.set_dog_id("nobody");
  EXPECT_EQ(stub_->GetDog(&ctx, g, &dog).error_code(), grpc::StatusCode::NOT_FOUND);
  // A deadline shorter than the embedding takes: DEADLINE_EXCEEDED, not a hang.
  embedding_.set_delay(absl::Milliseconds(300));
  EXPECT_EQ(Search(1, &r, absl::Milliseconds(50)).error_code(),
            grpc::StatusCode::DEADLINE_EXCEEDED);
  embedding_.set_delay(absl::ZeroDuration());
  httplib::Client http("127.0.0.1", http_->port());
  EXPECT_EQ(http.Delete("/api/dogs/dog1")->status, 401);
  EXPECT_EQ(http.Delete("/api/dogs/dog1", {{"Authorization", "Bearer wrong"}})->status, 401);
  EXPECT_EQ(http.Delete("/api/dogs/dog1", {{"Authorization", "Bearer tok"}})->status, 200);
}

TEST_F(GatewayServiceTest, PhotosArePrivateWhenReadsNeedTheToken) {
  ASSERT_TRUE(Enroll(1).ok());
  const std::string id = Sha256::Hex(FakePhoto(1, 0));
  httplib::Client open_api("127.0.0.1", http_->port());
  auto pub = open_api.Get("/api/photos/" + id);
  ASSERT_TRUE(pub);
  EXPECT_EQ(pub->status, 200);
  EXPECT_EQ(pub->get_header_value("Cache-Control"), "public, max-age=31536000, immutable");
  HttpApiOptions ho;
  ho.port = 0;
  auto closed = HttpApi::Start(core_.get(), rpc::TokenAuthenticator("tok", true), ho);
  ASSERT_TRUE(closed.ok());
  httplib::Client c("127.0.0.1", (*closed)->port());
  EXPECT_EQ(c.Get("/api/photos/" + id)->status, 401);
  auto got = c.Get("/api/photos/" + id, {{"Authorization", "Bearer tok"}});
  ASSERT_TRUE(got);
  EXPECT_EQ(got->status, 200);
  EXPECT_EQ(got->get_header_value("Cache-Control"), "private, max-age=31536000, immutable");
  EXPECT_EQ(got->body, FakePhoto(1, 0));
}

// gRPC and HTTP clients searching and enrolling at once while an upgrade runs: every search
// answers, with the right dog, and the upgrade completes. (Run under ThreadSanitizer.)
TEST_F(GatewayServiceTest, ConcurrentClientsOnBothDoorsDuringAnUpgrade) {
  for (int d = 0; d < 20; ++d) ASSERT_TRUE(Enroll(d).ok());
  std::atomic<bool> stop{false};
  std::atomic<int> failures{0}, done{0};
  std::vector<std::thread> clients;
  for (int c = 0; c < 3; ++c) {
    clients.emplace_back([&, c] {
      for (int i = 0; !stop; ++i) {
        v1::SearchResponse r;
        const int dog = (c + i) % 20;
        grpc::Status s = Search(dog, &r);
        if (!s.ok() || r.matches(0).dog_id() != absl::StrCat("dog", dog)) ++failures;
        ++done;
      }
    });
  }
  for (int c = 0; c < 3; ++c) {
    clients.emplace_back([&, c] {
      httplib::Client http("127.0.0.1", http_->port());
      for (int i = 0; !stop; ++i) {
        const int dog = (c * 3 + i) % 20;
        auto res = http.Post(
            "/api/search",
            httplib::MultipartFormDataItems{{"photo", FakePhoto(dog, 8), "q.jpg", "image/jpeg"}});
        if (!res || res->status != 200 ||
            res->body.find(absl::StrCat("\"dog_id\":\"dog", dog, "\"")) == std::string::npos) {
          ++failures;
        }
        if (!http.Get("/api/dogs?page_size=5")) ++failures;
        ++done;
      }
    });
  }
  clients.emplace_back([&] {
    for (int d = 100; d < 110; ++d) {
      if (!Enroll(d).ok()) ++failures;
    }
  });
  v1::StartModelUpgradeRequest up;
  up.set_version("v2");
  ASSERT_TRUE(core_->StartModelUpgrade(up).ok());
  v1::UpgradeProgress p;
  (void)dogsearch::testing::Eventually(
      [&] {
        p = core_->GetModelStatus().upgrade();
        return p.state() == v1::UPGRADE_STATE_SUCCEEDED || p.state() == v1::UPGRADE_STATE_FAILED;
      },
      absl::Seconds(10));
  absl::SleepFor(absl::Milliseconds(100));
  stop = true;
  for (auto& t : clients) t.join();
  EXPECT_EQ(p.state(), v1::UPGRADE_STATE_SUCCEEDED) << p.state_reason();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_GT(done.load(), 20);
  EXPECT_EQ(index_.version_mismatches(), 0);
  EXPECT_EQ(index_.Count("gallery__v2"), store_->CountPhotos());
}

TEST_F(GatewayServiceTest, WebPageAndApiOverHttps) {
  const std::string certs = dir_.File("certs");
  ASSERT_EQ(std::system((std::string(DOGSEARCH_SOURCE_DIR) + "/tools/gen_dev_certs.sh " + certs +
                         " gateway > /dev/null")
                            .c_str()),
            0);
  HttpApiOptions ho;
  ho.port = 0;
  ho.tls_cert = certs + "/gateway.crt";
  ho.tls_key = certs + "/gateway.key";
  auto https = HttpApi::Start(core_.get(), rpc::TokenAuthenticator("tok", false), ho);
  ASSERT_TRUE(https.ok()) << https.status();
  httplib::SSLClient client("127.0.0.1", (*https)->port());
  client.set_ca_cert_path((certs + "/ca.crt").c_str());
  client.enable_server_certificate_verification(true);
  auto page = client.Get("/");
  ASSERT_TRUE(page) << httplib::to_string(page.error());
  EXPECT_EQ(page->status, 200);
  EXPECT_NE(page->body.find("dogsearch"), std::string::npos);
  EXPECT_EQ(client.Get("/healthz")->status, 200);
  // Plain HTTP to the HTTPS port gets no page.
  httplib::Client plain("127.0.0.1", (*https)->port());
  auto refused = plain.Get("/");
  EXPECT_TRUE(!refused || refused->status != 200);
  (*https)->Stop();
  // Half a key pair is refused by name.
  ho.tls_key.clear();
  auto half = HttpApi::Start(core_.get(), rpc::TokenAuthenticator("tok", false), ho);
  EXPECT_TRUE(absl::IsInvalidArgument(half.status())) << half.status();
}

}  // namespace
}  // namespace dogsearch::gateway
