#include "common/model/model_spec.h"

#include <cmath>
#include <string>

#include "absl/strings/str_cat.h"

namespace dogsearch::model {

absl::Status ValidateInputSpec(const InputSpec& s) {
  if (s.width < 16 || s.width > 1024 || s.height < 16 || s.height > 1024) {
    return absl::InvalidArgumentError(absl::StrCat("input size ", s.width, "x", s.height,
                                                   " is outside 16..1024 pixels per side"));
  }
  for (int c = 0; c < 3; ++c) {
    if (!std::isfinite(s.mean[c])) {
      return absl::InvalidArgumentError(absl::StrCat("input mean[", c, "] is not finite"));
    }
    if (!std::isfinite(s.std[c]) || s.std[c] <= 0) {
      return absl::InvalidArgumentError(absl::StrCat("input std[", c, "] must be > 0"));
    }
  }
  return absl::OkStatus();
}

namespace {

absl::Status ValidateEnsemble(const ModelSpec& s) {
  if (s.members.size() < 2 || s.members.size() > kMaxEnsembleMembers) {
    return absl::InvalidArgumentError(absl::StrCat("an ensemble has 2..", kMaxEnsembleMembers,
                                                   " members, not ", s.members.size()));
  }
  if (s.member_weights.size() != s.members.size()) {
    return absl::InvalidArgumentError(absl::StrCat("an ensemble of ", s.members.size(),
                                                   " members needs as many member_weights, not ",
                                                   s.member_weights.size()));
  }
  if (!s.stage_widths.empty() || s.blocks_per_stage != 0 || s.embedding_batchnorm ||
      s.dropout != 0.f) {
    return absl::InvalidArgumentError(
        "an ensemble takes no stage_widths, blocks_per_stage, embedding_batchnorm or dropout "
        "(its members do)");
  }
  for (size_t i = 0; i < s.members.size(); ++i) {
    const ModelSpec& m = s.members[i];
    const std::string which = absl::StrCat("ensemble member ", i, ": ");
    if (m.architecture == kEnsemble) {
      return absl::InvalidArgumentError(which + "an ensemble cannot be a member");
    }
    if (absl::Status st = ValidateModelSpec(m); !st.ok()) {
      return absl::InvalidArgumentError(which + std::string(st.message()));
    }
    if (m.input.width > s.input.width || m.input.height > s.input.height) {
      return absl::InvalidArgumentError(
          absl::StrCat(which, "input ", m.input.width, "x", m.input.height,
                       " is larger than the ensemble's ", s.input.width, "x", s.input.height,
                       " (a member may take a smaller input, never a larger one)"));
    }
    if (m.flip_average || m.test_time_zoom != 0.f || m.test_time_four_views) {
      return absl::InvalidArgumentError(
          which +
          "flip_average, test_time_zoom and test_time_four_views are the ensemble's choice");
    }
    if (m.serving_precision != ServingPrecision::kFloat32) {
      return absl::InvalidArgumentError(which + "serving_precision is the ensemble's choice");
    }
    if (!(s.member_weights[i] > 0.f && s.member_weights[i] <= 1.f)) {
      return absl::InvalidArgumentError(absl::StrCat("ensemble member_weights[", i, "] ",
                                                     s.member_weights[i], " is outside (0, 1]"));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ValidateModelSpec(const ModelSpec& s) {
  if (s.architecture != kSeedInception && s.architecture != kDogFaceNetResNet &&
      s.architecture != kMobileNetV2 && s.architecture != kEnsemble) {
    return absl::InvalidArgumentError(
        absl::StrCat("unknown architecture '", s.architecture, "' (known: ", kSeedInception, ", ",
                     kDogFaceNetResNet, ", ", kMobileNetV2, ", ", kEnsemble, ")"));
  }
  if (absl::Status st = ValidateInputSpec(s.input); !st.ok()) return st;
  if (s.architecture != kEnsemble && (!s.members.empty() || !s.member_weights.empty())) {
    return absl::InvalidArgumentError(
        absl::StrCat("members and member_weights are only defined for ", kEnsemble));
  }
  if (s.architecture == kSeedInception && (s.input.width < 64 || s.input.height < 64)) {
    return absl::InvalidArgumentError("seed_inception needs an input of at least 64x64");
  }
  if (s.architecture == kMobileNetV2 && (s.input.width < 32 || s.input.height < 32)) {
    return absl::InvalidArgumentError("mobilenet_v2 needs an input of at least 32x32");
  }
  if (s.embedding_dim < 2 || s.embedding_dim > 4096) {
    return absl::InvalidArgumentError(
        absl::StrCat("embedding_dim ", s.embedding_dim, " is outside 2..4096"));
  }
  if (!(s.dropout >= 0.f && s.dropout < 1.f)) {
    return absl::InvalidArgumentError(absl::StrCat("dropout ", s.dropout, " is outside [0, 1)"));
  }
  if (s.stage_widths.size() > 8) {
    return absl::InvalidArgumentError("at most 8 stage widths");
  }
  for (uint32_t w : s.stage_widths) {
    if (w < 1 || w > 2048) {
      return absl::InvalidArgumentError(absl::StrCat("stage width ", w, " is outside 1..2048"));
    }
  }
  if (s.blocks_per_stage > 4) {
    return absl::InvalidArgumentError(
        absl::StrCat("blocks_per_stage ", s.blocks_per_stage, " is outside 0..4"));
  }
  if (s.embedding_batchnorm && s.architecture != kDogFaceNetResNet) {
    return absl::InvalidArgumentError(
        absl::StrCat("embedding_batchnorm is only defined for ", kDogFaceNetResNet));
  }
  if (s.test_time_zoom != 0.f) {
    if (!(s.test_time_zoom >= 0.5f && s.test_time_zoom < 1.f)) {
      return absl::InvalidArgumentError(
          absl::StrCat("test_time_zoom ", s.test_time_zoom, " is outside [0.5, 1) (0 = off)"));
    }
    if (!s.flip_average) {
      return absl::InvalidArgumentError("test_time_zoom needs flip_average (it zooms the mirror)");
    }
  }
  if (s.test_time_four_views && s.test_time_zoom == 0.f) {
    return absl::InvalidArgumentError(
        "test_time_four_views needs test_time_zoom (its views are the photo's and the zoom's)");
  }
  if (s.architecture == kEnsemble) return ValidateEnsemble(s);
  return absl::OkStatus();
}

std::vector<uint32_t> ResNetStageWidths(const ModelSpec& spec) {
  if (!spec.stage_widths.empty()) return spec.stage_widths;
  return {16, 32, 64, 128, 512};
}

}  // namespace dogsearch::model
