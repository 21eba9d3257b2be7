// Runs a function every `interval` on its own thread until Stop(): the stop flag, condition
// variable and thread that a background loop otherwise writes by hand. Stop() wakes the wait at
// once and joins after a run in progress returns; Wake() runs the function early. A function
// may also choose its own next wait (the second constructor).
// Thread-safe. Lock discipline: mu_ guards stopping_ and woken_; cv_ signals changes.
#ifndef DOGSEARCH_COMMON_BASE_PERIODIC_THREAD_H_
#define DOGSEARCH_COMMON_BASE_PERIODIC_THREAD_H_

#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/time/time.h"

namespace dogsearch {

class PeriodicThread {
 public:
  enum class FirstRun { kNow, kAfterInterval };

  // Starts the thread. REQUIRES: interval > 0.
  PeriodicThread(absl::Duration interval, std::function<void()> fn,
                 FirstRun first = FirstRun::kAfterInterval);
  // Starts the thread, runs `fn` at once and then again after the wait each run returns (or
  // when woken). REQUIRES: fn returns a positive duration.
  explicit PeriodicThread(std::function<absl::Duration()> fn);
  ~PeriodicThread();  // Stop().
  PeriodicThread(const PeriodicThread&) = delete;
  PeriodicThread& operator=(const PeriodicThread&) = delete;

  void Stop();
  void Wake();

 private:
  void Loop(FirstRun first);

  const absl::Duration interval_;             // The wait before a first delayed run.
  const std::function<absl::Duration()> fn_;  // One run; returns the wait before the next.
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  bool woken_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;  // Last: started by the constructor once the members above exist.
};

}  // namespace dogsearch

#endif  // DOGSEARCH_COMMON_BASE_PERIODIC_THREAD_H_
