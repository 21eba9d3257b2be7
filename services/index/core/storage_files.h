// Files of a collection directory (docs/INDEX_STORAGE.md): the options file, WAL file names
// and snapshot manifests. Each carries a magic, a version and a CRC32C.
#ifndef DOGSEARCH_SERVICES_INDEX_CORE_STORAGE_FILES_H_
#define DOGSEARCH_SERVICES_INDEX_CORE_STORAGE_FILES_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "services/index/core/types.h"

namespace dogsearch::index {

inline constexpr char kOptionsFile[] = "COLLECTION";
inline constexpr char kGraphFile[] = "graph.hnsw";
inline constexpr char kSlotsFile[] = "slots.bin";
inline constexpr char kSnapshotManifest[] = "SNAPSHOT";

// Small checksummed files: magic (8 bytes) | format version (4, LE) | body | masked CRC32C of
// everything before it. Seal builds one; Unseal checks it and returns the body (DATA_LOSS naming
// `path` on a bad magic, version or checksum).
std::string SealFile(absl::string_view magic, absl::string_view body);
absl::StatusOr<std::string> UnsealFile(const std::string& path, const std::string& data,
                                       absl::string_view magic);

absl::Status WriteOptionsFile(const std::string& dir, const CollectionOptions& options);
absl::StatusOr<CollectionOptions> ReadOptionsFile(const std::string& dir);

std::string WalFileName(uint64_t first_sequence);  // wal-<20 digits>.log
std::string SnapshotDirName(uint64_t sequence);    // snap-<20 digits>

// Sequence numbers of WAL files / snapshot directories in `dir`, ascending.
absl::StatusOr<std::vector<uint64_t>> ListWalFiles(const std::string& dir);
absl::StatusOr<std::vector<uint64_t>> ListSnapshots(const std::string& dir);

struct SnapshotManifest {
  uint64_t sequence = 0;
  int64_t created_unix_seconds = 0;
  uint64_t graph_bytes = 0, slots_bytes = 0;
  uint32_t graph_crc = 0, slots_crc = 0;
};

// Writes <snapshot_dir>/SNAPSHOT after computing sizes and CRCs of the two data files.
absl::StatusOr<SnapshotManifest> WriteSnapshotManifest(const std::string& snapshot_dir,
                                                       uint64_t sequence);
// Reads the manifest and checks both data files against it. DATA_LOSS naming the file.
absl::StatusOr<SnapshotManifest> VerifySnapshot(const std::string& snapshot_dir);

}  // namespace dogsearch::index

#endif  // DOGSEARCH_SERVICES_INDEX_CORE_STORAGE_FILES_H_
