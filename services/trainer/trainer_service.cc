#include "services/trainer/trainer_service.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/rpc/status_util.h"

namespace dogsearch::trainer {
namespace pb = ::dogsearch::v1;
namespace {

constexpr absl::Duration kStreamPoll = absl::Milliseconds(500);

grpc::Status Reply(const absl::StatusOr<pb::Job>& job, pb::Job* resp) {
  if (!job.ok()) return rpc::ToGrpcStatus(job.status());
  *resp = *job;
  return grpc::Status::OK;
}

}  // namespace

TrainerService::TrainerService(JobManager* jobs, JobStore* store, ProgressHub* hub,
                               CheckpointFeed* feed, rpc::TokenAuthenticator auth,
                               metrics::MetricsRegistry* metrics)
    : jobs_(jobs),
      store_(store),
      hub_(hub),
      feed_(feed),
      auth_(std::move(auth)),
      rpc_metrics_(metrics, "dogsearch_trainer", "Trainer",
                   {"StartTraining", "GetJob", "ListJobs", "CancelJob", "ResumeJob", "WatchJob",
                    "ListCheckpoints", "WatchCheckpoints", "PromoteCheckpoint"}) {}

template <typename Fn>
grpc::Status TrainerService::Timed(const char* method, Fn fn) {
  const absl::Time start = absl::Now();
  grpc::Status s = fn();
  rpc_metrics_.Record(method, static_cast<absl::StatusCode>(s.error_code()),
                      absl::ToDoubleSeconds(absl::Now() - start));
  return s;
}

grpc::Status TrainerService::StartTraining(grpc::ServerContext* ctx,
                                           const pb::StartTrainingRequest* req, pb::Job* resp) {
  return Timed("StartTraining", [&]() -> grpc::Status {
    if (absl::Status s = auth_.Check(*ctx, rpc::RpcKind::kMutating); !s.ok()) {
      return rpc::ToGrpcStatus(s);
    }
    return Reply(jobs_->Submit(*req), resp);
  });
}

grpc::Status TrainerService::GetJob(grpc::ServerContext* ctx, const pb::GetJobRequest* req,
                                    pb::Job* resp) {
  return Timed("GetJob", [&]() -> grpc::Status {
    if (absl::Status s = auth_.Check(*ctx, rpc::RpcKind::kRead); !s.ok()) return rpc::ToGrpcStatus(s);
    return Reply(store_->Get(req->job_id()), resp);
  });
}

grpc::Status TrainerService::ListJobs(grpc::ServerContext* ctx, const pb::ListJobsRequest* req,
                                      pb::ListJobsResponse* resp) {
  return Timed("ListJobs", [&]() -> grpc::Status {
    if (absl::Status s = auth_.Check(*ctx, rpc::RpcKind::kRead); !s.ok()) return rpc::ToGrpcStatus(s);
    const uint32_t size = req->page_size() == 0 ? 50 : req->page_size();
    if (size > 500) {
      return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "page_size: at most 500");
    }
    size_t start = 0;
    if (!req->page_token().empty() && !absl::SimpleAtoi(req->page_token(), &start)) {
      return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "page_token: not one this server gave");
    }
    const std::vector<pb::Job> all = store_->List();
    for (size_t i = start; i < all.size() && i < start + size; ++i) *resp->add_jobs() = all[i];
    if (start + size < all.size()) resp->set_next_page_token(std::to_string(start + size));
    return grpc::Status::OK;
  });
}

grpc::Status TrainerService::CancelJob(grpc::ServerContext* ctx, const pb::CancelJobRequest* req,
                                       pb::Job* resp) {
  return Timed("CancelJob", [&]() -> grpc::Status {
    if (absl::Status s = auth_.Check(*ctx, rpc::RpcKind::kMutating); !s.ok()) {
      return rpc::ToGrpcStatus(s);
    }
    return Reply(jobs_->Cancel(req->job_id()), resp);
  });
}

