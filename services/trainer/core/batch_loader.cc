#include "services/trainer/core/batch_loader.h"

#include <algorithm>
#include <chrono>

namespace dogsearch::trainer {

BatchLoader::BatchLoader(const PhotoCache& cache, const PkSampler& sampler,
                         const model::InputSpec& input, const AugmentOptions& augment,
                         const LoaderOptions& options)
    : cache_(cache), sampler_(sampler), input_(input), augment_(augment), options_(options) {
  for (int i = 0; i < std::max(1, options_.threads); ++i) workers_.emplace_back([this] { Work(); });
}

BatchLoader::~BatchLoader() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  work_cv_.notify_all();
  for (std::thread& t : workers_) t.join();
}

LoadedBatch BatchLoader::Produce(uint64_t sequence) const {
  const uint32_t per_epoch = sampler_.batches_per_epoch();
  const uint32_t epoch = options_.start_epoch + static_cast<uint32_t>(sequence / per_epoch);
  const uint32_t b = static_cast<uint32_t>(sequence % per_epoch);
  LoadedBatch out;
  out.batch = sampler_.Batch(epoch, b);
  const size_t photo_floats = size_t{3} * input_.width * input_.height;
  out.pixels.resize(out.batch.photos.size() * photo_floats);
  std::mt19937_64 rng(options_.seed ^ (uint64_t{epoch} << 32 | b) * 0x9e3779b97f4a7c15ULL);
  for (size_t i = 0; i < out.batch.photos.size(); ++i) {
    AugmentToCHW(cache_.image(out.batch.photos[i]), input_, augment_, rng,
                 out.pixels.data() + i * photo_floats);
  }
  return out;
}

void BatchLoader::Work() {
  for (;;) {
    uint64_t sequence;
    {
      std::unique_lock<std::mutex> lock(mu_);
      work_cv_.wait(lock, [&] {
        return stopping_ || next_claim_ < consumed_ + static_cast<uint64_t>(options_.prefetch);
      });
      if (stopping_) return;
      sequence = next_claim_++;
    }
    LoadedBatch batch = Produce(sequence);
    {
      std::lock_guard<std::mutex> lock(mu_);
      ready_.emplace(sequence, std::move(batch));
    }
    ready_cv_.notify_all();
  }
}

LoadedBatch BatchLoader::Next() {
  const auto start = std::chrono::steady_clock::now();
  std::unique_lock<std::mutex> lock(mu_);
  ready_cv_.wait(lock, [&] { return ready_.count(consumed_) > 0; });
  auto it = ready_.find(consumed_);
  LoadedBatch out = std::move(it->second);
  ready_.erase(it);
  ++consumed_;
  lock.unlock();
  work_cv_.notify_all();
  out.wait_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return out;
}

}  // namespace dogsearch::trainer
