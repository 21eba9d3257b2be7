// dogsearch embedding server: parses flags (each also DOGSEARCH_<NAME>) and wires the model
// repository (LibTorch loader), directory watcher, batcher, worker pools, the gRPC service,
// health (SERVING only while a default model is ready) and /metrics.
#include <algorithm>
#include <atomic>
#include <cstdio>

#include "absl/flags/flag.h"
#include "common/base/log.h"
#include "common/base/process_stats.h"
#include "common/model/checkpoint_manifest.h"
#include "common/rpc/server_shell.h"
#include "services/embedding/checkpoint_subscriber.h"
#include "services/embedding/core/directory_watcher.h"
#include "services/embedding/core/torch_model.h"
#include "services/embedding/embedding_service.h"

ABSL_FLAG(std::string, model_dir, "./data/models", "Directory of checkpoint directories");
ABSL_FLAG(std::string, default_model, "", "Version to load and serve first (empty = newest)");
ABSL_FLAG(int, watch_interval_seconds, 5, "Poll model_dir for new checkpoints (0 = off)");
ABSL_FLAG(bool, watch_make_default, false, "Make each newly found checkpoint the default");
ABSL_FLAG(std::string, trainer_address, "",
          "host:port of the trainer: follow its WatchCheckpoints stream (empty = off)");
ABSL_FLAG(bool, trainer_make_default, false,
          "Make each checkpoint the trainer publishes the default (promotions always do)");
ABSL_FLAG(std::string, trainer_token, "", "Bearer token for the trainer");
ABSL_FLAG(std::string, trainer_tls_ca, "", "PEM CA to verify the trainer (enables TLS)");
ABSL_FLAG(std::string, device, "auto", "auto, cpu, cuda or cuda:N");
ABSL_FLAG(bool, half, false, "Half precision on CUDA");
ABSL_FLAG(int, threads, 0,
          "LibTorch intra-op threads; 0 = the usable cores less one (at least 1), leaving one to "
          "decoding and gRPC (measured on 2 cores: 1 thread serves 1.7-2.9x the photos/s of 2, "
          "see docs/BENCHMARKS.md)");
ABSL_FLAG(int, max_batch, 0,
          "Largest batch per forward pass; 0 = per device: 8 on CPU (measured with the default "
          "model: 5.6x the photos/s of 1 at 8 clients, see docs/BENCHMARKS.md), 32 on CUDA "
          "(not yet measured)");
ABSL_FLAG(int, max_delay_ms, 2, "Longest a photo waits for a batch to fill");
ABSL_FLAG(int, batch_workers, 1,
          "Batches computed at once (each with --threads); 2 on a 2-core CPU: +52% photos/s at "
          "32 clients, slightly less at 1-8 (docs/BENCHMARKS.md)");
ABSL_FLAG(int, max_queued_photos, 1024, "Photos queued before RESOURCE_EXHAUSTED");
ABSL_FLAG(int, decode_threads, 2, "Threads decoding and preprocessing photos");
ABSL_FLAG(int, max_photos, 64, "Photos per Embed request");
ABSL_FLAG(int64_t, max_photo_bytes, 10 << 20, "Encoded bytes per photo");
ABSL_FLAG(int64_t, max_pixels, 40000000, "Pixels per photo (checked from the header)");
ABSL_FLAG(int64_t, max_request_pixels, 100000000,
          "Pixels of all photos in one Embed request (from the headers; the gateway keeps its "
          "calls under 100 million)");
ABSL_FLAG(int, max_loaded_models, 3, "READY versions kept; more retire the oldest non-default");

