#include "common/rpc/tls.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/base/file_util.h"
#include "common/base/status_macros.h"

namespace dogsearch::rpc {
namespace {

constexpr uint64_t kMaxPemBytes = 1 << 20;

absl::StatusOr<std::string> ReadPem(const std::string& path, absl::string_view what) {
  auto data = ReadFile(path, kMaxPemBytes);
  if (!data.ok()) {
    return absl::Status(data.status().code(),
                        absl::StrCat("TLS ", what, ": ", data.status().message()));
  }
  if (!absl::StrContains(*data, "-----BEGIN ")) {
    return absl::FailedPreconditionError(
        absl::StrCat("TLS ", what, " file ", path, " is not in PEM format"));
  }
  return data;
}

absl::Status CheckKeyPair(const TlsFiles& f) {
  if (f.cert_file.empty() != f.key_file.empty()) {
    return absl::InvalidArgumentError(
        "TLS needs both a certificate and its private key (got only one of them)");
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> MakeServerCredentials(
    const TlsFiles& files) {
  DS_RETURN_IF_ERROR(CheckKeyPair(files));
  if (files.cert_file.empty()) {
    if (!files.ca_file.empty()) {
      return absl::InvalidArgumentError("a TLS CA was given without a server certificate");
    }
    return grpc::InsecureServerCredentials();
  }
  grpc::SslServerCredentialsOptions opts;
  grpc::SslServerCredentialsOptions::PemKeyCertPair pair;
  DS_ASSIGN_OR_RETURN(pair.cert_chain, ReadPem(files.cert_file, "certificate"));
  DS_ASSIGN_OR_RETURN(pair.private_key, ReadPem(files.key_file, "private key"));
  opts.pem_key_cert_pairs.push_back(std::move(pair));
  if (!files.ca_file.empty()) {
    DS_ASSIGN_OR_RETURN(opts.pem_root_certs, ReadPem(files.ca_file, "CA"));
    opts.client_certificate_request = GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY;
  }
  return grpc::SslServerCredentials(opts);
}

absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> MakeChannelCredentials(
    const TlsFiles& files) {
  DS_RETURN_IF_ERROR(CheckKeyPair(files));
  if (files.empty()) return grpc::InsecureChannelCredentials();
  grpc::SslCredentialsOptions opts;
  if (!files.ca_file.empty()) {
    DS_ASSIGN_OR_RETURN(opts.pem_root_certs, ReadPem(files.ca_file, "CA"));
  }
  if (!files.cert_file.empty()) {
    DS_ASSIGN_OR_RETURN(opts.pem_cert_chain, ReadPem(files.cert_file, "certificate"));
    DS_ASSIGN_OR_RETURN(opts.pem_private_key, ReadPem(files.key_file, "private key"));
  }
  return grpc::SslCredentials(opts);
}

}  // namespace dogsearch::rpc
