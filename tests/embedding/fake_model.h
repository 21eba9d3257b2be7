// A stand-in EmbeddingModel for tests of the machinery: 16x16 inputs, 4-d output whose first
// component encodes the input (so results can be traced back to requests), unit length.
// Counts calls and batch sizes; can be made to block until released.
#ifndef DOGSEARCH_TESTS_EMBEDDING_FAKE_MODEL_H_
#define DOGSEARCH_TESTS_EMBEDDING_FAKE_MODEL_H_

#include <cmath>
#include <condition_variable>
#include <mutex>
#include <vector>

#include "services/embedding/core/embedding_model.h"

namespace dogsearch::embedding {

class FakeModel : public EmbeddingModel {
 public:
  explicit FakeModel(std::string version) {
    manifest_.version = std::move(version);
    manifest_.model.input.width = 16;
    manifest_.model.input.height = 16;
    manifest_.model.embedding_dim = 4;
  }

  absl::StatusOr<std::vector<float>> Embed(const float* inputs, int n) const override {
    {
      std::unique_lock<std::mutex> lock(mu_);
      batch_sizes_.push_back(n);
      cv_.wait(lock, [this] { return !blocked_; });
    }
    std::vector<float> out;
    for (int i = 0; i < n; ++i) {
      const float tag = inputs[static_cast<size_t>(i) * input_floats()];
      const float a = std::tanh(tag), b = std::sqrt(1.f - a * a);
      out.insert(out.end(), {a, b, 0.f, 0.f});
    }
    return out;
  }
  const model::CheckpointManifest& manifest() const override { return manifest_; }
  std::string device() const override { return "cpu"; }

  void Block() {
    std::lock_guard<std::mutex> lock(mu_);
    blocked_ = true;
  }
  void Release() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      blocked_ = false;
    }
    cv_.notify_all();
  }
  std::vector<int> batch_sizes() const {
    std::lock_guard<std::mutex> lock(mu_);
    return batch_sizes_;
  }

 private:
  model::CheckpointManifest manifest_;
  mutable std::mutex mu_;
  mutable std::condition_variable cv_;
  mutable std::vector<int> batch_sizes_;
  bool blocked_ = false;
};

}  // namespace dogsearch::embedding

#endif  // DOGSEARCH_TESTS_EMBEDDING_FAKE_MODEL_H_
