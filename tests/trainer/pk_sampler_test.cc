#include "services/trainer/core/pk_sampler.h"

#include <gtest/gtest.h>

#include <map>
#include <set>

namespace dogsearch::trainer {
namespace {

// Identity i has photos_per[i] photos with ids 100*i + j.
std::vector<std::vector<int32_t>> Photos(const std::vector<int>& photos_per) {
  std::vector<std::vector<int32_t>> out;
  for (size_t i = 0; i < photos_per.size(); ++i) {
    out.emplace_back();
    for (int j = 0; j < photos_per[i]; ++j) out.back().push_back(static_cast<int32_t>(100 * i + j));
  }
  return out;
}

TEST(PkSamplerTest, BatchesHavePIdentitiesTimesKPhotosOfThoseIdentities) {
  auto s = PkSampler::Create(Photos({5, 2, 8, 3, 1, 6, 4, 7, 9}), 4, 3, 1);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->skipped_identities(), 1u);  // The identity with one photo.
  EXPECT_EQ(s->batches_per_epoch(), 2u);   // 8 eligible / P=4.
  std::set<int32_t> seen_ids;
  for (uint32_t b = 0; b < s->batches_per_epoch(); ++b) {
    PkBatch batch = s->Batch(0, b);
    ASSERT_EQ(batch.photos.size(), 12u);
    std::map<int32_t, std::vector<int32_t>> by_label;
    for (size_t i = 0; i < batch.photos.size(); ++i) {
      EXPECT_EQ(batch.photos[i] / 100, batch.labels[i]) << "photo of another identity";
      by_label[batch.labels[i]].push_back(batch.photos[i]);
    }
    ASSERT_EQ(by_label.size(), 4u);
    for (auto& [label, photos] : by_label) {
      EXPECT_EQ(photos.size(), 3u);
      EXPECT_NE(label, 4) << "identity with a single photo sampled";
      EXPECT_TRUE(seen_ids.insert(label).second) << "identity twice in one epoch";
      // Identities with >= K photos give K distinct photos.
      if (label != 1) {
        EXPECT_EQ(std::set<int32_t>(photos.begin(), photos.end()).size(), 3u);
      }
    }
  }
}

TEST(PkSamplerTest, IdentityWithFewerThanKPhotosGivesAllOfThemPlusRepeats) {
  auto s = PkSampler::Create(Photos({2, 2}), 2, 4, 3);
  ASSERT_TRUE(s.ok());
  PkBatch batch = s->Batch(0, 0);
  std::map<int32_t, std::set<int32_t>> distinct;
  for (size_t i = 0; i < batch.photos.size(); ++i)
    distinct[batch.labels[i]].insert(batch.photos[i]);
  EXPECT_EQ(distinct[0].size(), 2u);
  EXPECT_EQ(distinct[1].size(), 2u);
}

TEST(PkSamplerTest, DeterministicPerSeedEpochAndBatchAndEpochsDiffer) {
  auto a = PkSampler::Create(Photos({4, 4, 4, 4, 4, 4, 4, 4}), 2, 2, 9);
  auto b = PkSampler::Create(Photos({4, 4, 4, 4, 4, 4, 4, 4}), 2, 2, 9);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->Batch(3, 1).photos, b->Batch(3, 1).photos);
  bool differs = false;
  for (uint32_t i = 0; i < a->batches_per_epoch(); ++i) {
    differs |= a->Batch(0, i).photos != a->Batch(1, i).photos;
  }
  EXPECT_TRUE(differs);
}

TEST(PkSamplerTest, RefusesImpossibleConfigurations) {
  EXPECT_EQ(PkSampler::Create(Photos({3, 3}), 1, 2, 0).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(PkSampler::Create(Photos({3, 3}), 2, 1, 0).status().code(),
            absl::StatusCode::kInvalidArgument);
  absl::Status s = PkSampler::Create(Photos({3, 1, 1}), 2, 2, 0).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("2 or more photos"), std::string::npos) << s;
}

}  // namespace
}  // namespace dogsearch::trainer
