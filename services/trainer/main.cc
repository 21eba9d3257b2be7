// trainer_server: wiring only. JobStore (durable job records) + ProgressHub + CheckpointFeed
// (the fleet's models root) + JobManager (the training library on its own thread) + the gRPC
// TrainerService. Prints "trainer listening on port N" when ready; SIGTERM/SIGINT stop it,
// interrupting a running job (ResumeJob continues it after the restart).
#include <algorithm>

#include "absl/flags/flag.h"
#include "common/base/log.h"
#include "common/rpc/server_shell.h"
#include "services/trainer/trainer_service.h"

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

namespace dogsearch::trainer {
namespace {

int Main(rpc::ServerShell& shell) {
  const std::string state = absl::GetFlag(FLAGS_state_dir);
  auto store = JobStore::Open(state + "/jobs");
  if (!store.ok()) return shell.Fail(store.status());
  for (const std::string& id : (*store)->interrupted_at_open()) {
    DS_LOG(kWarning, "job_interrupted").Kv("job", id).Kv("hint", "ResumeJob continues it");
  }
  auto feed = CheckpointFeed::Open(absl::GetFlag(FLAGS_models_root));
  if (!feed.ok()) return shell.Fail(feed.status());
  ProgressHub hub(&metrics::MetricsRegistry::Default());
  JobManagerOptions jo;
  jo.data_root = absl::GetFlag(FLAGS_data_root);
  jo.runs_dir = state + "/runs";
  jo.models_root = absl::GetFlag(FLAGS_models_root);
  jo.max_queued = static_cast<size_t>(std::max(1, absl::GetFlag(FLAGS_max_queued)));
  jo.threads = absl::GetFlag(FLAGS_threads);
  jo.device = absl::GetFlag(FLAGS_device);
  JobManager jobs(store->get(), &hub, jo);
  jobs.on_finished = [&](const v1::Job& job, const std::string& best_dir) {
    (void)PublishFinishedJob(feed->get(), job, best_dir, absl::GetFlag(FLAGS_auto_promote_margin));
  };
  TrainerService service(&jobs, store->get(), &hub, feed->get(), shell.auth(),
                         &metrics::MetricsRegistry::Default());
  if (absl::Status s = shell.Serve({&service}, {{v1::Trainer::service_full_name()}, {}, 0});
      !s.ok()) {
    return shell.Fail(s);
  }
  jobs.Start();
  shell.WaitForSignal();
  hub.Close();  // Streams end first, so the server's shutdown does not wait for them.
  (*feed)->Close();
  shell.Shutdown(absl::Seconds(5));
  jobs.Shutdown();
  return 0;
}

}  // namespace
}  // namespace dogsearch::trainer

int main(int argc, char** argv) {
  auto shell = dogsearch::rpc::ServerShell::Init(argc, argv, {"trainer", "127.0.0.1:50053"});
  return dogsearch::trainer::Main(*shell);
}
