#include "common/base/periodic_thread.h"

namespace dogsearch {

PeriodicThread::PeriodicThread(absl::Duration interval, std::function<void()> fn, FirstRun first)
    : interval_(interval),
      fn_([fn = std::move(fn), interval] {
        fn();
        return interval;
      }),
      thread_([this, first] { Loop(first); }) {}

PeriodicThread::PeriodicThread(std::function<absl::Duration()> fn)
    : interval_(absl::ZeroDuration()),
      fn_(std::move(fn)),
      thread_([this] { Loop(FirstRun::kNow); }) {}

PeriodicThread::~PeriodicThread() { Stop(); }

void PeriodicThread::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable() && thread_.get_id() != std::this_thread::get_id()) thread_.join();
}

void PeriodicThread::Wake() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    woken_ = true;
  }
  cv_.notify_all();
}

void PeriodicThread::Loop(FirstRun first) {
  std::unique_lock<std::mutex> lock(mu_);
  bool run = first == FirstRun::kNow;
  while (!stopping_) {
    absl::Duration wait = interval_;
    if (run) {
      lock.unlock();
      wait = fn_();
      lock.lock();
    }
    cv_.wait_for(lock, absl::ToChronoNanoseconds(wait), [this] { return stopping_ || woken_; });
    woken_ = false;
    run = true;
  }
}

}  // namespace dogsearch
