// In-memory stand-ins for the embedding and index services, for tests of the gateway core's
// logic without processes: a fake "JPEG" that carries a dog number and a photo number (valid
// header, never decoded), an embedding whose vectors depend on the dog (so search has a right
// answer) and on the model version (so two versions are two different spaces), and a
// brute-force index that enforces the contract's checks (model version pinning, aliases).
// Both can be switched "down" (UNAVAILABLE) and count calls. Thread-safe (one mutex each).
#ifndef DOGSEARCH_TESTS_GATEWAY_FAKES_H_
#define DOGSEARCH_TESTS_GATEWAY_FAKES_H_

#include <atomic>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "services/gateway/core/backends.h"

namespace dogsearch::gateway::testing {

// A tiny but well-formed baseline JPEG header (SOI, COM with the ids, SOF0 64x64, EOI).
std::string FakePhoto(int dog, int photo);

class FakeEmbedding : public EmbeddingBackend {
 public:
  static constexpr int kDim = 16;
  explicit FakeEmbedding(std::string default_version) : default_(std::move(default_version)) {
    Add(default_);
  }
  // A loadable (not yet loaded) checkpoint version.
  void AddCheckpoint(const std::string& version) {
    std::lock_guard<std::mutex> l(mu_);
    checkpoints_.insert(version);
  }
  // Replaces the 1:N calibration every model reports (the default is hand-shaped, fakes.cc).
  void set_identification(const v1::IdentificationCalibration& c) {
    std::lock_guard<std::mutex> l(mu_);
    identification_ = c;
  }
  void set_down(bool down) {
    std::lock_guard<std::mutex> l(mu_);
    down_ = down;
  }
  // Embeds of photos of this dog fail with INVALID_ARGUMENT (a "corrupt" photo).
  void set_fail_dog(int dog) {
    std::lock_guard<std::mutex> l(mu_);
    fail_dog_ = dog;
  }
  // Every model reports a score-normalisation cohort and gives each photo of `dog` this score
  // offset (other dogs' photos 0). Set before the core starts.
  void set_score_offset(int dog, float offset) {
    std::lock_guard<std::mutex> l(mu_);
    score_offsets_[dog] = offset;
  }
  // Every version embeds photo `photo` of `dog` as exactly `v` (give a unit vector of kDim)
  // instead of its dog's centre plus noise: hand-placed geometry.
  void set_vector(int dog, int photo, std::vector<float> v) {
    std::lock_guard<std::mutex> l(mu_);
    vectors_[{dog, photo}] = std::move(v);
  }
  // Each Embed call sleeps this long first (to catch work in flight).
  void set_delay(absl::Duration d) {
    std::lock_guard<std::mutex> l(mu_);
    delay_ = d;
  }
  std::set<std::string> loaded() const {
    std::lock_guard<std::mutex> l(mu_);
    return loaded_;
  }
  std::string default_version() const {
    std::lock_guard<std::mutex> l(mu_);
    return default_;
  }
  // The vector a version gives a photo (what the fake computes), for test expectations.
  static std::vector<float> VectorFor(const std::string& version, const std::string& data);
  // The most Embed calls that were running at once.
  int max_in_flight() const { return max_in_flight_.load(); }
  // Photos per Embed call received so far.
  std::vector<int> call_sizes() const {
    std::lock_guard<std::mutex> l(mu_);
    return call_sizes_;
  }

  absl::StatusOr<v1::EmbedResponse> Embed(const v1::EmbedRequest& request,
                                          absl::Time deadline) override;
  absl::StatusOr<v1::ModelInfo> GetModel(const std::string& version, absl::Time deadline) override;
  absl::StatusOr<v1::ListModelsResponse> ListModels(absl::Time deadline) override;
  absl::StatusOr<v1::ModelInfo> LoadModel(const std::string& version, bool make_default,
                                          absl::Time deadline) override;
  absl::StatusOr<v1::ModelInfo> SetDefaultModel(const std::string& version,
                                                absl::Time deadline) override;
  absl::Status UnloadModel(const std::string& version, absl::Time deadline) override;

