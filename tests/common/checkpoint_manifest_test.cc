#include "common/model/checkpoint_manifest.h"

#include "absl/strings/match.h"
#include "absl/strings/str_replace.h"
#include "common/base/file_util.h"
#include "gtest/gtest.h"
#include "tests/testing/temp_dir.h"

namespace dogsearch::model {
namespace {

CheckpointManifest Sample() {
  CheckpointManifest m;
  m.version = "20261128-run1.e3";
  m.model.architecture = kDogFaceNetResNet;
  m.model.input.width = 96;
  m.model.input.height = 96;
  m.model.input.mean = {0.5f, 0.4f, 0.3f};
  m.model.input.std = {0.25f, 0.25f, 0.25f};
  m.model.dropout = 0.2f;
  m.model.stage_widths = {8, 16};
  m.training_config_json = R"({"dataset":"dogs","margin":0.2,"identities_per_batch":16})";
  m.dataset_fingerprint = std::string(64, 'a');
  m.metrics.verification_accuracy = 0.9;
  m.metrics.rank1 = 0.45;
  m.metrics.threshold = 0.83;
  m.metrics.pairs = 1000;
  m.parent_version = "base";
  m.weights_sha256 = std::string(64, 'f');
  m.weights_bytes = 12345;
  m.created_unix_seconds = 1795000000;
  m.epoch = 3;
  m.step = 900;
  m.notes = "best by rank1";
  return m;
}

TEST(CheckpointManifestTest, JsonRoundTripKeepsEveryField) {
  const CheckpointManifest m = Sample();
  const std::string json = ManifestToJson(m);
  EXPECT_TRUE(absl::StrContains(json, "\"format\": \"dogsearch-checkpoint\"")) << json;
  auto back = ManifestFromJson(json);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->version, m.version);
  EXPECT_TRUE(back->model == m.model);
  EXPECT_TRUE(absl::StrContains(back->training_config_json, "\"margin\":0.2"))
      << back->training_config_json;
  EXPECT_EQ(back->dataset_fingerprint, m.dataset_fingerprint);
  EXPECT_DOUBLE_EQ(back->metrics.rank1, 0.45);
  EXPECT_DOUBLE_EQ(back->metrics.threshold, 0.83);
  EXPECT_EQ(back->metrics.pairs, 1000u);
  EXPECT_EQ(back->parent_version, "base");
  EXPECT_EQ(back->weights_sha256, m.weights_sha256);
  EXPECT_EQ(back->weights_bytes, 12345u);
  EXPECT_EQ(back->created_unix_seconds, 1795000000);
  EXPECT_EQ(back->epoch, 3u);
  EXPECT_EQ(back->step, 900u);
  EXPECT_EQ(back->notes, "best by rank1");
}

void ExpectRefused(const std::string& json, absl::string_view reason) {
  auto m = ManifestFromJson(json);
  ASSERT_FALSE(m.ok()) << "accepted, should refuse: " << reason;
  EXPECT_EQ(m.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(absl::StrContains(m.status().message(), reason)) << m.status();
}

// Score normalisation: kept through JSON; absent stays absent; a cohort file name that is not
// a plain file (or names the weights or the manifest) and a malformed hash are refused.
TEST(CheckpointManifestTest, ScoreNormalisationRoundTripsAndIsValidated) {
  CheckpointManifest m = Sample();
  auto plain = ManifestFromJson(ManifestToJson(m));
  ASSERT_TRUE(plain.ok());
  EXPECT_FALSE(plain->score_norm.enabled());
  EXPECT_FALSE(absl::StrContains(ManifestToJson(m), "score_norm"));
  m.score_norm = ScoreNorm{"cohort.bin", std::string(64, 'c'), 576052};
  auto back = ManifestFromJson(ManifestToJson(m));
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->score_norm.cohort_file, "cohort.bin");
  EXPECT_EQ(back->score_norm.cohort_sha256, std::string(64, 'c'));
  EXPECT_EQ(back->score_norm.cohort_bytes, 576052u);
  for (const char* bad : {"../cohort.bin", "a/b", "weights.pt", "manifest.json", ".hidden"}) {
    m.score_norm.cohort_file = bad;
    auto refused = ManifestFromJson(ManifestToJson(m));
    EXPECT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition) << bad;
    EXPECT_TRUE(absl::StrContains(refused.status().message(), "cohort_file")) << bad;
  }
  m.score_norm = ScoreNorm{"cohort.bin", "abc", 1};
  EXPECT_TRUE(
      absl::StrContains(ManifestFromJson(ManifestToJson(m)).status().message(), "cohort_sha256"));
}

