// The networks: shapes, unit-norm outputs, input-size independence, determinism in eval mode.
#include "absl/strings/match.h"
#include "common/torch_model/embedding_net.h"
#include "gtest/gtest.h"

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
