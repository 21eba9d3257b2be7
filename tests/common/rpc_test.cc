// Service plumbing over loopback: health, reflection, bearer tokens, TLS and mutual TLS,
// retries, deadlines, graceful shutdown and shutdown signals.
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>

#include <atomic>
#include <csignal>
#include <cstdlib>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/rpc/channel.h"
#include "common/rpc/early_auth.h"
#include "common/rpc/grpc_server.h"
#include "common/rpc/shutdown_signal.h"
#include "common/rpc/status_util.h"
#include "common/rpc/token_auth.h"
#include "dogsearch/v1/dogsearch.pb.h"
#include "dogsearch/v1/embedding.grpc.pb.h"
#include "dogsearch/v1/index.pb.h"
#include "dogsearch/v1/trainer.pb.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "gtest/gtest.h"
#include "tests/testing/notification.h"
#include "tests/testing/temp_dir.h"

namespace dogsearch::rpc {
namespace {

using ::grpc::health::v1::HealthCheckRequest;
using ::grpc::health::v1::HealthCheckResponse;

// A stand-in Embedding service: ListModels is a read, LoadModel a mutation, GetModel fails
// with UNAVAILABLE a configurable number of times, Embed waits until released.
class FakeEmbedding final : public v1::Embedding::CallbackService {
 public:
  explicit FakeEmbedding(TokenAuthenticator auth) : auth_(std::move(auth)) {}
  ~FakeEmbedding() override {
    Release();
    for (auto& t : waiters_) t.join();
  }

  void Release() {
    if (!release_.HasBeenNotified()) release_.Notify();
  }

  grpc::ServerUnaryReactor* ListModels(grpc::CallbackServerContext* ctx,
                                       const v1::ListModelsRequest*,
                                       v1::ListModelsResponse* resp) override {
    absl::Status s = auth_.Check(*ctx, RpcKind::kRead);
    if (s.ok()) resp->set_default_version("v1");
    auto* r = ctx->DefaultReactor();
    r->Finish(ToGrpcStatus(s));
    return r;
  }

  grpc::ServerUnaryReactor* LoadModel(grpc::CallbackServerContext* ctx,
                                      const v1::LoadModelRequest* req,
                                      v1::ModelInfo* resp) override {
    absl::Status s = auth_.Check(*ctx, RpcKind::kMutating);
    if (s.ok()) resp->set_version(req->version());
    auto* r = ctx->DefaultReactor();
    r->Finish(ToGrpcStatus(s));
    return r;
  }

  grpc::ServerUnaryReactor* GetModel(grpc::CallbackServerContext* ctx, const v1::GetModelRequest*,
                                     v1::ModelInfo* resp) override {
    auto* r = ctx->DefaultReactor();
    if (get_model_calls_.fetch_add(1) < fail_get_model_) {
      r->Finish(grpc::Status(grpc::StatusCode::UNAVAILABLE, "warming up"));
    } else {
      resp->set_version("v1");
      r->Finish(grpc::Status::OK);
    }
    return r;
  }

  grpc::ServerUnaryReactor* Embed(grpc::CallbackServerContext* ctx, const v1::EmbedRequest*,
                                  v1::EmbedResponse* resp) override {
    auto* r = ctx->DefaultReactor();
    arrived_.Notify();
    waiters_.emplace_back([this, r, resp] {
      release_.WaitForNotification();
      resp->set_model_version("v1");
      r->Finish(grpc::Status::OK);
    });
    return r;
  }

  std::atomic<int> get_model_calls_{0};
  int fail_get_model_ = 0;
  testing::Notification arrived_, release_;

 private:
  TokenAuthenticator auth_;
  std::vector<std::thread> waiters_;
};

class RpcTest : public ::testing::Test {
 protected:
  // `early`: the token rule applied by the server before the handler (whose own check is off).
  void StartServer(TokenAuthenticator auth = {"", false}, TlsFiles tls = {},
                   TokenAuthenticator early = {"", false}) {
    service_ = std::make_unique<FakeEmbedding>(std::move(auth));
    GrpcServerOptions opts;
    opts.tls = std::move(tls);
    opts.auth = std::move(early);
    opts.health_service_names = {v1::Embedding::service_full_name()};
    auto s = GrpcServer::Start(opts, {service_.get()});
    ASSERT_TRUE(s.ok()) << s.status();
    server_ = *std::move(s);
    target_ = absl::StrCat("127.0.0.1:", server_->port());
  }

