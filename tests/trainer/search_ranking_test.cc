#include "services/trainer/core/search_ranking.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

namespace dogsearch::trainer {
namespace {

// 2-d unit vectors at the given angles (degrees), one (label, angle) per photo.
EmbeddingTable Angles(const std::vector<std::pair<int32_t, double>>& photos) {
  EmbeddingTable t;
  t.dim = 2;
  for (const auto& [label, deg] : photos) {
    t.labels.push_back(label);
    t.vectors.push_back(static_cast<float>(std::cos(deg * M_PI / 180)));
    t.vectors.push_back(static_cast<float>(std::sin(deg * M_PI / 180)));
  }
  return t;
}

std::vector<uint32_t> AllBut(const EmbeddingTable& t, uint32_t q) {
  std::vector<uint32_t> rows;
  for (uint32_t i = 0; i < t.size(); ++i) {
    if (i != q) rows.push_back(i);
  }
  return rows;
}

// Row 0 (dog 0, at 0 degrees) searches: dog 1 has the single closest photo (10 degrees) and one
// far away; dog 0's three photos surround the query. By the best photo dog 0 comes second; as
// the gateway ranks by default (w 0.5) its photos' centroid puts it first.
TEST(SearchRankingTest, ADogItsPhotosAgreeOnOutranksOneStrayClosePhoto) {
  const EmbeddingTable t =
      Angles({{0, 0}, {0, 14}, {0, -14}, {0, 16}, {1, 10}, {1, 170}, {2, 40}, {2, 45}});
  SearchRankingOptions best_photo;
  best_photo.centroid_weight = 0;
  EXPECT_EQ(SearchRank(t, 0, AllBut(t, 0), best_photo), 2u);
  EXPECT_EQ(SearchRank(t, 0, AllBut(t, 0), SearchRankingOptions{}), 1u);
  // The query row itself in the gallery is skipped, never matched to itself.
  std::vector<uint32_t> with_itself = AllBut(t, 0);
  with_itself.push_back(0);
  EXPECT_EQ(SearchRank(t, 0, with_itself, best_photo), 2u);
  // Dog 1 asks: its other photo is at 170 degrees, dogs 0 and 2 are nearer.
  EXPECT_EQ(SearchRank(t, 4, AllBut(t, 4), SearchRankingOptions{}), 3u);
}

// With score offsets the candidates are ranked by their served distance: a hub photo (large
// offset) of dog 1 no longer beats dog 0's photos even by the best photo.
TEST(SearchRankingTest, ServedDistancesRankTheCandidates) {
  EmbeddingTable t = Angles({{0, 0}, {0, 14}, {1, 10}, {1, 60}});
  SearchRankingOptions best_photo;
  best_photo.centroid_weight = 0;
  EXPECT_EQ(SearchRank(t, 0, AllBut(t, 0), best_photo), 2u);
  t.offsets = {0, 0, 0.5f, 0};
  EXPECT_EQ(SearchRank(t, 0, AllBut(t, 0), best_photo), 1u);
}

// A Search for one dog with one photo asks for 18 candidates; 20 photos of two other dogs
// nearer than any of the query dog's fill them: the dog is not found (rank 0).
TEST(SearchRankingTest, ADogBeyondTheCandidatesIsNotFound) {
  std::vector<std::pair<int32_t, double>> photos = {{0, 0}, {0, 30}};
  for (int i = 0; i < 10; ++i) {
    photos.push_back({1, 1 + i});
    photos.push_back({2, -1 - i});
  }
  const EmbeddingTable t = Angles(photos);
  SearchRankingOptions one;
  one.k = 1;
  one.photos_per_dog = 1;
  EXPECT_EQ(SearchRank(t, 0, AllBut(t, 0), one), 0u);
  // The default Search (46 candidates) reaches it.
  EXPECT_EQ(SearchRank(t, 0, AllBut(t, 0), SearchRankingOptions{}), 3u);
}

TEST(SearchRankingTest, SeparatedDogsScorePerfectly) {
  std::vector<std::pair<int32_t, double>> photos;
  for (int dog = 0; dog < 6; ++dog) {
    for (int j = 0; j < 4 + dog % 2; ++j) photos.push_back({dog, dog * 60 + j * 0.5});
  }
  const SearchedFigures f = AsSearched(Angles(photos), 0, SearchRankingOptions{}, 2);
  EXPECT_DOUBLE_EQ(f.rank1_3_enrolled, 1.0);
  EXPECT_DOUBLE_EQ(f.full_gallery_top1, 1.0);
  EXPECT_DOUBLE_EQ(f.full_gallery_mrr, 1.0);
}

// Ranking by the best photo (w 0), the searched figures are the model's: Identify's 3-photo
// rank-1 and the full gallery's top-1, on random embeddings where they are far from 1.
TEST(SearchRankingTest, ByTheBestPhotoTheFiguresAreTheModels) {
  EmbeddingTable t;
  t.dim = 8;
  std::mt19937 rng(7);
  std::normal_distribution<float> noise(0, 1);
  for (int dog = 0; dog < 30; ++dog) {
    std::vector<float> centre(t.dim);
    for (float& c : centre) c = noise(rng);
    for (int j = 0; j < 5 + dog % 3; ++j) {
      for (float c : centre) t.vectors.push_back(c + 0.8f * noise(rng));
      t.labels.push_back(dog);
    }
  }
  SearchRankingOptions best_photo;
  best_photo.centroid_weight = 0;
  const SearchedFigures f = AsSearched(t, 3, best_photo, 2);
  const double rank1_3 = Identify(t, 3, 3).rank1;
  const Retrieval full = RetrievalFigures(t, 2);
  EXPECT_LT(rank1_3, 0.95);
  EXPECT_GT(rank1_3, 0.2);
  EXPECT_DOUBLE_EQ(f.rank1_3_enrolled, rank1_3);
  EXPECT_DOUBLE_EQ(f.full_gallery_top1, full.top1);
  // Ranked among dogs rather than photos, the reciprocal rank can only be as high or higher.
  EXPECT_GE(f.full_gallery_mrr, full.mrr);
  // The default blend changes the answers on this table (else the check above proves little).
  const SearchedFigures blended = AsSearched(t, 3, SearchRankingOptions{}, 2);
  EXPECT_NE(blended.rank1_3_enrolled, f.rank1_3_enrolled);
}

}  // namespace
}  // namespace dogsearch::trainer
