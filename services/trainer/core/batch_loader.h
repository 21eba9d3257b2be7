// Background decode/augment pipeline: worker threads turn PK batches (in order) into float
// pixel buffers ahead of the training loop, at most `prefetch` batches ahead. Next() hands them
// out strictly in sequence; a batch's augmentation depends only on (seed, epoch, batch), so the
// stream is the same whatever the thread count. Sequence: epoch start_epoch batch 0, 1, ...,
// then the next epoch, forever (the consumer decides when to stop).
//
// Lock discipline: mu_ guards next_claim_, consumed_, ready_ and stopping_; workers wait on
// work_cv_ for room, the consumer waits on ready_cv_. cache_ and sampler_ are immutable and
// read without a lock. Next() is for one consumer thread.
#ifndef DOGSEARCH_SERVICES_TRAINER_CORE_BATCH_LOADER_H_
#define DOGSEARCH_SERVICES_TRAINER_CORE_BATCH_LOADER_H_

#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "services/trainer/core/augment.h"
#include "services/trainer/core/photo_cache.h"
#include "services/trainer/core/pk_sampler.h"

namespace dogsearch::trainer {

struct LoadedBatch {
  PkBatch batch;
  std::vector<float> pixels;  // photos x 3 x H x W, CHW per photo.
  double wait_seconds = 0;    // How long Next() blocked for it.
};

struct LoaderOptions {
  int threads = 1;
  int prefetch = 4;
  uint64_t seed = 0;
  uint32_t start_epoch = 0;
};

class BatchLoader {
 public:
  BatchLoader(const PhotoCache& cache, const PkSampler& sampler, const model::InputSpec& input,
              const AugmentOptions& augment, const LoaderOptions& options);
  ~BatchLoader();
  BatchLoader(const BatchLoader&) = delete;
  BatchLoader& operator=(const BatchLoader&) = delete;

  LoadedBatch Next();

 private:
  void Work();
  LoadedBatch Produce(uint64_t sequence) const;

  const PhotoCache& cache_;
  const PkSampler& sampler_;
  const model::InputSpec input_;
  const AugmentOptions augment_;
  const LoaderOptions options_;

  std::mutex mu_;
  std::condition_variable work_cv_, ready_cv_;
  uint64_t next_claim_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t consumed_ ABSL_GUARDED_BY(mu_) = 0;
  std::map<uint64_t, LoadedBatch> ready_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::thread> workers_;
};

}  // namespace dogsearch::trainer

#endif  // DOGSEARCH_SERVICES_TRAINER_CORE_BATCH_LOADER_H_
