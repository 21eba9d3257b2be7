// A collection that never loses an acknowledged write: VectorIndex in memory, a WAL of every
// mutation, periodic snapshots, and recovery = newest valid snapshot + WAL replay. On-disk
// layout and format: docs/INDEX_STORAGE.md.
//
// Writes: Upsert/Delete validate the whole request first (all or nothing), then, under
// write_mu_, take the next sequence number, enqueue the WAL record and apply it in memory;
// then, outside write_mu_, wait until the record is durable under the sync policy and only
// then acknowledge. Concurrent writers thus share fsyncs (group commit) while the WAL order is
// the apply order. A search may see a write a moment before it is acknowledged.
// Snapshots hold write_mu_ while the graph is saved (writers wait, searches do not).
//
// Thread safety: every method may be called from any thread. Lock order: write_mu_, then
// VectorIndex's locks, then the Wal's.
#ifndef DOGSEARCH_SERVICES_INDEX_CORE_DURABLE_COLLECTION_H_
#define DOGSEARCH_SERVICES_INDEX_CORE_DURABLE_COLLECTION_H_

#include <atomic>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "services/index/core/log_reader.h"
#include "services/index/core/types.h"
#include "services/index/core/vector_index.h"
#include "services/index/core/wal.h"

namespace dogsearch::index {

struct RecoveryOptions {
  // Start despite a corrupt WAL record by dropping it and everything after it (data loss,
  // logged), or despite a corrupt newest snapshot by falling back to an older one when the WAL
  // still reaches back to it.
  bool repair = false;
};

struct WriteResult {
  ApplyStats stats;
  uint64_t sequence = 0;
};

struct SnapshotResult {
  uint64_t sequence = 0;
  uint64_t bytes = 0;
  double seconds = 0;
};

struct CollectionStats {
  uint64_t record_count = 0, deleted_slots = 0, capacity = 0, memory_bytes = 0;
  uint64_t wal_bytes = 0, last_sequence = 0, snapshot_sequence = 0;
  int64_t snapshot_unix_seconds = 0;
};

class DurableCollection {
 public:
  // Creates `dir` (must not exist or be empty) for a new collection.
  static absl::StatusOr<std::unique_ptr<DurableCollection>> Create(
      const std::string& dir, const CollectionOptions& options);
  // Recovers an existing collection. DATA_LOSS naming the file and offset on corruption.
  static absl::StatusOr<std::unique_ptr<DurableCollection>> Open(const std::string& dir,
                                                                 const RecoveryOptions& recovery);
  ~DurableCollection();

  absl::StatusOr<WriteResult> Upsert(std::vector<Record> records);
  absl::StatusOr<WriteResult> Delete(const std::vector<std::string>& ids);
  absl::StatusOr<std::vector<SearchHit>> Search(std::vector<float> query,
                                                const SearchParams& params) const;
  std::vector<std::optional<Record>> Get(const std::vector<std::string>& ids,
                                         bool include_vectors) const;
  // A page of live record ids in storage order (VectorIndex::ListIds).
  VectorIndex::IdPage ListIds(uint64_t from_slot, size_t max_ids) const {
    return index_->ListIds(from_slot, max_ids);
  }
  // ABORTED if another snapshot of this collection is running.
  absl::StatusOr<SnapshotResult> Snapshot();
  CollectionStats Stats() const;

  const CollectionOptions& options() const { return index_->options(); }
  const std::string& dir() const { return dir_; }

 private:
  DurableCollection(std::string dir, std::unique_ptr<VectorIndex> index);
  // Replays every WAL file after the snapshot; returns the valid length of the last file.
  absl::StatusOr<uint64_t> Replay(const std::vector<uint64_t>& wal_files,
                                  const RecoveryOptions& recovery);
  absl::Status ApplyLogRecord(const LogRecord& record, const std::string& file);
  absl::Status OpenWalForAppend(const std::vector<uint64_t>& wal_files, uint64_t valid_bytes,
                                const WalOptions& wal_options);
  void RemoveObsoleteFiles(uint64_t snapshot_seq) ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_);

  const std::string dir_;
  std::unique_ptr<VectorIndex> index_;
  std::atomic<bool> snapshotting_{false};  // A second concurrent Snapshot gets ABORTED.

  // Serialises writers and snapshots; guards everything below.
  mutable std::mutex write_mu_;
  // shared_ptr: a writer waiting for durability keeps the Wal it wrote to alive even if a
  // snapshot has meanwhile rotated to a new one.
  std::shared_ptr<Wal> wal_ ABSL_GUARDED_BY(write_mu_);
  uint64_t last_sequence_ ABSL_GUARDED_BY(write_mu_) = 0;
  uint64_t snapshot_sequence_ ABSL_GUARDED_BY(write_mu_) = 0;
  int64_t snapshot_unix_seconds_ ABSL_GUARDED_BY(write_mu_) = 0;
  // Set when memory and WAL may disagree (apply failed after the WAL record was written):
  // writes are refused until a restart recovers from the WAL.
  absl::Status broken_ ABSL_GUARDED_BY(write_mu_);
};

}  // namespace dogsearch::index

#endif  // DOGSEARCH_SERVICES_INDEX_CORE_DURABLE_COLLECTION_H_
