#include "services/trainer/trainer_service.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace dogsearch::trainer {
namespace {

constexpr absl::Duration kStreamPoll = absl::Milliseconds(500);

absl::Status StreamCancelled() { return absl::CancelledError("the client closed the stream"); }

}  // namespace

TrainerService::TrainerService(JobManager* jobs, JobStore* store, ProgressHub* hub,
                               CheckpointFeed* feed, rpc::TokenAuthenticator auth,
                               metrics::MetricsRegistry* metrics)
    : jobs_(jobs),
      store_(store),
      hub_(hub),
      feed_(feed),
      handlers_(v1::Trainer::service_full_name(), "dogsearch_trainer", std::move(auth), metrics) {}

grpc::Status TrainerService::StartTraining(grpc::ServerContext* ctx,
                                           const v1::StartTrainingRequest* req, v1::Job* resp) {
  return handlers_.Run(ctx, "StartTraining",
                       [&](absl::Time) { return rpc::Into(jobs_->Submit(*req), resp); });
}

grpc::Status TrainerService::GetJob(grpc::ServerContext* ctx, const v1::GetJobRequest* req,
                                    v1::Job* resp) {
  return handlers_.Run(ctx, "GetJob",
                       [&](absl::Time) { return rpc::Into(store_->Get(req->job_id()), resp); });
}

grpc::Status TrainerService::ListJobs(grpc::ServerContext* ctx, const v1::ListJobsRequest* req,
                                      v1::ListJobsResponse* resp) {
  return handlers_.Run(ctx, "ListJobs", [&](absl::Time) {
    const uint32_t size = req->page_size() == 0 ? 50 : req->page_size();
    if (size > 500) return absl::InvalidArgumentError("page_size: at most 500");
    size_t start = 0;
    if (!req->page_token().empty() && !absl::SimpleAtoi(req->page_token(), &start)) {
      return absl::InvalidArgumentError("page_token: not one this server gave");
    }
    const std::vector<v1::Job> all = store_->List();
    for (size_t i = start; i < all.size() && i < start + size; ++i) *resp->add_jobs() = all[i];
    if (start + size < all.size()) resp->set_next_page_token(std::to_string(start + size));
    return absl::OkStatus();
  });
}

grpc::Status TrainerService::CancelJob(grpc::ServerContext* ctx, const v1::CancelJobRequest* req,
                                       v1::Job* resp) {
  return handlers_.Run(ctx, "CancelJob",
                       [&](absl::Time) { return rpc::Into(jobs_->Cancel(req->job_id()), resp); });
}

grpc::Status TrainerService::ResumeJob(grpc::ServerContext* ctx, const v1::ResumeJobRequest* req,
                                       v1::Job* resp) {
  return handlers_.Run(ctx, "ResumeJob",
                       [&](absl::Time) { return rpc::Into(jobs_->Resume(req->job_id()), resp); });
}

grpc::Status TrainerService::WatchJob(grpc::ServerContext* ctx, const v1::WatchJobRequest* req,
                                      grpc::ServerWriter<v1::JobProgress>* writer) {
  return handlers_.Run(ctx, "WatchJob", [&](absl::Time) -> absl::Status {
    uint64_t version = 0;
    for (;;) {
      if (ctx->IsCancelled()) return StreamCancelled();
      absl::StatusOr<ProgressHub::Snapshot> snap =
          hub_->WaitNewer(req->job_id(), version, kStreamPoll);
      if (absl::IsDeadlineExceeded(snap.status())) continue;
      if (!snap.ok()) return snap.status();
      version = snap->version;
      if (!writer->Write(snap->progress)) return StreamCancelled();
      if (IsFinalState(snap->progress.state())) return absl::OkStatus();
    }
  });
}

grpc::Status TrainerService::ListCheckpoints(grpc::ServerContext* ctx,
                                             const v1::ListCheckpointsRequest* req,
                                             v1::ListCheckpointsResponse* resp) {
  return handlers_.Run(ctx, "ListCheckpoints", [&](absl::Time) {
    for (v1::CheckpointInfo& info : feed_->List(req->job_id())) {
      *resp->add_checkpoints() = std::move(info);
    }
    resp->set_promoted_version(feed_->promoted());
    return absl::OkStatus();
  });
}

grpc::Status TrainerService::WatchCheckpoints(grpc::ServerContext* ctx,
                                              const v1::WatchCheckpointsRequest* req,
                                              grpc::ServerWriter<v1::CheckpointEvent>* writer) {
  return handlers_.Run(ctx, "WatchCheckpoints", [&](absl::Time) -> absl::Status {
    size_t next = feed_->FirstAfter(req->after_unix_seconds());
    for (;;) {
      if (ctx->IsCancelled()) return StreamCancelled();
      absl::StatusOr<std::vector<v1::CheckpointEvent>> events =
          feed_->Wait(next, &next, kStreamPoll);
      if (!events.ok()) return events.status();
      for (const v1::CheckpointEvent& e : *events) {
        if (!writer->Write(e)) return StreamCancelled();
      }
    }
  });
}

grpc::Status TrainerService::PromoteCheckpoint(grpc::ServerContext* ctx,
                                               const v1::PromoteCheckpointRequest* req,
                                               v1::CheckpointInfo* resp) {
  return handlers_.Run(ctx, "PromoteCheckpoint",
                       [&](absl::Time) { return rpc::Into(feed_->Promote(req->version()), resp); });
}

}  // namespace dogsearch::trainer
