// A fixed set of worker threads with a bounded queue. TrySchedule refuses work (returns false)
// when the queue is full, so a server can answer RESOURCE_EXHAUSTED instead of queueing without
// limit. The destructor runs what is queued, then joins the workers.
// Thread-safe. Lock discipline: mu_ guards queue_ and stopping_.
#ifndef DOGSEARCH_COMMON_BASE_THREAD_POOL_H_
#define DOGSEARCH_COMMON_BASE_THREAD_POOL_H_

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace dogsearch {

class ThreadPool {
 public:
  // REQUIRES: threads >= 1, max_queued >= 1.
  ThreadPool(int threads, size_t max_queued);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  // False if the queue is full or the pool is stopping.
  bool TrySchedule(std::function<void()> task);
  size_t queued() const;

 private:
  void Work();

  const size_t max_queued_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> queue_;
  bool stopping_ = false;
  std::vector<std::thread> workers_;
};

}  // namespace dogsearch

#endif  // DOGSEARCH_COMMON_BASE_THREAD_POOL_H_
