// Dynamic batching: photos from concurrent requests are coalesced into one forward pass of up
// to max_batch photos, or fewer once the oldest has waited max_delay. Photos for different
// model versions never share a batch. The queue is bounded (Enqueue answers RESOURCE_EXHAUSTED
// instead of growing), and a photo whose deadline passed or whose caller cancelled while it
// queued is answered without being computed.
//
// The batching decision is a pure function (FormBatch) of the queue and the time, so it is
// tested with made-up times; the worker threads only wait, form and run batches. The clock is
// injectable. Thread-safe. Lock discipline: mu_ guards queue_, stopping_; inference runs
// outside mu_.
#ifndef DOGSEARCH_SERVICES_EMBEDDING_CORE_BATCHER_H_
#define DOGSEARCH_SERVICES_EMBEDDING_CORE_BATCHER_H_

#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "services/embedding/core/embedding_model.h"

namespace dogsearch::embedding {

struct BatcherOptions {
  int max_batch = 8;
  absl::Duration max_delay = absl::Milliseconds(2);
  size_t max_queued_photos = 1024;
  int workers = 1;
};

class Clock {
 public:
  virtual ~Clock() = default;
  virtual absl::Time Now() const = 0;
  static Clock* Real();
};

// What the service wants to know about each batch (metrics); called on a worker thread.
struct BatchObserver {
  std::function<void(int size, absl::Duration max_queue_wait, absl::Duration compute,
                     const std::string& version)>
      on_batch;
};

struct BatchItem {
  std::shared_ptr<const EmbeddingModel> model;
  std::vector<float> input;  // model->input_floats() floats.
  absl::Time enqueued;       // Set by Enqueue.
  absl::Time deadline = absl::InfiniteFuture();
  std::function<bool()> cancelled;  // Optional.
  std::function<void(absl::StatusOr<std::vector<float>>)> done;
};

// The decision: returns how many items from the front of `queue` (after the caller has removed
// expired ones) form the next batch — all with the front item's model, up to max_batch — or 0
// if the front item may still wait for company. *wait is then how long until it may not.
// Items for other models are skipped over, not reordered; the batch is taken from
// positions `*positions`.
int FormBatch(const std::deque<BatchItem>& queue, absl::Time now, const BatcherOptions& options,
              std::vector<size_t>* positions, absl::Duration* wait);

class DynamicBatcher {
 public:
  DynamicBatcher(const BatcherOptions& options, Clock* clock, BatchObserver observer = {});
  ~DynamicBatcher();  // Stop().
  DynamicBatcher(const DynamicBatcher&) = delete;
  DynamicBatcher& operator=(const DynamicBatcher&) = delete;

  // Queues all items or none: RESOURCE_EXHAUSTED when they do not fit, UNAVAILABLE after Stop.
  absl::Status Enqueue(std::vector<BatchItem> items);
  // Answers queued items with UNAVAILABLE, lets running batches finish, joins the workers.
  void Stop();
  size_t queued() const;

 private:
  void Work();
  // Removes expired/cancelled items, answering them. REQUIRES mu_ held.
  void DropExpired(absl::Time now, std::vector<BatchItem>* dropped);
  void Run(std::vector<BatchItem> batch, absl::Time started);

  const BatcherOptions options_;
  Clock* const clock_;
  const BatchObserver observer_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<BatchItem> queue_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::thread> workers_;
};

}  // namespace dogsearch::embedding

#endif  // DOGSEARCH_SERVICES_EMBEDDING_CORE_BATCHER_H_
