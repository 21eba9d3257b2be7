// dogsearch embedding server: wires the model repository, directory watcher, trainer
// subscriber, batcher, worker pools and the gRPC service into the common server shell (health:
// SERVING only while a default model is ready). Its flags: embedding_flags.cc.
#include <atomic>
#include <memory>

#include "common/base/log.h"
#include "common/rpc/server_shell.h"
#include "services/embedding/core/directory_watcher.h"
#include "services/embedding/embedding_flags.h"

namespace dogsearch::embedding {
namespace {

int Main(rpc::ServerShell& shell) {
  const EmbeddingConfig config = EmbeddingConfigFromFlags();
  metrics::MetricsRegistry& registry = metrics::MetricsRegistry::Default();
  DS_LOG(kInfo, "embedding_server_starting")
      .Kv("device", config.device)
      .Kv("max_batch", config.batch.max_batch)
      .Kv("torch_threads", config.torch_threads);
  std::atomic<rpc::GrpcServer*> server{nullptr};
  std::atomic<ModelRepository*> repo{nullptr};
  RepositoryOptions repo_options;
  repo_options.max_loaded = config.max_loaded_models;
  repo_options.on_change = [&server, &repo, &registry] {  // Health; default-model gauge.
    ModelRepository* r = repo.load();
    if (r == nullptr) return;
    if (rpc::GrpcServer* s = server.load()) s->SetServing(r->HasReadyDefault());
    const std::string current = r->default_version();
    for (const ModelStatus& m : r->List()) {
      registry
          .GetGauge("dogsearch_embedding_default_model", "1 for the default model version.",
                    {{"version", m.version}})
          ->Set(m.version == current ? 1 : 0);
    }
  };
  ModelRepository repository(TorchLoader(config, &registry), repo_options);
  repo = &repository;
  if (!config.first_model.empty()) {
    absl::Status s = repository.StartLoad(config.first_model, true);
    if (!s.ok()) return shell.Fail(s);
  } else {
    DS_LOG(kWarning, "no_checkpoint_yet").Kv("model_dir", config.model_dir);
  }
  DirectoryWatcher watcher(config.model_dir, &repository, config.watch_make_default,
                           config.watch_interval);
  std::unique_ptr<CheckpointSubscriber> subscriber;
  if (!config.trainer_address.empty()) {
    auto channel = rpc::CreateChannel(config.trainer_address, config.subscriber.watch.channel);
    if (!channel.ok()) return shell.Fail(channel.status());
    subscriber = std::make_unique<CheckpointSubscriber>(*channel, &repository, config.subscriber);
    subscriber->Start();
  }
  DynamicBatcher batcher(config.batch, Clock::Real(), BatchMetrics(&registry));
  ThreadPool decode_pool(config.decode_threads, 256);
  ThreadPool admin_pool(2, 16);
  EmbeddingService service(
      {&repository, &batcher, &decode_pool, &admin_pool, config.model_dir, &registry},
      config.limits, shell.auth());
  rpc::ServeOptions serve{{v1::Embedding::service_full_name()}, [&repository] {
                            return repository.HasReadyDefault()
                                       ? absl::OkStatus()
                                       : absl::UnavailableError("no default model ready");
                          }};
  if (absl::Status s = shell.Serve({&service}, serve); !s.ok()) return shell.Fail(s);
  server = shell.server();
  shell.server()->SetServing(repository.HasReadyDefault());
  shell.WaitForSignal();
  shell.Shutdown(absl::Seconds(10));
  server = nullptr;
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
