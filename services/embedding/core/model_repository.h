// The embedding service's models: several versions at once, one of them the default, each in a
// state (LOADING, READY, FAILED with a reason). Loading runs off the request path on its own
// thread through an injected loader (LibTorch in production: verify, probe, warm up; fakes in
// tests); a version that fails any step is FAILED and changes nothing that is served.
//
// Race-free by construction: a READY model is an immutable EmbeddingModel behind a shared_ptr.
// Acquire() hands out a reference; SetDefault swaps which version "" means under mu_; Unload
// drops the repository's reference, and the model is freed when the last in-flight batch
// releases its own. Lock discipline: mu_ guards entries_, default_, pending_, stopping_; the
// loader function runs without mu_; on_change is called without mu_.
#ifndef DOGSEARCH_SERVICES_EMBEDDING_CORE_MODEL_REPOSITORY_H_
#define DOGSEARCH_SERVICES_EMBEDDING_CORE_MODEL_REPOSITORY_H_

#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "services/embedding/core/embedding_model.h"

namespace dogsearch::embedding {

enum class ModelState { kLoading, kReady, kFailed };

struct ModelStatus {
  std::string version;
  ModelState state = ModelState::kLoading;
  std::string reason;
  bool is_default = false;
  std::shared_ptr<const EmbeddingModel> model;  // READY only.
  int64_t ready_unix_seconds = 0;
  uint64_t ready_order = 0;  // Increases with each model that becomes READY.
};

using ModelLoader = std::function<absl::StatusOr<std::shared_ptr<const EmbeddingModel>>(
    const std::string& version)>;

struct RepositoryOptions {
  // READY versions kept at most; loading one more retires the oldest non-default one.
  int max_loaded = 3;
  // Called after any state or default change (health, metrics). Must not call back in.
  std::function<void()> on_change;
};

class ModelRepository {
 public:
  ModelRepository(ModelLoader loader, RepositoryOptions options);
  ~ModelRepository();  // Waits for loads in progress.

  // Starts loading; the version must not be LOADING or READY (ALREADY_EXISTS). A FAILED
  // version may be retried. make_default: becomes the default once READY.
  absl::Status StartLoad(const std::string& version, bool make_default);
  // The version's status once it is no longer LOADING, or at the timeout.
  absl::StatusOr<ModelStatus> WaitUntilLoaded(const std::string& version, absl::Duration timeout);

  // "" = the default. NOT_FOUND (unknown), FAILED_PRECONDITION (loading, failed, no default).
  absl::StatusOr<std::shared_ptr<const EmbeddingModel>> Acquire(const std::string& version) const;
  absl::StatusOr<ModelStatus> Get(const std::string& version) const;
  absl::Status SetDefault(const std::string& version);
  // NOT_FOUND, FAILED_PRECONDITION for the default.
  absl::Status Unload(const std::string& version);
  std::vector<ModelStatus> List() const;
  std::string default_version() const;
  bool HasReadyDefault() const;

 private:
  void LoaderLoop();
  void Load(const std::string& version, bool make_default);
  void RetireExtra(std::vector<std::shared_ptr<const EmbeddingModel>>* retired);
  void Changed() const;

  const ModelLoader loader_;
  const RepositoryOptions options_;
  mutable std::mutex mu_;
  std::condition_variable loaded_cv_;
  std::map<std::string, ModelStatus> entries_ ABSL_GUARDED_BY(mu_);
  std::string default_ ABSL_GUARDED_BY(mu_);
  uint64_t ready_count_ ABSL_GUARDED_BY(mu_) = 0;
  // Versions whose load finished AND whose on_change has run: WaitUntilLoaded returns only
  // then, so a caller told "READY" also sees the health and metrics that follow from it.
  std::set<std::string> announced_ ABSL_GUARDED_BY(mu_);
  std::condition_variable work_cv_;
  std::deque<std::pair<std::string, bool>> pending_
      ABSL_GUARDED_BY(mu_);  // (version, make_default) to load.
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread loader_thread_;  // Last member: starts after everything it uses.
};

}  // namespace dogsearch::embedding

#endif  // DOGSEARCH_SERVICES_EMBEDDING_CORE_MODEL_REPOSITORY_H_