TEST(CheckpointManifestTest, RefusesMalformedJson) {
  ExpectRefused("{\"format\": ", "not valid JSON");
}

TEST(CheckpointManifestTest, RefusesAnotherFormat) {
  std::string json =
      absl::StrReplaceAll(ManifestToJson(Sample()), {{"dogsearch-checkpoint", "something-else"}});
  ExpectRefused(json, "format is 'something-else'");
}

TEST(CheckpointManifestTest, RefusesANewerFormatVersion) {
  std::string json = absl::StrReplaceAll(ManifestToJson(Sample()),
                                         {{"\"format_version\": 1", "\"format_version\": 7"}});
  ExpectRefused(json, "format_version 7 is not supported");
}

TEST(CheckpointManifestTest, RefusesAnUnknownArchitecture) {
  std::string json =
      absl::StrReplaceAll(ManifestToJson(Sample()), {{"dogfacenet_resnet", "vit_huge"}});
  ExpectRefused(json, "unknown architecture 'vit_huge'");
}

TEST(CheckpointManifestTest, RefusesVersionsThatEscapeTheDirectory) {
  for (const char* bad : {"../evil", "a/b", ".hidden", ""}) {
    CheckpointManifest m = Sample();
    m.version = bad;
    ExpectRefused(ManifestToJson(m), "version");
  }
  CheckpointManifest m = Sample();
  m.weights_file = "../../etc/passwd";
  ExpectRefused(ManifestToJson(m), "weights_file");
}

TEST(CheckpointManifestTest, RefusesAMissingHash) {
  CheckpointManifest m = Sample();
  m.weights_sha256 = "";
  ExpectRefused(ManifestToJson(m), "weights_sha256");
}

TEST(CheckpointManifestTest, ListSkipsTemporariesAndBrokenDirectoriesOldestFirst) {
  testing::TempDir root;
  CheckpointManifest a = Sample(), b = Sample();
  a.version = "a";
  a.created_unix_seconds = 200;
  b.version = "b";
  b.created_unix_seconds = 100;
  for (const auto& m : {a, b}) {
    ASSERT_TRUE(MakeDirs(root.File(m.version)).ok());
    ASSERT_TRUE(WriteFileAtomic(root.File(m.version + "/manifest.json"), ManifestToJson(m)).ok());
  }
  ASSERT_TRUE(MakeDirs(root.File(".tmp-c-123")).ok());
  ASSERT_TRUE(MakeDirs(root.File("broken")).ok());
  testing::WriteAll(root.File("broken/manifest.json"), "{");
  ASSERT_TRUE(MakeDirs(root.File("renamed")).ok());  // Manifest says "a": not this directory.
  ASSERT_TRUE(WriteFileAtomic(root.File("renamed/manifest.json"), ManifestToJson(a)).ok());
  auto list = ListCheckpoints(root.path());
  ASSERT_TRUE(list.ok()) << list.status();
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[0].version, "b");
  EXPECT_EQ((*list)[1].version, "a");
  EXPECT_EQ(ReadManifest(root.File("nope")).status().code(), absl::StatusCode::kNotFound);
}

TEST(ModelSpecTest, ValidationNamesTheBadField) {
  ModelSpec s;
  EXPECT_TRUE(ValidateModelSpec(s).ok());
  s.embedding_dim = 1;
  EXPECT_TRUE(absl::StrContains(ValidateModelSpec(s).message(), "embedding_dim"));
  s = ModelSpec();
  s.input.width = 32;
  EXPECT_TRUE(absl::StrContains(ValidateModelSpec(s).message(), "at least 64x64"));
  s.architecture = kDogFaceNetResNet;
  EXPECT_TRUE(ValidateModelSpec(s).ok());
  s.input.std[1] = 0;
  EXPECT_TRUE(absl::StrContains(ValidateModelSpec(s).message(), "std[1]"));
  s = ModelSpec();
  s.dropout = 1.0f;
  EXPECT_TRUE(absl::StrContains(ValidateModelSpec(s).message(), "dropout"));
}

}  // namespace
}  // namespace dogsearch::model