grpc::Status TrainerService::ResumeJob(grpc::ServerContext* ctx, const pb::ResumeJobRequest* req,
                                       pb::Job* resp) {
  return Timed("ResumeJob", [&]() -> grpc::Status {
    if (absl::Status s = auth_.Check(*ctx, rpc::RpcKind::kMutating); !s.ok()) {
      return rpc::ToGrpcStatus(s);
    }
    return Reply(jobs_->Resume(req->job_id()), resp);
  });
}

grpc::Status TrainerService::WatchJob(grpc::ServerContext* ctx, const pb::WatchJobRequest* req,
                                      grpc::ServerWriter<pb::JobProgress>* writer) {
  return Timed("WatchJob", [&]() -> grpc::Status {
    if (absl::Status s = auth_.Check(*ctx, rpc::RpcKind::kRead); !s.ok()) return rpc::ToGrpcStatus(s);
    uint64_t version = 0;
    for (;;) {
      if (ctx->IsCancelled()) return grpc::Status::CANCELLED;
      absl::StatusOr<ProgressHub::Snapshot> snap = hub_->WaitNewer(req->job_id(), version, kStreamPoll);
      if (absl::IsDeadlineExceeded(snap.status())) continue;
      if (!snap.ok()) return rpc::ToGrpcStatus(snap.status());
      version = snap->version;
      if (!writer->Write(snap->progress)) return grpc::Status::CANCELLED;
      if (IsFinalState(snap->progress.state())) return grpc::Status::OK;
    }
  });
}

grpc::Status TrainerService::ListCheckpoints(grpc::ServerContext* ctx,
                                             const pb::ListCheckpointsRequest* req,
                                             pb::ListCheckpointsResponse* resp) {
  return Timed("ListCheckpoints", [&]() -> grpc::Status {
    if (absl::Status s = auth_.Check(*ctx, rpc::RpcKind::kRead); !s.ok()) return rpc::ToGrpcStatus(s);
    for (pb::CheckpointInfo& info : feed_->List(req->job_id())) *resp->add_checkpoints() = std::move(info);
    resp->set_promoted_version(feed_->promoted());
    return grpc::Status::OK;
  });
}

grpc::Status TrainerService::WatchCheckpoints(grpc::ServerContext* ctx,
                                              const pb::WatchCheckpointsRequest* req,
                                              grpc::ServerWriter<pb::CheckpointEvent>* writer) {
  return Timed("WatchCheckpoints", [&]() -> grpc::Status {
    if (absl::Status s = auth_.Check(*ctx, rpc::RpcKind::kRead); !s.ok()) return rpc::ToGrpcStatus(s);
    size_t next = feed_->FirstAfter(req->after_unix_seconds());
    for (;;) {
      if (ctx->IsCancelled()) return grpc::Status::CANCELLED;
      absl::StatusOr<std::vector<pb::CheckpointEvent>> events = feed_->Wait(next, &next, kStreamPoll);
      if (!events.ok()) return rpc::ToGrpcStatus(events.status());
      for (const pb::CheckpointEvent& e : *events) {
        if (!writer->Write(e)) return grpc::Status::CANCELLED;
      }
    }
  });
}

grpc::Status TrainerService::PromoteCheckpoint(grpc::ServerContext* ctx,
                                               const pb::PromoteCheckpointRequest* req,
                                               pb::CheckpointInfo* resp) {
  return Timed("PromoteCheckpoint", [&]() -> grpc::Status {
    if (absl::Status s = auth_.Check(*ctx, rpc::RpcKind::kMutating); !s.ok()) {
      return rpc::ToGrpcStatus(s);
    }
    absl::StatusOr<pb::CheckpointInfo> info = feed_->Promote(req->version());
    if (!info.ok()) return rpc::ToGrpcStatus(info.status());
    *resp = *info;
    return grpc::Status::OK;
  });
}

}  // namespace dogsearch::trainer
