// The ensemble architecture: what it is built from and refuses, that it runs each member on the
// member's own input normalisation, weights and concatenates their embeddings, projects them as
// set, and round-trips through a checkpoint (manifest and weights).
#include "common/torch_model/ensemble_net.h"

#include "absl/strings/match.h"
#include "common/model/checkpoint_manifest.h"
#include "common/torch_model/checkpoint.h"
#include "gtest/gtest.h"
#include "tests/testing/temp_dir.h"

namespace dogsearch::model {
namespace {

constexpr uint32_t kSide = 32;

ModelSpec Member(const std::string& arch, uint32_t dim) {
  ModelSpec s;
  s.architecture = arch;
  s.input.width = kSide;
  s.input.height = kSide;
  s.embedding_dim = dim;
  if (arch == kDogFaceNetResNet) {
    s.stage_widths = {8, 16};
    s.input.mean = kImageNetMean;
    s.input.std = kImageNetStd;
  } else {
    s.input.mean = {0.5f, 0.5f, 0.5f};
    s.input.std = {0.5f, 0.5f, 0.5f};
  }
  return s;
}

ModelSpec Ensemble() {
  ModelSpec s;
  s.architecture = kEnsemble;
  s.input.width = kSide;
  s.input.height = kSide;
  s.embedding_dim = 12;
  s.members = {Member(kDogFaceNetResNet, 10), Member(kDogFaceNetResNet, 6)};
  s.members[1].stage_widths = {4, 8, 8};
  s.members[1].input.mean = {0.5f, 0.5f, 0.5f};
  s.members[1].input.std = {0.5f, 0.5f, 0.5f};
  s.member_weights = {0.75f, 0.25f};
  s.flip_average = true;
  return s;
}

// [0, 1] pixels normalised as a member with ImageNet's mean and std expects them.
torch::Tensor ImageNetNormalised(const torch::Tensor& pixels) {
  const torch::Tensor mean =
      torch::tensor(std::vector<float>(kImageNetMean.begin(), kImageNetMean.end()));
  const torch::Tensor sd =
      torch::tensor(std::vector<float>(kImageNetStd.begin(), kImageNetStd.end()));
  return (pixels - mean.view({1, 3, 1, 1})) / sd.view({1, 3, 1, 1});
}

std::shared_ptr<EnsembleNet> Build(const ModelSpec& spec) {
  auto net = BuildEmbeddingNet(spec);
  EXPECT_TRUE(net.ok()) << net.status();
  auto e = std::dynamic_pointer_cast<EnsembleNet>(*net);
  EXPECT_NE(e, nullptr);
  e->eval();
  return e;
}

void ExpectInvalid(const ModelSpec& s, absl::string_view words) {
  absl::Status st = ValidateModelSpec(s);
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument) << st;
  EXPECT_TRUE(absl::StrContains(st.message(), words)) << st << " should say " << words;
  EXPECT_FALSE(BuildEmbeddingNet(s).ok());
}

TEST(EnsembleSpecTest, BadEnsemblesAreRefusedNamingTheProblem) {
  EXPECT_TRUE(ValidateModelSpec(Ensemble()).ok()) << ValidateModelSpec(Ensemble());
  ModelSpec s = Ensemble();
  s.members.resize(1);
  s.member_weights.resize(1);
  ExpectInvalid(s, "2..4 members");
  s = Ensemble();
  s.member_weights = {0.5f};
  ExpectInvalid(s, "member_weights");
  s = Ensemble();
  s.member_weights[1] = 0;
  ExpectInvalid(s, "member_weights[1]");
  s = Ensemble();
  s.members[1].input.width = 48;
  ExpectInvalid(s, "ensemble member 1: input 48x32 is larger than the ensemble's 32x32");
  s = Ensemble();
  s.members[1].input.width = s.members[1].input.height = 24;  // Smaller: it sees the photo shrunk.
  EXPECT_TRUE(ValidateModelSpec(s).ok()) << ValidateModelSpec(s);
  s = Ensemble();
  s.members[0].flip_average = true;
  ExpectInvalid(s, "ensemble member 0: flip_average");
  s = Ensemble();
  s.test_time_zoom = 0.7f;  // The ensemble's own choice is fine.
  EXPECT_TRUE(ValidateModelSpec(s).ok()) << ValidateModelSpec(s);
  s.members[1].flip_average = true;
  s.members[1].test_time_zoom = 0.7f;
  ExpectInvalid(s, "ensemble member 1: flip_average, test_time_zoom and test_time_four_views");
  s = Ensemble();
  s.members[0].flip_average = true;  // Valid views for a network of its own,
  s.members[0].test_time_zoom = 0.7f;
  s.members[0].test_time_four_views = true;  // but not for a member.
  ExpectInvalid(s, "ensemble member 0: flip_average, test_time_zoom and test_time_four_views");
  s = Ensemble();
  s.members[1].serving_precision = ServingPrecision::kBFloat16;
  ExpectInvalid(s, "ensemble member 1: serving_precision");
  s = Ensemble();
  s.members[0] = Ensemble();
  ExpectInvalid(s, "cannot be a member");
  s = Ensemble();
  s.members[1].embedding_dim = 1;
  ExpectInvalid(s, "ensemble member 1: embedding_dim 1");
  s = Ensemble();
  s.dropout = 0.2f;
  ExpectInvalid(s, "its members do");
  s = Member(kDogFaceNetResNet, 8);
  s.members = {Member(kDogFaceNetResNet, 8)};
  ExpectInvalid(s, "only defined for ensemble");
}

TEST(EnsembleSpecTest, ManifestRoundTripsTheMembersAndWeights) {
  CheckpointManifest m;
  m.version = "ens";
  m.model = Ensemble();
  m.model.serving_precision = ServingPrecision::kBFloat16;
  m.weights_sha256 = std::string(64, 'a');
  m.weights_bytes = 1;
  const std::string json = ManifestToJson(m);
  EXPECT_TRUE(absl::StrContains(json, "SERVING_PRECISION_BFLOAT16")) << json;
  absl::StatusOr<CheckpointManifest> back = ManifestFromJson(json);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_TRUE(back->model == m.model);
  EXPECT_EQ(back->model.serving_precision, ServingPrecision::kBFloat16);
  // A float32 manifest (every one written before the field existed) says nothing of it.
  m.model.serving_precision = ServingPrecision::kFloat32;
  EXPECT_FALSE(absl::StrContains(ManifestToJson(m), "serving_precision"));
  back = ManifestFromJson(ManifestToJson(m));
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->model.serving_precision, ServingPrecision::kFloat32);
  EXPECT_EQ(back->model.members[0].stage_widths, (std::vector<uint32_t>{8, 16}));
  EXPECT_FLOAT_EQ(back->model.member_weights[1], 0.25f);
}

