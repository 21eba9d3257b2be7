#include "services/trainer/core/checkpoint_feed.h"

#include <google/protobuf/util/json_util.h>

#include <algorithm>
#include <filesystem>
#include <random>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "common/base/file_util.h"
#include "common/base/log.h"
#include "common/base/status_macros.h"
#include "common/model/checkpoint_manifest.h"

namespace dogsearch::trainer {
namespace fs = std::filesystem;
namespace {

constexpr char kPromotedFile[] = "PROMOTED";
constexpr uint64_t kMaxWeightsBytes = 2ull << 30;

v1::CheckpointInfo Info(const model::CheckpointManifest& m, int64_t published) {
  v1::CheckpointInfo info;
  (void)google::protobuf::util::JsonStringToMessage(model::ManifestToJson(m),
                                                    info.mutable_manifest());
  info.set_job_id(JobOfVersion(m.version));
  info.set_published_unix_seconds(published);
  return info;
}

v1::CheckpointEvent Event(v1::CheckpointEvent::Kind kind, v1::CheckpointInfo info) {
  v1::CheckpointEvent e;
  e.set_kind(kind);
  *e.mutable_checkpoint() = std::move(info);
  return e;
}

}  // namespace

std::string JobOfVersion(const std::string& version) {
  const size_t at = version.rfind("-s");
  if (version.rfind("job-", 0) != 0 || at == std::string::npos) return "";
  return version.substr(0, at);
}

absl::StatusOr<std::unique_ptr<CheckpointFeed>> CheckpointFeed::Open(const std::string& root) {
  DS_RETURN_IF_ERROR(MakeDirs(root));
  std::unique_ptr<CheckpointFeed> feed(new CheckpointFeed(root));
  DS_ASSIGN_OR_RETURN(std::vector<model::CheckpointManifest> all, model::ListCheckpoints(root));
  std::lock_guard<std::mutex> lock(feed->mu_);
  for (const model::CheckpointManifest& m : all) {
    feed->AddLocked(Event(v1::CheckpointEvent::KIND_PUBLISHED, Info(m, m.created_unix_seconds)));
  }
  absl::StatusOr<std::string> promoted = ReadFile(root + "/" + kPromotedFile, 256);
  if (promoted.ok()) {
    feed->promoted_ = std::string(absl::StripAsciiWhitespace(*promoted));
    for (const model::CheckpointManifest& m : all) {
      if (m.version == feed->promoted_) {
        feed->AddLocked(Event(v1::CheckpointEvent::KIND_PROMOTED, Info(m, m.created_unix_seconds)));
      }
    }
  }
  return feed;
}

void CheckpointFeed::AddLocked(v1::CheckpointEvent event) {
  events_.push_back(std::move(event));
  cv_.notify_all();
}

absl::StatusOr<v1::CheckpointInfo> CheckpointFeed::Publish(const std::string& dir,
                                                           const std::string& job_id) {
  absl::StatusOr<model::CheckpointManifest> m = model::ReadManifest(dir);
  if (!m.ok()) {
    return absl::FailedPreconditionError(absl::StrCat("not a checkpoint: ", m.status().message()));
  }
  if (fs::exists(root_ + "/" + m->version)) {
    return absl::AlreadyExistsError(
        absl::StrCat("checkpoint ", m->version, " is already published"));
  }
  std::vector<std::pair<std::string, std::string>> files;
  std::vector<std::string> names{model::kManifestFile, m->weights_file};
  if (m->score_norm.enabled()) names.push_back(m->score_norm.cohort_file);
  for (const std::string& file : names) {
    DS_ASSIGN_OR_RETURN(std::string bytes, ReadFile(dir + "/" + file, kMaxWeightsBytes));
    files.emplace_back(file, std::move(bytes));
  }
  absl::Status s = PublishDirectory(root_, m->version, files);
  if (absl::IsAlreadyExists(s)) {
    return absl::AlreadyExistsError(
        absl::StrCat("checkpoint ", m->version, " is already published"));
  }
  DS_RETURN_IF_ERROR(s);
  v1::CheckpointInfo info = Info(*m, absl::ToUnixSeconds(absl::Now()));
  info.set_job_id(job_id);
  std::lock_guard<std::mutex> lock(mu_);
  AddLocked(Event(v1::CheckpointEvent::KIND_PUBLISHED, info));
  return info;
}

absl::StatusOr<v1::CheckpointInfo> CheckpointFeed::Promote(const std::string& version) {
  if (absl::Status s = model::ValidateVersionName(version); !s.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("version: ", s.message()));
  }
  absl::StatusOr<model::CheckpointManifest> m = model::ReadManifest(root_ + "/" + version);
  if (!m.ok()) return absl::NotFoundError(absl::StrCat("no published checkpoint ", version));
  DS_RETURN_IF_ERROR(WriteFileAtomic(root_ + "/" + kPromotedFile, version + "\n"));
  v1::CheckpointInfo info = Info(*m, absl::ToUnixSeconds(absl::Now()));
  info.set_promoted(true);
  std::lock_guard<std::mutex> lock(mu_);
  promoted_ = version;
  AddLocked(Event(v1::CheckpointEvent::KIND_PROMOTED, info));
  return info;
}

