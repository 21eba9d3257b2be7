#include "common/rpc/early_auth.h"

#include <grpc/grpc_security.h>
#include <grpcpp/security/auth_metadata_processor.h>

#include <optional>

#include "absl/strings/match.h"
#include "common/metrics/metrics.h"

namespace dogsearch::rpc {
namespace {

bool KnownMethod(absl::string_view path) {
  return absl::StartsWith(path, "/dogsearch.v1.") || absl::StartsWith(path, "/grpc.");
}

// The two headers the rule reads, gathered from either form of the call's metadata; Check()
// applies the rule and counts refusals (which never reach a handler's metrics; unknown paths
// share one label value, so that a caller cannot grow the label set).
class CallHeaders {
 public:
  void Add(absl::string_view key, absl::string_view value) {
    if (key == ":path") path_ = value;
    if (key == kAuthorizationKey) authorization_ = value;
  }
  absl::Status Check(const TokenAuthenticator& auth) const {
    absl::Status s = EarlyAuthCheck(auth, path_, authorization_ ? &*authorization_ : nullptr);
    if (!s.ok()) {
      metrics::MetricsRegistry::Default()
          .GetCounter("dogsearch_rpc_unauthenticated_total",
                      "Calls refused on their headers for a missing or wrong bearer token.",
                      {{"method", KnownMethod(path_) ? std::string(path_) : "other"}})
          ->Increment();
    }
    return s;
  }

 private:
  absl::string_view path_;
  std::optional<absl::string_view> authorization_;
};

// The C++ processor, for TLS credentials (which accept one).
class Processor final : public grpc::AuthMetadataProcessor {
 public:
  explicit Processor(TokenAuthenticator auth) : auth_(std::move(auth)) {}
  bool IsBlocking() const override { return false; }  // Runs inline: a comparison only.
  grpc::Status Process(const InputMetadata& md, grpc::AuthContext*, OutputMetadata*,
                       OutputMetadata*) override {
    CallHeaders headers;
    for (const auto& [key, value] : md) {
      headers.Add(absl::string_view(key.data(), key.size()),
                  absl::string_view(value.data(), value.size()));
    }
    absl::Status s = headers.Check(auth_);
    if (s.ok()) return grpc::Status::OK;
    return grpc::Status(grpc::StatusCode::UNAUTHENTICATED, std::string(s.message()));
  }

 private:
  const TokenAuthenticator auth_;
};

absl::string_view View(const grpc_slice& s) {
  return absl::string_view(reinterpret_cast<const char*>(GRPC_SLICE_START_PTR(s)),
                           GRPC_SLICE_LENGTH(s));
}

// Plaintext credentials with the processor attached through gRPC's core API (the C++
// InsecureServerCredentials refuses processors).
class PlaintextWithAuth final : public grpc::ServerCredentials {
 public:
  explicit PlaintextWithAuth(const TokenAuthenticator& auth)
      : creds_(grpc_insecure_server_credentials_create()) {
    // The core credentials own the state: the server keeps them after this object is gone.
    grpc_auth_metadata_processor p{&PlaintextWithAuth::Process, &PlaintextWithAuth::Destroy,
                                   new TokenAuthenticator(auth)};
    grpc_server_credentials_set_auth_metadata_processor(creds_, p);
  }
  ~PlaintextWithAuth() override { grpc_server_credentials_release(creds_); }
  void SetAuthMetadataProcessor(const std::shared_ptr<grpc::AuthMetadataProcessor>&) override {}

 private:
  static void Process(void* state, grpc_auth_context*, const grpc_metadata* md, size_t n,
                      grpc_process_auth_metadata_done_cb done, void* user_data) {
    CallHeaders headers;
    for (size_t i = 0; i < n; ++i) headers.Add(View(md[i].key), View(md[i].value));
    const absl::Status s = headers.Check(*static_cast<const TokenAuthenticator*>(state));
    const std::string message(s.message());
    done(user_data, nullptr, 0, nullptr, 0, s.ok() ? GRPC_STATUS_OK : GRPC_STATUS_UNAUTHENTICATED,
         s.ok() ? nullptr : message.c_str());
  }
  static void Destroy(void* state) { delete static_cast<TokenAuthenticator*>(state); }
  int AddPortToServer(const std::string& addr, grpc_server* server) override {
    return grpc_server_add_http2_port(server, addr.c_str(), creds_);
  }

  grpc_server_credentials* const creds_;
};

}  // namespace

const std::set<std::string>& ReadMethods() {
  // One method a line.
  // clang-format off
  static const auto* methods = new std::set<std::string>{
      "/dogsearch.v1.DogSearch/Search",
      "/dogsearch.v1.DogSearch/GetDog",
      "/dogsearch.v1.DogSearch/ListDogs",
      "/dogsearch.v1.DogSearch/Verify",
      "/dogsearch.v1.DogSearch/GetModelStatus",
      "/dogsearch.v1.Index/GetCollection",
      "/dogsearch.v1.Index/ListCollections",
      "/dogsearch.v1.Index/Get",
      "/dogsearch.v1.Index/ListRecordIds",
      "/dogsearch.v1.Index/Search",
      "/dogsearch.v1.Index/BatchSearch",
      "/dogsearch.v1.Index/ListAliases",
      "/dogsearch.v1.Index/GetStats",
      "/dogsearch.v1.Embedding/Embed",
      "/dogsearch.v1.Embedding/ListModels",
      "/dogsearch.v1.Embedding/GetModel",
      "/dogsearch.v1.Trainer/GetJob",
      "/dogsearch.v1.Trainer/ListJobs",
      "/dogsearch.v1.Trainer/WatchJob",
      "/dogsearch.v1.Trainer/ListCheckpoints",
      "/dogsearch.v1.Trainer/WatchCheckpoints",
  };
  // clang-format on
  return *methods;
}

absl::Status EarlyAuthCheck(const TokenAuthenticator& auth, absl::string_view path,
                            const absl::string_view* authorization) {
  if (!auth.enabled() || absl::StartsWith(path, "/grpc.health.v1.Health/")) {
    return absl::OkStatus();
  }
  const bool read =
      ReadMethods().count(std::string(path)) > 0 || absl::StartsWith(path, "/grpc.reflection.");
  return auth.CheckHeader(authorization, read ? RpcKind::kRead : RpcKind::kMutating);
}

std::shared_ptr<grpc::ServerCredentials> WithEarlyAuth(std::shared_ptr<grpc::ServerCredentials> tls,
                                                       const TokenAuthenticator& auth) {
  if (tls == nullptr) return std::make_shared<PlaintextWithAuth>(auth);
  tls->SetAuthMetadataProcessor(std::make_shared<Processor>(auth));
  return tls;
}

}  // namespace dogsearch::rpc
