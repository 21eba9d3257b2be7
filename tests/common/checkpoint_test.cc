// Checkpoints: atomic publish, verified load, and refusal of corrupted, truncated, replaced and
// mismatched checkpoints.
#include "common/torch_model/checkpoint.h"

#include <filesystem>

#include "absl/strings/match.h"
#include "common/base/file_util.h"
#include "common/base/sha256.h"
#include "gtest/gtest.h"
#include "tests/testing/temp_dir.h"

namespace dogsearch::model {
namespace {

using ::dogsearch::testing::ReadAll;
using ::dogsearch::testing::TempDir;
using ::dogsearch::testing::WriteAll;

class CheckpointTest : public ::testing::Test {
 protected:
  void SetUp() override {
    spec_.architecture = kDogFaceNetResNet;
    spec_.input.width = 64;
    spec_.input.height = 64;
    spec_.embedding_dim = 16;
    spec_.stage_widths = {8, 16};
    net_ = *BuildEmbeddingNet(spec_);
    // Make the batch-norm buffers non-trivial so a lost buffer would show.
    net_->train();
    torch::NoGradGuard no_grad;
    for (int i = 0; i < 3; ++i) net_->forward(torch::rand({4, 3, 64, 64}));
    net_->eval();
  }

  CheckpointManifest Manifest(const std::string& version) {
    CheckpointManifest m;
    m.version = version;
    m.model = spec_;
    m.metrics.verification_accuracy = 0.8;
    return m;
  }

  std::string Publish(const std::string& version) {
    auto m = PublishCheckpoint(root_.path(), Manifest(version), *net_);
    EXPECT_TRUE(m.ok()) << m.status();
    return root_.File(version);
  }

  void ExpectRefused(const std::string& dir, absl::string_view reason) {
    auto loaded = LoadCheckpoint(dir);
    ASSERT_FALSE(loaded.ok()) << "loaded, should refuse: " << reason;
    EXPECT_EQ(loaded.status().code(), absl::StatusCode::kFailedPrecondition) << loaded.status();
    EXPECT_TRUE(absl::StrContains(loaded.status().message(), reason)) << loaded.status();
  }

  // Rewrites the manifest through `edit`, keeping it otherwise valid.
  void EditManifest(const std::string& dir, const std::function<void(CheckpointManifest&)>& edit) {
    CheckpointManifest m = *ReadManifest(dir);
    edit(m);
    ASSERT_TRUE(WriteFileAtomic(dir + "/manifest.json", ManifestToJson(m)).ok());
  }

