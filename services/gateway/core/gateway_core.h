// The gateway's logic, with no gRPC in it: dogs and their photos (SQLite + files by hash),
// search and verification through the embedding and index backends, model status, and the
// upgrade coordinator. The gRPC service and the HTTP API are thin wrappers over this class;
// both speak the DogSearch protobuf messages.
//
// Consistency: SQLite is the source of truth. A gallery write embeds first (outside any lock),
// then, holding ServingState's write mutex, re-checks that the embedding spaces it computed for
// are still the ones to write, writes photo files, writes the vectors to every target
// collection, and commits the rows. Removals delete vectors first and rows last, so a failure
// can always be retried. A search reads one immutable serving target and pins both calls to it.
//
// Threading: every public method is thread-safe. A supervisor thread (Start/Stop) restores or
// bootstraps the serving model, reloads it into the embedding service when that restarted,
// resumes an upgrade interrupted by a restart, and rebuilds the gallery's collection from the
// stored photos when the index has lost it. mu_ guards stopping_ and the supervisor thread.
#ifndef DOGSEARCH_SERVICES_GATEWAY_CORE_GATEWAY_CORE_H_
#define DOGSEARCH_SERVICES_GATEWAY_CORE_GATEWAY_CORE_H_

#include <functional>
#include <memory>
#include <mutex>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/base/periodic_thread.h"
#include "dogsearch/v1/dogsearch.pb.h"
#include "services/gateway/core/options.h"
#include "services/gateway/core/serving_state.h"
#include "services/gateway/core/upgrader.h"
#include "services/gateway/core/vectors.h"

namespace dogsearch::gateway {

// One point of the embedding map: a gallery photo projected on the gallery's first two
// principal components.
struct MapPoint {
  std::string photo_id;
  std::string dog_id;
  std::string dog_name;
  float x = 0;
  float y = 0;
};

class GatewayCore {
 public:
  GatewayCore(GatewayDeps deps, GatewayOptions options);
  ~GatewayCore();  // Stop().
  GatewayCore(const GatewayCore&) = delete;
  GatewayCore& operator=(const GatewayCore&) = delete;

  void Start();
  void Stop();
  // A model is serving searches.
  bool serving() const { return state_.serving() != nullptr; }

  absl::StatusOr<v1::SearchResponse> Search(const v1::SearchRequest& req, absl::Time deadline);
  absl::StatusOr<v1::VerifyResponse> Verify(const v1::VerifyRequest& req, absl::Time deadline);
  absl::StatusOr<v1::Dog> Enroll(const v1::EnrollRequest& req, absl::Time deadline);
  absl::StatusOr<v1::AddPhotosResponse> AddPhotos(const v1::AddPhotosRequest& req,
                                                  absl::Time deadline);
  absl::StatusOr<v1::Dog> RemovePhoto(const v1::RemovePhotoRequest& req, absl::Time deadline);
  absl::Status DeleteDog(const v1::DeleteDogRequest& req, absl::Time deadline);
  absl::StatusOr<v1::Dog> GetDog(const v1::GetDogRequest& req) const;
  absl::StatusOr<v1::ListDogsResponse> ListDogs(const v1::ListDogsRequest& req) const;
  v1::ModelStatus GetModelStatus() const;
  absl::StatusOr<v1::ModelStatus> StartModelUpgrade(const v1::StartModelUpgradeRequest& req);
  // Cheap parts of GetModelStatus (no gallery counts), for the rollout follower.
  std::string serving_version() const;
  v1::UpgradeProgress upgrade_progress() const;
  // GetModelStatus reports `rollout()` when set (a gateway following a trainer). Set before
  // serving; the function must be thread-safe and outlive the core's use of it.
  void SetRolloutReporter(std::function<v1::Rollout()> rollout);

  // A stored photo's bytes (for the web page). INVALID_ARGUMENT, NOT_FOUND.
  absl::StatusOr<std::string> GetPhoto(const std::string& photo_id) const;
  // Up to max_points gallery photos on a 2-D PCA of their vectors.
  absl::StatusOr<std::vector<MapPoint>> EmbeddingMap(size_t max_points, absl::Time deadline);

  // Same-dog probability of a distance in a target's space: the manifest's Platt calibration
  // when it has one, else a logistic of --confidence_scale centred on the threshold.
  float Confidence(float distance, const ModelTarget& target) const;
  const GatewayOptions& options() const { return options_; }

 private:
  struct CheckedUpload {
    std::vector<PhotoBytes> photos;  // Deduplicated, in request order.
    std::vector<PhotoRow> rows;
  };
  absl::StatusOr<CheckedUpload> CheckUploads(
      const google::protobuf::RepeatedPtrField<v1::Photo>& photos, const std::string& dog_id) const;
  // Embeds `photos` for every write target, then under the write mutex stores the files,
  // upserts the vectors and runs `commit` (the SQLite change).
  absl::Status WriteGallery(const std::vector<PhotoBytes>& photos, absl::Time deadline,
                            const std::function<absl::Status()>& commit);
  // Deletes vectors from every target then runs `commit`, under the write mutex.
  absl::Status RemoveFromGallery(const std::vector<std::string>& photo_ids, absl::Time deadline,
                                 const std::function<absl::Status()>& commit);
  absl::Time Cap(absl::Time deadline) const;
  absl::StatusOr<TargetPtr> ServingOrError() const;
  // The photo's vector and score offset (one entry).
  absl::StatusOr<Embedded> EmbedQuery(const TargetPtr& target, const v1::Photo& photo,
                                      absl::string_view label, absl::Time deadline);
  v1::Dog ToProto(const DogRow& row) const;

  // One pass of the supervisor (on its PeriodicThread): restore or re-pin the serving model,
  // rebuild a lost collection, resume an interrupted upgrade once serving.
  void SuperviseOnce();
  absl::Status RestoreServing();
  // Starts a rebuild of the serving collection when the index no longer has it.
  absl::Status RebuildIfLost(const ModelTarget& serving);

  GatewayDeps deps_;
  const GatewayOptions options_;
  ServingState state_;
  std::unique_ptr<Upgrader> upgrader_;
  std::atomic<bool> cancel_{false};  // Set by Stop(); polled by long waits.
  // Photos in the gallery for the 1:N answer, recounted at most once a second: the count moves
  // the thresholds by the logarithm of the gallery's size, and COUNT(*) grows with it.
  // gallery_mu_ guards both and serialises recounts (readers within the second skip the lock's
  // work: they read under it and return).
  uint64_t GalleryPhotos();
  std::mutex gallery_mu_;
  uint64_t gallery_photos_ ABSL_GUARDED_BY(gallery_mu_) = 0;
  absl::Time gallery_counted_ ABSL_GUARDED_BY(gallery_mu_) = absl::InfinitePast();

  std::mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::unique_ptr<PeriodicThread> supervisor_ ABSL_GUARDED_BY(mu_);
  // The supervisor thread's own state (touched by SuperviseOnce only).
  bool supervised_resumed_ = false;
  absl::Status supervised_last_;
  // Set once by SetRolloutReporter; read by GetModelStatus.
  mutable std::mutex rollout_mu_;
  std::function<v1::Rollout()> rollout_ ABSL_GUARDED_BY(rollout_mu_);
};

}  // namespace dogsearch::gateway

#endif  // DOGSEARCH_SERVICES_GATEWAY_CORE_GATEWAY_CORE_H_
