// dogsearch index server: parses flags (each also DOGSEARCH_<NAME> in the environment) and
// wires the catalog, the background snapshotter, the gRPC service and /metrics together.
#include <cstdio>
#include <memory>

#include "absl/flags/flag.h"
#include "common/base/env_flags.h"
#include "common/base/file_util.h"
#include "common/base/log.h"
#include "common/metrics/metrics_http_server.h"
#include "common/rpc/grpc_server.h"
#include "common/rpc/shutdown_signal.h"
#include "services/index/core/snapshot_scheduler.h"
#include "services/index/index_service.h"

ABSL_FLAG(std::string, address, "127.0.0.1:50052", "host:port for gRPC");
ABSL_FLAG(std::string, data_dir, "./data/index", "Directory for collections, WALs, snapshots");
ABSL_FLAG(int, metrics_port, 0, "Port for /metrics and /healthz (0 = off)");
ABSL_FLAG(std::string, tls_cert, "", "PEM certificate (enables TLS)");
ABSL_FLAG(std::string, tls_key, "", "PEM private key of --tls_cert");
ABSL_FLAG(std::string, tls_ca, "", "PEM CA: require client certificates signed by it");
ABSL_FLAG(std::string, auth_token, "", "Bearer token required on mutating RPCs (empty = off)");
ABSL_FLAG(bool, protect_reads, true,
          "With --auth_token: require the token on reads too (--protect_reads=false opens them)");
ABSL_FLAG(std::string, sync_policy, "always", "Default WAL sync: always, interval or none");
ABSL_FLAG(int, sync_interval_ms, 100, "fsync period for sync_policy=interval");
ABSL_FLAG(int, write_threads, 4, "Threads running writes (they wait for fsync)");
ABSL_FLAG(int, max_queued_writes, 256, "Writes queued before RESOURCE_EXHAUSTED");
ABSL_FLAG(int, snapshot_check_seconds, 10, "How often to consider snapshots");
ABSL_FLAG(int64_t, snapshot_wal_bytes, 256ll << 20, "Snapshot when a WAL passes this size");
ABSL_FLAG(int, snapshot_max_age_seconds, 600, "Snapshot unsnapshotted writes older than this");
ABSL_FLAG(bool, repair, false, "Start despite a corrupt WAL tail/snapshot (drops data)");
ABSL_FLAG(std::string, log_level, "info", "debug, info, warning or error");

namespace dogsearch::index {
namespace {

int Fail(const absl::Status& s) {
  DS_LOG(kError, "index_server_failed").Kv("status", s);
  return 1;
}

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

int Main() {
  auto signals = rpc::ShutdownSignal::Install();
  LogLevel level;
  if (absl::Status s = ParseLogLevel(absl::GetFlag(FLAGS_log_level), &level); !s.ok()) return Fail(s);
  SetLogLevel(level);
  auto defaults = Defaults();
  if (!defaults.ok()) return Fail(defaults.status());
  auto catalog = Catalog::Open(absl::GetFlag(FLAGS_data_dir), {absl::GetFlag(FLAGS_repair)});
  if (!catalog.ok()) return Fail(catalog.status());

  SnapshotScheduler snapshots(catalog->get(),
                              {absl::Seconds(absl::GetFlag(FLAGS_snapshot_check_seconds)),
                               static_cast<uint64_t>(absl::GetFlag(FLAGS_snapshot_wal_bytes)),
                               absl::Seconds(absl::GetFlag(FLAGS_snapshot_max_age_seconds))});
  auto writes = std::make_unique<ThreadPool>(absl::GetFlag(FLAGS_write_threads),
                                             absl::GetFlag(FLAGS_max_queued_writes));
  IndexService service(catalog->get(), writes.get(),
                       rpc::TokenAuthenticator(absl::GetFlag(FLAGS_auth_token),
                                               absl::GetFlag(FLAGS_protect_reads)),
                       *defaults, &metrics::MetricsRegistry::Default());

  rpc::GrpcServerOptions opts;
  opts.address = absl::GetFlag(FLAGS_address);
  opts.tls = {absl::GetFlag(FLAGS_tls_cert), absl::GetFlag(FLAGS_tls_key),
              absl::GetFlag(FLAGS_tls_ca)};
  opts.health_service_names = {v1::Index::service_full_name()};
  opts.name = "index";
  opts.auth = rpc::TokenAuthenticator(absl::GetFlag(FLAGS_auth_token),
                                      absl::GetFlag(FLAGS_protect_reads));
  auto server = rpc::GrpcServer::Start(opts, {&service});
  if (!server.ok()) return Fail(server.status());
  auto http = metrics::StartMetricsPort(absl::GetFlag(FLAGS_metrics_port));
  if (!http.ok()) return Fail(http.status());
  // Machine-readable line for supervisors and tests that start the server on port 0.
  std::printf("index listening on port %d\n", (*server)->port());
  std::fflush(stdout);
  signals->Wait();
  (*server)->Shutdown(absl::Seconds(10));
  // Join the write threads before the service goes: a write handler still recording its
  // metrics after its RPC was cancelled must not outlive the service (TSan found this).
  writes.reset();
  return 0;
}

}  // namespace
}  // namespace dogsearch::index

int main(int argc, char** argv) {
  dogsearch::MakeNewFilesPrivate();
  dogsearch::ParseFlagsWithEnv(argc, argv);
  return dogsearch::index::Main();
}
