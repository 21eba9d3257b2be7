// Trainer responsiveness: GetJob round-trip latency over loopback gRPC with the trainer idle,
// then while it trains a real job (the default recipe on the DogFaceNet photos, --threads
// intra-op threads). Prints one JSON line per phase. Results: docs/BENCHMARKS.md.
//
//   trainer_rpc_bench --data_root ../shared/datasets/dogfacenet --dataset after_4_bis
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <thread>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "common/rpc/channel.h"
#include "common/rpc/grpc_server.h"
#include "services/trainer/trainer_service.h"

ABSL_FLAG(std::string, data_root, "../shared/datasets/dogfacenet", "Data root");
ABSL_FLAG(std::string, dataset, "after_4_bis", "Dataset folder inside the data root");
ABSL_FLAG(int, threads, 2, "Training intra-op threads");
ABSL_FLAG(int, calls, 500, "GetJob calls per phase");
ABSL_FLAG(std::string, scratch, "/tmp/dogsearch_trainer_rpc_bench", "Scratch state folder");

namespace dogsearch::trainer {
namespace {

void Phase(const char* name, v1::Trainer::Stub* stub, const std::string& id, int calls) {
  std::vector<double> ms;
  for (int i = 0; i < calls; ++i) {
    grpc::ClientContext ctx;
    rpc::PrepareContext(&ctx, {});
    v1::GetJobRequest req;
    req.set_job_id(id);
    v1::Job job;
    const auto t0 = std::chrono::steady_clock::now();
    (void)stub->GetJob(&ctx, req, &job);
    ms.push_back(
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  std::sort(ms.begin(), ms.end());
  std::printf("{\"phase\":\"%s\",\"calls\":%d,\"p50_ms\":%.3f,\"p99_ms\":%.3f,\"max_ms\":%.3f}\n",
              name, calls, ms[ms.size() / 2], ms[ms.size() * 99 / 100], ms.back());
  std::fflush(stdout);
}

int Main() {
  const std::string scratch = absl::GetFlag(FLAGS_scratch);
  std::filesystem::remove_all(scratch);
  auto store = *JobStore::Open(scratch + "/jobs");
  auto feed = *CheckpointFeed::Open(scratch + "/models");
  ProgressHub hub;
  JobManagerOptions jo;
  jo.data_root = absl::GetFlag(FLAGS_data_root);
  jo.runs_dir = scratch + "/runs";
  jo.models_root = scratch + "/models";
  jo.threads = absl::GetFlag(FLAGS_threads);
  JobManager jobs(store.get(), &hub, jo);
  metrics::MetricsRegistry registry;
  TrainerService service(&jobs, store.get(), &hub, feed.get(), rpc::TokenAuthenticator("", false),
                         &registry);
  auto server = *rpc::GrpcServer::Start(rpc::GrpcServerOptions{}, {&service});
  auto stub =
      v1::Trainer::NewStub(*rpc::CreateChannel(absl::StrCat("127.0.0.1:", server->port()), {}));
  v1::StartTrainingRequest req;
  req.mutable_config()->set_dataset(absl::GetFlag(FLAGS_dataset));
  req.mutable_config()->set_time_budget_seconds(600);
  auto job = jobs.Submit(req);
  if (!job.ok()) {
    std::fprintf(stderr, "%s\n", job.status().ToString().c_str());
    return 1;
  }
  Phase("idle", stub.get(), job->id(), absl::GetFlag(FLAGS_calls));
  jobs.Start();
  for (int i = 0; i < 600 && store->Get(job->id())->progress().step() < 20; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  Phase("training", stub.get(), job->id(), absl::GetFlag(FLAGS_calls));
  std::printf("{\"training_photos_per_s\":%.1f}\n",
              store->Get(job->id())->progress().photos_per_second());
  hub.Close();
  feed->Close();
  server->Shutdown(absl::Seconds(2));
  jobs.Shutdown();
  return 0;
}

}  // namespace
}  // namespace dogsearch::trainer

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  return dogsearch::trainer::Main();
}
