// Watches a checkpoint directory and asks the repository to load every complete checkpoint
// (a directory with a valid manifest; temporaries are ignored) that appears after the watcher
// started, optionally making it the default. Checkpoints already there at start are not
// loaded by the watcher: the server chooses which of those to serve. Polls every interval on its
// own thread; Poll() does one pass (tests call it directly). A version that failed to load is not
// retried until it reappears under a new name. Thread-safe. Lock discipline: mu_ guards seen_.
#ifndef DOGSEARCH_SERVICES_EMBEDDING_CORE_DIRECTORY_WATCHER_H_
#define DOGSEARCH_SERVICES_EMBEDDING_CORE_DIRECTORY_WATCHER_H_

#include <memory>
#include <mutex>
#include <set>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/time/time.h"
#include "common/base/periodic_thread.h"
#include "services/embedding/core/model_repository.h"

namespace dogsearch::embedding {

class DirectoryWatcher {
 public:
  // interval <= 0: no thread; only explicit Poll() calls.
  DirectoryWatcher(std::string dir, ModelRepository* repository, bool make_default,
                   absl::Duration interval);

  // Returns how many new versions it asked to load.
  int Poll();

 private:
  const std::string dir_;
  ModelRepository* const repository_;
  const bool make_default_;
  std::mutex mu_;
  std::set<std::string> seen_ ABSL_GUARDED_BY(mu_);
  std::unique_ptr<PeriodicThread> thread_;  // Last: runs Poll, which uses the members above.
};

}  // namespace dogsearch::embedding

#endif  // DOGSEARCH_SERVICES_EMBEDDING_CORE_DIRECTORY_WATCHER_H_
