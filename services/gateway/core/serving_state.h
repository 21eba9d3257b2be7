// Which embedding space the gallery is searched in, and (during an upgrade) the one it is being
// copied into.
//
// A ModelTarget pairs a model version with the index collection that holds the gallery's vectors
// in that version's space; searches read one immutable target and use its version for both the
// embedding and the index call, so a query is never compared across two spaces.
//
// Ownership and lock discipline: ServingState is owned by the GatewayCore and shared with the
// Upgrader. mu_ guards the two target pointers (readers copy a shared_ptr and release the lock
// at once; targets are immutable). write_mu_ serialises everything that writes vectors or
// gallery rows: enrolments, photo removals and deletions, each re-embedding batch of an
// upgrade, and the alias flip. It is never taken while holding mu_.
#ifndef DOGSEARCH_SERVICES_GATEWAY_CORE_SERVING_STATE_H_
#define DOGSEARCH_SERVICES_GATEWAY_CORE_SERVING_STATE_H_

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "common/model/checkpoint_manifest.h"
#include "dogsearch/v1/model.pb.h"

namespace dogsearch::gateway {

struct ModelTarget {
  std::string version;
  std::string collection;
  uint32_t dimension = 0;
  // Same-dog threshold on the served distance (from the manifest, else the gateway's default).
  float threshold = 1.0f;
  // Platt calibration from the manifest (scale 0 = none: the gateway's default scale around
  // the threshold is used instead).
  float confidence_center = 0.0f;
  float confidence_scale = 0.0f;
  v1::ModelSpec spec;
  v1::EvalMetrics metrics;
  // 1:N calibration from the manifest (not calibrated = never a confident search match).
  model::IdentificationCalibration identification;
  // The model serves score normalisation (ModelInfo.cohort_size > 0): every distance is the
  // normalised one (vectors.h, ServedDistance), thresholds included.
  bool score_normalised = false;
};

using TargetPtr = std::shared_ptr<const ModelTarget>;

class ServingState {
 public:
  TargetPtr serving() const {
    std::lock_guard<std::mutex> lock(mu_);
    return serving_;
  }
  TargetPtr staging() const {
    std::lock_guard<std::mutex> lock(mu_);
    return staging_;
  }
  // Serving first, then staging if any: every target a gallery write must reach.
  std::vector<TargetPtr> write_targets() const {
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<TargetPtr> out;
    if (serving_) out.push_back(serving_);
    if (staging_) out.push_back(staging_);
    return out;
  }
  void set_serving(TargetPtr t) {
    std::lock_guard<std::mutex> lock(mu_);
    serving_ = std::move(t);
  }
  void set_staging(TargetPtr t) {
    std::lock_guard<std::mutex> lock(mu_);
    staging_ = std::move(t);
  }
  std::mutex& write_mutex() { return write_mu_; }

 private:
  mutable std::mutex mu_;
  TargetPtr serving_ ABSL_GUARDED_BY(mu_);
  TargetPtr staging_ ABSL_GUARDED_BY(mu_);
  std::mutex write_mu_;
};

}  // namespace dogsearch::gateway

#endif  // DOGSEARCH_SERVICES_GATEWAY_CORE_SERVING_STATE_H_
