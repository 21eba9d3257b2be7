// trainer_server: wiring only. JobStore (durable job records) + ProgressHub + CheckpointFeed
// (the fleet's models root) + JobManager (the training library on its own thread) + the gRPC
// TrainerService. Prints "trainer listening on port N" when ready; SIGTERM/SIGINT stop it,
// interrupting a running job (ResumeJob continues it after the restart).
#include <cstdio>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "common/base/env_flags.h"
#include "common/base/file_util.h"
#include "common/base/log.h"
#include "common/metrics/metrics_http_server.h"
#include "common/rpc/grpc_server.h"
#include "common/rpc/shutdown_signal.h"
#include "services/trainer/trainer_service.h"

ABSL_FLAG(std::string, address, "127.0.0.1:50053", "host:port for gRPC");
ABSL_FLAG(std::string, state_dir, "./data/trainer", "Job records (jobs/) and run folders (runs/)");
ABSL_FLAG(std::string, data_root, "./data/datasets", "Datasets are folders inside this one");
ABSL_FLAG(std::string, models_root, "./data/models",
          "Where finished jobs publish their best checkpoint (the embedding servers' model_dir)");
ABSL_FLAG(int, max_queued, 8, "Jobs waiting at most; more are refused with RESOURCE_EXHAUSTED");
ABSL_FLAG(int, threads, 0, "Intra-op threads for training (0 = all cores)");
ABSL_FLAG(std::string, device, "auto", "auto, cpu, cuda or cuda:N");
ABSL_FLAG(double, auto_promote_margin, 0.005,
          "auto_promote jobs are promoted when their validation accuracy beats the promoted "
          "checkpoint's by at least this much");
ABSL_FLAG(std::string, tls_cert, "", "PEM certificate (enables TLS)");
ABSL_FLAG(std::string, tls_key, "", "PEM private key of --tls_cert");
ABSL_FLAG(std::string, tls_ca, "", "PEM CA: require client certificates signed by it");
ABSL_FLAG(std::string, auth_token, "", "Bearer token for mutating RPCs");
ABSL_FLAG(bool, protect_reads, true,
          "With --auth_token: require the token on reads too (--protect_reads=false opens them)");
ABSL_FLAG(int, metrics_port, 0, "Port for /metrics and /healthz (0 = off)");
ABSL_FLAG(std::string, log_level, "info", "debug, info, warning or error");

namespace dogsearch::trainer {
namespace {
namespace pb = ::dogsearch::v1;

int Fail(const absl::Status& s) {
  std::fprintf(stderr, "trainer_server: %s\n", s.ToString().c_str());
  return 1;
}

int Main() {
  LogLevel level;
  if (absl::Status s = ParseLogLevel(absl::GetFlag(FLAGS_log_level), &level); !s.ok()) return Fail(s);
  SetLogLevel(level);
  auto signals = rpc::ShutdownSignal::Install();  // Before any thread starts.
  const std::string state = absl::GetFlag(FLAGS_state_dir);
  auto store = JobStore::Open(state + "/jobs");
  if (!store.ok()) return Fail(store.status());
  for (const std::string& id : (*store)->interrupted_at_open()) {
    DS_LOG(kWarning, "job_interrupted").Kv("job", id).Kv("hint", "ResumeJob continues it");
  }
  auto feed = CheckpointFeed::Open(absl::GetFlag(FLAGS_models_root));
  if (!feed.ok()) return Fail(feed.status());
  ProgressHub hub(&metrics::MetricsRegistry::Default());
  JobManagerOptions jo;
  jo.data_root = absl::GetFlag(FLAGS_data_root);
  jo.runs_dir = state + "/runs";
  jo.models_root = absl::GetFlag(FLAGS_models_root);
  jo.max_queued = static_cast<size_t>(std::max(1, absl::GetFlag(FLAGS_max_queued)));
  jo.threads = absl::GetFlag(FLAGS_threads);
  jo.device = absl::GetFlag(FLAGS_device);
  JobManager jobs(store->get(), &hub, jo);
  const double margin = absl::GetFlag(FLAGS_auto_promote_margin);
  jobs.on_finished = [&](const pb::Job& job, const std::string& best_dir) {
    absl::StatusOr<pb::CheckpointInfo> info = (*feed)->Publish(best_dir, job.id());
    if (!info.ok()) {
      DS_LOG(kError, "checkpoint_publish_failed").Kv("job", job.id()).Kv("reason", info.status());
      return;
    }
    const double acc = info->manifest().metrics().verification_accuracy();
    DS_LOG(kInfo, "checkpoint_published").Kv("version", info->manifest().version());
    if (job.auto_promote() && acc >= (*feed)->promoted_accuracy() + margin) {
      (void)(*feed)->Promote(info->manifest().version());
    }
  };
  TrainerService service(&jobs, store->get(), &hub, feed->get(),
                         rpc::TokenAuthenticator(absl::GetFlag(FLAGS_auth_token),
                                                 absl::GetFlag(FLAGS_protect_reads)),
                         &metrics::MetricsRegistry::Default());
  rpc::GrpcServerOptions opts;
  opts.address = absl::GetFlag(FLAGS_address);
  opts.tls = {absl::GetFlag(FLAGS_tls_cert), absl::GetFlag(FLAGS_tls_key), absl::GetFlag(FLAGS_tls_ca)};
  opts.health_service_names = {pb::Trainer::service_full_name()};
  opts.name = "trainer";
  opts.auth = rpc::TokenAuthenticator(absl::GetFlag(FLAGS_auth_token),
                                      absl::GetFlag(FLAGS_protect_reads));
  auto server = rpc::GrpcServer::Start(opts, {&service});
  if (!server.ok()) return Fail(server.status());
  auto http = metrics::StartMetricsPort(absl::GetFlag(FLAGS_metrics_port));
  if (!http.ok()) return Fail(http.status());
  jobs.Start();
  std::printf("trainer listening on port %d\n", (*server)->port());
  std::fflush(stdout);
  signals->Wait();
  hub.Close();  // Streams end first, so the server's shutdown does not wait for them.
  (*feed)->Close();
  (*server)->Shutdown(absl::Seconds(5));
  jobs.Shutdown();
  return 0;
}

}  // namespace
}  // namespace dogsearch::trainer

int main(int argc, char** argv) {
  dogsearch::MakeNewFilesPrivate();
  dogsearch::ParseFlagsWithEnv(argc, argv);
  return dogsearch::trainer::Main();
}
