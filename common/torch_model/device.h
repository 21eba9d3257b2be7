// Device names for LibTorch: "auto" (CUDA if available, else CPU), "cpu", "cuda", "cuda:N".
// Shared by the embedding service, the training loop and dogsearch-eval. Includes LibTorch.
#ifndef DOGSEARCH_COMMON_TORCH_MODEL_DEVICE_H_
#define DOGSEARCH_COMMON_TORCH_MODEL_DEVICE_H_

#include <torch/torch.h>

#include <string>

#include "absl/status/statusor.h"

namespace dogsearch::model {

// INVALID_ARGUMENT for an unknown name; FAILED_PRECONDITION for a CUDA device when CUDA is not
// available.
absl::StatusOr<torch::Device> ParseDevice(const std::string& name);

}  // namespace dogsearch::model

#endif  // DOGSEARCH_COMMON_TORCH_MODEL_DEVICE_H_
