#include "common/model/checkpoint_manifest.h"

#include <google/protobuf/util/json_util.h>

#include <algorithm>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "common/base/file_util.h"
#include "common/base/proto_json.h"
#include "common/base/status_macros.h"
#include "common/model/identification.h"
#include "common/model/model_spec_proto.h"
#include "dogsearch/v1/model.pb.h"

namespace dogsearch::model {
namespace {

constexpr uint64_t kMaxManifestBytes = 1 << 20;

}  // namespace

void ToProto(const EvalMetrics& m, v1::EvalMetrics* p) {
  p->set_verification_accuracy(m.verification_accuracy);
  p->set_verification_accuracy_std(m.verification_accuracy_std);
  p->set_roc_auc(m.roc_auc);
  p->set_tar_at_far_1e3(m.tar_at_far_1e3);
  p->set_rank1(m.rank1);
  p->set_recall_at_5(m.recall_at_5);
  p->set_mean_average_precision(m.mean_average_precision);
  p->set_threshold(m.threshold);
  p->set_confidence_center(m.confidence_center);
  p->set_confidence_scale(m.confidence_scale);
  p->set_identities(m.identities);
  p->set_photos(m.photos);
  p->set_pairs(m.pairs);
  p->set_full_gallery_top1(m.full_gallery_top1);
  p->set_full_gallery_mrr(m.full_gallery_mrr);
  p->set_rank1_3_enrolled(m.rank1_3_enrolled);
  p->set_dir_at_fpir_1e2(m.dir_at_fpir_1e2);
  p->set_dir_at_fpir_5e2(m.dir_at_fpir_5e2);
  p->set_dir_at_fpir_1e1(m.dir_at_fpir_1e1);
  const IdentificationCalibration& c = m.identification;
  if (c.calibrated()) {
    v1::IdentificationCalibration* q = p->mutable_identification();
    for (double f : c.fmr_fraction) q->add_fmr_fraction(f);
    for (float d : c.fmr_distance) q->add_fmr_distance(d);
    q->set_tail_intercept(c.tail_intercept);
    q->set_tail_slope(c.tail_slope);
    q->set_bias(c.bias);
    q->set_fpir_weight(c.fpir_weight);
    q->set_margin_weight(c.margin_weight);
    q->set_confidence_ece(c.confidence_ece);
    q->set_photos(c.photos);
    q->set_pairs(c.pairs);
  }
}

EvalMetrics FromProto(const v1::EvalMetrics& p) {
  EvalMetrics m;
  m.verification_accuracy = p.verification_accuracy();
  m.verification_accuracy_std = p.verification_accuracy_std();
  m.roc_auc = p.roc_auc();
  m.tar_at_far_1e3 = p.tar_at_far_1e3();
  m.rank1 = p.rank1();
  m.recall_at_5 = p.recall_at_5();
  m.mean_average_precision = p.mean_average_precision();
  m.threshold = p.threshold();
  m.confidence_center = p.confidence_center();
  m.confidence_scale = p.confidence_scale();
  m.identities = p.identities();
  m.photos = p.photos();
  m.pairs = p.pairs();
  m.full_gallery_top1 = p.full_gallery_top1();
  m.full_gallery_mrr = p.full_gallery_mrr();
  m.rank1_3_enrolled = p.rank1_3_enrolled();
  m.dir_at_fpir_1e2 = p.dir_at_fpir_1e2();
  m.dir_at_fpir_5e2 = p.dir_at_fpir_5e2();
  m.dir_at_fpir_1e1 = p.dir_at_fpir_1e1();
  if (p.has_identification()) {
    const v1::IdentificationCalibration& q = p.identification();
    IdentificationCalibration& c = m.identification;
    c.fmr_fraction.assign(q.fmr_fraction().begin(), q.fmr_fraction().end());
    c.fmr_distance.assign(q.fmr_distance().begin(), q.fmr_distance().end());
    c.tail_intercept = q.tail_intercept();
    c.tail_slope = q.tail_slope();
    c.bias = q.bias();
    c.fpir_weight = q.fpir_weight();
    c.margin_weight = q.margin_weight();
    c.confidence_ece = q.confidence_ece();
    c.photos = q.photos();
    c.pairs = q.pairs();
  }
  return m;
}

absl::Status Invalid(absl::string_view what) {
  return absl::FailedPreconditionError(absl::StrCat("invalid checkpoint manifest: ", what));
}

void ToProto(const ModelSpec& s, v1::ModelSpec* p) {
  p->set_architecture(s.architecture);
  p->mutable_input()->set_width(s.input.width);
  p->mutable_input()->set_height(s.input.height);
  for (int c = 0; c < 3; ++c) {
    p->mutable_input()->add_mean(s.input.mean[c]);
    p->mutable_input()->add_std(s.input.std[c]);
  }
  p->set_embedding_dim(s.embedding_dim);
  p->set_dropout(s.dropout);
  for (uint32_t w : s.stage_widths) p->add_stage_widths(w);
  p->set_blocks_per_stage(s.blocks_per_stage);
  p->set_embedding_batchnorm(s.embedding_batchnorm);
  p->set_flip_average(s.flip_average);
  p->set_test_time_zoom(s.test_time_zoom);
  p->set_test_time_four_views(s.test_time_four_views);
  for (const ModelSpec& m : s.members) ToProto(m, p->add_members());
  for (float w : s.member_weights) p->add_member_weights(w);
  if (s.serving_precision == ServingPrecision::kBFloat16) {
    p->set_serving_precision(v1::SERVING_PRECISION_BFLOAT16);
  }
}

absl::StatusOr<ModelSpec> FromProto(const v1::ModelSpec& p) {
  ModelSpec s;
  s.architecture = p.architecture();
  s.input.width = p.input().width();
  s.input.height = p.input().height();
  const auto& in = p.input();
  if ((in.mean_size() != 0 && in.mean_size() != 3) || (in.std_size() != 0 && in.std_size() != 3)) {
    return absl::FailedPreconditionError("input mean and std must have 3 values each (or none)");
  }
  for (int c = 0; c < in.mean_size(); ++c) s.input.mean[c] = in.mean(c);
  for (int c = 0; c < in.std_size(); ++c) s.input.std[c] = in.std(c);
  s.embedding_dim = p.embedding_dim();
  s.dropout = p.dropout();
  s.stage_widths.assign(p.stage_widths().begin(), p.stage_widths().end());
  s.blocks_per_stage = p.blocks_per_stage();
  s.embedding_batchnorm = p.embedding_batchnorm();
  s.flip_average = p.flip_average();
  s.test_time_zoom = p.test_time_zoom();
  s.test_time_four_views = p.test_time_four_views();
  switch (p.serving_precision()) {
    case v1::SERVING_PRECISION_UNSPECIFIED:
    case v1::SERVING_PRECISION_FLOAT32:
      break;
    case v1::SERVING_PRECISION_BFLOAT16:
      s.serving_precision = ServingPrecision::kBFloat16;
      break;
    default:
      return absl::FailedPreconditionError(
          absl::StrCat("unknown serving_precision ", static_cast<int>(p.serving_precision())));
  }
  if (p.members_size() > static_cast<int>(kMaxEnsembleMembers)) {
    return absl::FailedPreconditionError(
        absl::StrCat("an ensemble has at most ", kMaxEnsembleMembers, " members"));
  }
  for (const v1::ModelSpec& m : p.members()) {
    absl::StatusOr<ModelSpec> member = FromProto(m);
    if (!member.ok()) return member.status();
    s.members.push_back(*std::move(member));
  }
  s.member_weights.assign(p.member_weights().begin(), p.member_weights().end());
  return s;
}

absl::Status ValidateVersionName(absl::string_view v) {
  if (v.empty() || v.size() > 64 || v[0] == '.') {
    return absl::InvalidArgumentError(absl::StrCat(
        "version '", v, "' must be 1..64 characters of [A-Za-z0-9._-] not starting with '.'"));
  }
  for (char c : v) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-';
    if (!ok) {
      return absl::InvalidArgumentError(
          absl::StrCat("version '", v, "' contains a character outside [A-Za-z0-9._-]"));
    }
  }
  return absl::OkStatus();
}

