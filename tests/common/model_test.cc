// The networks: shapes, unit-norm outputs, input-size independence, determinism in eval mode.
#include "absl/strings/match.h"
#include "common/torch_model/conv_bn_fold.h"
#include "common/torch_model/embedding_net.h"
#include "gtest/gtest.h"
#include "tests/common/batch_norm_testing.h"

namespace dogsearch::model {
namespace {

ModelSpec Spec(const std::string& arch, uint32_t side, uint32_t dim) {
  ModelSpec s;
  s.architecture = arch;
  s.input.width = side;
  s.input.height = side;
  s.embedding_dim = dim;
  return s;
}

void ExpectUnitRows(const torch::Tensor& out, int64_t n, int64_t dim) {
  ASSERT_EQ(out.dim(), 2);
  EXPECT_EQ(out.size(0), n);
  EXPECT_EQ(out.size(1), dim);
  EXPECT_TRUE(torch::isfinite(out).all().item<bool>());
  torch::Tensor norms = out.norm(2, 1);
  EXPECT_TRUE(torch::allclose(norms, torch::ones_like(norms), 1e-5, 1e-5)) << norms;
}

TEST(EmbeddingNetTest, SeedNetworkAt224HasTheSeedDenseLayerSize) {
  auto net = BuildEmbeddingNet(Spec(kSeedInception, 224, 128));
  ASSERT_TRUE(net.ok()) << net.status();
  // The seed's dense layer takes 480 channels x 12 x 12 = 69,120 inputs at 224x224.
  bool found = false;
  for (const auto& p : (*net)->named_parameters()) {
    if (p.key() == "dense.weight") {
      EXPECT_EQ(p.value().sizes(), (std::vector<int64_t>{128, 69120}));
      found = true;
    }
  }
  EXPECT_TRUE(found);
  (*net)->eval();
  torch::NoGradGuard no_grad;
  ExpectUnitRows((*net)->forward(torch::rand({2, 3, 224, 224})), 2, 128);
}

TEST(EmbeddingNetTest, SeedNetworkRunsAtOtherInputSizesAndDimensions) {
  for (uint32_t side : {64u, 112u}) {
    auto net = BuildEmbeddingNet(Spec(kSeedInception, side, 64));
    ASSERT_TRUE(net.ok()) << net.status();
    (*net)->eval();
    torch::NoGradGuard no_grad;
    ExpectUnitRows((*net)->forward(torch::rand({3, 3, side, side})), 3, 64);
  }
}

TEST(EmbeddingNetTest, ResNetRunsWithDefaultAndCustomWidths) {
  ModelSpec s = Spec(kDogFaceNetResNet, 96, 128);
  auto net = BuildEmbeddingNet(s);
  ASSERT_TRUE(net.ok());
  (*net)->eval();
  torch::NoGradGuard no_grad;
  ExpectUnitRows((*net)->forward(torch::rand({2, 3, 96, 96})), 2, 128);
  s.stage_widths = {8, 16, 32};
  s.embedding_dim = 32;
  auto small = BuildEmbeddingNet(s);
  ASSERT_TRUE(small.ok());
  EXPECT_LT(CountParameters(**small), CountParameters(**net));
  (*small)->eval();
  ExpectUnitRows((*small)->forward(torch::rand({1, 3, 96, 96})), 1, 32);
}

TEST(EmbeddingNetTest, ResNetHasTheDocumentedStages) {
  auto net = BuildEmbeddingNet(Spec(kDogFaceNetResNet, 224, 128));
  ASSERT_TRUE(net.ok());
  std::vector<int64_t> widths;
  for (const auto& p : (*net)->named_parameters()) {
    if (absl::EndsWith(p.key(), ".conv2.weight")) widths.push_back(p.value().size(0));
  }
  EXPECT_EQ(widths, (std::vector<int64_t>{16, 32, 64, 128, 512}));
}

TEST(EmbeddingNetTest, EvalModeIsDeterministicAndTrainModeTrains) {
  ModelSpec s = Spec(kDogFaceNetResNet, 64, 16);
  s.dropout = 0.5f;
  auto net = BuildEmbeddingNet(s);
  ASSERT_TRUE(net.ok());
  torch::Tensor x = torch::rand({4, 3, 64, 64});
  (*net)->eval();
  {
    torch::NoGradGuard no_grad;
    EXPECT_TRUE(torch::equal((*net)->forward(x), (*net)->forward(x)));
  }
  (*net)->train();
  torch::Tensor out = (*net)->forward(x);
  out.sum().backward();
  bool any_grad = false;
  for (const auto& p : (*net)->parameters()) {
    any_grad |= p.grad().defined() && p.grad().abs().sum().item<float>() > 0;
  }
  EXPECT_TRUE(any_grad);
}

// Serving folds each batch norm into its convolution and runs oneDNN kernels in channels-last
// layout: the vectors must be the trained network's for a lone photo, an odd batch and a batch
// past oneDNN's 16-image rule, at even and odd sides, through identity and projection skips.
TEST(EmbeddingNetTest, PreparedForServingComputesWhatTheTrainedNetworkComputes) {
  for (const std::string arch : {kDogFaceNetResNet, kSeedInception}) {
    for (uint32_t side : {96u, 97u}) {
      SCOPED_TRACE(arch + " at " + std::to_string(side));
      torch::manual_seed(side);
      ModelSpec s = Spec(arch, side, 32);
      s.blocks_per_stage = 2;
      s.embedding_batchnorm = arch == kDogFaceNetResNet;
      auto net = BuildEmbeddingNet(s);
      ASSERT_TRUE(net.ok()) << net.status();
      RandomiseBatchNorms(**net);
      (*net)->eval();
      torch::NoGradGuard no_grad;
      const torch::Tensor x = torch::rand({20, 3, side, side});
      const torch::Tensor want = (*net)->forward(x);
      (*net)->PrepareForServing();
      for (int64_t n : {1, 3, 20}) {
        const torch::Tensor got = (*net)->forward(x.slice(0, 0, n));
        EXPECT_LT((got - want.slice(0, 0, n)).abs().max().item<float>(), 1e-4) << "batch " << n;
        EXPECT_TRUE(got.is_contiguous());
      }
      // The folded path is really taken: the batch norms' statistics no longer matter.
      ShiftBatchNormMeans(**net);
      EXPECT_LT(((*net)->forward(x) - want).abs().max().item<float>(), 1e-4);
    }
  }
}

// One folded convolution against the convolution and batch norm it replaces: with a bias, in
// groups, strided and padded; what cannot be folded is refused.
TEST(ConvBnFoldTest, FoldedConvolutionComputesTheConvolutionThenTheBatchNorm) {
  torch::manual_seed(3);
  torch::nn::Conv2d conv(torch::nn::Conv2dOptions(4, 6, 3).stride(2).padding(1).groups(2));
  torch::nn::BatchNorm2d bn(torch::nn::BatchNormOptions(6).eps(1e-3));
  torch::nn::Sequential seq(conv, bn);
  RandomiseBatchNorms(*seq);
  seq->eval();
  torch::NoGradGuard no_grad;
  const torch::Tensor x = torch::randn({3, 4, 11, 10});
  const torch::Tensor want = seq->forward(x);
  const FoldedConvBn folded = FoldConvBn(*conv, *bn);
  ASSERT_TRUE(folded.folded());
  for (const torch::Tensor& in : {x, x.contiguous(at::MemoryFormat::ChannelsLast)}) {
    const torch::Tensor got = RunFolded(folded, in);
    ASSERT_EQ(got.sizes(), want.sizes());
    EXPECT_LT((got - want).abs().max().item<float>(), 1e-5);
  }
  torch::nn::Conv2d dilated(torch::nn::Conv2dOptions(4, 6, 3).dilation(2));
  EXPECT_THROW(FoldConvBn(*dilated, *bn), c10::Error);
  torch::nn::Conv2d same(torch::nn::Conv2dOptions(4, 6, 3).padding(torch::kSame));
  EXPECT_THROW(FoldConvBn(*same, *bn), c10::Error);
}

TEST(EmbeddingNetTest, InvalidSpecsAreRefusedBeforeBuilding) {
  EXPECT_EQ(BuildEmbeddingNet(Spec("alexnet", 224, 128)).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(BuildEmbeddingNet(Spec(kSeedInception, 32, 128)).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(BuildEmbeddingNet(Spec(kDogFaceNetResNet, 96, 0)).status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace dogsearch::model
