// The gateway's record of enrolled dogs and their photos, and of the serving model and upgrade
// state, in one SQLite database (WAL journal, synchronous=FULL: a committed change survives a
// crash). SQLite is the source of truth: the index holds vectors keyed by photo id, and a vector
// whose photo is not in this store is ignored by searches.
//
// A photo id is the SHA-256 (hex) of the photo's bytes; a photo belongs to exactly one dog.
//
// Thread-safety: one connection, guarded by mu_ (every method takes it for its whole
// statement or transaction); all methods may be called from any thread.
#ifndef DOGSEARCH_SERVICES_GATEWAY_CORE_GALLERY_STORE_H_
#define DOGSEARCH_SERVICES_GATEWAY_CORE_GALLERY_STORE_H_

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

struct sqlite3;

namespace dogsearch::gateway {

struct PhotoRow {
  std::string photo_id;
  std::string dog_id;
  std::string name;  // File name given at upload.
  uint32_t width = 0;
  uint32_t height = 0;
  uint64_t bytes = 0;
  int64_t added_unix_seconds = 0;
};

struct DogRow {
  std::string dog_id;
  std::string name;
  std::string notes;
  int64_t created_unix_seconds = 0;
  std::vector<PhotoRow> photos;  // Ordered by added time, then id.
};

class GalleryStore {
 public:
  // Opens (creating if needed) the database file; its directory must exist.
  static absl::StatusOr<std::unique_ptr<GalleryStore>> Open(const std::string& path);
  ~GalleryStore();
  GalleryStore(const GalleryStore&) = delete;
  GalleryStore& operator=(const GalleryStore&) = delete;

  // ALREADY_EXISTS if the dog id is taken or a photo belongs to any dog (the message names it).
  absl::Status InsertDog(const DogRow& dog);
  // Adds photos to an existing dog. NOT_FOUND for the dog; ALREADY_EXISTS if a photo belongs to
  // another dog. Photos the dog already has are skipped and returned in *duplicates.
  absl::Status AddPhotos(const std::string& dog_id, const std::vector<PhotoRow>& photos,
                         std::vector<std::string>* added, std::vector<std::string>* duplicates);
  // NOT_FOUND (dog or photo of that dog), FAILED_PRECONDITION when it is the dog's last photo.
  absl::Status RemovePhoto(const std::string& dog_id, const std::string& photo_id);
  // Deletes the dog and its photos; returns the photo ids removed. NOT_FOUND.
  absl::StatusOr<std::vector<std::string>> DeleteDog(const std::string& dog_id);

  absl::StatusOr<DogRow> GetDog(const std::string& dog_id) const;  // NOT_FOUND.
  // Dogs with id > after_id, ordered by id, at most `limit`.
  absl::StatusOr<std::vector<DogRow>> ListDogs(const std::string& after_id, int limit) const;
  uint64_t CountDogs() const;
  uint64_t CountPhotos() const;
  // Photos with id <= photo_id (how far a walk in id order has come).
  uint64_t CountPhotosThrough(const std::string& photo_id) const;
  // The owner of a photo, if it is enrolled.
  std::optional<PhotoRow> FindPhoto(const std::string& photo_id) const;
  // For each id that is enrolled: photo id -> (row, dog name).
  std::map<std::string, std::pair<PhotoRow, std::string>> LookupPhotos(
      const std::vector<std::string>& photo_ids) const;
  // Photos with id > after_photo_id, ordered by id (re-embedding walks the gallery this way).
  std::vector<PhotoRow> PhotosAfter(const std::string& after_photo_id, int limit) const;
  // At most n photos spread evenly over the gallery in id order, without reading all of it
  // (n index seeks once the gallery holds more than max(2n, kSampleByReading) photos; photo
  // ids are SHA-256 hex).
  std::vector<PhotoRow> SamplePhotos(size_t n) const;
  static constexpr size_t kSampleByReading = 1000;

  // Small durable key/value settings (serving model, upgrade state).
  std::optional<std::string> GetMeta(const std::string& key) const;
  absl::Status SetMeta(const std::map<std::string, std::string>& values);

 private:
  explicit GalleryStore(sqlite3* db) : db_(db) {}
  absl::Status Exec(const char* sql) const;
  absl::Status InsertPhotosLocked(const std::string& dog_id, const std::vector<PhotoRow>& photos,
                                  std::vector<std::string>* added,
                                  std::vector<std::string>* duplicates);
  std::vector<PhotoRow> PhotosOfLocked(const std::string& dog_id) const;

  mutable std::mutex mu_;  // Guards every use of db_.
  sqlite3* const db_;
};

}  // namespace dogsearch::gateway

#endif  // DOGSEARCH_SERVICES_GATEWAY_CORE_GALLERY_STORE_H_
