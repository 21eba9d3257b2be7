// Runs a real program as a child process for tests that kill and restart servers: stdout is
// piped so the test can wait for a readiness line; stderr goes to the test's stderr.
// Not thread-safe; one owner. The destructor SIGKILLs a child that is still running.
#ifndef DOGSEARCH_TESTS_TESTING_SUBPROCESS_H_
#define DOGSEARCH_TESTS_TESTING_SUBPROCESS_H_

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace dogsearch::testing {

class Subprocess {
 public:
  static absl::StatusOr<std::unique_ptr<Subprocess>> Start(const std::vector<std::string>& argv);
  ~Subprocess();

  // Reads stdout until a line starting with `prefix` appears; returns that line.
  absl::StatusOr<std::string> WaitForLine(const std::string& prefix, absl::Duration timeout);
  void Kill(int signal);
  // Waits for exit; returns the raw wait status.
  int Wait();
  pid_t pid() const { return pid_; }

 private:
  Subprocess() = default;
  pid_t pid_ = -1;
  int stdout_fd_ = -1;
  std::string buffer_;
  bool exited_ = false;
};

// A loopback port nothing listens on right now (the kernel's pick for an ephemeral bind), for
// servers whose flag takes a fixed port (--metrics_port).
int FreeLoopbackPort();

// "… on port N" -> N, from a server's readiness line.
absl::StatusOr<int> PortFromLine(const std::string& line);

// Runs a shell command to completion; its stdout and stderr together, and its exit code (-1
// when it did not exit normally).
struct CommandResult {
  int code = -1;
  std::string out;
};
CommandResult RunCommand(const std::string& shell_command);

// Starts a server and waits for its "<ready> … on port N" line; sets *port.
absl::StatusOr<std::unique_ptr<Subprocess>> StartServer(
    const std::vector<std::string>& argv, const std::string& ready, int* port,
    absl::Duration timeout = absl::Seconds(120));

}  // namespace dogsearch::testing

#endif  // DOGSEARCH_TESTS_TESTING_SUBPROCESS_H_
