// dogsearch-import-keras: makes a checkpoint whose MobileNetV2 trunk holds converted Keras
// weights (tools/pretrained/convert_nsfwjs.mjs) and whose embedding head is freshly
// initialised: the parent of a pretrained-start training run (dogsearch-train --parent).
// Before publishing, the trunk's pooled features on the converter's check inputs must match
// TensorFlow.js' to --tolerance (docs/TRAINING.md, "Pretrained start").
//
//   dogsearch-import-keras --keras DIR --out ROOT --version NAME [--input_size 96]
#include <cstdio>
#include <filesystem>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/base/file_util.h"
#include "common/base/status_macros.h"
#include "common/torch_model/checkpoint.h"
#include "common/torch_model/mobilenet_v2.h"
#include "tools/pretrained/keras_import.h"

ABSL_FLAG(std::string, keras, "", "The converter's output folder");
ABSL_FLAG(std::string, out, "runs/pretrained", "Checkpoint root to publish into");
ABSL_FLAG(std::string, version, "mnv2-imagenet", "Version name of the checkpoint");
ABSL_FLAG(uint32_t, input_size, 96, "Input side in pixels");
ABSL_FLAG(uint32_t, embedding_dim, 128, "Embedding size");
ABSL_FLAG(double, dropout, 0.2, "Dropout before the dense head (training only)");
ABSL_FLAG(double, tolerance, 1e-2, "Largest feature difference allowed against TensorFlow.js");

namespace dogsearch::pretrained {
namespace {

// Max |difference| between the trunk's pooled features and TensorFlow.js' on the check inputs.
absl::StatusOr<double> CheckFeatures(const std::string& dir, model::MobileNetV2Net& net) {
  DS_ASSIGN_OR_RETURN(std::string in, ReadFile(dir + "/check_inputs.bin", uint64_t{1} << 30));
  DS_ASSIGN_OR_RETURN(std::string ref, ReadFile(dir + "/check_features.bin", uint64_t{1} << 30));
  constexpr int64_t kSide = 224, kFeatures = 1280;
  const int64_t n = static_cast<int64_t>(ref.size() / sizeof(float)) / kFeatures;
  if (n < 1 || in.size() != n * kSide * kSide * 3 * sizeof(float)) {
    return absl::InvalidArgumentError("check inputs and features do not match in size");
  }
  torch::NoGradGuard no_grad;
  net.eval();
  torch::Tensor x = torch::from_blob(in.data(), {n, kSide, kSide, 3}).permute({0, 3, 1, 2});
  torch::Tensor got = net.Features(x.contiguous());
  torch::Tensor want = torch::from_blob(ref.data(), {n, kFeatures});
  return (got - want).abs().max().item<double>();
}

absl::Status Main() {
  const std::string dir = absl::GetFlag(FLAGS_keras);
  DS_ASSIGN_OR_RETURN(KerasTensors keras, ReadKerasTensors(dir));
  model::CheckpointManifest m;
  m.version = absl::GetFlag(FLAGS_version);
  m.model.architecture = model::kMobileNetV2;
  m.model.input.width = m.model.input.height = absl::GetFlag(FLAGS_input_size);
  m.model.input.mean = {0.5f, 0.5f, 0.5f};  // [-1, 1], as the Keras network was trained.
  m.model.input.std = {0.5f, 0.5f, 0.5f};
  m.model.embedding_dim = absl::GetFlag(FLAGS_embedding_dim);
  m.model.dropout = static_cast<float>(absl::GetFlag(FLAGS_dropout));
  torch::manual_seed(0);
  DS_ASSIGN_OR_RETURN(std::shared_ptr<model::EmbeddingNet> built,
                      model::BuildEmbeddingNet(m.model));
  auto net = std::dynamic_pointer_cast<model::MobileNetV2Net>(built);
  DS_ASSIGN_OR_RETURN(ImportReport report, ImportKeras(keras, *net));
  std::printf("imported %d tensors; kept as initialised: %s; unused: %zu Keras tensors\n",
              report.imported, absl::StrJoin(report.kept, " ").c_str(), report.unused.size());
  if (report.kept.size() != 2) {
    return absl::FailedPreconditionError("only the dense head may be left as initialised");
  }
  DS_ASSIGN_OR_RETURN(const double diff, CheckFeatures(dir, *net));
  std::printf("pooled trunk features vs TensorFlow.js: max |difference| %.3g (tolerance %.3g)\n",
              diff, absl::GetFlag(FLAGS_tolerance));
  if (!(diff <= absl::GetFlag(FLAGS_tolerance))) {
    return absl::FailedPreconditionError("the converted trunk does not match TensorFlow.js");
  }
  DS_ASSIGN_OR_RETURN(std::string source, ReadFile(dir + "/keras_source.txt", 1 << 16));
  m.notes = absl::StrCat("trunk: ", absl::StripTrailingAsciiWhitespace(source),
                         "; converted by tools/pretrained (max feature difference ", diff,
                         "); embedding head: random initialisation");
  std::filesystem::create_directories(absl::GetFlag(FLAGS_out));
  DS_RETURN_IF_ERROR(model::PublishCheckpoint(absl::GetFlag(FLAGS_out), m, *net).status());
  std::printf("published %s/%s\n", absl::GetFlag(FLAGS_out).c_str(), m.version.c_str());
  return absl::OkStatus();
}

}  // namespace
}  // namespace dogsearch::pretrained

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  const absl::Status s = dogsearch::pretrained::Main();
  if (!s.ok()) {
    std::fprintf(stderr, "dogsearch-import-keras: %s\n", s.ToString().c_str());
    return 1;
  }
  return 0;
}
