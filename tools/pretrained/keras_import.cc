#include "tools/pretrained/keras_import.h"

#include <cstring>
#include <set>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/base/file_util.h"
#include "common/base/status_macros.h"

namespace dogsearch::pretrained {
namespace {

constexpr uint64_t kMaxBytes = uint64_t{1} << 30;

// The Keras name of a network tensor, and the permutation to LibTorch's layout (empty: none);
// "" when the tensor has no Keras counterpart. `batch_norms`: the network's batch-norm modules.
std::pair<std::string, std::vector<int64_t>> KerasName(const std::string& torch_name, int64_t dims,
                                                       const std::set<std::string>& batch_norms) {
  const size_t dot = torch_name.rfind('.');
  if (dot == std::string::npos) return {"", {}};
  const std::string layer = torch_name.substr(0, dot), field = torch_name.substr(dot + 1);
  if (dims == 4 && field == "weight") {
    if (absl::EndsWith(layer, "_depthwise")) return {layer + "/depthwise_kernel", {2, 3, 0, 1}};
    return {layer + "/kernel", {3, 2, 0, 1}};
  }
  static const std::map<std::string, std::string> kBn = {{"weight", "gamma"},
                                                         {"bias", "beta"},
                                                         {"running_mean", "moving_mean"},
                                                         {"running_var", "moving_variance"}};
  if (batch_norms.count(layer) && kBn.count(field))
    return {absl::StrCat(layer, "/", kBn.at(field)), {}};
  return {"", {}};
}

}  // namespace

absl::StatusOr<KerasTensors> ReadKerasTensors(const std::string& dir) {
  DS_ASSIGN_OR_RETURN(std::string index, ReadFile(dir + "/keras_weights.txt", kMaxBytes));
  DS_ASSIGN_OR_RETURN(std::string bin, ReadFile(dir + "/keras_weights.bin", kMaxBytes));
  const uint64_t floats = bin.size() / sizeof(float);
  KerasTensors out;
  std::istringstream lines(index);
  std::string line;
  for (int no = 1; std::getline(lines, line); ++no) {
    if (line.empty()) continue;
    std::istringstream f(line);
    std::string name;
    uint64_t offset = 0;
    KerasTensor t;
    f >> name >> offset;
    uint64_t n = 1;
    for (int64_t d = 0; f >> d;) {
      if (d <= 0 || d > (1 << 20)) return absl::InvalidArgumentError(absl::StrCat("line ", no));
      t.shape.push_back(d);
      n *= static_cast<uint64_t>(d);
    }
    if (name.empty() || t.shape.empty() || offset + n > floats || out.count(name)) {
      return absl::InvalidArgumentError(
          absl::StrCat(dir, "/keras_weights.txt line ", no, ": bad or out-of-range tensor"));
    }
    t.values.resize(n);
    std::memcpy(t.values.data(), bin.data() + offset * sizeof(float), n * sizeof(float));
    out[name] = std::move(t);
  }
  return out;
}

absl::StatusOr<ImportReport> ImportKeras(const KerasTensors& keras, torch::nn::Module& net) {
  ImportReport report;
  std::set<std::string> used;
  torch::NoGradGuard no_grad;
  std::set<std::string> batch_norms;
  for (const auto& m : net.named_modules("", /*include_self=*/false)) {
    if (m.value()->as<torch::nn::BatchNorm2d>() != nullptr) batch_norms.insert(m.key());
  }
  auto fill = [&](const std::string& name, torch::Tensor& dst) -> absl::Status {
    auto [kname, perm] = KerasName(name, dst.dim(), batch_norms);
    if (kname.empty()) {
      report.kept.push_back(name);
      return absl::OkStatus();
    }
    const auto it = keras.find(kname);
    if (it == keras.end()) {
      return absl::FailedPreconditionError(absl::StrCat("no Keras tensor ", kname, " for ", name));
    }
    torch::Tensor src =
        torch::from_blob(const_cast<float*>(it->second.values.data()), it->second.shape);
    if (!perm.empty()) src = src.permute(perm);
    if (src.sizes() != dst.sizes()) {
      std::ostringstream msg;
      msg << kname << " " << src.sizes() << " (in LibTorch's layout) does not fit " << name << " "
          << dst.sizes();
      return absl::FailedPreconditionError(msg.str());
    }
    dst.copy_(src);
    used.insert(kname);
    report.imported++;
    return absl::OkStatus();
  };
  for (auto& p : net.named_parameters(/*recurse=*/true))
    DS_RETURN_IF_ERROR(fill(p.key(), p.value()));
  for (auto& b : net.named_buffers(/*recurse=*/true)) {
    if (absl::EndsWith(b.key(), "num_batches_tracked")) continue;
    DS_RETURN_IF_ERROR(fill(b.key(), b.value()));
  }
  for (const auto& [name, t] : keras) {
    if (!used.count(name)) report.unused.push_back(name);
  }
  return report;
}

}  // namespace dogsearch::pretrained
