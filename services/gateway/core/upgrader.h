// Blue/green model upgrades of the gallery, without downtime:
//   LOADING_MODEL  the new version is loaded (pinned, not default) in the embedding service;
//   REEMBEDDING    its collection is created and becomes the staging target (every enrolment
//                  from now on writes to both spaces), then every stored photo is re-embedded
//                  into it in photo-id order, in waves of reembed_streams batches embedded in
//                  parallel and written in order, the cursor persisted after each wave;
//   FLIPPING       under the gallery write mutex: the index alias is pointed at the new
//                  collection, the serving version is committed to SQLite and swapped in
//                  memory, and the new version becomes the embedding service's default;
//   SUCCEEDED      after a grace period the old collection is dropped and the old model
//                  unloaded (recorded in SQLite first, so a restart finishes the job).
// The same machinery rebuilds the serving collection in place when the index has lost it.
// A failure before the flip leaves the old model serving, drops the half-built collection and
// ends in FAILED with the reason; StartModelUpgrade may be called again. A gateway restart
// resumes an upgrade from its persisted state and cursor.
//
// Threading: one worker thread per upgrade (plus reembed_streams - 1 short-lived threads per
// wave, which only read photos and call the embedding service). mu_ guards progress_,
// running_, retiring_, stopping_ and worker_;
// cv_ wakes the grace-period wait. Batch writes take ServingState's write mutex (never while
// holding mu_).
#ifndef DOGSEARCH_SERVICES_GATEWAY_CORE_UPGRADER_H_
#define DOGSEARCH_SERVICES_GATEWAY_CORE_UPGRADER_H_

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "dogsearch/v1/dogsearch.pb.h"
#include "services/gateway/core/gallery_store.h"
#include "services/gateway/core/options.h"
#include "services/gateway/core/serving_state.h"
#include "services/gateway/core/vectors.h"

namespace dogsearch::gateway {

// Keys in the gallery store's meta table.
inline constexpr char kMetaServingVersion[] = "serving_version";
inline constexpr char kMetaUpgrade[] = "upgrade";               // Serialized UpgradeProgress.
inline constexpr char kMetaUpgradeCursor[] = "upgrade_cursor";  // Last photo id re-embedded.
inline constexpr char kMetaRetireVersion[] = "retire_version";  // Old version to retire.

class Upgrader {
 public:
  Upgrader(GatewayDeps deps, ServingState* state, const GatewayOptions* options);
  ~Upgrader();  // Stop().

  // ALREADY_EXISTS (already serving it), ABORTED (an upgrade is running), FAILED_PRECONDITION
  // (nothing serving yet), INVALID_ARGUMENT (bad version). Starts the worker and returns the
  // progress at that moment; a version the embedding service cannot load ends as FAILED.
  // `rebuild`: re-embed every photo into the serving version's own collection (after the index
  // lost it); same steps, no staging, nothing dropped or retired.
  absl::StatusOr<v1::UpgradeProgress> Start(const std::string& version, bool rebuild = false);
  // Resumes an upgrade that a previous process left running (called once the serving model is
  // restored). Retires what a finished upgrade left to retire.
  void ResumeIfInterrupted();
  v1::UpgradeProgress progress() const;
  bool running() const;
  // Stops the worker at its next step (the persisted state lets a restart resume).
  void Stop();

 private:
  absl::Status CheckIdleLocked() const;
  void Run(v1::UpgradeProgress progress, std::string cursor);
  absl::Status Reembed(const TargetPtr& target, std::string* cursor);
  // Reads the stored bytes of `rows` (skipping photos deleted meanwhile) and embeds them.
  absl::Status EmbedBatch(const TargetPtr& target, const std::vector<PhotoRow>& rows,
                          std::vector<PhotoBytes>* photos, Embedded* vectors);
  // Writes a batch's vectors, except photos deleted while it was embedded.
  absl::Status WriteBatch(const TargetPtr& target, std::vector<PhotoBytes>* photos,
                          Embedded* vectors);
  absl::Status Flip(const TargetPtr& from, const TargetPtr& to);
  void Retire(const std::string& version, bool wait_grace);
  void RetireNow(const std::string& version);
  void Update(const std::function<void(v1::UpgradeProgress*)>& change);
  void Persist(const v1::UpgradeProgress& progress, const std::string* cursor);
  void Fail(const absl::Status& status, const TargetPtr& target);

  GatewayDeps deps_;
  ServingState* const state_;
  const GatewayOptions* const options_;
  std::atomic<bool> cancel_{false};

  mutable std::mutex mu_;
  std::condition_variable cv_;
  v1::UpgradeProgress progress_ ABSL_GUARDED_BY(mu_);
  bool running_ ABSL_GUARDED_BY(mu_) = false;
  bool retiring_ ABSL_GUARDED_BY(mu_) =
      false;  // Waiting out the grace period before retiring the old version.
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread worker_;
};

}  // namespace dogsearch::gateway

#endif  // DOGSEARCH_SERVICES_GATEWAY_CORE_UPGRADER_H_
