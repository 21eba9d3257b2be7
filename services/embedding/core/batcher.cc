#include "services/embedding/core/batcher.h"

#include <algorithm>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace dogsearch::embedding {
namespace {

class RealClock : public Clock {
 public:
  absl::Time Now() const override { return absl::Now(); }
};

}  // namespace

Clock* Clock::Real() {
  static RealClock clock;
  return &clock;
}

int FormBatch(const std::deque<BatchItem>& queue, absl::Time now, const BatcherOptions& options,
              std::vector<size_t>* positions, absl::Duration* wait) {
  positions->clear();
  if (queue.empty()) {
    *wait = absl::InfiniteDuration();
    return 0;
  }
  const EmbeddingModel* model = queue.front().model.get();
  for (size_t i = 0; i < queue.size() && positions->size() < static_cast<size_t>(options.max_batch);
       ++i) {
    if (queue[i].model.get() == model) positions->push_back(i);
  }
  const absl::Duration waited = now - queue.front().enqueued;
  if (positions->size() == static_cast<size_t>(options.max_batch) || waited >= options.max_delay) {
    *wait = absl::ZeroDuration();
    return static_cast<int>(positions->size());
  }
  *wait = options.max_delay - waited;
  positions->clear();
  return 0;
}

DynamicBatcher::DynamicBatcher(const BatcherOptions& options, Clock* clock, BatchObserver observer)
    : options_(options), clock_(clock), observer_(std::move(observer)) {
  for (int i = 0; i < std::max(1, options_.workers); ++i) {
    workers_.emplace_back([this] { Work(); });
  }
}

DynamicBatcher::~DynamicBatcher() { Stop(); }

absl::Status DynamicBatcher::Enqueue(std::vector<BatchItem> items) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return absl::UnavailableError("embedding service is shutting down");
    if (queue_.size() + items.size() > options_.max_queued_photos) {
      return absl::ResourceExhaustedError(
          absl::StrCat("embedding queue is full (", queue_.size(), " photos waiting, limit ",
                       options_.max_queued_photos, "); retry later"));
    }
    const absl::Time now = clock_->Now();
    for (BatchItem& item : items) {
      item.enqueued = now;
      queue_.push_back(std::move(item));
    }
  }
  cv_.notify_all();
  return absl::OkStatus();
}

void DynamicBatcher::Stop() {
  std::deque<BatchItem> abandoned;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_ && workers_.empty()) return;
    stopping_ = true;
    abandoned.swap(queue_);
  }
  cv_.notify_all();
  for (BatchItem& item : abandoned) {
    item.done(absl::UnavailableError("embedding service is shutting down"));
  }
  for (auto& w : workers_) w.join();
  workers_.clear();
}

size_t DynamicBatcher::queued() const {
  std::lock_guard<std::mutex> lock(mu_);
  return queue_.size();
}

void DynamicBatcher::DropExpired(absl::Time now, std::vector<BatchItem>* dropped) {
  for (auto it = queue_.begin(); it != queue_.end();) {
    const bool expired = it->deadline <= now;
    const bool cancelled = !expired && it->cancelled && it->cancelled();
    if (expired || cancelled) {
      dropped->push_back(std::move(*it));
      it = queue_.erase(it);
    } else {
      ++it;
    }
  }
}

void DynamicBatcher::Work() {
  std::unique_lock<std::mutex> lock(mu_);
  std::vector<size_t> positions;
  while (true) {
    std::vector<BatchItem> dropped;
    const absl::Time now = clock_->Now();
    DropExpired(now, &dropped);
    absl::Duration wait;
    const int n = FormBatch(queue_, now, options_, &positions, &wait);
    if (n > 0) {
      std::vector<BatchItem> batch;
      for (size_t p : positions) batch.push_back(std::move(queue_[p]));
      for (auto it = positions.rbegin(); it != positions.rend(); ++it)
        queue_.erase(queue_.begin() + *it);
      lock.unlock();
      for (BatchItem& d : dropped) {
        d.done(absl::DeadlineExceededError("deadline passed or request cancelled while queued"));
      }
      Run(std::move(batch), now);
      lock.lock();
      continue;
    }
    if (!dropped.empty()) {
      lock.unlock();
      for (BatchItem& d : dropped) {
        d.done(absl::DeadlineExceededError("deadline passed or request cancelled while queued"));
      }
      lock.lock();
      continue;
    }
    if (stopping_) return;
    if (wait == absl::InfiniteDuration()) {
      cv_.wait(lock);
    } else {
      cv_.wait_for(lock, absl::ToChronoNanoseconds(wait));
    }
  }
}

void DynamicBatcher::Run(std::vector<BatchItem> batch, absl::Time started) {
  const EmbeddingModel& model = *batch.front().model;
  const size_t per = model.input_floats();
  std::vector<float> inputs(per * batch.size());
  absl::Duration max_wait = absl::ZeroDuration();
  for (size_t i = 0; i < batch.size(); ++i) {
    std::memcpy(inputs.data() + i * per, batch[i].input.data(), per * sizeof(float));
    max_wait = std::max(max_wait, started - batch[i].enqueued);
  }
  const absl::Time t0 = clock_->Now();
  absl::StatusOr<std::vector<float>> out =
      model.Embed(inputs.data(), static_cast<int>(batch.size()));
  const absl::Duration compute = clock_->Now() - t0;
  if (observer_.on_batch) {
    observer_.on_batch(static_cast<int>(batch.size()), max_wait, compute, model.version());
  }
  const uint32_t dim = model.dimension();
  for (size_t i = 0; i < batch.size(); ++i) {
    if (!out.ok()) {
      batch[i].done(out.status());
      continue;
    }
    batch[i].done(std::vector<float>(out->begin() + i * dim, out->begin() + (i + 1) * dim));
  }
  model.photos_embedded.fetch_add(batch.size(), std::memory_order_relaxed);
}

}  // namespace dogsearch::embedding
