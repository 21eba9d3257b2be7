// PhotoCache, BatchLoader and plots on photos the test generates.
#include <gtest/gtest.h>

#include <filesystem>

#include "common/image/image_decoder.h"
#include "services/trainer/core/batch_loader.h"
#include "services/trainer/core/photo_cache.h"
#include "services/trainer/core/plots.h"
#include "tests/testing/temp_dir.h"
#include "tests/testing/test_images.h"

namespace dogsearch::trainer {
namespace {
namespace fs = std::filesystem;

// dogs x photos generated photos (sizes vary), plus one corrupt file in dog 0.
Dataset MakeDogs(const testing::TempDir& dir, int dogs, int photos) {
  for (int d = 0; d < dogs; ++d) {
    fs::create_directories(dir.File("dog" + std::to_string(d)));
    for (int p = 0; p < photos; ++p) {
      testing::WriteAll(dir.File("dog" + std::to_string(d) + "/" + std::to_string(p) + ".jpg"),
                        testing::MakeJpeg(60 + 10 * p, 50 + 7 * d, d * 100 + p));
    }
  }
  testing::WriteAll(dir.File("dog0/broken.jpg"), "\xff\xd8\xff not really a jpeg");
  return *ScanDataset(dir.path());
}

model::InputSpec Spec() {
  model::InputSpec s;
  s.width = s.height = 32;
  return s;
}

TEST(PhotoCacheTest, DecodesEverythingReadableAtInputSizeAndCountsFailures) {
  testing::TempDir dir;
  const Dataset ds = MakeDogs(dir, 3, 4);
  absl::StatusOr<PhotoCache> cache = PhotoCache::Load(ds, Spec(), 2);
  ASSERT_TRUE(cache.ok()) << cache.status();
  EXPECT_EQ(cache->size(), 12u);
  EXPECT_EQ(cache->failed(), 1u);
  EXPECT_NE(cache->first_error().find("broken.jpg"), std::string::npos) << cache->first_error();
  ASSERT_EQ(cache->photos_of().size(), 3u);
  for (size_t i = 0; i < cache->size(); ++i) {
    EXPECT_EQ(cache->image(i).cols, 32);
    EXPECT_EQ(cache->image(i).rows, 32);
    EXPECT_EQ(cache->image(i).type(), CV_8UC3);
  }
  // The cached pixels are what the embedding service computes from the same file.
  const std::string bytes = testing::ReadAll(cache->path(5));
  const cv::Mat served = image::ResizeToInput(*image::DecodeImage(bytes, {}), Spec());
  EXPECT_EQ(cv::norm(served, cache->image(5), cv::NORM_INF), 0);
}

TEST(PhotoCacheTest, NothingDecodableIsAnError) {
  testing::TempDir dir;
  fs::create_directories(dir.File("dog"));
  testing::WriteAll(dir.File("dog/a.jpg"), "nope");
  EXPECT_EQ(PhotoCache::Load(*ScanDataset(dir.path()), Spec(), 1).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(BatchLoaderTest, StreamIsInOrderAndIndependentOfThreadCount) {
  testing::TempDir dir;
  const Dataset ds = MakeDogs(dir, 6, 3);
  const PhotoCache cache = *PhotoCache::Load(ds, Spec(), 2);
  const PkSampler sampler = *PkSampler::Create(cache.photos_of(), 2, 2, 11);
  std::vector<std::vector<float>> one, four;
  for (int threads : {1, 4}) {
    LoaderOptions o;
    o.threads = threads;
    o.prefetch = 3;
    o.seed = 5;
    o.start_epoch = 2;
    BatchLoader loader(cache, sampler, Spec(), AugmentOptions{}, o);
    for (uint32_t i = 0; i < 2 * sampler.batches_per_epoch(); ++i) {
      LoadedBatch b = loader.Next();
      EXPECT_EQ(b.batch.epoch, 2 + i / sampler.batches_per_epoch());
      EXPECT_EQ(b.batch.index, i % sampler.batches_per_epoch());
      EXPECT_EQ(b.batch.photos, sampler.Batch(b.batch.epoch, b.batch.index).photos);
      EXPECT_EQ(b.pixels.size(), 4u * 3 * 32 * 32);
      (threads == 1 ? one : four).push_back(b.pixels);
    }
  }  // Destroying a loader with work in flight must not hang.
  EXPECT_EQ(one, four);
}

TEST(PlotsTest, WritesPcaAndRocPngs) {
  testing::TempDir dir;
  EmbeddingTable t;
  t.dim = 4;
  for (int i = 0; i < 30; ++i) {
    t.labels.push_back(i % 3);
    for (int d = 0; d < 4; ++d) t.vectors.push_back(d == i % 3 ? 1.f + 0.01f * i : 0.01f * d);
  }
  ASSERT_TRUE(WritePcaPlot(t, {}, PcaPlotOptions{}, dir.File("pca.png")).ok());
  std::vector<cv::Mat> thumbs(30, testing::MakePattern(40, 40, 1));
  PcaPlotOptions with_thumbs;
  with_thumbs.thumbnails = true;
  ASSERT_TRUE(WritePcaPlot(t, thumbs, with_thumbs, dir.File("pca_thumbs.png")).ok());
  ASSERT_TRUE(WriteRocPlot({{0, 0}, {0.1, 0.7}, {1, 1}}, 0.9, dir.File("roc.png")).ok());
  for (const char* f : {"pca.png", "pca_thumbs.png", "roc.png"}) {
    const cv::Mat png = image::DecodeImage(testing::ReadAll(dir.File(f)), {}).value();
    EXPECT_GT(png.cols, 500) << f;
  }
  // PCA separates the three clusters along its axes.
  std::vector<size_t> rows(30);
  for (size_t i = 0; i < 30; ++i) rows[i] = i;
  const std::vector<cv::Point2f> p = PcaProject(t, rows);
  EXPECT_GT(cv::norm(p[0] - p[1]), 10 * cv::norm(p[0] - p[3]));
  EXPECT_EQ(WritePcaPlot(t, {thumbs[0]}, with_thumbs, dir.File("x.png")).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(WriteRocPlot({{0, 0}}, 0.5, dir.File("r.png")).code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace dogsearch::trainer
