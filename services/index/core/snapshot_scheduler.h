// Takes snapshots in the background so WALs stay short and restarts fast: every check
// interval, each collection whose WAL has grown past a byte threshold, or that has unsnapshotted
// writes older than max_age, is snapshotted. Runs on its own thread (a PeriodicThread); the
// destructor stops and joins it. Thread-safe.
#ifndef DOGSEARCH_SERVICES_INDEX_CORE_SNAPSHOT_SCHEDULER_H_
#define DOGSEARCH_SERVICES_INDEX_CORE_SNAPSHOT_SCHEDULER_H_

#include <memory>

#include "absl/time/time.h"
#include "common/base/periodic_thread.h"
#include "services/index/core/catalog.h"

namespace dogsearch::index {

struct SnapshotPolicy {
  absl::Duration check_every = absl::Seconds(10);
  uint64_t wal_bytes = 256ull << 20;
  absl::Duration max_age = absl::Minutes(10);
};

class SnapshotScheduler {
 public:
  // `catalog` must outlive the scheduler.
  SnapshotScheduler(Catalog* catalog, SnapshotPolicy policy);

  // One pass over every collection (also what the thread does). Returns snapshots taken.
  int RunOnce();

 private:
  Catalog* const catalog_;
  const SnapshotPolicy policy_;
  PeriodicThread thread_;  // Last: runs RunOnce, which uses the members above.
};

}  // namespace dogsearch::index

#endif  // DOGSEARCH_SERVICES_INDEX_CORE_SNAPSHOT_SCHEDULER_H_
