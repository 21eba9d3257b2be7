#include "common/rpc/shutdown_signal.h"

#include <csignal>

#include "common/base/log.h"

namespace dogsearch::rpc {
namespace {

sigset_t ShutdownSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  return set;
}

}  // namespace

std::unique_ptr<ShutdownSignal> ShutdownSignal::Install() {
  sigset_t set = ShutdownSignals();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  std::unique_ptr<ShutdownSignal> s(new ShutdownSignal());
  ShutdownSignal* self = s.get();
  s->waiter_ = std::thread([self, set] {
    int sig = 0;
    while (sigwait(&set, &sig) != 0) {
    }
    self->Deliver(sig);
  });
  s->waiter_handle_ = s->waiter_.native_handle();
  return s;
}

ShutdownSignal::~ShutdownSignal() {
  bool waiter_blocked;
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
    waiter_blocked = received_ <= 0;
  }
  // Wake the sigwait() with a signal aimed at that thread alone; it is blocked there, so it is
  // delivered to sigwait and not to a default handler.
  if (waiter_blocked) pthread_kill(waiter_handle_, SIGTERM);
  waiter_.join();
}

void ShutdownSignal::Deliver(int signal) {
  absl::MutexLock lock(&mu_);
  if (stopping_ && received_ != -1) return;
  if (received_ == -1) received_ = signal;
  if (!stopping_) {
    DS_LOG(kInfo, "shutdown_requested").Kv("signal", signal == SIGINT ? "SIGINT" : "SIGTERM");
  }
}

void ShutdownSignal::Trigger() {
  absl::MutexLock lock(&mu_);
  if (received_ == -1) received_ = 0;
}

int ShutdownSignal::Wait() {
  absl::MutexLock lock(&mu_);
  mu_.Await(absl::Condition(
      +[](int* r) { return *r != -1; }, &received_));
  return received_;
}

int ShutdownSignal::WaitFor(absl::Duration timeout) {
  absl::MutexLock lock(&mu_);
  mu_.AwaitWithTimeout(absl::Condition(+[](int* r) { return *r != -1; }, &received_), timeout);
  return received_;
}

}  // namespace dogsearch::rpc
