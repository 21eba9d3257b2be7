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
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
    waiter_blocked = received_ <= 0;
  }
  // Wake the sigwait() with a signal aimed at that thread alone; it is blocked there, so it is
  // delivered to sigwait and not to a default handler.
  if (waiter_blocked) pthread_kill(waiter_handle_, SIGTERM);
  waiter_.join();
}

void ShutdownSignal::Deliver(int signal) {
  bool log = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (received_ == -1) received_ = signal;
    log = !stopping_;
  }
  cv_.notify_all();
  if (log) {
    DS_LOG(kInfo, "shutdown_requested").Kv("signal", signal == SIGINT ? "SIGINT" : "SIGTERM");
  }
}

void ShutdownSignal::Trigger() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (received_ == -1) received_ = 0;
  }
  cv_.notify_all();
}

int ShutdownSignal::Wait() {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait(lock, [this] { return received_ != -1; });
  return received_;
}

int ShutdownSignal::WaitFor(absl::Duration timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait_for(lock, absl::ToChronoNanoseconds(timeout), [this] { return received_ != -1; });
  return received_;
}

}  // namespace dogsearch::rpc
