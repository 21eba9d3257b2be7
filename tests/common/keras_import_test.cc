// Keras tensors into LibTorch's layout: which element goes where for a convolution, a depthwise
// convolution and a batch norm; a missing or misshapen tensor is refused naming it.
#include "tools/pretrained/keras_import.h"

#include <filesystem>
#include <fstream>

#include "common/torch_model/embedding_net.h"
#include "gtest/gtest.h"

namespace dogsearch::pretrained {
namespace {

// A small module named like Keras layers.
struct Tiny : torch::nn::Module {
  Tiny() {
    conv = register_module("block_1_expand", torch::nn::Conv2d(torch::nn::Conv2dOptions(2, 3, 3)));
    dw = register_module("block_1_depthwise",
                         torch::nn::Conv2d(torch::nn::Conv2dOptions(3, 3, 3).groups(3)));
    bn = register_module("block_1_expand_BN", torch::nn::BatchNorm2d(3));
    dense = register_module("dense", torch::nn::Linear(3, 2));
  }
  torch::nn::Conv2d conv{nullptr}, dw{nullptr};
  torch::nn::BatchNorm2d bn{nullptr};
  torch::nn::Linear dense{nullptr};
};

// Values = their own flat index, so each element's destination can be computed.
KerasTensor Iota(std::vector<int64_t> shape) {
  KerasTensor t{shape, {}};
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  for (int64_t i = 0; i < n; ++i) t.values.push_back(static_cast<float>(i));
  return t;
}

KerasTensors TinyKeras() {
  KerasTensors k;
  k["block_1_expand/kernel"] = Iota({3, 3, 2, 3});  // kh, kw, in, out
  k["block_1_depthwise/depthwise_kernel"] = Iota({3, 3, 3, 1});
  k["block_1_expand_BN/gamma"] = Iota({3});
  k["block_1_expand_BN/beta"] = Iota({3});
  k["block_1_expand_BN/moving_mean"] = Iota({3});
  k["block_1_expand_BN/moving_variance"] = Iota({3});
  k["dense_3/kernel"] = Iota({4, 5});  // The source's classifier.
  return k;
}

TEST(KerasImportTest, PutsEveryElementWhereLibTorchExpectsIt) {
  Tiny net;
  auto r = ImportKeras(TinyKeras(), net);
  ASSERT_TRUE(r.ok()) << r.status();
  // Keras kernel [kh=1, kw=2, in=1, out=2] (flat index ((1*3+2)*2+1)*3+2 = 35) is LibTorch's
  // weight [out=2, in=1, kh=1, kw=2].
  EXPECT_EQ(net.conv->weight[2][1][1][2].item<float>(), 35.f);
  // Depthwise [kh=2, kw=0, channel=1, 0] (flat ((2*3+0)*3+1) = 19) is weight [1, 0, 2, 0].
  EXPECT_EQ(net.dw->weight[1][0][2][0].item<float>(), 19.f);
  EXPECT_EQ(net.bn->running_var[2].item<float>(), 2.f);
  EXPECT_EQ(net.bn->weight[1].item<float>(), 1.f);
  // Only tensors without a Keras name were kept: the convolutions' biases and the dense layer.
  EXPECT_EQ(r->imported, 6);
  EXPECT_EQ(r->kept, (std::vector<std::string>{"block_1_expand.bias", "block_1_depthwise.bias",
                                               "dense.weight", "dense.bias"}));
  EXPECT_EQ(r->unused, (std::vector<std::string>{"dense_3/kernel"}));
}

TEST(KerasImportTest, MissingOrMisshapenTensorIsRefusedByName) {
  Tiny net;
  KerasTensors k = TinyKeras();
  k.erase("block_1_expand_BN/moving_mean");
  auto missing = ImportKeras(k, net);
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("block_1_expand_BN/moving_mean"), std::string::npos);
  k = TinyKeras();
  k["block_1_expand/kernel"] = Iota({3, 3, 3, 2});  // in and out swapped
  auto shape = ImportKeras(k, net);
  ASSERT_FALSE(shape.ok());
  EXPECT_NE(shape.status().message().find("block_1_expand/kernel"), std::string::npos);
}

TEST(KerasImportTest, ReadsTheConvertersFilesAndRefusesOutOfRangeIndex) {
  const std::string dir = testing::TempDir() + "/keras_import_test";
  std::filesystem::create_directories(dir);
  {
    std::ofstream(dir + "/keras_weights.txt") << "a/gamma 0 2\nb/kernel 2 1 1 1 2\n";
    const float v[] = {1, 2, 3, 4};
    std::ofstream(dir + "/keras_weights.bin", std::ios::binary)
        .write(reinterpret_cast<const char*>(v), sizeof(v));
  }
  auto t = ReadKerasTensors(dir);
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->at("b/kernel").shape, (std::vector<int64_t>{1, 1, 1, 2}));
  EXPECT_EQ(t->at("b/kernel").values, (std::vector<float>{3, 4}));
  std::ofstream(dir + "/keras_weights.txt") << "a/gamma 3 2\n";  // Past the end of the values.
  auto bad = ReadKerasTensors(dir);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("line 1"), std::string::npos);
}

}  // namespace
}  // namespace dogsearch::pretrained
