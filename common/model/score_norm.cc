#include "common/model/score_norm.h"

#include "absl/strings/str_cat.h"
#include "common/base/file_util.h"
#include "common/base/sha256.h"
#include "common/base/status_macros.h"

namespace dogsearch::model {
namespace {

constexpr uint64_t kMaxCohortBytes = uint64_t{256} << 20;  // 500k x 128 floats.

absl::Status Refuse(const std::string& dir, absl::string_view why) {
  return absl::FailedPreconditionError(
      absl::StrCat("checkpoint ", dir, " refused: score-normalisation cohort ", why));
}

}  // namespace

absl::StatusOr<std::shared_ptr<const Cohort>> ReadScoreCohort(const std::string& dir,
                                                              const CheckpointManifest& m) {
  if (!m.score_norm.enabled()) return std::shared_ptr<const Cohort>();
  const ScoreNorm& n = m.score_norm;
  absl::StatusOr<std::string> bytes =
      ReadVerifiedFile(absl::StrCat(dir, "/", n.cohort_file), kMaxCohortBytes, n.cohort_bytes,
                       n.cohort_sha256, n.cohort_file);
  if (!bytes.ok()) return Refuse(dir, bytes.status().message());
  absl::StatusOr<Cohort> c = Cohort::Parse(*bytes);
  if (!c.ok()) return Refuse(dir, absl::StrCat(n.cohort_file, ": ", c.status().message()));
  if (c->dim() != m.model.embedding_dim) {
    return Refuse(dir, absl::StrCat(n.cohort_file, " holds ", c->dim(),
                                    "-d vectors, the model embeds in ", m.model.embedding_dim));
  }
  return std::make_shared<const Cohort>(*std::move(c));
}

absl::StatusOr<CohortFile> MakeCohortFile(const Cohort& cohort, const CheckpointManifest& m) {
  if (cohort.dim() != m.model.embedding_dim) {
    return absl::InvalidArgumentError(absl::StrCat("the cohort holds ", cohort.dim(),
                                                   "-d vectors, the model embeds in ",
                                                   m.model.embedding_dim));
  }
  CohortFile f;
  f.bytes = cohort.Serialize();
  f.entry = ScoreNorm{kCohortFile, Sha256::Hex(f.bytes), f.bytes.size()};
  return f;
}

absl::Status AttachScoreCohort(const std::string& dir, const Cohort& cohort,
                               CheckpointManifest* m) {
  DS_ASSIGN_OR_RETURN(CohortFile f, MakeCohortFile(cohort, *m));
  DS_RETURN_IF_ERROR(WriteFileAtomic(absl::StrCat(dir, "/", kCohortFile), f.bytes));
  m->score_norm = f.entry;
  return absl::OkStatus();
}

}  // namespace dogsearch::model
