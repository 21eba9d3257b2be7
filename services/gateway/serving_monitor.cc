#include "services/gateway/serving_monitor.h"

namespace dogsearch::gateway {

ServingMonitor::ServingMonitor(GatewayCore* core, rpc::GrpcServer* server,
                               metrics::MetricsRegistry* registry)
    : core_(core),
      server_((server->SetServing(false), server)),
      serving_(registry->GetGauge("dogsearch_gateway_serving", "1 while a model serves searches.")),
      dogs_(registry->GetGauge("dogsearch_gateway_gallery_dogs", "Dogs enrolled.")),
      photos_(registry->GetGauge("dogsearch_gateway_gallery_photos", "Photos enrolled.")),
      upgrade_state_(registry->GetGauge(
          "dogsearch_gateway_upgrade_state",
          "Latest upgrade: 1 idle, 2 loading, 3 re-embedding, 4 flipping, 5 succeeded, 6 failed.")),
      upgrade_done_(registry->GetGauge("dogsearch_gateway_upgrade_photos_done",
                                       "Photos re-embedded by the running upgrade.")),
      thread_(absl::Milliseconds(200), [this] { Tick(); }) {}

void ServingMonitor::Tick() {
  const bool now = core_->serving();
  if (now != last_) server_->SetServing(now);
  last_ = now;
  serving_->Set(now ? 1 : 0);
  if (ticks_++ % 25 == 0) {
    const v1::ModelStatus st = core_->GetModelStatus();
    dogs_->Set(static_cast<double>(st.dogs()));
    photos_->Set(static_cast<double>(st.photos()));
    upgrade_state_->Set(static_cast<double>(st.upgrade().state()));
    upgrade_done_->Set(static_cast<double>(st.upgrade().photos_done()));
  }
}

}  // namespace dogsearch::gateway
