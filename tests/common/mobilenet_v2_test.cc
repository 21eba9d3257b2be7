// MobileNetV2 laid out as Keras builds it: the published parameter counts, Keras' layer names,
// unit-norm outputs at even and odd input sizes. That it computes what Keras computes (the
// asymmetric stride-2 padding, epsilon, ReLU6) is checked against TensorFlow.js itself by
// pretrained_import_test (tools/pretrained).
#include "common/torch_model/mobilenet_v2.h"

#include <set>
#include <string>

#include "common/torch_model/embedding_net.h"
#include "gtest/gtest.h"
#include "tests/common/batch_norm_testing.h"

namespace dogsearch::model {
namespace {

ModelSpec Spec(uint32_t side) {
  ModelSpec s;
  s.architecture = kMobileNetV2;
  s.input.width = s.input.height = side;
  s.input.mean = s.input.std = {0.5f, 0.5f, 0.5f};
  s.embedding_dim = 128;
  return s;
}

TEST(MobileNetV2Test, TrunkHasKerasParameterCountsAndNames) {
  auto net = BuildEmbeddingNet(Spec(96));
  ASSERT_TRUE(net.ok()) << net.status();
  int64_t trunk = 0, stats = 0, head = 0;
  std::set<std::string> names;
  for (const auto& p : (*net)->named_parameters()) {
    names.insert(p.key());
    (p.key().rfind("dense.", 0) == 0 ? head : trunk) += p.value().numel();
  }
  for (const auto& b : (*net)->named_buffers()) {
    if (b.key().find("num_batches_tracked") == std::string::npos) stats += b.value().numel();
  }
  // Keras' MobileNetV2(alpha=1.0, include_top=False): 2,223,872 trainable parameters and
  // 34,112 non-trainable (batch-norm moving mean and variance).
  EXPECT_EQ(trunk, 2'223'872);
  EXPECT_EQ(stats, 34'112);
  EXPECT_EQ(head, 1280 * 128 + 128);
  for (const char* keras : {"Conv1.weight", "bn_Conv1.weight", "expanded_conv_depthwise.weight",
                            "expanded_conv_project_BN.bias", "block_1_expand.weight",
                            "block_16_project_BN.weight", "Conv_1.weight", "Conv_1_bn.bias"}) {
    EXPECT_TRUE(names.count(keras)) << keras;
  }
  EXPECT_FALSE(names.count("expanded_conv_expand.weight"));  // The first block has no expansion.
}

TEST(MobileNetV2Test, OutputsUnitRowsAtEvenAndOddSides) {
  for (uint32_t side : {96u, 97u}) {
    auto built = BuildEmbeddingNet(Spec(side));
    ASSERT_TRUE(built.ok()) << built.status();
    auto net = std::dynamic_pointer_cast<MobileNetV2Net>(*built);
    ASSERT_NE(net, nullptr);
    net->eval();
    torch::NoGradGuard no_grad;
    torch::Tensor x = torch::randn({2, 3, side, side});
    torch::Tensor out = net->forward(x);
    ASSERT_EQ(out.sizes(), (std::vector<int64_t>{2, 128}));
    EXPECT_TRUE(torch::allclose(out.norm(2, 1), torch::ones({2}), 1e-5, 1e-5));
    EXPECT_EQ(net->Features(x).sizes(), (std::vector<int64_t>{2, 1280}));
  }
}

// Serving folds each batch norm into its convolution and runs oneDNN kernels in channels-last
// layout: the vectors must be the trained network's, for a lone photo, an odd batch and a batch
// past oneDNN's 16-image rule, at even and odd sides, with batch norms that are not identities.
TEST(MobileNetV2Test, PreparedForServingComputesWhatTheTrainedNetworkComputes) {
  for (uint32_t side : {96u, 97u}) {
    torch::manual_seed(side);
    auto built = BuildEmbeddingNet(Spec(side));
    ASSERT_TRUE(built.ok()) << built.status();
    auto net = std::dynamic_pointer_cast<MobileNetV2Net>(*built);
    ASSERT_NE(net, nullptr);
    RandomiseBatchNorms(*net);
    net->eval();
    torch::NoGradGuard no_grad;
    const torch::Tensor x = torch::rand({20, 3, side, side}) * 2 - 1;
    const torch::Tensor want = net->forward(x), want_features = net->Features(x.slice(0, 0, 3));
    net->PrepareForServing();
    for (int64_t n : {1, 3, 20}) {
      const torch::Tensor got = net->forward(x.slice(0, 0, n));
      EXPECT_LT((got - want.slice(0, 0, n)).abs().max().item<float>(), 1e-4)
          << "side " << side << ", batch " << n;
      EXPECT_TRUE(got.is_contiguous());
    }
    const torch::Tensor features = net->Features(x.slice(0, 0, 3));
    EXPECT_LT(((features - want_features).abs().max() / want_features.abs().max()).item<float>(),
              1e-4)
        << "side " << side;
    // The folded path is really taken: the batch norms no longer run.
    EXPECT_FALSE(torch::equal(want_features, features)) << "side " << side;
  }
}

TEST(MobileNetV2Test, TooSmallInputIsRefused) {
  auto net = BuildEmbeddingNet(Spec(24));
  ASSERT_FALSE(net.ok());
  EXPECT_NE(net.status().message().find("at least 32x32"), std::string::npos);
}

}  // namespace
}  // namespace dogsearch::model
