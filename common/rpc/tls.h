// TLS credentials for servers and channels, from PEM files. No certificate configured means
// plaintext. A server given a CA requires and verifies client certificates (mutual TLS); a
// channel given a CA verifies the server with it, and presents its own certificate when one
// is configured. Files are read once, when the credentials are made.
#ifndef DOGSEARCH_COMMON_RPC_TLS_H_
#define DOGSEARCH_COMMON_RPC_TLS_H_

#include <grpcpp/security/credentials.h>
#include <grpcpp/security/server_credentials.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"

namespace dogsearch::rpc {

struct TlsFiles {
  std::string cert_file;  // PEM certificate chain of this side.
  std::string key_file;   // PEM private key of cert_file.
  std::string ca_file;    // PEM CA bundle that peers must chain to.

  bool empty() const { return cert_file.empty() && key_file.empty() && ca_file.empty(); }
};

// Plaintext when all files are empty. INVALID_ARGUMENT for half a key pair; NOT_FOUND /
// FAILED_PRECONDITION (naming the file) when a file is missing or not PEM.
absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> MakeServerCredentials(
    const TlsFiles& files);
absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> MakeChannelCredentials(
    const TlsFiles& files);

}  // namespace dogsearch::rpc

#endif  // DOGSEARCH_COMMON_RPC_TLS_H_
