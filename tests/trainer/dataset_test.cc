#include "services/trainer/core/dataset.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <set>

#include "tests/testing/temp_dir.h"

namespace dogsearch::trainer {
namespace {
namespace fs = std::filesystem;

void Touch(const std::string& path, const std::string& data = "x") {
  fs::create_directories(fs::path(path).parent_path());
  testing::WriteAll(path, data);
}

TEST(DatasetTest, ScansSortedIdentitiesAndIgnoresNonPhotos) {
  testing::TempDir dir;
  Touch(dir.File("b/2.jpg"));
  Touch(dir.File("b/1.JPG"));
  Touch(dir.File("a/x.png"));
  Touch(dir.File("a/notes.txt"));
  Touch(dir.File("a/.hidden.jpg"));
  Touch(dir.File("a/empty.jpg"), "");
  fs::create_directories(dir.File("empty_dog"));
  Touch(dir.File("loose.jpg"));
  absl::StatusOr<Dataset> ds = ScanDataset(dir.path());
  ASSERT_TRUE(ds.ok()) << ds.status();
  ASSERT_EQ(ds->identities.size(), 2u);
  EXPECT_EQ(ds->identities[0].name, "a");
  ASSERT_EQ(ds->identities[0].photos.size(), 1u);
  EXPECT_EQ(ds->identities[1].name, "b");
  ASSERT_EQ(ds->identities[1].photos.size(), 2u);
  EXPECT_EQ(fs::path(ds->identities[1].photos[0].path).filename(), "1.JPG");
  EXPECT_EQ(ds->PhotoCount(), 3u);
}

TEST(DatasetTest, ClearErrors) {
  testing::TempDir dir;
  EXPECT_EQ(ScanDataset(dir.File("missing")).status().code(), absl::StatusCode::kNotFound);
  Touch(dir.File("file.jpg"));
  EXPECT_EQ(ScanDataset(dir.File("file.jpg")).status().code(), absl::StatusCode::kInvalidArgument);
  fs::create_directories(dir.File("only_empty/dog"));
  absl::Status s = ScanDataset(dir.File("only_empty")).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("no identity folder"), std::string::npos) << s;
  Touch(dir.File("big/d/1.jpg"));
  Touch(dir.File("big/d/2.jpg"));
  ScanLimits limits;
  limits.max_photos_per_identity = 1;
  EXPECT_EQ(ScanDataset(dir.File("big"), limits).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(DatasetTest, FingerprintDependsOnContentNotLocation) {
  testing::TempDir one, two;
  for (const auto* d : {&one, &two}) {
    Touch(d->File("dog/1.jpg"), "abc");
    Touch(d->File("dog/2.jpg"), "defg");
  }
  const std::string f1 = DatasetFingerprint(*ScanDataset(one.path()));
  EXPECT_EQ(f1.size(), 64u);
  EXPECT_EQ(f1, DatasetFingerprint(*ScanDataset(two.path())));
  Touch(two.File("dog/2.jpg"), "defgh");
  EXPECT_NE(f1, DatasetFingerprint(*ScanDataset(two.path())));
}

TEST(DatasetTest, SplitIsIdentityDisjointDeterministicAndSized) {
  Dataset ds;
  for (int i = 0; i < 100; ++i) {
    ds.identities.push_back(Identity{"dog" + std::to_string(i), {Photo{"p", 1}, Photo{"q", 1}}});
  }
  const DatasetSplit a = SplitByIdentity(ds, 0.1, 7);
  const DatasetSplit b = SplitByIdentity(ds, 0.1, 7);
  const DatasetSplit c = SplitByIdentity(ds, 0.1, 8);
  ASSERT_EQ(a.validation.identities.size(), 10u);
  EXPECT_EQ(a.train.identities.size(), 90u);
  std::set<std::string> train;
  for (const Identity& id : a.train.identities) train.insert(id.name);
  for (const Identity& id : a.validation.identities) EXPECT_EQ(train.count(id.name), 0u) << id.name;
  std::vector<std::string> va, vb, vc;
  for (const Identity& id : a.validation.identities) va.push_back(id.name);
  for (const Identity& id : b.validation.identities) vb.push_back(id.name);
  for (const Identity& id : c.validation.identities) vc.push_back(id.name);
  EXPECT_EQ(va, vb);
  EXPECT_NE(va, vc);
  EXPECT_TRUE(SplitByIdentity(ds, 0, 1).validation.identities.empty());
}

}  // namespace
}  // namespace dogsearch::trainer
