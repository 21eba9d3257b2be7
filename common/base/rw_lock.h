// A reader/writer lock that prefers writers: once a writer waits, new readers wait behind it.
// glibc's pthread_rwlock (behind std::shared_mutex) prefers readers, so a steady stream of
// searches can starve a writer forever; this lock bounds a writer's wait by the longest
// reader already inside. Built on std::mutex and std::condition_variable, so ThreadSanitizer
// sees every hand-off. Meets the SharedMutex requirements used by std::shared_lock and
// std::unique_lock. Lock discipline: mu_ guards the three counters.
#ifndef DOGSEARCH_COMMON_BASE_RW_LOCK_H_
#define DOGSEARCH_COMMON_BASE_RW_LOCK_H_

#include <condition_variable>
#include <mutex>

namespace dogsearch {

class WriterPriorityRwLock {
 public:
  void lock() {
    std::unique_lock<std::mutex> l(mu_);
    ++writers_waiting_;
    cv_.wait(l, [this] { return !writer_active_ && readers_ == 0; });
    --writers_waiting_;
    writer_active_ = true;
  }
  void unlock() {
    {
      std::lock_guard<std::mutex> l(mu_);
      writer_active_ = false;
    }
    cv_.notify_all();
  }
  void lock_shared() {
    std::unique_lock<std::mutex> l(mu_);
    cv_.wait(l, [this] { return !writer_active_ && writers_waiting_ == 0; });
    ++readers_;
  }
  void unlock_shared() {
    bool last;
    {
      std::lock_guard<std::mutex> l(mu_);
      last = --readers_ == 0;
    }
    if (last) cv_.notify_all();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  int readers_ = 0;
  int writers_waiting_ = 0;
  bool writer_active_ = false;
};

}  // namespace dogsearch

#endif  // DOGSEARCH_COMMON_BASE_RW_LOCK_H_
