#include "services/trainer/core/embed.h"

#include <algorithm>

#include "common/base/heap_retention.h"
#include "common/image/image_decoder.h"
#include "common/torch_model/test_time_views.h"

namespace dogsearch::trainer {

EmbeddingTable EmbedCache(model::EmbeddingNet& net, const PhotoCache& cache,
                          const EmbedOptions& options) {
  // Batches of 64 photos and their views free and reallocate the same big activations
  // (docs/TRAINING.md, "Keeping freed tensor memory"): 1.49x dogsearch-eval's wall time.
  ScopedHeapRetention keep_freed_memory;
  const bool was_training = net.is_training();
  net.eval();
  torch::NoGradGuard no_grad;
  const model::InputSpec& input = net.spec().input;
  const int64_t h = input.height, w = input.width;
  const size_t photo_floats = size_t{3} * h * w;
  const size_t batch = static_cast<size_t>(std::max(1, options.batch_size));
  model::ModelSpec views = net.spec();  // Only the test-time fields matter below.
  views.flip_average = options.flip_average;
  views.test_time_zoom = options.test_time_zoom;  // ServedViews ignores it without the flip,
  views.test_time_four_views = options.test_time_four_views;  // and this without the zoom.
  EmbeddingTable table;
  table.dim = net.spec().embedding_dim;
  table.labels = cache.labels();
  table.vectors.resize(cache.size() * table.dim);
  std::vector<float> pixels(batch * photo_floats);
  for (size_t start = 0; start < cache.size(); start += batch) {
    const size_t n = std::min(batch, cache.size() - start);
    for (size_t i = 0; i < n; ++i) {
      image::WriteInputCHW(cache.image(start + i), input, pixels.data() + i * photo_floats);
    }
    torch::Tensor x =
        torch::from_blob(pixels.data(), {static_cast<int64_t>(n), 3, h, w}).to(options.device);
    torch::Tensor e = model::CombineViews(net.forward(model::ServedViews(x, views)), views);
    e = e.to(torch::kCPU, torch::kFloat).contiguous();
    std::copy(e.data_ptr<float>(), e.data_ptr<float>() + n * table.dim,
              table.vectors.begin() + start * table.dim);
  }
  net.train(was_training);
  return table;
}

absl::StatusOr<model::Cohort> BuildDogCohort(model::EmbeddingNet& net, const PhotoCache& cache,
                                             const EmbedOptions& options, uint32_t k,
                                             float weight) {
  const EmbeddingTable table = EmbedCache(net, cache, options);
  return model::Cohort::Build(UnitCentroids(table), table.dim, k, weight);
}

}  // namespace dogsearch::trainer
