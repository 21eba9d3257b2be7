#include "services/index/core/snapshot_scheduler.h"

#include "absl/time/clock.h"
#include "common/base/log.h"

namespace dogsearch::index {

SnapshotScheduler::SnapshotScheduler(Catalog* catalog, SnapshotPolicy policy)
    : catalog_(catalog), policy_(policy), thread_(policy_.check_every, [this] { RunOnce(); }) {}

int SnapshotScheduler::RunOnce() {
  int taken = 0;
  const int64_t now = absl::ToUnixSeconds(absl::Now());
  for (const auto& c : catalog_->Collections()) {
    const CollectionStats s = c->Stats();
    if (s.last_sequence == s.snapshot_sequence) continue;
    const int64_t since =
        s.snapshot_unix_seconds ? s.snapshot_unix_seconds : c->options().created_unix_seconds;
    const bool old = now - since >= absl::ToInt64Seconds(policy_.max_age);
    if (s.wal_bytes < policy_.wal_bytes && !old) continue;
    auto r = c->Snapshot();
    if (r.ok()) {
      ++taken;
      DS_LOG(kInfo, "snapshot_taken")
          .Kv("collection", c->options().name)
          .Kv("sequence", r->sequence)
          .Kv("bytes", r->bytes)
          .Kv("seconds", r->seconds);
    } else if (r.status().code() != absl::StatusCode::kAborted) {
      DS_LOG(kError, "snapshot_failed")
          .Kv("collection", c->options().name)
          .Kv("status", r.status());
    }
  }
  return taken;
}

}  // namespace dogsearch::index