 private:
  void Add(const std::string& version) { loaded_.insert(version); }
  v1::ModelInfo Info(const std::string& version) const;

  mutable std::mutex mu_;
  std::string default_;
  std::set<std::string> loaded_;
  std::set<std::string> checkpoints_;
  bool down_ = false;
  int fail_dog_ = -1;
  std::optional<v1::IdentificationCalibration> identification_;
  std::map<int, float> score_offsets_;
  std::map<std::pair<int, int>, std::vector<float>> vectors_;  // Guarded by mu_ (set_vector).
  absl::Duration delay_;
  std::vector<int> call_sizes_;
  std::atomic<int> in_flight_{0}, max_in_flight_{0};
};

class FakeIndex : public IndexBackend {
 public:
  // Added to every distance Search returns (rounding noise as a real index has it).
  void set_distance_noise(float noise) {
    std::lock_guard<std::mutex> l(mu_);
    distance_noise_ = noise;
  }
  void set_down(bool down) {
    std::lock_guard<std::mutex> l(mu_);
    down_ = down;
  }
  // The next `n` Upserts into `collection` fail with UNAVAILABLE.
  void FailUpserts(const std::string& collection, int n) {
    std::lock_guard<std::mutex> l(mu_);
    fail_upserts_[collection] = n;
  }
  // Loses everything, as an index whose data folder was wiped.
  void Wipe() {
    std::lock_guard<std::mutex> l(mu_);
    collections_.clear();
    aliases_.clear();
  }
  size_t Count(const std::string& collection) const;
  bool HasCollection(const std::string& name) const;
  std::string AliasTarget(const std::string& alias) const;
  // Searches refused because the pinned version did not match the collection's.
  int version_mismatches() const {
    std::lock_guard<std::mutex> l(mu_);
    return version_mismatches_;
  }

  absl::StatusOr<v1::CollectionInfo> CreateCollection(const v1::CreateCollectionRequest& request,
                                                      absl::Time deadline) override;
  absl::StatusOr<v1::CollectionInfo> GetCollection(const std::string& name,
                                                   absl::Time deadline) override;
  absl::StatusOr<v1::ListCollectionsResponse> ListCollections(absl::Time deadline) override;
  absl::Status DropCollection(const std::string& name, absl::Time deadline) override;
  absl::StatusOr<v1::UpsertResponse> Upsert(const v1::UpsertRequest& request,
                                            absl::Time deadline) override;
  absl::StatusOr<v1::DeleteResponse> Delete(const v1::DeleteRequest& request,
                                            absl::Time deadline) override;
  absl::StatusOr<v1::GetResponse> Get(const v1::GetRequest& request, absl::Time deadline) override;
  absl::StatusOr<v1::VectorSearchResponse> Search(const v1::VectorSearchRequest& request,
                                                  absl::Time deadline) override;
  absl::StatusOr<v1::AliasInfo> SetAlias(const v1::SetAliasRequest& request,
                                         absl::Time deadline) override;
  absl::StatusOr<v1::ListAliasesResponse> ListAliases(absl::Time deadline) override;
  // In id order; the page token is the last id listed.
  absl::StatusOr<v1::ListRecordIdsResponse> ListRecordIds(const v1::ListRecordIdsRequest& request,
                                                          absl::Time deadline) override;

 private:
  struct Collection {
    v1::CollectionInfo info;
    std::map<std::string, v1::Record> records;
  };
  // Resolves an alias; NOT_FOUND. REQUIRES mu_.
  absl::StatusOr<Collection*> FindLocked(const std::string& name);

  mutable std::mutex mu_;
  std::map<std::string, Collection> collections_;
  std::map<std::string, std::string> aliases_;
  std::map<std::string, int> fail_upserts_;
  bool down_ = false;
  int version_mismatches_ = 0;
  float distance_noise_ = 0;
};

}  // namespace dogsearch::gateway::testing

#endif  // DOGSEARCH_TESTS_GATEWAY_FAKES_H_
