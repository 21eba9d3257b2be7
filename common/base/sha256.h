// SHA-256 (through OpenSSL's libcrypto, which gRPC already links). Used for checkpoint content
// hashes, dataset fingerprints and photo ids. Not thread-safe per object; use one per thread.
#ifndef DOGSEARCH_COMMON_BASE_SHA256_H_
#define DOGSEARCH_COMMON_BASE_SHA256_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace dogsearch {

class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  void Update(absl::string_view data);
  // Lowercase hex digest (64 chars). The object must not be updated afterwards.
  std::string HexDigest();

  // Convenience: hex digest of one string, or of a whole file (read in chunks).
  static std::string Hex(absl::string_view data);
  static absl::StatusOr<std::string> HexOfFile(const std::string& path);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace dogsearch

#endif  // DOGSEARCH_COMMON_BASE_SHA256_H_
