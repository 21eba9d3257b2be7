// Photos on disk by content: <root>/<first two hex digits>/<sha256 hex>. Writes are atomic
// (temp, fsync, rename) and idempotent; a photo is never half-written under its final name.
// Thread-safe: no shared state besides the file system (concurrent Puts of the same photo
// write identical bytes, and the last rename wins).
#ifndef DOGSEARCH_SERVICES_GATEWAY_CORE_PHOTO_STORE_H_
#define DOGSEARCH_SERVICES_GATEWAY_CORE_PHOTO_STORE_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace dogsearch::gateway {

class PhotoStore {
 public:
  // Creates the root if needed.
  static absl::StatusOr<PhotoStore> Open(const std::string& root);

  // Stores `data` under `photo_id` (which must be its SHA-256) unless already there.
  absl::Status Put(const std::string& photo_id, absl::string_view data) const;
  // NOT_FOUND if absent; DATA_LOSS if the bytes no longer match their hash.
  absl::StatusOr<std::string> Get(const std::string& photo_id) const;
  // Removes the file; absent is fine.
  absl::Status Remove(const std::string& photo_id) const;
  std::string PathOf(const std::string& photo_id) const;

 private:
  explicit PhotoStore(std::string root) : root_(std::move(root)) {}
  std::string root_;
};

}  // namespace dogsearch::gateway

#endif  // DOGSEARCH_SERVICES_GATEWAY_CORE_PHOTO_STORE_H_
