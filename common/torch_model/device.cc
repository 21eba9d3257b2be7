#include "common/torch_model/device.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace dogsearch::model {

absl::StatusOr<torch::Device> ParseDevice(const std::string& name) {
  if (name == "auto") {
    return torch::cuda::is_available() ? torch::Device(torch::kCUDA, 0)
                                       : torch::Device(torch::kCPU);
  }
  if (name == "cpu") return torch::Device(torch::kCPU);
  if (absl::StartsWith(name, "cuda")) {
    if (!torch::cuda::is_available()) {
      return absl::FailedPreconditionError(
          absl::StrCat("device '", name, "' requested but CUDA is not available"));
    }
    try {
      return torch::Device(name);
    } catch (const std::exception& e) {
      return absl::InvalidArgumentError(absl::StrCat("device '", name, "': ", e.what()));
    }
  }
  return absl::InvalidArgumentError(
      absl::StrCat("device '", name, "' is not one of auto, cpu, cuda, cuda:N"));
}

}  // namespace dogsearch::model