  std::unique_ptr<v1::Embedding::Stub> Stub(const ChannelOptions& opts = {}) {
    auto ch = CreateChannel(target_, opts);
    EXPECT_TRUE(ch.ok()) << ch.status();
    return v1::Embedding::NewStub(*ch);
  }

  grpc::Status ListModels(v1::Embedding::Stub& stub, const ChannelOptions& opts = {}) {
    grpc::ClientContext ctx;
    PrepareContext(&ctx, opts, absl::Seconds(5));
    v1::ListModelsResponse resp;
    return stub.ListModels(&ctx, {}, &resp);
  }

  grpc::Status LoadModel(v1::Embedding::Stub& stub, const ChannelOptions& opts) {
    grpc::ClientContext ctx;
    PrepareContext(&ctx, opts, absl::Seconds(5));
    v1::LoadModelRequest req;
    req.set_version("v2");
    v1::ModelInfo resp;
    return stub.LoadModel(&ctx, req, &resp);
  }

  HealthCheckResponse::ServingStatus Health(const std::string& service) {
    auto stub = grpc::health::v1::Health::NewStub(*CreateChannel(target_, {}));
    grpc::ClientContext ctx;
    ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(5)));
    HealthCheckRequest req;
    req.set_service(service);
    HealthCheckResponse resp;
    grpc::Status s = stub->Check(&ctx, req, &resp);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return resp.status();
  }

  void TearDown() override {
    // Calls parked in Embed must finish before the server can shut down.
    if (service_) service_->Release();
    server_.reset();
  }

  std::unique_ptr<FakeEmbedding> service_;
  std::unique_ptr<GrpcServer> server_;
  std::string target_;
};

TEST_F(RpcTest, HealthIsServingForServerAndServiceAndFollowsSetServing) {
  StartServer();
  EXPECT_EQ(Health(""), HealthCheckResponse::SERVING);
  EXPECT_EQ(Health("dogsearch.v1.Embedding"), HealthCheckResponse::SERVING);
  server_->SetServing(false);
  EXPECT_EQ(Health(""), HealthCheckResponse::NOT_SERVING);
  EXPECT_EQ(Health("dogsearch.v1.Embedding"), HealthCheckResponse::NOT_SERVING);
}

// Lists services over server reflection; returns the final status and the raw reply.
grpc::Status ListServicesByReflection(const std::string& target, const ChannelOptions& opts,
                                      std::string* reply) {
  auto channel = *CreateChannel(target, opts);
  grpc::GenericStub stub(channel);
  grpc::CompletionQueue cq;
  grpc::ClientContext ctx;
  PrepareContext(&ctx, opts, absl::Seconds(5));
  auto call =
      stub.PrepareCall(&ctx, "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo", &cq);
  auto step = [&cq](int tag) {
    void* got;
    bool ok;
    return cq.Next(&got, &ok) && ok && got == reinterpret_cast<void*>(tag);
  };
  call->StartCall(reinterpret_cast<void*>(1));
  if (step(1)) {
    // ServerReflectionRequest{list_services: "*"}: field 7, length-delimited.
    const std::string req("\x3a\x01*", 3);
    grpc::Slice slice(req);
    grpc::ByteBuffer out(&slice, 1);
    call->Write(out, reinterpret_cast<void*>(2));
    grpc::ByteBuffer in;
    if (step(2)) {
      call->Read(&in, reinterpret_cast<void*>(3));
      if (step(3)) {
        std::vector<grpc::Slice> slices;
        if (in.Dump(&slices).ok()) {
          for (auto& s : slices) reply->append(reinterpret_cast<const char*>(s.begin()), s.size());
        }
        call->WritesDone(reinterpret_cast<void*>(4));
        step(4);
      }
    }
  }
  grpc::Status status;
  call->Finish(&status, reinterpret_cast<void*>(5));
  void* got;
  bool ok;
  while (cq.Next(&got, &ok) && got != reinterpret_cast<void*>(5)) {
  }
  return status;
}