std::vector<v1::CheckpointInfo> CheckpointFeed::List(const std::string& job_id) const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<v1::CheckpointInfo> out;
  for (const v1::CheckpointEvent& e : events_) {
    if (e.kind() != v1::CheckpointEvent::KIND_PUBLISHED) continue;
    if (!job_id.empty() && e.checkpoint().job_id() != job_id) continue;
    out.push_back(e.checkpoint());
    out.back().set_promoted(e.checkpoint().manifest().version() == promoted_);
  }
  return out;
}

std::string CheckpointFeed::promoted() const {
  std::lock_guard<std::mutex> lock(mu_);
  return promoted_;
}

double CheckpointFeed::promoted_accuracy() const {
  std::lock_guard<std::mutex> lock(mu_);
  for (const v1::CheckpointEvent& e : events_) {
    if (e.checkpoint().manifest().version() == promoted_ && !promoted_.empty()) {
      return e.checkpoint().manifest().metrics().verification_accuracy();
    }
  }
  return -1;
}

size_t CheckpointFeed::FirstAfter(int64_t unix_seconds) const {
  std::lock_guard<std::mutex> lock(mu_);
  if (unix_seconds <= 0) return 0;
  for (size_t i = 0; i < events_.size(); ++i) {
    if (events_[i].checkpoint().published_unix_seconds() > unix_seconds) return i;
  }
  return events_.size();
}

absl::StatusOr<std::vector<v1::CheckpointEvent>> CheckpointFeed::Wait(size_t from, size_t* next,
                                                                      absl::Duration timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait_for(lock, absl::ToChronoMilliseconds(timeout),
               [&] { return closed_ || events_.size() > from; });
  if (closed_) return absl::UnavailableError("trainer shutting down");
  std::vector<v1::CheckpointEvent> out;
  for (size_t i = from; i < events_.size(); ++i) out.push_back(events_[i]);
  *next = std::max(from, events_.size());
  return out;
}

void CheckpointFeed::Close() {
  std::lock_guard<std::mutex> lock(mu_);
  closed_ = true;
  cv_.notify_all();
}

absl::Status PublishFinishedJob(CheckpointFeed* feed, const ::dogsearch::v1::Job& job,
                                const std::string& best_checkpoint_dir, double margin) {
  absl::StatusOr<::dogsearch::v1::CheckpointInfo> info =
      feed->Publish(best_checkpoint_dir, job.id());
  if (!info.ok()) {
    DS_LOG(kError, "checkpoint_publish_failed").Kv("job", job.id()).Kv("reason", info.status());
    return info.status();
  }
  const std::string& version = info->manifest().version();
  DS_LOG(kInfo, "checkpoint_published").Kv("version", version);
  const double acc = info->manifest().metrics().verification_accuracy();
  if (!job.auto_promote() || acc < feed->promoted_accuracy() + margin) return absl::OkStatus();
  absl::Status promoted = feed->Promote(version).status();
  if (promoted.ok()) {
    DS_LOG(kInfo, "checkpoint_auto_promoted").Kv("version", version);
  } else {
    DS_LOG(kError, "checkpoint_auto_promote_failed").Kv("version", version).Kv("status", promoted);
  }
  return promoted;
}

}  // namespace dogsearch::trainer
