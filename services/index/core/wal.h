// Appends framed records (log_format.h) to one WAL file, with group commit.
//
// Writers call Enqueue() (cheap: frames the record into a buffer and returns a ticket) and
// then WaitDurable(ticket). Whoever waits first while no flush is running becomes the leader:
// it takes everything buffered so far, writes it with one write(2) and, under kAlways, one
// fdatasync(2), then wakes every writer whose record it covered. Concurrent writers therefore
// share fsyncs, and the order of records in the file is the order of Enqueue calls.
//  - kAlways: WaitDurable returns after the record is fsynced.
//  - kInterval: after it is written; a background thread fsyncs every interval.
//  - kNone: after it is written (survives a process crash, not a power loss).
// An I/O error poisons the WAL: that and every later WaitDurable fail with it, since the file
// can no longer be trusted to hold what was acknowledged.
//
// Thread safety: all methods may be called concurrently. Lock discipline: mu_ guards the
// buffer and counters; file I/O happens outside mu_ by the single leader (writing_ == true).
#ifndef DOGSEARCH_SERVICES_INDEX_CORE_WAL_H_
#define DOGSEARCH_SERVICES_INDEX_CORE_WAL_H_

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/base/periodic_thread.h"
#include "services/index/core/log_format.h"
#include "services/index/core/types.h"

namespace dogsearch::index {

struct WalOptions {
  SyncPolicy policy = SyncPolicy::kAlways;
  absl::Duration interval = absl::Milliseconds(100);
};

class Wal {
 public:
  // Creates `path` (must not exist) with a header naming first_sequence; fsyncs it and its
  // directory.
  static absl::StatusOr<std::unique_ptr<Wal>> Create(const std::string& path,
                                                     uint64_t first_sequence,
                                                     const WalOptions& options);
  // Opens an existing WAL to append after its first `valid_bytes` bytes, cutting off (and
  // fsyncing away) a torn tail beyond them.
  static absl::StatusOr<std::unique_ptr<Wal>> OpenForAppend(const std::string& path,
                                                            uint64_t valid_bytes,
                                                            const WalOptions& options);
  ~Wal();  // Flushes, fsyncs and closes.
  Wal(const Wal&) = delete;
  Wal& operator=(const Wal&) = delete;

  // Frames the record into the buffer. Returns its ticket for WaitDurable.
  uint64_t Enqueue(RecordType type, absl::string_view payload);
  // Blocks until the ticket's record is durable under the policy (see above).
  absl::Status WaitDurable(uint64_t ticket);
  // Writes and fsyncs everything enqueued so far, whatever the policy.
  absl::Status Sync();

  const std::string& path() const { return path_; }
  // Bytes in the file, including what is buffered.
  uint64_t bytes() const;

 private:
  Wal(std::string path, int fd, uint64_t size, const WalOptions& options);
  absl::Status FlushUpTo(uint64_t ticket, bool force_sync);
  // One pass of the kInterval syncer (its PeriodicThread): fdatasync what was written.
  void IntervalSync();

  const std::string path_;
  const int fd_;
  const WalOptions options_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::string pending_ ABSL_GUARDED_BY(mu_);
  uint64_t enqueued_ ABSL_GUARDED_BY(mu_) = 0;  // Tickets handed out.
  uint64_t written_ ABSL_GUARDED_BY(mu_) = 0;   // Tickets written (and synced if kAlways).
  uint64_t synced_ ABSL_GUARDED_BY(mu_) = 0;    // Tickets known fsynced.
  bool writing_ ABSL_GUARDED_BY(mu_) = false;   // A leader is doing I/O.
  absl::Status failed_ ABSL_GUARDED_BY(mu_);
  uint64_t size_ ABSL_GUARDED_BY(mu_) = 0;
  std::unique_ptr<PeriodicThread> syncer_;  // kInterval only; last: it calls IntervalSync.
};

// Frames one record (exposed for tests that build WAL files by hand).
std::string FrameRecord(RecordType type, absl::string_view payload);

}  // namespace dogsearch::index

#endif  // DOGSEARCH_SERVICES_INDEX_CORE_WAL_H_
