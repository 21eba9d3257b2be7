// The weights' moving average: the update rule on parameters and batch-norm statistics (integer
// counters copied), the early-step decay, swapping in and out exactly, saving and loading.
#include "services/trainer/core/weight_average.h"

#include <gtest/gtest.h>

#include "tests/testing/temp_dir.h"

namespace dogsearch::trainer {
namespace {

struct Net : torch::nn::Module {
  Net() {
    fc = register_module("fc", torch::nn::Linear(3, 2));
    bn = register_module("bn", torch::nn::BatchNorm1d(2));
  }
  torch::Tensor forward(const torch::Tensor& x) { return bn(fc(x)); }
  torch::nn::Linear fc{nullptr};
  torch::nn::BatchNorm1d bn{nullptr};
};

TEST(WeightAverageTest, DecayFollowsTheWeightsEarlyAndIsCappedLater) {
  Net net;
  WeightAverage avg(net, 0.999);
  EXPECT_DOUBLE_EQ(avg.DecayAt(0), 0.1);
  EXPECT_DOUBLE_EQ(avg.DecayAt(90), 0.91);
  EXPECT_DOUBLE_EQ(avg.DecayAt(1'000'000), 0.999);
}

TEST(WeightAverageTest, UpdateAveragesWeightsAndStatisticsAndCopiesCounters) {
  torch::manual_seed(1);
  Net net;
  WeightAverage avg(net, 0.5);
  const torch::Tensor w0 = net.fc->weight.detach().clone();
  const torch::Tensor m0 = net.bn->running_mean.clone();
  // One training step's worth of change: new weights, new batch statistics, counter 1.
  {
    torch::NoGradGuard no_grad;
    net.fc->weight.add_(1.0);
  }
  net.train();
  net.forward(torch::randn({8, 3}));
  const torch::Tensor w1 = net.fc->weight.detach().clone();
  const torch::Tensor m1 = net.bn->running_mean.clone();
  avg.Update(net, 1000);  // d = 0.5.
  avg.Swap(net);
  EXPECT_TRUE(torch::allclose(net.fc->weight, 0.5 * w0 + 0.5 * w1));
  EXPECT_TRUE(torch::allclose(net.bn->running_mean, 0.5 * m0 + 0.5 * m1));
  EXPECT_EQ(net.bn->num_batches_tracked.item<int64_t>(), 1);
  // Swapping back restores the live weights bit for bit.
  avg.Swap(net);
  EXPECT_TRUE(torch::equal(net.fc->weight, w1));
  EXPECT_TRUE(torch::equal(net.bn->running_mean, m1));
}

TEST(WeightAverageTest, SavesAndLoadsAndRefusesAnotherNetwork) {
  testing::TempDir dir;
  torch::manual_seed(2);
  Net net;
  WeightAverage avg(net, 0.9);
  const torch::Tensor w0 = net.fc->weight.detach().clone();
  {
    torch::NoGradGuard no_grad;
    net.fc->weight.mul_(3.0);
  }
  avg.Update(net, 1000);
  ASSERT_TRUE(avg.Save(dir.File("avg.pt")).ok());
  WeightAverage other(net, 0.9);  // Starts at the live weights.
  ASSERT_TRUE(other.Load(dir.File("avg.pt")).ok());
  other.Swap(net);
  EXPECT_TRUE(torch::allclose(net.fc->weight, 0.9 * w0 + 0.1 * (3.0 * w0)));

  struct Wider : torch::nn::Module {
    Wider() { fc = register_module("fc", torch::nn::Linear(4, 2)); }
    torch::nn::Linear fc{nullptr};
  } wider;
  WeightAverage mismatched(wider, 0.9);
  EXPECT_EQ(mismatched.Load(dir.File("avg.pt")).code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(mismatched.Load(dir.File("missing.pt")).code(), absl::StatusCode::kDataLoss);
  // Module tensors as a run saves its live weights: same round trip.
  ASSERT_TRUE(SaveTensors(ModuleTensors(net), dir.File("live.pt")).ok());
  Net fresh;
  ASSERT_TRUE(LoadTensorsInto(dir.File("live.pt"), ModuleTensors(fresh)).ok());
  EXPECT_TRUE(torch::equal(fresh.fc->weight, net.fc->weight));
  EXPECT_TRUE(torch::equal(fresh.bn->running_var, net.bn->running_var));
}

}  // namespace
}  // namespace dogsearch::trainer
