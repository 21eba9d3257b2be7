#include "services/gateway/core/photo_store.h"

#include <cerrno>
#include <cstdio>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "common/base/file_util.h"
#include "common/base/sha256.h"
#include "common/base/status_macros.h"
#include "services/gateway/core/intake.h"

namespace dogsearch::gateway {

absl::StatusOr<PhotoStore> PhotoStore::Open(const std::string& root) {
  DS_RETURN_IF_ERROR(MakeDirs(root));
  return PhotoStore(root);
}

std::string PhotoStore::PathOf(const std::string& photo_id) const {
  return absl::StrCat(root_, "/", photo_id.substr(0, 2), "/", photo_id);
}

absl::Status PhotoStore::Put(const std::string& photo_id, absl::string_view data) const {
  DS_RETURN_IF_ERROR(CheckPhotoId(photo_id));
  const std::string path = PathOf(photo_id);
  std::error_code ec;
  if (std::filesystem::exists(path, ec)) return absl::OkStatus();
  DS_RETURN_IF_ERROR(MakeDirs(DirName(path)));
  return WriteFileAtomic(path, data);
}

absl::StatusOr<std::string> PhotoStore::Get(const std::string& photo_id) const {
  DS_RETURN_IF_ERROR(CheckPhotoId(photo_id));
  auto data = ReadFile(PathOf(photo_id));
  if (!data.ok()) {
    if (absl::IsNotFound(data.status())) {
      return absl::NotFoundError(absl::StrCat("photo ", photo_id, " is not stored"));
    }
    return data.status();
  }
  if (Sha256::Hex(*data) != photo_id) {
    return absl::DataLossError(
        absl::StrCat("stored photo ", PathOf(photo_id), " does not match its SHA-256"));
  }
  return data;
}

absl::Status PhotoStore::Remove(const std::string& photo_id) const {
  DS_RETURN_IF_ERROR(CheckPhotoId(photo_id));
  if (std::remove(PathOf(photo_id).c_str()) != 0 && errno != ENOENT) {
    return ErrnoToStatus(errno, absl::StrCat("remove ", PathOf(photo_id)));
  }
  return absl::OkStatus();
}

}  // namespace dogsearch::gateway
