#include "services/trainer/core/dataset.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <random>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/base/sha256.h"

namespace dogsearch::trainer {
namespace fs = std::filesystem;
namespace {

bool IsPhotoFile(const fs::path& p) {
  std::string ext = absl::AsciiStrToLower(p.extension().string());
  return ext == ".jpg" || ext == ".jpeg" || ext == ".png" || ext == ".webp";
}

bool IsHidden(const fs::path& p) {
  const std::string name = p.filename().string();
  return name.empty() || name[0] == '.';
}

absl::StatusOr<Identity> ScanIdentity(const fs::path& dir, const ScanLimits& limits) {
  Identity id;
  id.name = dir.filename().string();
  std::error_code ec;
  for (const fs::directory_entry& e : fs::directory_iterator(dir, ec)) {
    if (IsHidden(e.path()) || !IsPhotoFile(e.path())) continue;
    std::error_code fec;
    if (!e.is_regular_file(fec)) continue;
    const uint64_t size = e.file_size(fec);
    if (fec || size == 0) continue;
    if (id.photos.size() >= limits.max_photos_per_identity) {
      return absl::InvalidArgumentError(absl::StrCat("identity '", id.name, "' has more than ",
                                                     limits.max_photos_per_identity, " photos"));
    }
    id.photos.push_back(Photo{e.path().string(), size});
  }
  if (ec) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot list '", dir.string(), "': ", ec.message()));
  }
  std::sort(id.photos.begin(), id.photos.end(),
            [](const Photo& a, const Photo& b) { return a.path < b.path; });
  return id;
}

}  // namespace

size_t Dataset::PhotoCount() const {
  size_t n = 0;
  for (const Identity& id : identities) n += id.photos.size();
  return n;
}

absl::StatusOr<Dataset> ScanDataset(const std::string& root, const ScanLimits& limits) {
  std::error_code ec;
  if (!fs::exists(root, ec)) {
    return absl::NotFoundError(absl::StrCat("data set folder '", root, "' does not exist"));
  }
  if (!fs::is_directory(root, ec)) {
    return absl::InvalidArgumentError(absl::StrCat("'", root, "' is not a directory"));
  }
  std::vector<fs::path> dirs;
  for (const fs::directory_entry& e : fs::directory_iterator(root, ec)) {
    std::error_code dec;
    if (!IsHidden(e.path()) && e.is_directory(dec)) dirs.push_back(e.path());
    if (dirs.size() > limits.max_identities) {
      return absl::InvalidArgumentError(
          absl::StrCat("'", root, "' has more than ", limits.max_identities, " identities"));
    }
  }
  if (ec) {
    return absl::InvalidArgumentError(absl::StrCat("cannot list '", root, "': ", ec.message()));
  }
  std::sort(dirs.begin(), dirs.end());
  Dataset ds;
  ds.root = root;
  size_t photos = 0;
  for (const fs::path& dir : dirs) {
    absl::StatusOr<Identity> id = ScanIdentity(dir, limits);
    if (!id.ok()) return id.status();
    if (id->photos.empty()) continue;
    photos += id->photos.size();
    if (photos > limits.max_photos) {
      return absl::InvalidArgumentError(
          absl::StrCat("'", root, "' has more than ", limits.max_photos, " photos"));
    }
    ds.identities.push_back(*std::move(id));
  }
  if (ds.identities.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "'", root, "' holds no identity folder with photos (expected <root>/<id>/*.jpg)"));
  }
  return ds;
}

std::string DatasetFingerprint(const Dataset& dataset) {
  std::string listing;
  for (const Identity& id : dataset.identities) {
    for (const Photo& p : id.photos) {
      absl::StrAppend(&listing, id.name, "/", fs::path(p.path).filename().string(), " ", p.bytes,
                      "\n");
    }
  }
  return Sha256::Hex(listing);
}

DatasetSplit SplitByIdentity(const Dataset& dataset, double validation_fraction, uint64_t seed) {
  const size_t n = dataset.identities.size();
  std::vector<size_t> order(n);
  for (size_t i = 0; i < n; ++i) order[i] = i;
  std::mt19937_64 rng(seed);
  std::shuffle(order.begin(), order.end(), rng);
  const size_t n_val = std::min(n, static_cast<size_t>(std::llround(validation_fraction * n)));
  std::vector<bool> is_val(n, false);
  for (size_t i = 0; i < n_val; ++i) is_val[order[i]] = true;
  DatasetSplit split;
  split.train.root = split.validation.root = dataset.root;
  for (size_t i = 0; i < n; ++i) {
    (is_val[i] ? split.validation : split.train).identities.push_back(dataset.identities[i]);
  }
  return split;
}

}  // namespace dogsearch::trainer
