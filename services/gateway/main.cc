// dogsearch gateway: wires the gallery store, the backends, the core, the gRPC and HTTP APIs,
// the trainer follower and the health monitor into the common server shell. Its own flags
// and what they configure are in gateway_flags.cc.
#include <cstdio>
#include <memory>

#include "common/base/file_util.h"
#include "common/rpc/server_shell.h"
#include "services/gateway/checkpoint_follower.h"
#include "services/gateway/dogsearch_service.h"
#include "services/gateway/gateway_flags.h"
#include "services/gateway/http_api.h"
#include "services/gateway/serving_monitor.h"

namespace dogsearch::gateway {
namespace {

int Main(rpc::ServerShell& shell) {
  absl::StatusOr<GatewayConfig> config = GatewayConfigFromFlags();
  if (!config.ok()) return shell.Fail(config.status());
  if (absl::Status s = MakeDirs(config->data_dir); !s.ok()) return shell.Fail(s);
  auto store = GalleryStore::Open(config->data_dir + "/gallery.sqlite");
  if (!store.ok()) return shell.Fail(store.status());
  auto photos = PhotoStore::Open(config->photos_dir);
  if (!photos.ok()) return shell.Fail(photos.status());
  auto backends = ConnectBackends(*config);
  if (!backends.ok()) return shell.Fail(backends.status());
  GatewayCore core({store->get(), &*photos, backends->embedding.get(), backends->index},
                   config->core);
  core.Start();
  DogSearchService service(&core, shell.auth(), &metrics::MetricsRegistry::Default());
  std::unique_ptr<HttpApi> http;
  if (config->http) {
    auto h = HttpApi::Start(&core, shell.auth(), *config->http);
    if (!h.ok()) return shell.Fail(h.status());
    http = *std::move(h);
  }
  rpc::ServeOptions serve{{v1::DogSearch::service_full_name()},
                          [&core] {
                            return core.serving() ? absl::OkStatus()
                                                  : absl::UnavailableError("no model serving yet");
                          },
                          config->max_receive_message_bytes};
  if (absl::Status s = shell.Serve({&service}, serve); !s.ok()) return shell.Fail(s);
  // Health follows the serving model (NOT_SERVING until one is restored or bootstrapped).
  auto monitor =
      std::make_unique<ServingMonitor>(&core, shell.server(), &metrics::MetricsRegistry::Default());
  std::unique_ptr<CheckpointFollower> follower;
  if (!config->trainer_address.empty()) {
    auto ch = rpc::CreateChannel(config->trainer_address, config->backend);
    if (!ch.ok()) return shell.Fail(ch.status());
    follower = std::make_unique<CheckpointFollower>(*ch, config->backend, &core, config->rollout);
    follower->Start();
  }
  if (http) std::printf("gateway web on port %d\n", http->port());
  std::fflush(stdout);
  shell.WaitForSignal();
  monitor.reset();  // Before the server's health service shuts down.
  if (follower) follower->Stop();
  if (http) http->Stop();
  shell.Shutdown(absl::Seconds(10));
  core.Stop();
  return 0;
}

}  // namespace
}  // namespace dogsearch::gateway

int main(int argc, char** argv) {
  auto shell = dogsearch::rpc::ServerShell::Init(
      argc, argv, {"gateway", "127.0.0.1:50050", /*protect_reads_default=*/false});
  return dogsearch::gateway::Main(*shell);
}
