// Runs a function every `interval` on its own thread until Stop(): the stop flag, condition
// variable and thread that a background loop otherwise writes by hand. Stop() wakes the wait at
// once and joins after a run in progress returns; Wake() runs the function early.
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
  ~PeriodicThread();  // Stop().
  PeriodicThread(const PeriodicThread&) = delete;
  PeriodicThread& operator=(const PeriodicThread&) = delete;

  void Stop();
  void Wake();

 private:
  void Loop(FirstRun first);

  const absl::Duration interval_;
  const std::function<void()> fn_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  bool woken_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;  // Last: started by the constructor once the members above exist.
};

}  // namespace dogsearch

#endif  // DOGSEARCH_COMMON_BASE_PERIODIC_THREAD_H_
