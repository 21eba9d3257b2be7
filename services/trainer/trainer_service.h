// dogsearch.v1.Trainer over gRPC: a thin adapter from the RPCs to JobManager (jobs),
// ProgressHub (WatchJob) and CheckpointFeed (checkpoints). Uses gRPC's synchronous API: the
// trainer serves few clients, and each open stream holds one of gRPC's sync threads while it
// waits (streams wake at least every 500 ms to notice a cancelled client or a shutdown).
// Thread-safe: all state lives in the three collaborators, each with its own lock, and in the
// registry's metric objects (requests by method and code, latency; streams count when they end).
#ifndef DOGSEARCH_SERVICES_TRAINER_TRAINER_SERVICE_H_
#define DOGSEARCH_SERVICES_TRAINER_TRAINER_SERVICE_H_

#include "common/metrics/metrics.h"
#include "common/rpc/handler.h"
#include "dogsearch/v1/trainer.grpc.pb.h"
#include "services/trainer/core/checkpoint_feed.h"
#include "services/trainer/core/job_manager.h"
#include "services/trainer/core/job_store.h"
#include "services/trainer/core/progress_hub.h"

namespace dogsearch::trainer {

class TrainerService final : public ::dogsearch::v1::Trainer::Service {
 public:
  // `metrics` must outlive the service.
  TrainerService(JobManager* jobs, JobStore* store, ProgressHub* hub, CheckpointFeed* feed,
                 rpc::TokenAuthenticator auth, metrics::MetricsRegistry* metrics);

  grpc::Status StartTraining(grpc::ServerContext* ctx,
                             const ::dogsearch::v1::StartTrainingRequest* req,
                             ::dogsearch::v1::Job* resp) override;
  grpc::Status GetJob(grpc::ServerContext* ctx, const ::dogsearch::v1::GetJobRequest* req,
                      ::dogsearch::v1::Job* resp) override;
  grpc::Status ListJobs(grpc::ServerContext* ctx, const ::dogsearch::v1::ListJobsRequest* req,
                        ::dogsearch::v1::ListJobsResponse* resp) override;
  grpc::Status CancelJob(grpc::ServerContext* ctx, const ::dogsearch::v1::CancelJobRequest* req,
                         ::dogsearch::v1::Job* resp) override;
  grpc::Status ResumeJob(grpc::ServerContext* ctx, const ::dogsearch::v1::ResumeJobRequest* req,
                         ::dogsearch::v1::Job* resp) override;
  grpc::Status WatchJob(grpc::ServerContext* ctx, const ::dogsearch::v1::WatchJobRequest* req,
                        grpc::ServerWriter<::dogsearch::v1::JobProgress>* writer) override;
  grpc::Status ListCheckpoints(grpc::ServerContext* ctx,
                               const ::dogsearch::v1::ListCheckpointsRequest* req,
                               ::dogsearch::v1::ListCheckpointsResponse* resp) override;
  grpc::Status WatchCheckpoints(
      grpc::ServerContext* ctx, const ::dogsearch::v1::WatchCheckpointsRequest* req,
      grpc::ServerWriter<::dogsearch::v1::CheckpointEvent>* writer) override;
  grpc::Status PromoteCheckpoint(grpc::ServerContext* ctx,
                                 const ::dogsearch::v1::PromoteCheckpointRequest* req,
                                 ::dogsearch::v1::CheckpointInfo* resp) override;

 private:
  JobManager* const jobs_;
  JobStore* const store_;
  ProgressHub* const hub_;
  CheckpointFeed* const feed_;
  const rpc::Handlers handlers_;  // Auth, deadline, metrics and status mapping of every RPC.
};

}  // namespace dogsearch::trainer

#endif  // DOGSEARCH_SERVICES_TRAINER_TRAINER_SERVICE_H_
