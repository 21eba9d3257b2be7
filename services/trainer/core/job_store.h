// Durable records of training jobs: one dogsearch.v1.Job per file, <root>/<job_id>.json in
// protobuf JSON, replaced atomically (write temp, fsync, rename) on every state change, so a
// record is always either the old or the new version, never half of one.
//
// Recovery: Open() reads every record; a job that was RUNNING when the process died comes back
// INTERRUPTED (with a reason) and is rewritten so; QUEUED jobs stay queued. Unreadable records
// are skipped with a log line, not fatal (one bad file must not stop the trainer).
// Thread-safe. Lock discipline: mu_ guards jobs_; file writes happen under mu_ so that two
// updates of one job cannot reach the disk out of order.
#ifndef DOGSEARCH_SERVICES_TRAINER_CORE_JOB_STORE_H_
#define DOGSEARCH_SERVICES_TRAINER_CORE_JOB_STORE_H_

#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "dogsearch/v1/trainer.pb.h"

namespace dogsearch::trainer {

class JobStore {
 public:
  // Creates `root` if needed and loads what is there.
  static absl::StatusOr<std::unique_ptr<JobStore>> Open(const std::string& root);

  // A fresh id: "job-<unix seconds>-<8 hex>", unique within this store.
  std::string NewId();

  // Inserts or replaces the record (durably). INVALID_ARGUMENT for an id that is not a safe
  // file name.
  absl::Status Put(const ::dogsearch::v1::Job& job);
  absl::StatusOr<::dogsearch::v1::Job> Get(const std::string& id) const;
  // Newest first (by created time, then id).
  std::vector<::dogsearch::v1::Job> List() const;
  // Jobs that were RUNNING at the last shutdown and are now INTERRUPTED (set by Open).
  const std::vector<std::string>& interrupted_at_open() const { return interrupted_; }

 private:
  explicit JobStore(std::string root) : root_(std::move(root)) {}
  absl::Status WriteLocked(const ::dogsearch::v1::Job& job);

  const std::string root_;
  mutable std::mutex mu_;
  std::map<std::string, ::dogsearch::v1::Job> jobs_ ABSL_GUARDED_BY(mu_);
  std::vector<std::string> interrupted_ ABSL_GUARDED_BY(mu_);
};

}  // namespace dogsearch::trainer

#endif  // DOGSEARCH_SERVICES_TRAINER_CORE_JOB_STORE_H_
