#include "services/trainer/core/pk_sampler.h"

#include <algorithm>
#include <random>

#include "absl/strings/str_cat.h"

namespace dogsearch::trainer {
namespace {

uint64_t Mix(uint64_t a, uint64_t b) {
  uint64_t x = a ^ (b + 0x9e3779b97f4a7c15ULL + (a << 6) + (a >> 2));
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdULL;
  x ^= x >> 33;
  return x;
}

}  // namespace

absl::StatusOr<PkSampler> PkSampler::Create(std::vector<std::vector<int32_t>> photos_of, uint32_t p,
                                            uint32_t k, uint64_t seed) {
  if (p < 2 || k < 2) {
    return absl::InvalidArgumentError(
        absl::StrCat("PK sampling needs P >= 2 and K >= 2 (got P=", p, ", K=", k, ")"));
  }
  PkSampler s;
  s.p_ = p;
  s.k_ = k;
  s.seed_ = seed;
  s.photos_of_ = std::move(photos_of);
  for (uint32_t i = 0; i < s.photos_of_.size(); ++i) {
    if (s.photos_of_[i].size() >= 2) {
      s.eligible_.push_back(i);
    } else {
      ++s.skipped_;
    }
  }
  if (s.eligible_.size() < p) {
    return absl::InvalidArgumentError(absl::StrCat(
        "only ", s.eligible_.size(), " identities have 2 or more photos; P=", p, " needs ", p));
  }
  s.batches_per_epoch_ = static_cast<uint32_t>(s.eligible_.size() / p);
  return s;
}

std::vector<uint32_t> PkSampler::EpochOrder(uint32_t epoch) const {
  std::vector<uint32_t> order = eligible_;
  std::mt19937_64 rng(Mix(seed_, epoch));
  std::shuffle(order.begin(), order.end(), rng);
  return order;
}

PkBatch PkSampler::Batch(uint32_t epoch, uint32_t b) const {
  const std::vector<uint32_t> order = EpochOrder(epoch);
  std::mt19937_64 rng(Mix(Mix(seed_, epoch), b + 1));
  PkBatch batch;
  batch.epoch = epoch;
  batch.index = b;
  batch.photos.reserve(size_t{p_} * k_);
  batch.labels.reserve(size_t{p_} * k_);
  for (uint32_t j = 0; j < p_; ++j) {
    const uint32_t id = order[size_t{b} * p_ + j];
    std::vector<int32_t> pool = photos_of_[id];
    std::shuffle(pool.begin(), pool.end(), rng);
    for (uint32_t i = 0; i < k_; ++i) {
      const int32_t photo =
          i < pool.size() ? pool[i]
                          : pool[std::uniform_int_distribution<size_t>(0, pool.size() - 1)(rng)];
      batch.photos.push_back(photo);
      batch.labels.push_back(static_cast<int32_t>(id));
    }
  }
  return batch;
}

}  // namespace dogsearch::trainer
