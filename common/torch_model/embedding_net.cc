#include "common/torch_model/embedding_net.h"

#include <vector>

#include "absl/strings/str_cat.h"
#include "common/torch_model/ensemble_net.h"
#include "common/torch_model/mobilenet_v2.h"
#include "common/torch_model/nets.h"

namespace dogsearch::model {

absl::StatusOr<std::shared_ptr<EmbeddingNet>> BuildEmbeddingNet(const ModelSpec& spec) {
  if (absl::Status s = ValidateModelSpec(spec); !s.ok()) return s;
  try {
    std::shared_ptr<EmbeddingNet> net;
    if (spec.architecture == kSeedInception) {
      net = std::make_shared<SeedInceptionNet>(spec);
    } else if (spec.architecture == kEnsemble) {
      net = std::make_shared<EnsembleNet>(spec);
    } else if (spec.architecture == kMobileNetV2) {
      net = std::make_shared<MobileNetV2Net>(spec);
    } else {
      net = std::make_shared<DogFaceNetResNet>(spec);
    }
    return net;
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat("building ", spec.architecture, ": ", e.what()));
  }
}

bool CpuHasNativeBFloat16() {
#if defined(__x86_64__) && defined(__GNUC__)
  return at::hasMKLDNN() && __builtin_cpu_supports("avx512bf16");
#else
  return false;
#endif
}

Numerics ResolveNumerics(ServingPrecision precision, const torch::Device& device) {
  if (precision == ServingPrecision::kFloat32) return Numerics::kFloat32;
  return device.is_cuda() || CpuHasNativeBFloat16() ? Numerics::kBFloat16
                                                    : Numerics::kBFloat16Emulated;
}

const char* NumericsName(Numerics n) {
  switch (n) {
    case Numerics::kFloat32:
      return "float32";
    case Numerics::kBFloat16:
      return "bfloat16";
    case Numerics::kBFloat16Emulated:
      return "bfloat16 (emulated)";
  }
  return "?";
}

void EmbeddingNet::PrepareForServing() {
  const auto params = parameters();
  const torch::Device device = params.empty() ? torch::Device(torch::kCPU) : params[0].device();
  PrepareForServing(ResolveNumerics(spec_.serving_precision, device));
}

void EmbeddingNet::PrepareForServing(Numerics numerics) {
  TORCH_CHECK(!prepared_, "PrepareForServing: already prepared");
  eval();
  Prepare(numerics);
  numerics_ = numerics;
  prepared_ = true;
}

torch::Tensor L2Normalize(const torch::Tensor& x) {
  namespace F = torch::nn::functional;
  return F::normalize(x, F::NormalizeFuncOptions().p(2).dim(1).eps(1e-12));
}

InputConversion::InputConversion(const InputSpec& from, const InputSpec& to) {
  std::vector<float> scale(3), shift(3);
  for (int c = 0; c < 3; ++c) {
    scale[c] = from.std[c] / to.std[c];
    shift[c] = (from.mean[c] - to.mean[c]) / to.std[c];
  }
  scale_ = torch::tensor(scale).view({1, 3, 1, 1});
  shift_ = torch::tensor(shift).view({1, 3, 1, 1});
}

torch::Tensor InputConversion::Apply(const torch::Tensor& x) const {
  return x * scale_.to(x.device(), x.scalar_type()) + shift_.to(x.device(), x.scalar_type());
}

int64_t CountParameters(const torch::nn::Module& module) {
  int64_t n = 0;
  for (const auto& p : module.parameters()) n += p.numel();
  return n;
}

}  // namespace dogsearch::model
