// Assembling an ensemble from trained networks: the members' weights arrive unchanged, the
// projection is the centred principal axes of the training photos' concatenations (as served,
// flip-averaged), the share of variance it keeps is reported, and bad requests are refused.
#include "services/trainer/core/ensemble_fit.h"

#include <cmath>

#include "absl/strings/match.h"
#include "common/image/image_decoder.h"
#include "gtest/gtest.h"
#include "services/trainer/core/dataset.h"
#include "tests/testing/temp_dir.h"
#include "tests/trainer/synthetic_dogs.h"

namespace dogsearch::trainer {
namespace {

// [0, 1] pixels normalised as a member with ImageNet's mean and std expects them.
torch::Tensor ImageNetNormalised(const torch::Tensor& pixels) {
  const auto& m = model::kImageNetMean;
  const auto& s = model::kImageNetStd;
  return (pixels - torch::tensor({m[0], m[1], m[2]}).view({1, 3, 1, 1})) /
         torch::tensor({s[0], s[1], s[2]}).view({1, 3, 1, 1});
}

class EnsembleFitTest : public ::testing::Test {
 protected:
  void SetUp() override {
    testing::WriteSyntheticDogs(data_.path(), 12, 4, 32, 3);
    torch::manual_seed(7);
    model::ModelSpec a = testing::TinySpec();  // 16-d, ImageNet-style mean/std below.
    a.input.mean = model::kImageNetMean;
    a.input.std = model::kImageNetStd;
    model::ModelSpec b = testing::TinySpec();
    b.stage_widths = {4, 8, 8};
    b.embedding_dim = 8;
    b.flip_average = true;  // A member's own flip choice is dropped: the ensemble's applies.
    for (const model::ModelSpec& s : {a, b}) {
      std::shared_ptr<model::EmbeddingNet> net = *model::BuildEmbeddingNet(s);
      net->eval();
      members_.push_back({net, s.embedding_dim == 16 ? 0.6f : 0.4f});
    }
    spec_ = *EnsembleSpecFor(members_, 12, true);
    cache_ =
        std::make_unique<PhotoCache>(*PhotoCache::Load(*ScanDataset(data_.path()), spec_.input, 2));
  }