  TempDir root_;
  ModelSpec spec_;
  std::shared_ptr<EmbeddingNet> net_;
};

TEST_F(CheckpointTest, PublishedCheckpointLoadsAndGivesIdenticalEmbeddings) {
  const std::string dir = Publish("v1");
  auto loaded = LoadCheckpoint(dir);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ(loaded->manifest.version, "v1");
  EXPECT_EQ(loaded->manifest.weights_sha256, *Sha256::HexOfFile(dir + "/weights.pt"));
  EXPECT_GT(loaded->manifest.created_unix_seconds, 0);
  EXPECT_DOUBLE_EQ(loaded->manifest.metrics.verification_accuracy, 0.8);
  torch::NoGradGuard no_grad;
  torch::Tensor x = torch::rand({5, 3, 64, 64});
  EXPECT_TRUE(torch::equal(net_->forward(x), loaded->net->forward(x)));
  EXPECT_FALSE(loaded->net->is_training());
}

TEST_F(CheckpointTest, PublishLeavesNoTemporaryAndRefusesAnExistingVersion) {
  Publish("v1");
  auto again = PublishCheckpoint(root_.path(), Manifest("v1"), *net_);
  EXPECT_EQ(again.status().code(), absl::StatusCode::kAlreadyExists);
  std::vector<std::string> names;
  for (const auto& e : std::filesystem::directory_iterator(root_.path())) {
    names.push_back(e.path().filename().string());
  }
  EXPECT_EQ(names, std::vector<std::string>{"v1"});
}

TEST_F(CheckpointTest, PublishRefusesAManifestThatDisagreesWithTheNetwork) {
  CheckpointManifest m = Manifest("v1");
  m.model.embedding_dim = 32;
  EXPECT_EQ(PublishCheckpoint(root_.path(), m, *net_).status().code(),
            absl::StatusCode::kInvalidArgument);
  m = Manifest("../escape");
  EXPECT_EQ(PublishCheckpoint(root_.path(), m, *net_).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(CheckpointTest, FlippedByteInWeightsIsRefused) {
  const std::string dir = Publish("v1");
  std::string w = ReadAll(dir + "/weights.pt");
  w[w.size() / 2] = static_cast<char>(w[w.size() / 2] ^ 0x01);
  WriteAll(dir + "/weights.pt", w);
  ExpectRefused(dir, "SHA-256 does not match");
}

TEST_F(CheckpointTest, TruncatedWeightsAreRefused) {
  const std::string dir = Publish("v1");
  std::string w = ReadAll(dir + "/weights.pt");
  WriteAll(dir + "/weights.pt", w.substr(0, w.size() - 100));
  ExpectRefused(dir, "truncated or replaced");
}

TEST_F(CheckpointTest, MissingWeightsFileIsRefused) {
  const std::string dir = Publish("v1");
  std::filesystem::remove(dir + "/weights.pt");
  ExpectRefused(dir, "weights.pt");
}

TEST_F(CheckpointTest, MissingManifestIsNotFound) {
  const std::string dir = Publish("v1");
  std::filesystem::remove(dir + "/manifest.json");
  EXPECT_EQ(LoadCheckpoint(dir).status().code(), absl::StatusCode::kNotFound);
}

TEST_F(CheckpointTest, TruncatedManifestIsRefused) {
  const std::string dir = Publish("v1");
  std::string m = ReadAll(dir + "/manifest.json");
  WriteAll(dir + "/manifest.json", m.substr(0, m.size() / 2));
  ExpectRefused(dir, "not valid JSON");
}

TEST_F(CheckpointTest, ArchitectureMismatchIsRefusedEvenWithAMatchingHash) {
  const std::string dir = Publish("v1");
  EditManifest(dir, [](CheckpointManifest& m) { m.model.architecture = kSeedInception; });
  ExpectRefused(dir, "tensors");
}

TEST_F(CheckpointTest, EmbeddingDimensionMismatchIsRefusedNamingTheTensor) {
  const std::string dir = Publish("v1");
  EditManifest(dir, [](CheckpointManifest& m) { m.model.embedding_dim = 32; });
  ExpectRefused(dir, "tensor 'dense.bias' is [16] Float, the spec needs [32] Float");
}

TEST_F(CheckpointTest, StageWidthMismatchIsRefused) {
  const std::string dir = Publish("v1");
  EditManifest(dir, [](CheckpointManifest& m) { m.model.stage_widths = {8, 24}; });
  ExpectRefused(dir, "the spec needs");
}

TEST_F(CheckpointTest, WeightsThatAreNotAnArchiveAreRefused) {
  const std::string dir = Publish("v1");
  const std::string junk(5000, 'z');
  WriteAll(dir + "/weights.pt", junk);
  EditManifest(dir, [&](CheckpointManifest& m) {
    m.weights_sha256 = Sha256::Hex(junk);
    m.weights_bytes = junk.size();
  });
  ExpectRefused(dir, "not a readable LibTorch archive");
}

TEST_F(CheckpointTest, StaleTemporariesFromACrashedPublishAreIgnoredThenRemoved) {
  Publish("v1");
  ASSERT_TRUE(MakeDirs(root_.File(".tmp-v2-dead")).ok());
  WriteAll(root_.File(".tmp-v2-dead/weights.pt"), "half");
  auto list = ListCheckpoints(root_.path());
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 1u);
  EXPECT_EQ((*list)[0].version, "v1");
  EXPECT_EQ(*RemoveStaleTemporaries(root_.path()), 1);
  EXPECT_FALSE(std::filesystem::exists(root_.File(".tmp-v2-dead")));
  EXPECT_TRUE(std::filesystem::exists(root_.File("v1")));
}

TEST_F(CheckpointTest, SeedNetworkRoundTripsToo) {
  ModelSpec seed;
  seed.input.width = 64;
  seed.input.height = 64;
  seed.embedding_dim = 8;
  auto net = *BuildEmbeddingNet(seed);
  net->eval();
  CheckpointManifest m;
  m.version = "seed";
  m.model = seed;
  ASSERT_TRUE(PublishCheckpoint(root_.path(), m, *net).ok());
  auto loaded = LoadCheckpoint(root_.File("seed"));
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  torch::NoGradGuard no_grad;
  torch::Tensor x = torch::rand({2, 3, 64, 64});
  EXPECT_TRUE(torch::equal(net->forward(x), loaded->net->forward(x)));
}

}  // namespace
}  // namespace dogsearch::model
