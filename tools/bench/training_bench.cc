// Training benchmark: our in-batch mining (the real training library, PK batches) against a
// straightforward reimplementation of the seed project's training on the SAME architecture and
// input size: batches of 20 triplets, and for each anchor with probability 0.4 "hard mining"
// that re-embeds all of the dog's other photos and 100 random photos of other dogs to pick the
// farthest positive and closest negative (otherwise a random positive and negative).
//
//   training_bench --data DIR --mode throughput [--seconds 60]
//       one JSON line per way: images/s through forward+backward+step, anchors trained per
//       second (mining included), mining share of the step, seconds per epoch.
//   training_bench --data DIR --mode seed_recipe --seconds 600 --eval_every 120
//       trains the seed's way for a time budget, printing validation metrics as it goes
//       (time-to-accuracy against dogsearch-train's metrics.jsonl).
// Results: docs/BENCHMARKS.md.
#include <torch/torch.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <random>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "common/image/image_decoder.h"
#include "common/torch_model/embedding_net.h"
#include "services/trainer/core/dataset.h"
#include "services/trainer/core/embed.h"
#include "services/trainer/core/photo_cache.h"
#include "services/trainer/core/trainer.h"
#include "services/trainer/core/triplet_loss.h"

ABSL_FLAG(std::string, data, "../shared/datasets/dogfacenet/after_4_bis", "Dataset folder");
ABSL_FLAG(std::string, mode, "throughput", "throughput or seed_recipe");
ABSL_FLAG(double, seconds, 60, "Time per way (throughput) or budget (seed_recipe)");
ABSL_FLAG(double, eval_every, 120, "seed_recipe: seconds between validations");
ABSL_FLAG(int, threads, 2, "LibTorch threads");
ABSL_FLAG(std::string, out, "/tmp/dogsearch_training_bench", "Scratch run folder");

namespace dogsearch::trainer {
namespace {

using Clock = std::chrono::steady_clock;
double Since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

struct Totals : TrainingObserver {
  void OnStep(const StepReport& r) override {
    if (r.step <= 5) return;  // Warm-up steps (allocator, first-touch) excluded.
    steps++;
    seconds += r.step_seconds;
    loss_seconds += r.loss_seconds;
    wait_seconds += r.data_wait_seconds;
  }
  double steps = 0, seconds = 0, loss_seconds = 0, wait_seconds = 0;
};

void OurWay(const TrainOptions& base, double seconds, size_t train_photos) {
  TrainOptions o = base;
  o.time_budget_seconds = seconds;
  o.eval_every_epochs = 1000000;
  o.validation_fraction = 0.1;
  std::filesystem::remove_all(o.output_dir);
  Totals t;
  absl::StatusOr<TrainResult> r = Train(o, &t, nullptr);
  if (!r.ok()) {
    std::fprintf(stderr, "%s\n", r.status().ToString().c_str());
    std::exit(1);
  }
  const double photos = t.steps * o.p * o.k;
  std::printf(
      "{\"way\":\"in_batch_semi_hard_pk16x4\",\"steps\":%.0f,\"images_per_s\":%.1f,"
      "\"anchors_per_s\":%.1f,\"mining_share\":%.4f,\"data_wait_share\":%.4f,"
      "\"epoch_seconds\":%.1f}\n",
      t.steps, photos / t.seconds, photos / t.seconds, t.loss_seconds / t.seconds,
      t.wait_seconds / t.seconds, train_photos / (photos / t.seconds));
}

// The seed's training, reimplemented: 20 triplets per step, mined per anchor.
class SeedWay {
 public:
  SeedWay(const PhotoCache& cache, model::EmbeddingNet& net, double lr)
      : cache_(cache), net_(net), opt_(net.parameters(), torch::optim::AdamOptions(lr)) {}

  torch::Tensor Input(const std::vector<int32_t>& photos) {
    const model::InputSpec& in = net_.spec().input;
    const size_t n = size_t{3} * in.width * in.height;
    std::vector<float> buf(photos.size() * n);
    for (size_t i = 0; i < photos.size(); ++i) {
      image::WriteInputCHW(cache_.image(photos[i]), in, buf.data() + i * n);
    }
    return torch::from_blob(buf.data(),
                            {static_cast<int64_t>(photos.size()), 3, in.height, in.width})
        .clone();
  }