TEST(EnsembleNetTest, ConcatenatesTheMembersOnTheirOwnInputsWeightedBySqrtShare) {
  auto e = Build(Ensemble());
  ASSERT_EQ(e->member_count(), 2u);
  EXPECT_EQ(e->ConcatenatedDim(), 16);
  torch::NoGradGuard no_grad;
  const torch::Tensor pixels = torch::rand({3, 3, kSide, kSide});  // The ensemble's input: [0, 1].
  const torch::Tensor c = e->Concatenated(pixels);
  ASSERT_EQ(c.size(1), 16);
  const torch::Tensor e0 = e->member(0).forward(ImageNetNormalised(pixels));
  const torch::Tensor e1 = e->member(1).forward((pixels - 0.5) / 0.5);
  EXPECT_TRUE(torch::allclose(c.narrow(1, 0, 10), e0 * std::sqrt(0.75), 1e-4, 1e-5));
  EXPECT_TRUE(torch::allclose(c.narrow(1, 10, 6), e1 * std::sqrt(0.25), 1e-4, 1e-5));
  EXPECT_TRUE(torch::allclose(c.norm(2, 1), torch::ones({3}), 1e-5, 1e-5));  // Unit rows.
}

TEST(EnsembleNetTest, ASmallerMemberSeesThePhotoShrunkWithAntialiasing) {
  ModelSpec spec = Ensemble();
  spec.members[1].input.width = spec.members[1].input.height = 24;  // 0.75x, like 96 in 128.
  auto e = Build(spec);
  torch::NoGradGuard no_grad;
  const torch::Tensor pixels = torch::rand({2, 3, kSide, kSide});
  const torch::Tensor c = e->Concatenated(pixels);
  namespace F = torch::nn::functional;
  auto shrink = [&](bool antialias) {
    return F::interpolate(pixels, F::InterpolateFuncOptions()
                                      .size(std::vector<int64_t>{24, 24})
                                      .mode(torch::kBilinear)
                                      .align_corners(false)
                                      .antialias(antialias));
  };
  const torch::Tensor e1 = e->member(1).forward((shrink(true) - 0.5) / 0.5);
  EXPECT_TRUE(torch::allclose(c.narrow(1, 10, 6), e1 * std::sqrt(0.25), 1e-4, 1e-5));
  // Not the plain resampling, which skips pixels at this scale (aliasing).
  const torch::Tensor plain = e->member(1).forward((shrink(false) - 0.5) / 0.5);
  EXPECT_GT((plain * std::sqrt(0.25) - c.narrow(1, 10, 6)).abs().max().item<float>(), 1e-3f);
  // The full-size member is untouched by its neighbour's size.
  const torch::Tensor e0 = e->member(0).forward(ImageNetNormalised(pixels));
  EXPECT_TRUE(torch::allclose(c.narrow(1, 0, 10), e0 * std::sqrt(0.75), 1e-4, 1e-5));
}