namespace dogsearch::embedding {
namespace {

BatchObserver Observer(metrics::MetricsRegistry* r) {
  auto* size = r->GetHistogram("dogsearch_embedding_batch_size", "Photos per forward pass.",
                               metrics::ExponentialBuckets(1, 2, 8));
  auto* queue = r->GetHistogram("dogsearch_embedding_queue_seconds",
                                "Longest queue wait in a batch.", metrics::LatencyBuckets());
  auto* compute = r->GetHistogram("dogsearch_embedding_compute_seconds",
                                  "Forward pass time per batch.", metrics::LatencyBuckets());
  return {[=](int n, absl::Duration wait, absl::Duration took, const std::string&) {
    size->Observe(n);
    queue->Observe(absl::ToDoubleSeconds(wait));
    compute->Observe(absl::ToDoubleSeconds(took));
  }};
}

int Main(rpc::ServerShell& shell) {
  int requested_threads = absl::GetFlag(FLAGS_threads);
  if (requested_threads <= 0) requested_threads = std::max(1, UsableCores() - 1);
  const int threads = SetTorchThreads(requested_threads);
  metrics::MetricsRegistry& registry = metrics::MetricsRegistry::Default();
  const std::string model_dir = absl::GetFlag(FLAGS_model_dir);
  const std::string device = ResolveDevice(absl::GetFlag(FLAGS_device));
  int max_batch = absl::GetFlag(FLAGS_max_batch);
  if (max_batch <= 0) max_batch = device == "cpu" ? 8 : 32;
  TorchOptions torch_options{absl::GetFlag(FLAGS_device), absl::GetFlag(FLAGS_half), max_batch, 2,
                             std::nullopt};
  DS_LOG(kInfo, "embedding_server_starting").Kv("device", device).Kv("max_batch", max_batch)
      .Kv("torch_threads", threads).Kv("model_dir", model_dir);

  std::atomic<rpc::GrpcServer*> server_ptr{nullptr};
  ModelRepository* repo_ptr = nullptr;
  auto* default_gauge = &registry;
  RepositoryOptions repo_options;
  repo_options.max_loaded = absl::GetFlag(FLAGS_max_loaded_models);
  // Health follows "a default model is READY"; the gauge names the default version.
  repo_options.on_change = [&server_ptr, &repo_ptr, default_gauge] {
    rpc::GrpcServer* server = server_ptr.load();
    if (repo_ptr == nullptr) return;
    if (server != nullptr) server->SetServing(repo_ptr->HasReadyDefault());
    const std::string current = repo_ptr->default_version();
    for (const ModelStatus& m : repo_ptr->List()) {
      default_gauge
          ->GetGauge("dogsearch_embedding_default_model", "1 for the default model version.",
                     {{"version", m.version}})
          ->Set(m.version == current ? 1 : 0);
    }
  };
  ModelRepository repository(
      [model_dir, torch_options, &registry](const std::string& version) {
        auto m = LoadTorchModel(model_dir + "/" + version, torch_options);
        registry.GetCounter("dogsearch_embedding_model_loads_total", "Model loads by outcome.",
                            {{"outcome", m.ok() ? "ready" : "failed"}})->Increment();
        return m;
      },
      repo_options);
  repo_ptr = &repository;

  std::string first = absl::GetFlag(FLAGS_default_model);
  if (first.empty()) {
    auto all = model::ListCheckpoints(model_dir);
    if (all.ok() && !all->empty()) first = all->back().version;
  }
  if (!first.empty()) {
    if (absl::Status s = repository.StartLoad(first, true); !s.ok()) return shell.Fail(s);
  } else {
    DS_LOG(kWarning, "no_checkpoint_yet").Kv("model_dir", model_dir);
  }
  DirectoryWatcher watcher(model_dir, &repository, absl::GetFlag(FLAGS_watch_make_default),
                           absl::Seconds(absl::GetFlag(FLAGS_watch_interval_seconds)));

  std::unique_ptr<CheckpointSubscriber> subscriber;
  if (!absl::GetFlag(FLAGS_trainer_address).empty()) {
    SubscriberOptions so;
    so.watch.channel.bearer_token = absl::GetFlag(FLAGS_trainer_token);
    so.watch.channel.tls.ca_file = absl::GetFlag(FLAGS_trainer_tls_ca);
    so.make_default_on_publish = absl::GetFlag(FLAGS_trainer_make_default);
    auto channel = rpc::CreateChannel(absl::GetFlag(FLAGS_trainer_address), so.watch.channel);
    if (!channel.ok()) return shell.Fail(channel.status());
    subscriber = std::make_unique<CheckpointSubscriber>(*channel, &repository, so);
    subscriber->Start();
  }

  BatcherOptions batch_options{max_batch,
                               absl::Milliseconds(absl::GetFlag(FLAGS_max_delay_ms)),
                               static_cast<size_t>(absl::GetFlag(FLAGS_max_queued_photos)),
                               std::max(1, absl::GetFlag(FLAGS_batch_workers))};
  DynamicBatcher batcher(batch_options, Clock::Real(), Observer(&registry));
  ThreadPool decode_pool(absl::GetFlag(FLAGS_decode_threads), 256);
  ThreadPool admin_pool(2, 16);
  EmbedLimits limits;
  limits.max_photos = absl::GetFlag(FLAGS_max_photos);
  limits.image.max_bytes = static_cast<uint64_t>(absl::GetFlag(FLAGS_max_photo_bytes));
  limits.image.max_pixels = static_cast<uint64_t>(absl::GetFlag(FLAGS_max_pixels));
  limits.max_request_pixels = static_cast<uint64_t>(absl::GetFlag(FLAGS_max_request_pixels));
  EmbeddingService service({&repository, &batcher, &decode_pool, &admin_pool, model_dir, &registry},
                           limits, shell.auth());
  rpc::ServeOptions serve{{v1::Embedding::service_full_name()}, [&repository] {
                            return repository.HasReadyDefault()
                                       ? absl::OkStatus()
                                       : absl::UnavailableError("no default model ready");
                          }};
  if (absl::Status s = shell.Serve({&service}, serve); !s.ok()) return shell.Fail(s);
  server_ptr = shell.server();
  shell.server()->SetServing(repository.HasReadyDefault());
  shell.WaitForSignal();
  shell.Shutdown(absl::Seconds(10));
  server_ptr = nullptr;
  if (subscriber) subscriber->Stop();
  batcher.Stop();
  return 0;
}

}  // namespace
}  // namespace dogsearch::embedding

int main(int argc, char** argv) {
  auto shell = dogsearch::rpc::ServerShell::Init(argc, argv, {"embedding", "127.0.0.1:50051"});
  return dogsearch::embedding::Main(*shell);
}
