#include "tools/gpu/kit_embed.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "common/base/status_macros.h"
#include "services/embedding/core/torch_model.h"

namespace dogsearch::gpu_kit {

absl::StatusOr<ModelPtr> LoadModel(const std::string& dir, const std::string& device, bool half) {
  embedding::TorchOptions o;
  o.device = device;
  o.half = half;
  return embedding::LoadTorchModel(dir, o);
}

absl::StatusOr<std::vector<float>> EmbedAll(const embedding::EmbeddingModel& m,
                                            const KitPhotos& photos, int batch) {
  std::vector<float> out;
  out.reserve(photos.size() * m.dimension());
  for (size_t first = 0; first < photos.size(); first += batch) {
    const size_t n = std::min<size_t>(batch, photos.size() - first);
    const std::vector<float> in = ToModelInput(photos, first, n, m.input_spec());
    DS_ASSIGN_OR_RETURN(std::vector<float> e, m.Embed(in.data(), static_cast<int>(n)));
    out.insert(out.end(), e.begin(), e.end());
  }
  return out;
}

double MaxAbsDifference(const std::vector<float>& a, const std::vector<float>& b) {
  if (a.size() != b.size()) return INFINITY;
  double m = 0;
  for (size_t i = 0; i < a.size(); ++i) m = std::max(m, std::fabs(double{a[i]} - b[i]));
  return m;
}

namespace {

// Each line of `command`'s output split at commas (whitespace trimmed).
std::vector<std::vector<std::string>> CsvLines(const char* command) {
  std::vector<std::vector<std::string>> out;
  FILE* p = popen(command, "r");
  if (p == nullptr) return out;
  char line[256];
  while (std::fgets(line, sizeof(line), p) != nullptr) {
    std::vector<std::string> fields;
    for (absl::string_view f : absl::StrSplit(line, ',')) {
      fields.emplace_back(absl::StripAsciiWhitespace(f));
    }
    out.push_back(std::move(fields));
  }
  pclose(p);
  return out;
}

}  // namespace

int64_t DeviceMemoryBytes() {
  int64_t pid = 0, mib = 0;
  for (const auto& f : CsvLines("nvidia-smi --query-compute-apps=pid,used_memory "
                                "--format=csv,noheader,nounits 2>/dev/null")) {
    if (f.size() == 2 && absl::SimpleAtoi(f[0], &pid) && absl::SimpleAtoi(f[1], &mib) &&
        pid == getpid()) {
      return mib << 20;
    }
  }
  // In a PID namespace nvidia-smi shows host PIDs: the first GPU's memory in use instead.
  for (const auto& f : CsvLines("nvidia-smi --query-gpu=memory.used --format=csv,noheader,"
                                "nounits -i 0 2>/dev/null")) {
    if (f.size() == 1 && absl::SimpleAtoi(f[0], &mib)) return mib << 20;
  }
  return -1;
}

double Percentile(std::vector<double> v, double q) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const size_t i = std::min(v.size() - 1, static_cast<size_t>(std::ceil(q * v.size())) - 1);
  return v[i];
}

}  // namespace dogsearch::gpu_kit
