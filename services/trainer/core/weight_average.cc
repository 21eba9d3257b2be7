#include "services/trainer/core/weight_average.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace dogsearch::trainer {

std::vector<torch::Tensor> ModuleTensors(torch::nn::Module& module) {
  std::vector<torch::Tensor> all = module.parameters();
  for (const torch::Tensor& b : module.buffers()) all.push_back(b);
  return all;
}

absl::Status SaveTensors(const std::vector<torch::Tensor>& tensors, const std::string& path) {
  try {
    torch::save(tensors, path);
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat("saving tensors to ", path, ": ", e.what()));
  }
  return absl::OkStatus();
}

absl::Status LoadTensorsInto(const std::string& path, const std::vector<torch::Tensor>& into) {
  std::vector<torch::Tensor> loaded;
  try {
    torch::load(loaded, path);
  } catch (const std::exception& e) {
    return absl::DataLossError(absl::StrCat("reading tensors from ", path, ": ", e.what()));
  }
  if (loaded.size() != into.size()) {
    return absl::FailedPreconditionError(
        absl::StrCat(path, " holds ", loaded.size(), " tensors, the network has ", into.size()));
  }
  for (size_t i = 0; i < loaded.size(); ++i) {
    if (!loaded[i].sizes().equals(into[i].sizes())) {
      return absl::FailedPreconditionError(
          absl::StrCat(path, ": tensor ", i, " has another shape than the network's"));
    }
  }
  torch::NoGradGuard no_grad;
  for (size_t i = 0; i < loaded.size(); ++i) into[i].detach().copy_(loaded[i]);
  return absl::OkStatus();
}

WeightAverage::WeightAverage(torch::nn::Module& module, double decay) : decay_(decay) {
  torch::NoGradGuard no_grad;
  for (const torch::Tensor& t : ModuleTensors(module)) average_.push_back(t.detach().clone());
}

double WeightAverage::DecayAt(uint64_t step) const {
  return std::min(decay_, (1.0 + static_cast<double>(step)) / (10.0 + static_cast<double>(step)));
}

void WeightAverage::Update(torch::nn::Module& module, uint64_t step) {
  torch::NoGradGuard no_grad;
  const double d = DecayAt(step);
  const std::vector<torch::Tensor> live = ModuleTensors(module);
  for (size_t i = 0; i < live.size(); ++i) {
    if (torch::isFloatingType(live[i].scalar_type())) {
      average_[i].mul_(d).add_(live[i].detach(), 1.0 - d);
    } else {
      average_[i].copy_(live[i]);
    }
  }
}

void WeightAverage::Swap(torch::nn::Module& module) {
  torch::NoGradGuard no_grad;
  const std::vector<torch::Tensor> live = ModuleTensors(module);
  for (size_t i = 0; i < live.size(); ++i) {
    const torch::Tensor held = live[i].detach().clone();
    live[i].detach().copy_(average_[i]);
    average_[i].copy_(held);
  }
}

}  // namespace dogsearch::trainer
