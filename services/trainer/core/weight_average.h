// An exponential moving average of a module's weights (Polyak averaging, as in "model EMA"):
// after each optimiser step, average = d * average + (1 - d) * weights for every parameter and
// floating-point buffer (batch-norm running statistics); integer buffers (batch counts) are
// copied. d = min(decay, (1 + step) / (10 + step)): early steps follow the weights closely, so
// that a short run's average is not dominated by where it started. Includes LibTorch.
// Not thread-safe: owned by the training loop, which calls it between optimiser steps.
#ifndef DOGSEARCH_SERVICES_TRAINER_CORE_WEIGHT_AVERAGE_H_
#define DOGSEARCH_SERVICES_TRAINER_CORE_WEIGHT_AVERAGE_H_

#include <torch/torch.h>

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"

namespace dogsearch::trainer {

// The module's parameters, then its buffers, in the module's order: what WeightAverage averages
// and what a training run saves of its live weights.
std::vector<torch::Tensor> ModuleTensors(torch::nn::Module& module);
// One file of tensors (write temp, fsync, rename is the caller's).
absl::Status SaveTensors(const std::vector<torch::Tensor>& tensors, const std::string& path);
// Copies the file's tensors into `into`: DATA_LOSS for an unreadable file, FAILED_PRECONDITION
// if their number or shapes differ (nothing is copied then).
absl::Status LoadTensorsInto(const std::string& path, const std::vector<torch::Tensor>& into);

class WeightAverage {
 public:
  // Starts the average at the module's current values. REQUIRES: 0 < decay < 1.
  WeightAverage(torch::nn::Module& module, double decay);

  // The decay applied after `step` steps (0-based).
  double DecayAt(uint64_t step) const;
  // Folds the module's current values into the average. REQUIRES: the same module (same
  // tensors in the same order) as the constructor's.
  void Update(torch::nn::Module& module, uint64_t step);
  // Exchanges the module's values and the average's: call once to evaluate or save the
  // average, again to continue training the live weights.
  void Swap(torch::nn::Module& module);

  // The average as a file of tensors (SaveTensors / LoadTensorsInto).
  absl::Status Save(const std::string& path) const { return SaveTensors(average_, path); }
  absl::Status Load(const std::string& path) { return LoadTensorsInto(path, average_); }

 private:
  double decay_;
  std::vector<torch::Tensor> average_;  // Parameters, then buffers, in the module's order.
};

}  // namespace dogsearch::trainer

#endif  // DOGSEARCH_SERVICES_TRAINER_CORE_WEIGHT_AVERAGE_H_
