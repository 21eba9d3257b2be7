#include "services/trainer/core/data_root.h"

#include <filesystem>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace dogsearch::trainer {
namespace fs = std::filesystem;

absl::StatusOr<std::string> ResolveDataset(const std::string& root, const std::string& dataset) {
  auto bad = [&](absl::string_view why) {
    return absl::InvalidArgumentError(absl::StrCat("dataset '", dataset, "': ", why));
  };
  if (dataset.empty()) return bad("empty");
  if (dataset.size() > 1024) return bad("longer than 1024 characters");
  const fs::path rel(dataset);
  if (rel.is_absolute()) return bad("must be relative to the data root");
  for (const fs::path& part : rel) {
    if (part == "..") return bad("'..' is not allowed");
  }
  std::error_code ec;
  const fs::path real_root = fs::canonical(root, ec);
  if (ec) return absl::NotFoundError(absl::StrCat("data root '", root, "' does not exist"));
  const fs::path real = fs::canonical(real_root / rel, ec);
  if (ec || !fs::is_directory(real, ec)) {
    return absl::NotFoundError(
        absl::StrCat("dataset '", dataset, "' not found under the data root"));
  }
  const std::string r = real_root.string(), p = real.string();
  if (p != r && !absl::StartsWith(p, r + "/")) return bad("resolves outside the data root");
  return p;
}

}  // namespace dogsearch::trainer