std::string ManifestToJson(const CheckpointManifest& m) {
  v1::CheckpointManifest p;
  p.set_format(kCheckpointFormat);
  p.set_format_version(kCheckpointFormatVersion);
  p.set_version(m.version);
  ToProto(m.model, p.mutable_model());
  if (!m.training_config_json.empty()) {
    // The trainer produced this JSON from the same message type; a parse failure would be a
    // programming error, and the manifest is still useful without it.
    (void)google::protobuf::util::JsonStringToMessage(m.training_config_json, p.mutable_training());
  }
  p.set_dataset_fingerprint(m.dataset_fingerprint);
  ToProto(m.metrics, p.mutable_metrics());
  p.set_parent_version(m.parent_version);
  p.set_weights_file(m.weights_file);
  p.set_weights_sha256(m.weights_sha256);
  p.set_weights_bytes(m.weights_bytes);
  p.set_created_unix_seconds(m.created_unix_seconds);
  p.set_epoch(m.epoch);
  p.set_step(m.step);
  p.set_notes(m.notes);
  if (m.score_norm.enabled()) {
    p.mutable_score_norm()->set_cohort_file(m.score_norm.cohort_file);
    p.mutable_score_norm()->set_cohort_sha256(m.score_norm.cohort_sha256);
    p.mutable_score_norm()->set_cohort_bytes(m.score_norm.cohort_bytes);
  }
  return ProtoToJson(p, {/*all_fields=*/false, /*pretty=*/true}).value_or("{}");
}

