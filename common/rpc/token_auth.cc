#include "common/rpc/token_auth.h"

#include <openssl/crypto.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace dogsearch::rpc {

std::string BearerValue(absl::string_view token) { return absl::StrCat("Bearer ", token); }

absl::Status TokenAuthenticator::CheckHeader(const absl::string_view* header, RpcKind kind) const {
  if (token_.empty() || (kind == RpcKind::kRead && !protect_reads_)) return absl::OkStatus();
  if (header == nullptr) {
    return absl::UnauthenticatedError(
        "this RPC needs a bearer token: send metadata 'authorization: Bearer <token>'");
  }
  constexpr absl::string_view kPrefix = "Bearer ";
  if (!absl::StartsWithIgnoreCase(*header, kPrefix)) {
    return absl::UnauthenticatedError("authorization metadata must be 'Bearer <token>'");
  }
  absl::string_view given = header->substr(kPrefix.size());
  // Length is not secret; the bytes are compared in constant time.
  if (given.size() != token_.size() ||
      CRYPTO_memcmp(given.data(), token_.data(), token_.size()) != 0) {
    return absl::UnauthenticatedError("invalid bearer token");
  }
  return absl::OkStatus();
}

absl::Status TokenAuthenticator::Check(const grpc::ServerContextBase& context, RpcKind kind) const {
  const auto& md = context.client_metadata();
  auto it = md.find(kAuthorizationKey);
  if (it == md.end()) return CheckHeader(nullptr, kind);
  absl::string_view value(it->second.data(), it->second.size());
  return CheckHeader(&value, kind);
}

}  // namespace dogsearch::rpc
