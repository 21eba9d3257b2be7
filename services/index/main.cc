// dogsearch index server: wires the catalog, the background snapshotter and the gRPC service
// into the common server shell (shared flags, TLS, tokens, /metrics, signals).
#include <memory>

#include "absl/flags/flag.h"
#include "common/rpc/server_shell.h"
#include "services/index/core/snapshot_scheduler.h"
#include "services/index/index_service.h"

ABSL_FLAG(std::string, data_dir, "./data/index", "Directory for collections, WALs, snapshots");
ABSL_FLAG(std::string, sync_policy, "always", "Default WAL sync: always, interval or none");
ABSL_FLAG(int, sync_interval_ms, 100, "fsync period for sync_policy=interval");
ABSL_FLAG(int, write_threads, 4, "Threads running writes (they wait for fsync)");
ABSL_FLAG(int, max_queued_writes, 256, "Writes queued before RESOURCE_EXHAUSTED");
ABSL_FLAG(int, snapshot_check_seconds, 10, "How often to consider snapshots");
ABSL_FLAG(int64_t, snapshot_wal_bytes, 256ll << 20, "Snapshot when a WAL passes this size");
ABSL_FLAG(int, snapshot_max_age_seconds, 600, "Snapshot unsnapshotted writes older than this");
ABSL_FLAG(bool, repair, false, "Start despite a corrupt WAL tail/snapshot (drops data)");

namespace dogsearch::index {
namespace {

absl::StatusOr<CollectionDefaults> Defaults() {
  CollectionDefaults d;
  const std::string p = absl::GetFlag(FLAGS_sync_policy);
  if (p == "always") {
    d.sync_policy = SyncPolicy::kAlways;
  } else if (p == "interval") {
    d.sync_policy = SyncPolicy::kInterval;
  } else if (p == "none") {
    d.sync_policy = SyncPolicy::kNone;
  } else {
    return absl::InvalidArgumentError("--sync_policy must be always, interval or none");
  }
  d.sync_interval_ms = static_cast<uint32_t>(absl::GetFlag(FLAGS_sync_interval_ms));
  return d;
}

int Main(rpc::ServerShell& shell) {
  auto defaults = Defaults();
  if (!defaults.ok()) return shell.Fail(defaults.status());
  auto catalog = Catalog::Open(absl::GetFlag(FLAGS_data_dir), {absl::GetFlag(FLAGS_repair)});
  if (!catalog.ok()) return shell.Fail(catalog.status());
  SnapshotScheduler snapshots(catalog->get(),
                              {absl::Seconds(absl::GetFlag(FLAGS_snapshot_check_seconds)),
                               static_cast<uint64_t>(absl::GetFlag(FLAGS_snapshot_wal_bytes)),
                               absl::Seconds(absl::GetFlag(FLAGS_snapshot_max_age_seconds))});
  auto writes = std::make_unique<ThreadPool>(absl::GetFlag(FLAGS_write_threads),
                                             absl::GetFlag(FLAGS_max_queued_writes));
  IndexService service(catalog->get(), writes.get(), shell.auth(), *defaults,
                       &metrics::MetricsRegistry::Default());
  if (absl::Status s = shell.Serve({&service}, {{v1::Index::service_full_name()}, {}, 0});
      !s.ok()) {
    return shell.Fail(s);
  }
  shell.WaitForSignal();
  shell.Shutdown(absl::Seconds(10));
  // Join the write threads before the service goes: a write handler still recording its
  // metrics after its RPC was cancelled must not outlive the service (TSan found this).
  writes.reset();
  return 0;
}

}  // namespace
}  // namespace dogsearch::index

int main(int argc, char** argv) {
  auto shell = dogsearch::rpc::ServerShell::Init(argc, argv, {"index", "127.0.0.1:50052"});
  return dogsearch::index::Main(*shell);
}