absl::StatusOr<CheckpointManifest> ManifestFromJson(absl::string_view json) {
  v1::CheckpointManifest p;
  auto st = google::protobuf::util::JsonStringToMessage(
      google::protobuf::StringPiece(json.data(), json.size()), &p);
  if (!st.ok()) return Invalid(absl::StrCat("not valid JSON for the manifest: ", st.ToString()));
  if (p.format() != kCheckpointFormat) {
    return Invalid(absl::StrCat("format is '", p.format(), "', want '", kCheckpointFormat, "'"));
  }
  if (p.format_version() == 0 || p.format_version() > kCheckpointFormatVersion) {
    return Invalid(absl::StrCat("format_version ", p.format_version(),
                                " is not supported (this build reads up to ",
                                kCheckpointFormatVersion, ")"));
  }
  CheckpointManifest m;
  m.version = p.version();
  if (absl::Status s = ValidateVersionName(m.version); !s.ok()) return Invalid(s.message());
  DS_ASSIGN_OR_RETURN(m.model, FromProto(p.model()));
  if (absl::Status s = ValidateModelSpec(m.model); !s.ok()) return Invalid(s.message());
  if (p.has_training()) {
    m.training_config_json = ProtoToJson(p.training()).value_or("{}");
  }
  m.dataset_fingerprint = p.dataset_fingerprint();
  m.metrics = FromProto(p.metrics());
  if (absl::Status s = ValidateIdentificationCalibration(m.metrics.identification); !s.ok()) {
    return Invalid(s.message());
  }
  m.parent_version = p.parent_version();
  m.weights_file = p.weights_file();
  if (absl::Status s = ValidateVersionName(m.weights_file); !s.ok()) {
    return Invalid(absl::StrCat("weights_file '", m.weights_file, "' is not a plain file name"));
  }
  m.weights_sha256 = p.weights_sha256();
  if (m.weights_sha256.size() != 64) return Invalid("weights_sha256 is not a SHA-256 hex digest");
  m.weights_bytes = p.weights_bytes();
  m.created_unix_seconds = p.created_unix_seconds();
  m.epoch = p.epoch();
  m.step = p.step();
  m.notes = p.notes();
  if (p.has_score_norm()) {
    const v1::ScoreNormalisation& n = p.score_norm();
    if (absl::Status s = ValidateVersionName(n.cohort_file());
        !s.ok() || n.cohort_file() == m.weights_file || n.cohort_file() == kManifestFile) {
      return Invalid(
          absl::StrCat("score_norm.cohort_file '", n.cohort_file(), "' is not a plain file name"));
    }
    if (n.cohort_sha256().size() != 64) {
      return Invalid("score_norm.cohort_sha256 is not a SHA-256 hex digest");
    }
    m.score_norm = ScoreNorm{n.cohort_file(), n.cohort_sha256(), n.cohort_bytes()};
  }
  return m;
}

absl::StatusOr<CheckpointManifest> ReadManifest(const std::string& dir) {
  const std::string path = absl::StrCat(dir, "/", kManifestFile);
  auto json = ReadFile(path, kMaxManifestBytes);
  if (!json.ok()) {
    return absl::Status(json.status().code(),
                        absl::StrCat("checkpoint ", dir, ": ", json.status().message()));
  }
  auto m = ManifestFromJson(*json);
  if (!m.ok())
    return absl::Status(m.status().code(), absl::StrCat(path, ": ", m.status().message()));
  return m;
}

absl::StatusOr<std::vector<CheckpointManifest>> ListCheckpoints(const std::string& root) {
  std::error_code ec;
  std::filesystem::directory_iterator it(root, ec), end;
  if (ec) return ErrnoToStatus(ec.value(), absl::StrCat("list checkpoints in ", root));
  std::vector<CheckpointManifest> out;
  for (; it != end; it.increment(ec)) {
    if (ec) return ErrnoToStatus(ec.value(), absl::StrCat("list checkpoints in ", root));
    const std::string name = it->path().filename().string();
    if (name.empty() || name[0] == '.' || !it->is_directory()) continue;
    auto m = ReadManifest(it->path().string());
    if (m.ok() && m->version == name) out.push_back(*std::move(m));
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
    return std::tie(a.created_unix_seconds, a.version) <
           std::tie(b.created_unix_seconds, b.version);
  });
  return out;
}

}  // namespace dogsearch::model
