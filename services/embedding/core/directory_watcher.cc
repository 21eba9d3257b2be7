#include "services/embedding/core/directory_watcher.h"

#include "common/base/log.h"
#include "common/model/checkpoint_manifest.h"

namespace dogsearch::embedding {

DirectoryWatcher::DirectoryWatcher(std::string dir, ModelRepository* repository, bool make_default,
                                   absl::Duration interval)
    : dir_(std::move(dir)), repository_(repository), make_default_(make_default) {
  auto existing = model::ListCheckpoints(dir_);
  if (existing.ok()) {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& m : *existing) seen_.insert(m.version);
  }
  if (interval > absl::ZeroDuration()) {
    thread_ = std::make_unique<PeriodicThread>(
        interval, [this] { Poll(); }, PeriodicThread::FirstRun::kNow);
  }
}

int DirectoryWatcher::Poll() {
  auto checkpoints = model::ListCheckpoints(dir_);  // Oldest first; complete ones only.
  if (!checkpoints.ok()) {
    DS_LOG(kWarning, "model_dir_unreadable").Kv("dir", dir_).Kv("status", checkpoints.status());
    return 0;
  }
  int started = 0;
  for (const auto& m : *checkpoints) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!seen_.insert(m.version).second) continue;
    }
    // Already loaded (e.g. by LoadModel) is fine: ALREADY_EXISTS is ignored.
    if (repository_->StartLoad(m.version, make_default_).ok()) ++started;
  }
  return started;
}

}  // namespace dogsearch::embedding