TEST_F(RpcTest, ReflectionListsOurServices) {
  StartServer();
  std::string reply;
  grpc::Status status = ListServicesByReflection(target_, {}, &reply);
  EXPECT_TRUE(status.ok()) << status.error_message();
  EXPECT_TRUE(absl::StrContains(reply, "dogsearch.v1.Embedding"));
  EXPECT_TRUE(absl::StrContains(reply, "grpc.health.v1.Health"));
}

TEST_F(RpcTest, MutatingRpcNeedsTheBearerTokenReadsDoNot) {
  StartServer(TokenAuthenticator("s3cret", /*protect_reads=*/false));
  auto stub = Stub();
  ChannelOptions none, wrong, right;
  wrong.bearer_token = "guess";
  right.bearer_token = "s3cret";
  grpc::Status s = LoadModel(*stub, none);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_TRUE(absl::StrContains(s.error_message(), "bearer token")) << s.error_message();
  EXPECT_EQ(LoadModel(*stub, wrong).error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_TRUE(LoadModel(*stub, right).ok());
  EXPECT_TRUE(ListModels(*stub, none).ok());
}

TEST_F(RpcTest, ProtectedReadsNeedTheTokenToo) {
  StartServer(TokenAuthenticator("s3cret", /*protect_reads=*/true));
  auto stub = Stub();
  ChannelOptions right;
  right.bearer_token = "s3cret";
  EXPECT_EQ(ListModels(*stub).error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_TRUE(ListModels(*stub, right).ok());
}

TEST_F(RpcTest, TheTokenIsCheckedOnHeadersBeforeTheMessageIsRead) {
  StartServer({"", false}, {}, TokenAuthenticator("s3cret", /*protect_reads=*/false));
  auto stub = Stub();
  ChannelOptions right, wrong;
  right.bearer_token = "s3cret";
  wrong.bearer_token = "guess";
  EXPECT_EQ(LoadModel(*stub, {}).error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(LoadModel(*stub, wrong).error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_TRUE(LoadModel(*stub, right).ok());
  EXPECT_TRUE(ListModels(*stub).ok());                  // A read, and reads are open.
  EXPECT_EQ(Health(""), HealthCheckResponse::SERVING);  // Probes never need the token.
  // Protected reads: reads (and reflection) need it too; health still does not.
  server_.reset();
  StartServer({"", false}, {}, TokenAuthenticator("s3cret", /*protect_reads=*/true));
  stub = Stub();
  EXPECT_EQ(ListModels(*stub).error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_TRUE(ListModels(*stub, right).ok()) << ListModels(*stub, right).error_message();
  EXPECT_EQ(Health(""), HealthCheckResponse::SERVING);
  // Embed is a read: a large message without the token never reaches the handler.
  grpc::ClientContext ctx;
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
  v1::EmbedRequest big;
  big.add_photos()->set_data(std::string(32 << 20, 'x'));
  v1::EmbedResponse resp;
  EXPECT_EQ(stub->Embed(&ctx, big, &resp).error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_FALSE(service_->arrived_.HasBeenNotified());
  // Reflection follows the read rule.
  std::string reply;
  EXPECT_EQ(ListServicesByReflection(target_, {}, &reply).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_TRUE(ListServicesByReflection(target_, right, &reply).ok());
  EXPECT_TRUE(absl::StrContains(reply, "dogsearch.v1.Embedding"));
}

TEST(EarlyAuthTest, EveryReadMethodExistsAndTheRuleFollowsTheKind) {
  // Linking each contract in registers its services with the generated pool.
  ASSERT_NE(v1::SearchRequest::descriptor(), nullptr);
  ASSERT_NE(v1::VectorSearchRequest::descriptor(), nullptr);
  ASSERT_NE(v1::GetJobRequest::descriptor(), nullptr);
  const auto* pool = google::protobuf::DescriptorPool::generated_pool();
  for (const std::string& path : ReadMethods()) {
    const std::string full = path.substr(1);  // "dogsearch.v1.Index/Search"
    const size_t slash = full.find('/');
    const auto* service = pool->FindServiceByName(full.substr(0, slash));
    ASSERT_NE(service, nullptr) << path;
    EXPECT_NE(service->FindMethodByName(full.substr(slash + 1)), nullptr) << path;
  }
  TokenAuthenticator auth("t", false);
  absl::string_view right = "Bearer t";
  EXPECT_TRUE(EarlyAuthCheck(auth, "/dogsearch.v1.Index/Search", nullptr).ok());
  EXPECT_FALSE(EarlyAuthCheck(auth, "/dogsearch.v1.Index/Upsert", nullptr).ok());
  EXPECT_TRUE(EarlyAuthCheck(auth, "/dogsearch.v1.Index/Upsert", &right).ok());
  EXPECT_FALSE(EarlyAuthCheck(auth, "/no.such.Service/Method", nullptr).ok());
  EXPECT_TRUE(EarlyAuthCheck(auth, "/grpc.health.v1.Health/Check", nullptr).ok());
  TokenAuthenticator closed("t", true);
  EXPECT_FALSE(EarlyAuthCheck(closed, "/dogsearch.v1.Index/Search", nullptr).ok());
  EXPECT_FALSE(EarlyAuthCheck(closed,
                              "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
                              nullptr)
                   .ok());
  EXPECT_TRUE(EarlyAuthCheck(closed, "/grpc.health.v1.Health/Watch", nullptr).ok());
}

TEST(TokenAuthenticatorTest, HeaderFormsAreCheckedStrictly) {
  TokenAuthenticator auth("tok", false);
  absl::string_view ok = "Bearer tok", lower = "bearer tok", basic = "Basic tok",
                    longer = "Bearer tok2", empty = "Bearer ";
  EXPECT_TRUE(auth.CheckHeader(&ok, RpcKind::kMutating).ok());
  EXPECT_TRUE(auth.CheckHeader(&lower, RpcKind::kMutating).ok());
  EXPECT_FALSE(auth.CheckHeader(&basic, RpcKind::kMutating).ok());
  EXPECT_FALSE(auth.CheckHeader(&longer, RpcKind::kMutating).ok());
  EXPECT_FALSE(auth.CheckHeader(&empty, RpcKind::kMutating).ok());
  EXPECT_FALSE(auth.CheckHeader(nullptr, RpcKind::kMutating).ok());
  EXPECT_TRUE(auth.CheckHeader(nullptr, RpcKind::kRead).ok());
  EXPECT_TRUE(TokenAuthenticator("", true).CheckHeader(nullptr, RpcKind::kMutating).ok());
}

TEST(StatusUtilTest, CodesAndMessagesSurviveTheRoundTrip) {
  for (auto code : {absl::StatusCode::kInvalidArgument, absl::StatusCode::kNotFound,
                    absl::StatusCode::kResourceExhausted, absl::StatusCode::kUnauthenticated,
                    absl::StatusCode::kFailedPrecondition, absl::StatusCode::kUnavailable}) {
    absl::Status in(code, "why");
    grpc::Status g = ToGrpcStatus(in);
    EXPECT_EQ(static_cast<int>(g.error_code()), static_cast<int>(code));
    EXPECT_EQ(g.error_message(), "why");
    EXPECT_EQ(FromGrpcStatus(g), in);
  }
  EXPECT_TRUE(ToGrpcStatus(absl::OkStatus()).ok());
}

TEST_F(RpcTest, IdempotentMethodsAreRetriedOnUnavailable) {
  StartServer();
  service_->fail_get_model_ = 2;
  ChannelOptions retrying;
  retrying.idempotent_methods = {"dogsearch.v1.Embedding/GetModel"};
  retrying.max_attempts = 3;
  auto stub = Stub(retrying);
  grpc::ClientContext ctx;
  PrepareContext(&ctx, retrying);
  v1::ModelInfo info;
  grpc::Status s = stub->GetModel(&ctx, {}, &info);
  EXPECT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(service_->get_model_calls_.load(), 3);
}

TEST_F(RpcTest, MethodsNotDeclaredIdempotentAreNotRetried) {
  StartServer();
  service_->fail_get_model_ = 1;
  auto stub = Stub();
  grpc::ClientContext ctx;
  PrepareContext(&ctx, {});
  v1::ModelInfo info;
  EXPECT_EQ(stub->GetModel(&ctx, {}, &info).error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(service_->get_model_calls_.load(), 1);
}

TEST(ChannelTest, ServiceConfigDeclaresRetriesAndRoundRobin) {
  ChannelOptions o;
  EXPECT_EQ(ServiceConfigJson(o), "{}");
  o.round_robin = true;
  o.idempotent_methods = {"dogsearch.v1.Index", "dogsearch.v1.Embedding/Embed"};
  std::string json = ServiceConfigJson(o);
  EXPECT_TRUE(absl::StrContains(json, "\"round_robin\"")) << json;
  EXPECT_TRUE(absl::StrContains(json, "{\"service\":\"dogsearch.v1.Index\"}")) << json;
  EXPECT_TRUE(
      absl::StrContains(json, "{\"service\":\"dogsearch.v1.Embedding\",\"method\":\"Embed\"}"))
      << json;
  EXPECT_TRUE(absl::StrContains(json, "\"retryableStatusCodes\":[\"UNAVAILABLE\"]")) << json;
  o.max_attempts = 9;
  EXPECT_EQ(CreateChannel("127.0.0.1:1", o).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(CreateChannel("", {}).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(RpcTest, DeadlineFromOptionsEndsASlowCall) {
  StartServer();
  ChannelOptions opts;
  opts.default_deadline = absl::Milliseconds(200);
  auto stub = Stub(opts);
  grpc::ClientContext ctx;
  PrepareContext(&ctx, opts);
  v1::EmbedResponse resp;
  EXPECT_EQ(stub->Embed(&ctx, {}, &resp).error_code(), grpc::StatusCode::DEADLINE_EXCEEDED);
}

TEST_F(RpcTest, ServerThatIsDownGivesUnavailableNotAHang) {
  StartServer();
  server_->Shutdown(absl::ZeroDuration());
  auto stub = Stub();
  absl::Time start = absl::Now();
  EXPECT_EQ(ListModels(*stub).error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_LT(absl::Now() - start, absl::Seconds(4));  // The deadline was 5 s.
}

TEST_F(RpcTest, GracefulShutdownLetsInFlightCallsFinish) {
  StartServer();
  auto stub = Stub();
  grpc::Status embed_status;
  std::thread caller([&] {
    grpc::ClientContext ctx;
    PrepareContext(&ctx, {}, absl::Seconds(10));
    v1::EmbedResponse resp;
    embed_status = stub->Embed(&ctx, {}, &resp);
  });
  service_->arrived_.WaitForNotification();
  std::thread stopper([&] { server_->Shutdown(absl::Seconds(10)); });
  service_->Release();
  stopper.join();
  caller.join();
  EXPECT_TRUE(embed_status.ok()) << embed_status.error_message();
}

TEST(GrpcServerTest, AddressInUseIsAClearError) {
  auto first = GrpcServer::Start({}, {});
  ASSERT_TRUE(first.ok());
  GrpcServerOptions opts;
  opts.address = absl::StrCat("127.0.0.1:", (*first)->port());
  auto second = GrpcServer::Start(opts, {});
  EXPECT_EQ(second.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_TRUE(absl::StrContains(second.status().message(), "cannot listen")) << second.status();
}

// --- TLS. Certificates come from tools/gen_dev_certs.sh, the script users run. ---
class TlsTest : public RpcTest {
 protected:
  static void SetUpTestSuite() {
    dir_ = new testing::TempDir();
    const std::string script = std::string(DOGSEARCH_SOURCE_DIR) + "/tools/gen_dev_certs.sh";
    ASSERT_EQ(std::system((script + " " + dir_->File("ca") + " server client >/dev/null").c_str()),
              0);
    ASSERT_EQ(std::system((script + " " + dir_->File("other") + " client >/dev/null").c_str()), 0);
  }
  static void TearDownTestSuite() { delete dir_; }

  static TlsFiles Files(const std::string& ca_dir, const std::string& name, bool with_ca) {
    TlsFiles f;
    f.cert_file = dir_->File(ca_dir + "/" + name + ".crt");
    f.key_file = dir_->File(ca_dir + "/" + name + ".key");
    if (with_ca) f.ca_file = dir_->File(ca_dir + "/ca.crt");
    return f;
  }
  static ChannelOptions ClientTrustingCa(const std::string& cert_ca_dir, bool with_cert) {
    ChannelOptions o;
    o.tls.ca_file = dir_->File("ca/ca.crt");
    if (with_cert) {
      o.tls.cert_file = dir_->File(cert_ca_dir + "/client.crt");
      o.tls.key_file = dir_->File(cert_ca_dir + "/client.key");
    }
    o.tls_server_name = "localhost";
    return o;
  }

  static testing::TempDir* dir_;
};
testing::TempDir* TlsTest::dir_ = nullptr;

TEST_F(TlsTest, ClientTrustingTheCaTalksToATlsServer) {
  StartServer({"", false}, Files("ca", "server", /*with_ca=*/false));
  auto opts = ClientTrustingCa("ca", false);
  EXPECT_TRUE(ListModels(*Stub(opts), opts).ok());
}

TEST_F(TlsTest, PlaintextClientToATlsPortFailsCleanly) {
  StartServer({"", false}, Files("ca", "server", false));
  EXPECT_EQ(ListModels(*Stub()).error_code(), grpc::StatusCode::UNAVAILABLE);
}

TEST_F(TlsTest, MutualTlsAcceptsAClientCertificateFromTheCa) {
  StartServer({"", false}, Files("ca", "server", /*with_ca=*/true));
  auto opts = ClientTrustingCa("ca", true);
  EXPECT_TRUE(ListModels(*Stub(opts), opts).ok());
}

TEST_F(TlsTest, MutualTlsRefusesClientsWithoutACertificate) {
  StartServer({"", false}, Files("ca", "server", true));
  auto opts = ClientTrustingCa("ca", false);
  EXPECT_EQ(ListModels(*Stub(opts), opts).error_code(), grpc::StatusCode::UNAVAILABLE);
}

TEST_F(TlsTest, MutualTlsRefusesACertificateFromAnotherCa) {
  StartServer({"", false}, Files("ca", "server", true));
  auto opts = ClientTrustingCa("other", true);
  EXPECT_EQ(ListModels(*Stub(opts), opts).error_code(), grpc::StatusCode::UNAVAILABLE);
}

TEST_F(TlsTest, BadCredentialFilesAreNamedInTheError) {
  TlsFiles half;
  half.cert_file = dir_->File("ca/server.crt");
  EXPECT_EQ(MakeServerCredentials(half).status().code(), absl::StatusCode::kInvalidArgument);
  TlsFiles missing = Files("ca", "nobody", false);
  auto st = MakeServerCredentials(missing).status();
  EXPECT_EQ(st.code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(absl::StrContains(st.message(), "nobody.crt")) << st;
  testing::WriteAll(dir_->File("junk.crt"), "not a certificate");
  TlsFiles junk = Files("ca", "server", false);
  junk.cert_file = dir_->File("junk.crt");
  EXPECT_EQ(MakeServerCredentials(junk).status().code(), absl::StatusCode::kFailedPrecondition);
  TlsFiles ca_only;
  ca_only.ca_file = dir_->File("ca/ca.crt");
  EXPECT_EQ(MakeServerCredentials(ca_only).status().code(), absl::StatusCode::kInvalidArgument);
}

// --- Shutdown signals. Run in a fresh process so no other thread can take the signal. ---
TEST(ShutdownSignalDeathTest, SigtermWakesWait) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(
      {
        auto sig = ShutdownSignal::Install();
        std::thread killer([] { ::kill(::getpid(), SIGTERM); });
        killer.join();
        int got = sig->Wait();
        sig.reset();  // std::exit skips destructors; join the waiter thread first.
        std::exit(got == SIGTERM ? 0 : 1);
      },
      ::testing::ExitedWithCode(0), "");
}

TEST(ShutdownSignalDeathTest, SigintWakesWait) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(
      {
        auto sig = ShutdownSignal::Install();
        ::kill(::getpid(), SIGINT);
        int got = sig->Wait();
        sig.reset();
        std::exit(got == SIGINT ? 0 : 1);
      },
      ::testing::ExitedWithCode(0), "");
}

TEST(ShutdownSignalDeathTest, TriggerWakesWaitAndDestructionIsClean) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(
      {
        auto sig = ShutdownSignal::Install();
        EXPECT_EQ(sig->WaitFor(absl::Milliseconds(20)), -1);
        sig->Trigger();
        int got = sig->Wait();
        sig.reset();
        std::exit(got == 0 ? 0 : 1);
      },
      ::testing::ExitedWithCode(0), "");
}

}  // namespace
}  // namespace dogsearch::rpc