  testing::TempDir data_;
  std::vector<EnsembleMember> members_;
  model::ModelSpec spec_;
  std::unique_ptr<PhotoCache> cache_;
};

TEST_F(EnsembleFitTest, SpecTakesTheMembersWithoutTheirFlipAtTheirInputSize) {
  EXPECT_EQ(spec_.architecture, model::kEnsemble);
  EXPECT_EQ(spec_.input.width, 32u);
  EXPECT_EQ(spec_.input.mean, (std::array<float, 3>{0, 0, 0}));
  ASSERT_EQ(spec_.members.size(), 2u);
  EXPECT_FALSE(spec_.members[1].flip_average);
  EXPECT_TRUE(spec_.flip_average);
  EXPECT_EQ(spec_.members[0].input.mean, model::kImageNetMean);
  EXPECT_EQ(spec_.member_weights, (std::vector<float>{0.6f, 0.4f}));
}

TEST_F(EnsembleFitTest, ProjectionIsTheCentredPrincipalAxesOfTheServedConcatenations) {
  absl::StatusOr<FittedEnsemble> fit = FitEnsemble(members_, 12, true, *cache_, {});
  ASSERT_TRUE(fit.ok()) << fit.status();
  EXPECT_EQ(fit->photos, cache_->size());
  EXPECT_GT(fit->variance_kept, 0.5);
  EXPECT_LT(fit->variance_kept, 1.0);
  EXPECT_FALSE(fit->net->is_training());
  torch::NoGradGuard no_grad;
  // The members' weights arrived unchanged.
  const torch::Tensor pixels = torch::rand({3, 3, 32, 32});  // The ensemble's input: [0, 1].
  const torch::Tensor got = fit->net->member(0).forward(ImageNetNormalised(pixels));
  const torch::Tensor want = members_[0].net->forward(ImageNetNormalised(pixels));
  EXPECT_TRUE(torch::allclose(got, want, 1e-5, 1e-6)) << (got - want).abs().max();
  // Orthonormal axes; the bias centres the mean flip-averaged concatenation of the photos.
  torch::Tensor w, bias;
  for (const auto& p : fit->net->named_parameters()) {
    if (p.key() == "projection.weight") w = p.value();
    if (p.key() == "projection.bias") bias = p.value();
  }
  ASSERT_TRUE(w.defined() && bias.defined());
  EXPECT_TRUE(torch::allclose(torch::mm(w, w.t()), torch::eye(12), 1e-4, 1e-4));
  EmbedOptions eo;
  eo.flip_average = true;
  std::vector<torch::Tensor> rows;
  for (size_t i = 0; i < cache_->size(); ++i) {
    std::vector<float> px(3 * 32 * 32);
    image::WriteInputCHW(cache_->image(i), spec_.input, px.data());
    torch::Tensor x = torch::from_blob(px.data(), {1, 3, 32, 32}).clone();
    rows.push_back(torch::nn::functional::normalize(
        fit->net->Concatenated(x) + fit->net->Concatenated(x.flip({3})),
        torch::nn::functional::NormalizeFuncOptions().dim(1)));
  }
  const torch::Tensor center = torch::cat(rows).mean(0);
  EXPECT_TRUE(torch::allclose(bias, -torch::mv(w, center), 1e-4, 1e-5));
  // All axes kept: all the variance.
  absl::StatusOr<FittedEnsemble> full = FitEnsemble(members_, 24, true, *cache_, {});
  ASSERT_TRUE(full.ok()) << full.status();
  EXPECT_NEAR(full->variance_kept, 1.0, 1e-9);
}

TEST_F(EnsembleFitTest, MembersOfDifferentSizesMeetAtTheLargestWhereTheSmallerSeesItShrunk) {
  model::ModelSpec big = testing::TinySpec();
  big.input.width = big.input.height = 48;
  big.input.mean = {0.5f, 0.5f, 0.5f};
  big.input.std = {0.5f, 0.5f, 0.5f};
  std::shared_ptr<model::EmbeddingNet> big_net = *model::BuildEmbeddingNet(big);
  big_net->eval();
  const std::vector<EnsembleMember> mixed = {members_[0], {big_net, 0.5f}};
  const absl::StatusOr<model::ModelSpec> spec = EnsembleSpecFor(mixed, 12, true);
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_EQ(spec->input.width, 48u);
  EXPECT_EQ(spec->input.height, 48u);
  EXPECT_EQ(spec->members[0].input.width, 32u);  // Each member keeps its own size.
  const PhotoCache photos = *PhotoCache::Load(*ScanDataset(data_.path()), spec->input, 2);
  absl::StatusOr<FittedEnsemble> fit = FitEnsemble(mixed, 12, true, photos, {});
  ASSERT_TRUE(fit.ok()) << fit.status();
  // The 32-px member's part of a 48-px photo's concatenation is its embedding of the photo as
  // the decoder gives it at 32 px, up to the difference between the two ways of shrinking.
  torch::NoGradGuard no_grad;
  double worst = 1;
  for (size_t i = 0; i < 6; ++i) {
    std::vector<float> px48(3 * 48 * 48), px32(3 * 32 * 32);
    image::WriteInputCHW(photos.image(i), spec->input, px48.data());
    image::WriteInputCHW(cache_->image(i), spec_.input, px32.data());
    const torch::Tensor x48 = torch::from_blob(px48.data(), {1, 3, 48, 48});
    const torch::Tensor part = fit->net->Concatenated(x48).narrow(1, 0, 16) / std::sqrt(0.6 / 1.1);
    const torch::Tensor own =
        members_[0].net->forward(ImageNetNormalised(torch::from_blob(px32.data(), {1, 3, 32, 32})));
    worst = std::min(worst, (part * own).sum().item<double>());
  }
  EXPECT_GT(worst, 0.995) << "cosine of the shrunk photo's embedding to the decoded one's";
}

TEST_F(EnsembleFitTest, BadRequestsAreRefusedNamingTheProblem) {
  absl::StatusOr<FittedEnsemble> r = FitEnsemble(members_, 25, true, *cache_, {});
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StrContains(r.status().message(), "above the members' joint 24")) << r.status();
  r = FitEnsemble({members_[0]}, 12, true, *cache_, {});
  EXPECT_TRUE(absl::StrContains(r.status().message(), "2..4 members")) << r.status();
  model::ModelSpec big = testing::TinySpec();
  big.input.width = big.input.height = 48;
  std::vector<EnsembleMember> mixed = {members_[0], {*model::BuildEmbeddingNet(big), 0.5f}};
  r = FitEnsemble(mixed, 12, true, *cache_, {});  // A 48-px ensemble, 32-px photos.
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StrContains(r.status().message(),
                                "training photos are 32x32, the ensemble's input is 48x48"))
      << r.status();
  Dataset few = *ScanDataset(data_.path());
  few.identities.resize(2);
  const PhotoCache small = *PhotoCache::Load(few, spec_.input, 1);
  r = FitEnsemble(members_, 12, true, small, {});
  EXPECT_TRUE(absl::StrContains(r.status().message(), "at least 24 training photos")) << r.status();
}

}  // namespace
}  // namespace dogsearch::trainer