TEST(EnsembleNetTest, ProjectsTheCentredConcatenationAndNormalises) {
  auto e = Build(Ensemble());
  torch::NoGradGuard no_grad;
  const torch::Tensor axes = torch::randn({12, 16});
  const torch::Tensor center = torch::randn({16}) * 0.1;
  ASSERT_TRUE(e->SetProjection(axes, center).ok());
  const torch::Tensor x = torch::rand({4, 3, kSide, kSide});
  const torch::Tensor want = L2Normalize(torch::mm(e->Concatenated(x) - center, axes.t()));
  const torch::Tensor got = e->forward(x);
  EXPECT_TRUE(torch::allclose(got, want, 1e-4, 1e-5)) << got - want;
  EXPECT_EQ(e->SetProjection(torch::randn({12, 15}), center).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(e->SetProjection(axes, torch::full({16}, NAN)).code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(EnsembleNetTest, CheckpointRoundTripGivesIdenticalEmbeddings) {
  testing::TempDir root;
  auto e = Build(Ensemble());
  ASSERT_TRUE(e->SetProjection(torch::randn({12, 16}), torch::randn({16})).ok());
  CheckpointManifest m;
  m.version = "ens";
  m.model = e->spec();
  ASSERT_TRUE(PublishCheckpoint(root.path(), m, *e).ok());
  auto loaded = LoadCheckpoint(root.File("ens"));
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_TRUE(loaded->manifest.model == e->spec());
  torch::NoGradGuard no_grad;
  const torch::Tensor x = torch::rand({2, 3, kSide, kSide});
  EXPECT_TRUE(torch::equal(e->forward(x), loaded->net->forward(x)));
  loaded->net->PrepareForServing();
  EXPECT_TRUE(torch::allclose(e->forward(x), loaded->net->forward(x), 1e-4, 1e-5));
}

}  // namespace
}  // namespace dogsearch::model