  // Returns (mining seconds, step seconds).
  std::pair<double, double> Step() {
    const auto start = Clock::now();
    std::vector<int32_t> a, p, n;
    double mining = 0;
    for (int t = 0; t < 20; ++t) {
      const int32_t anchor = Pick(cache_.size());
      const auto& own = cache_.photos_of()[cache_.label(anchor)];
      std::vector<int32_t> pos, neg;
      for (int32_t x : own)
        if (x != anchor) pos.push_back(x);
      if (pos.empty()) {
        --t;
        continue;
      }
      while (neg.size() < 100) {
        const int32_t x = Pick(cache_.size());
        if (cache_.label(x) != cache_.label(anchor)) neg.push_back(x);
      }
      int32_t best_p = pos[Pick(pos.size())], best_n = neg[Pick(neg.size())];
      if (std::bernoulli_distribution(0.4)(rng_)) {
        const auto m0 = Clock::now();
        torch::NoGradGuard ng;
        net_.eval();
        std::vector<int32_t> all = {anchor};
        all.insert(all.end(), pos.begin(), pos.end());
        all.insert(all.end(), neg.begin(), neg.end());
        torch::Tensor e = net_.forward(Input(all));
        torch::Tensor d = (e.slice(0, 1) - e[0]).norm(2, 1);
        const int64_t np = static_cast<int64_t>(pos.size());
        best_p = pos[d.slice(0, 0, np).argmax().item<int64_t>()];
        best_n = neg[d.slice(0, np).argmin().item<int64_t>()];
        net_.train();
        mining += Since(m0);
      }
      a.push_back(anchor);
      p.push_back(best_p);
      n.push_back(best_n);
    }
    std::vector<int32_t> all = a;
    all.insert(all.end(), p.begin(), p.end());
    all.insert(all.end(), n.begin(), n.end());
    torch::Tensor e = net_.forward(Input(all));
    torch::Tensor ea = e.slice(0, 0, 20), ep = e.slice(0, 20, 40), en = e.slice(0, 40, 60);
    torch::Tensor loss = torch::relu((ea - ep).norm(2, 1) - (ea - en).norm(2, 1) + 0.2).mean();
    opt_.zero_grad();
    loss.backward();
    opt_.step();
    return {mining, Since(start)};
  }

 private:
  size_t Pick(size_t n) { return std::uniform_int_distribution<size_t>(0, n - 1)(rng_); }
  const PhotoCache& cache_;
  model::EmbeddingNet& net_;
  torch::optim::Adam opt_;
  std::mt19937_64 rng_{1};
};

int Main() {
  at::set_num_threads(absl::GetFlag(FLAGS_threads));
  TrainOptions o;
  o.data_dir = absl::GetFlag(FLAGS_data);
  o.output_dir = absl::GetFlag(FLAGS_out);
  o.threads = absl::GetFlag(FLAGS_threads);
  absl::StatusOr<Dataset> all = ScanDataset(o.data_dir);
  if (!all.ok()) {
    std::fprintf(stderr, "%s\n", all.status().ToString().c_str());
    return 1;
  }
  const DatasetSplit split = SplitByIdentity(*all, o.validation_fraction, o.seed);
  const PhotoCache train = *PhotoCache::Load(split.train, o.model.input, 2);
  const PhotoCache val = *PhotoCache::Load(split.validation, o.model.input, 2);
  torch::manual_seed(0);
  auto net = *model::BuildEmbeddingNet(o.model);
  net->train();
  SeedWay seed(train, *net, o.learning_rate);
  const double budget = absl::GetFlag(FLAGS_seconds);
  if (absl::GetFlag(FLAGS_mode) == "throughput") {
    OurWay(o, budget, train.size());
    for (int i = 0; i < 2; ++i) seed.Step();  // Warm-up.
    double steps = 0, mining = 0, total = 0;
    const auto start = Clock::now();
    while (Since(start) < budget) {
      const auto [m, s] = seed.Step();
      mining += m;
      total += s;
      ++steps;
    }
    std::printf(
        "{\"way\":\"seed_20_triplets_p0.4_mining\",\"steps\":%.0f,\"images_per_s\":%.1f,"
        "\"anchors_per_s\":%.2f,\"mining_share\":%.4f,\"mining_s_per_mined_anchor\":%.4f,"
        "\"epoch_seconds\":%.1f}\n",
        steps, steps * 60 / total, steps * 20 / total, mining / total, mining / (steps * 20 * 0.4),
        train.size() / (steps * 20 / total));
    return 0;
  }
  const double every = absl::GetFlag(FLAGS_eval_every);
  double trained = 0, next_eval = every;
  uint64_t steps = 0;
  while (trained < budget) {
    trained += seed.Step().second;
    ++steps;
    if (trained >= next_eval || trained >= budget) {
      next_eval += every;
      const auto r = Evaluate(EmbedCache(*net, val, {}), {});
      if (!r.ok()) return 1;
      std::printf(
          "{\"way\":\"seed_recipe\",\"train_seconds\":%.0f,\"steps\":%llu,"
          "\"verification_accuracy\":%.4f,\"roc_auc\":%.4f,\"rank1\":%.4f}\n",
          trained, static_cast<unsigned long long>(steps), r->metrics.verification_accuracy,
          r->metrics.roc_auc, r->metrics.rank1);
      std::fflush(stdout);
    }
  }
  return 0;
}

}  // namespace
}  // namespace dogsearch::trainer

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  return dogsearch::trainer::Main();
}
