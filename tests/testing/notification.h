// A one-shot event for tests, built on std::mutex and std::condition_variable so that
// ThreadSanitizer sees the hand-off (Debian's absl::Notification is uninstrumented).
#ifndef DOGSEARCH_TESTS_TESTING_NOTIFICATION_H_
#define DOGSEARCH_TESTS_TESTING_NOTIFICATION_H_

#include <condition_variable>
#include <mutex>

namespace dogsearch::testing {

class Notification {
 public:
  // Notifies under the lock, so a waiter that wakes and destroys this object cannot do so
  // while notify_all is still running.
  void Notify() {
    std::lock_guard<std::mutex> lock(mu_);
    notified_ = true;
    cv_.notify_all();
  }
  void WaitForNotification() {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [this] { return notified_; });
  }
  bool HasBeenNotified() {
    std::lock_guard<std::mutex> lock(mu_);
    return notified_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool notified_ = false;
};

}  // namespace dogsearch::testing

#endif  // DOGSEARCH_TESTS_TESTING_NOTIFICATION_H_
