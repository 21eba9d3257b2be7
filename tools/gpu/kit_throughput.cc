// Throughput and latency against batch size, per model and precision, through the embedding
// service's model (host staging, transfer and the served views included): the default model,
// the same with four test-time views (what a GPU could afford), and a 224-px ResNet.
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "tools/gpu/kit.h"
#include "tools/gpu/kit_embed.h"
#include "tools/gpu/kit_json.h"
#include "tools/gpu/kit_torch.h"

namespace dogsearch::gpu_kit {
namespace {

struct Cell {
  int batch = 0, calls = 0;
  double photos_per_s = 0, p50_ms = 0, p99_ms = 0;
};

absl::StatusOr<Cell> Time(const embedding::EmbeddingModel& m, int batch, double seconds) {
  const std::vector<float> in = embedding::ProbeBatch(m.input_spec(), batch);
  for (int i = 0; i < 2; ++i) {
    if (auto r = m.Embed(in.data(), batch); !r.ok()) return r.status();
  }
  std::vector<double> ms;
  const absl::Time start = absl::Now();
  absl::Duration total;
  do {
    const absl::Time t0 = absl::Now();
    if (auto r = m.Embed(in.data(), batch); !r.ok()) return r.status();
    ms.push_back(absl::ToDoubleMilliseconds(absl::Now() - t0));
    total = absl::Now() - start;
  } while (absl::ToDoubleSeconds(total) < seconds || ms.size() < 3);
  Cell c{batch, static_cast<int>(ms.size()), 0, Percentile(ms, 0.5), Percentile(ms, 0.99)};
  c.photos_per_s = batch * ms.size() / absl::ToDoubleSeconds(total);
  return c;
}

}  // namespace

Section RunThroughput(const KitOptions& o, const KitPhotos&) {
  Section s{"throughput", true, "", {}};
  auto big = PublishRandomNetwork(BigNetworkSpec(), o.scratch_dir, "kit-resnet224");
  if (!big.ok()) return Skipped("throughput", big.status().ToString());
  struct Model {
    std::string name, dir;
    const std::vector<int>* batches;
  };
  std::vector<Model> models = {{"default model (as served)", o.model_dir, &o.batch_sizes}};
  if (auto four = PublishFourViews(o.model_dir, o.scratch_dir, "kit-four-views"); four.ok()) {
    models.push_back({"default model, four test-time views", *four, &o.batch_sizes});
  } else {
    s.markdown.push_back(absl::StrCat("- default model, four test-time views: not measured (",
                                      four.status().message(), ")"));
  }
  models.push_back({"224-px ResNet (ResNet-50 cost)", *big, &o.big_batch_sizes});
  std::vector<std::string> rows;
  for (const Model& mod : models) {
    for (bool half : {false, true}) {
      if (half && !o.cuda()) continue;
      const std::string label = absl::StrCat(mod.name, ", ", half ? "fp16" : "fp32");
      auto m = LoadModel(mod.dir, o.device, half);
      if (!m.ok()) {
        s.ok = false;
        s.markdown.push_back(absl::StrCat("- ", label, ": ", m.status().ToString()));
        continue;
      }
      s.markdown.push_back(absl::StrCat("**", label, "** on ", (*m)->device()));
      s.markdown.push_back("");
      s.markdown.push_back("| batch | photos/s | p50 ms | p99 ms | calls |");
      s.markdown.push_back("|---|---|---|---|---|");
      for (int b : *mod.batches) {
        if (absl::Now() > o.deadline) {
          s.markdown.push_back(absl::StrCat("| ", b, " | not measured: time budget spent | | | |"));
          continue;
        }
        auto c = Time(**m, b, o.cell_seconds);
        if (!c.ok()) {
          s.ok = false;
          s.markdown.push_back(absl::StrCat("| ", b, " | ", c.status().ToString(), " | | | |"));
          continue;
        }
        s.markdown.push_back(absl::StrFormat("| %d | %.1f | %.2f | %.2f | %d |", b, c->photos_per_s,
                                             c->p50_ms, c->p99_ms, c->calls));
        rows.push_back(JsonObject()
                           .Str("model", mod.name)
                           .Str("precision", half ? "fp16" : "fp32")
                           .Int("batch", b)
                           .Num("photos_per_s", c->photos_per_s)
                           .Num("p50_ms", c->p50_ms)
                           .Num("p99_ms", c->p99_ms)
                           .Int("calls", c->calls)
                           .Done());
      }
      s.markdown.push_back("");
    }
  }
  s.json = JsonObject().Raw("cells", JsonArray(rows)).Done();
  return s;
}

}  // namespace dogsearch::gpu_kit
