// Hot reload under load: the embedding service's ModelRepository and DynamicBatcher, 16 client
// threads embedding photos without pause while the default version is switched back and forth
// between two checkpoints `reloads` times (load the other, make it the default once READY,
// unload the old one: the service's reload). Every answer is checked against the reference
// embedding of the version that claims it.
#include <atomic>
#include <future>
#include <map>
#include <random>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "common/base/process_stats.h"
#include "services/embedding/core/batcher.h"
#include "services/embedding/core/model_repository.h"
#include "tools/gpu/kit.h"
#include "tools/gpu/kit_embed.h"
#include "tools/gpu/kit_json.h"
#include "tools/gpu/kit_torch.h"

namespace dogsearch::gpu_kit {
namespace {

constexpr size_t kProbePhotos = 64;
constexpr double kVectorTolerance = 5e-3;  // Batch composition and TF32 (see parity).
constexpr int64_t kMemoryGrowthLimit = int64_t{48} << 20;

struct Counts {
  std::atomic<int64_t> requests{0}, failed{0}, mismatched{0};
};

using References = std::map<std::string, std::vector<float>>;  // version -> kProbePhotos rows

void Client(int seed, const std::vector<std::vector<float>>& inputs, const References& refs,
            embedding::ModelRepository* repo, embedding::DynamicBatcher* batcher,
            const std::atomic<bool>* stop, Counts* counts) {
  std::mt19937 rng(seed);
  while (!stop->load()) {
    const size_t i = rng() % inputs.size();
    counts->requests++;
    auto model = repo->Acquire("");
    if (!model.ok()) {
      counts->failed++;
      continue;
    }
    std::promise<absl::StatusOr<std::vector<float>>> answer;
    embedding::BatchItem item;
    item.model = *model;
    item.input = inputs[i];
    item.done = [&answer](absl::StatusOr<std::vector<float>> r) { answer.set_value(std::move(r)); };
    std::vector<embedding::BatchItem> items;
    items.push_back(std::move(item));
    auto result = answer.get_future();
    if (!batcher->Enqueue(std::move(items)).ok()) {
      counts->failed++;
      continue;
    }
    absl::StatusOr<std::vector<float>> v = result.get();
    if (!v.ok()) {
      counts->failed++;
      continue;
    }
    const auto ref = refs.find((*model)->version());
    const uint32_t dim = (*model)->dimension();
    std::vector<float> want;
    if (ref != refs.end())
      want.assign(ref->second.begin() + i * dim, ref->second.begin() + (i + 1) * dim);
    if (MaxAbsDifference(want, *v) > kVectorTolerance) counts->mismatched++;
  }
}

int64_t Memory(const KitOptions& o) {
  if (o.cuda()) return DeviceMemoryBytes();
  auto rss = ResidentMemoryBytes();
  return rss.ok() ? static_cast<int64_t>(*rss) : -1;
}

}  // namespace

Section RunReload(const KitOptions& o, const KitPhotos& photos) {
  Section s{"hot_reload", true, "", {}};
  auto variant = PublishVariant(o.model_dir, o.scratch_dir, "kit-variant-b");
  if (!variant.ok()) return Skipped("hot_reload", variant.status().ToString());
  std::map<std::string, std::string> dirs;
  References refs;
  KitPhotos probe;  // The first kProbePhotos photos.
  probe.height = photos.height;
  probe.width = photos.width;
  const size_t probe_count = std::min(kProbePhotos, photos.size());
  probe.labels.assign(photos.labels.begin(), photos.labels.begin() + probe_count);
  probe.pixels.assign(photos.pixels.begin(),
                      photos.pixels.begin() + probe_count * photos.photo_bytes());
  std::vector<std::vector<float>> inputs;
  for (const std::string& dir : {o.model_dir, *variant}) {
    auto m = LoadModel(dir, o.device, false);
    if (!m.ok()) return Skipped("hot_reload", m.status().ToString());
    auto v = EmbedAll(**m, probe, static_cast<int>(probe.size()));
    if (!v.ok()) return Skipped("hot_reload", v.status().ToString());
    dirs[(*m)->version()] = dir;
    refs[(*m)->version()] = *std::move(v);
    if (inputs.empty()) {
      for (size_t i = 0; i < probe.size(); ++i) {
        inputs.push_back(ToModelInput(probe, i, 1, (*m)->input_spec()));
      }
    }
  }
  const std::string a = refs.begin()->first, b = std::next(refs.begin())->first;
  embedding::ModelRepository repo(
      [&](const std::string& v) { return LoadModel(dirs.at(v), o.device, false); }, {});
  if (auto st = repo.StartLoad(a, true); !st.ok()) return Skipped("hot_reload", st.ToString());
  (void)repo.WaitUntilLoaded(a, absl::Minutes(5));
  embedding::BatcherOptions bo;
  bo.max_batch = 32;
  bo.max_queued_photos = 4096;
  embedding::DynamicBatcher batcher(bo, embedding::Clock::Real());
  Counts counts;
  std::atomic<bool> stop{false};
  std::vector<std::thread> clients;
  for (int c = 0; c < o.reload_clients; ++c) {
    clients.emplace_back(Client, c, std::cref(inputs), std::cref(refs), &repo, &batcher, &stop,
                         &counts);
  }
  absl::SleepFor(absl::Seconds(1));
  std::vector<int64_t> memory = {Memory(o)};
  std::vector<double> reload_ms;
  std::string current = a, error;
  for (int r = 0; r < o.reloads && error.empty(); ++r) {
    const std::string next = current == a ? b : a;
    const absl::Time t0 = absl::Now();
    absl::Status st = repo.StartLoad(next, true);
    auto loaded = st.ok() ? repo.WaitUntilLoaded(next, absl::Minutes(5))
                          : absl::StatusOr<embedding::ModelStatus>(st);
    if (!loaded.ok() || loaded->state != embedding::ModelState::kReady) {
      error = loaded.ok() ? loaded->reason : loaded.status().ToString();
      break;
    }
    reload_ms.push_back(absl::ToDoubleMilliseconds(absl::Now() - t0));
    if (st = repo.Unload(current); !st.ok()) error = st.ToString();
    current = next;
    memory.push_back(Memory(o));
  }
  absl::SleepFor(absl::Milliseconds(500));
  stop = true;
  for (std::thread& t : clients) t.join();
  batcher.Stop();
  memory.push_back(Memory(o));
  // Steady state: the second half of the reloads. The first half warms caches that grow with
  // every new batch shape (oneDNN's primitives, malloc's per-thread arenas) and then stay; a
  // leak of one model per reload keeps growing through the second half.
  const size_t mid = 1 + reload_ms.size() / 2;
  const int64_t growth =
      memory.size() > mid + 1 && memory[mid] >= 0 ? memory.back() - memory[mid] : 0;
  s.ok = error.empty() && counts.failed == 0 && counts.mismatched == 0 &&
         static_cast<int>(reload_ms.size()) == o.reloads && growth <= kMemoryGrowthLimit;
  std::vector<std::string> mib;
  for (int64_t m : memory) mib.push_back(absl::StrFormat("%.1f", m / 1048576.0));
  s.json = JsonObject()
               .Int("reloads", static_cast<int64_t>(reload_ms.size()))
               .Int("client_threads", o.reload_clients)
               .Int("requests", counts.requests)
               .Int("failed", counts.failed)
               .Int("mismatched_vectors", counts.mismatched)
               .Num("reload_ms_p50", Percentile(reload_ms, 0.5))
               .Num("reload_ms_max", Percentile(reload_ms, 1.0))
               .Str("memory_kind", o.cuda() ? "device (nvidia-smi)" : "resident host memory")
               .Raw("memory_mib", JsonArray(mib))
               .Num("steady_growth_mib", growth / 1048576.0)
               .Str("error", error)
               .Done();
  s.markdown = {
      absl::StrFormat("%zu of %d reloads between `%s` and `%s` under %d client threads: %d "
                      "requests, **%d failed**, **%d vectors not matching the version that "
                      "claimed them**; reload (load, probe, warm-up, switch) p50 %.0f ms, "
                      "max %.0f ms.",
                      reload_ms.size(), o.reloads, a, b, o.reload_clients, counts.requests.load(),
                      counts.failed.load(), counts.mismatched.load(), Percentile(reload_ms, 0.5),
                      Percentile(reload_ms, 1.0)),
      absl::StrFormat("%s in MiB (start, after each reload, end): %s; growth over the second "
                      "half of the reloads: %.1f MiB (limit %lld).",
                      o.cuda() ? "Device memory" : "Resident memory", absl::StrJoin(mib, ", "),
                      growth / 1048576.0, static_cast<long long>(kMemoryGrowthLimit >> 20))};
  if (!error.empty()) s.markdown.push_back(absl::StrCat("Stopped: ", error));
  return s;
}

}  // namespace dogsearch::gpu_kit
