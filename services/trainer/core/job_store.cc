#include "services/trainer/core/job_store.h"

#include <google/protobuf/util/json_util.h>

#include <algorithm>
#include <filesystem>
#include <random>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "common/base/file_util.h"
#include "common/base/log.h"
#include "common/base/proto_json.h"
#include "common/base/status_macros.h"
#include "common/model/checkpoint_manifest.h"

namespace dogsearch::trainer {
namespace fs = std::filesystem;

absl::StatusOr<std::unique_ptr<JobStore>> JobStore::Open(const std::string& root) {
  DS_RETURN_IF_ERROR(MakeDirs(root));
  std::unique_ptr<JobStore> store(new JobStore(root));
  std::error_code ec;
  for (const fs::directory_entry& e : fs::directory_iterator(root, ec)) {
    const std::string name = e.path().filename().string();
    if (name.empty() || name[0] == '.' || !absl::EndsWith(name, ".json")) continue;
    absl::StatusOr<std::string> text = ReadFile(e.path().string(), 1 << 20);
    v1::Job job;
    if (!text.ok() || !google::protobuf::util::JsonStringToMessage(*text, &job).ok() ||
        job.id() + ".json" != name) {
      DS_LOG(kWarning, "job_record_skipped").Kv("file", e.path().string());
      continue;
    }
    if (job.progress().state() == v1::JOB_STATE_RUNNING) {
      job.mutable_progress()->set_state(v1::JOB_STATE_INTERRUPTED);
      job.mutable_progress()->set_state_reason(
          "the trainer stopped while this job was running; ResumeJob continues it from its "
          "last checkpoint");
      store->interrupted_.push_back(job.id());
      std::lock_guard<std::mutex> lock(store->mu_);
      DS_RETURN_IF_ERROR(store->WriteLocked(job));
    }
    std::lock_guard<std::mutex> lock(store->mu_);
    store->jobs_[job.id()] = job;
  }
  if (ec) return ErrnoToStatus(ec.value(), "listing " + root);
  return store;
}

std::string JobStore::NewId() {
  static thread_local std::mt19937_64 rng(std::random_device{}());
  std::lock_guard<std::mutex> lock(mu_);
  for (;;) {
    std::string id = absl::StrFormat("job-%d-%08x", absl::ToUnixSeconds(absl::Now()),
                                     static_cast<uint32_t>(rng()));
    if (!jobs_.count(id)) return id;
  }
}

absl::Status JobStore::WriteLocked(const v1::Job& job) {
  absl::StatusOr<std::string> json = ProtoToJson(job);
  if (!json.ok()) return absl::InternalError("cannot encode job " + job.id());
  return WriteFileAtomic(root_ + "/" + job.id() + ".json", *json);
}

absl::Status JobStore::Put(const v1::Job& job) {
  if (absl::Status s = model::ValidateVersionName(job.id()); !s.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("job id: ", s.message()));
  }
  std::lock_guard<std::mutex> lock(mu_);
  DS_RETURN_IF_ERROR(WriteLocked(job));
  jobs_[job.id()] = job;
  return absl::OkStatus();
}

absl::StatusOr<v1::Job> JobStore::Get(const std::string& id) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = jobs_.find(id);
  if (it == jobs_.end()) return absl::NotFoundError(absl::StrCat("no job ", id));
  return it->second;
}

std::vector<v1::Job> JobStore::List() const {
  std::vector<v1::Job> out;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& [id, job] : jobs_) out.push_back(job);
  }
  std::sort(out.begin(), out.end(), [](const v1::Job& a, const v1::Job& b) {
    if (a.created_unix_seconds() != b.created_unix_seconds()) {
      return a.created_unix_seconds() > b.created_unix_seconds();
    }
    return a.id() > b.id();
  });
  return out;
}

}  // namespace dogsearch::trainer
