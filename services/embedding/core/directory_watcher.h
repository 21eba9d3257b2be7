// Watches a checkpoint directory and asks the repository to load every complete checkpoint
// (a directory with a valid manifest; temporaries are ignored) that appears after the watcher
// started, optionally making it the default. Checkpoints already there at start are not
// loaded by the watcher: the server chooses which of those to serve. Polls every interval on its own thread; Poll() does one pass
// (tests call it directly). A version that failed to load is not retried until it reappears
// under a new name. Thread-safe. Lock discipline: mu_ guards seen_ and stopping_.
#ifndef DOGSEARCH_SERVICES_EMBEDDING_CORE_DIRECTORY_WATCHER_H_
#define DOGSEARCH_SERVICES_EMBEDDING_CORE_DIRECTORY_WATCHER_H_

#include <condition_variable>
#include <mutex>
#include <set>
#include <string>
#include <thread>

#include "absl/time/time.h"
#include "services/embedding/core/model_repository.h"

namespace dogsearch::embedding {

class DirectoryWatcher {
 public:
  // interval <= 0: no thread; only explicit Poll() calls.
  DirectoryWatcher(std::string dir, ModelRepository* repository, bool make_default,
                   absl::Duration interval);
  ~DirectoryWatcher();

  // Returns how many new versions it asked to load.
  int Poll();

 private:
  void Loop();

  const std::string dir_;
  ModelRepository* const repository_;
  const bool make_default_;
  const absl::Duration interval_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::set<std::string> seen_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace dogsearch::embedding

#endif  // DOGSEARCH_SERVICES_EMBEDDING_CORE_DIRECTORY_WATCHER_H_
