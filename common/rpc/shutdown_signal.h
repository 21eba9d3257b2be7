// Waits for SIGTERM or SIGINT without a signal handler: Install() blocks both signals in the
// calling thread (and so in every thread it creates afterwards: call it first thing in main)
// and starts one thread that sigwait()s for them. main() then calls Wait() and shuts down in
// order. Trigger() wakes Wait() without a signal (tests, fatal errors). Thread-safe.
#ifndef DOGSEARCH_COMMON_RPC_SHUTDOWN_SIGNAL_H_
#define DOGSEARCH_COMMON_RPC_SHUTDOWN_SIGNAL_H_

#include <pthread.h>

#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/time/time.h"

namespace dogsearch::rpc {

class ShutdownSignal {
 public:
  static std::unique_ptr<ShutdownSignal> Install();
  ~ShutdownSignal();
  ShutdownSignal(const ShutdownSignal&) = delete;
  ShutdownSignal& operator=(const ShutdownSignal&) = delete;

  // Blocks until a signal arrives or Trigger() is called; returns the signal number, or 0 for
  // Trigger().
  int Wait();
  // Like Wait, but gives up after `timeout`; returns -1 then.
  int WaitFor(absl::Duration timeout);
  void Trigger();

 private:
  ShutdownSignal() = default;
  void Deliver(int signal);

  std::thread waiter_;
  pthread_t waiter_handle_{};
  std::mutex mu_;  // Guards received_ and stopping_; cv_ signals received_ changes.
  std::condition_variable cv_;
  // -1 until something arrives; then the signal number (0 for Trigger).
  int received_ ABSL_GUARDED_BY(mu_) = -1;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace dogsearch::rpc

#endif  // DOGSEARCH_COMMON_RPC_SHUTDOWN_SIGNAL_H_
