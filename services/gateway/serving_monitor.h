// Keeps a gateway's gRPC health in step with its core (NOT_SERVING until a model serves,
// checked every 200 ms) and publishes the serving, gallery and upgrade gauges (the gallery and
// upgrade ones every 5 s). Runs on its own thread from construction to destruction.
// Lock discipline: last_ and ticks_ belong to that thread.
#ifndef DOGSEARCH_SERVICES_GATEWAY_SERVING_MONITOR_H_
#define DOGSEARCH_SERVICES_GATEWAY_SERVING_MONITOR_H_

#include "common/base/periodic_thread.h"
#include "common/metrics/metrics.h"
#include "common/rpc/grpc_server.h"
#include "services/gateway/core/gateway_core.h"

namespace dogsearch::gateway {

class ServingMonitor {
 public:
  // All three must outlive the monitor. Sets the server NOT_SERVING at once.
  ServingMonitor(GatewayCore* core, rpc::GrpcServer* server, metrics::MetricsRegistry* registry);

 private:
  void Tick();

  GatewayCore* const core_;
  rpc::GrpcServer* const server_;
  metrics::Gauge* const serving_;
  metrics::Gauge* const dogs_;
  metrics::Gauge* const photos_;
  metrics::Gauge* const upgrade_state_;
  metrics::Gauge* const upgrade_done_;
  bool last_ = false;
  int ticks_ = 0;
  PeriodicThread thread_;  // Last: runs Tick, which uses the members above.
};

}  // namespace dogsearch::gateway

#endif  // DOGSEARCH_SERVICES_GATEWAY_SERVING_MONITOR_H_
