// Training throughput: the default recipe's step (its network, 96 px) and the 224-px network's,
// on the kit's photos held on the device.
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "common/model/checkpoint_manifest.h"
#include "tools/gpu/kit.h"
#include "tools/gpu/kit_json.h"
#include "tools/gpu/kit_torch.h"

namespace dogsearch::gpu_kit {

Section RunTraining(const KitOptions& o, const KitPhotos& photos) {
  Section s{"training", true, "", {}};
  auto manifest = model::ReadManifest(o.model_dir);
  if (!manifest.ok()) return Skipped("training", manifest.status().ToString());
  model::ModelSpec recipe = manifest->model;
  recipe.flip_average = false;  // Serving choices; training sees single photos.
  recipe.test_time_zoom = 0.f;
  recipe.test_time_four_views = false;
  const std::vector<std::pair<std::string, model::ModelSpec>> nets = {
      {absl::StrCat("default recipe (", recipe.input.width, " px)"), recipe},
      {"224-px ResNet (ResNet-50 cost)", BigNetworkSpec()}};
  std::vector<std::string> rows;
  s.markdown = {
      "Fresh networks, PK batches of 16 dogs x 4 photos, triplet loss (semi-hard), "
      "Adam; photos already on the device (no decoding or CPU augmentation).",
      "", "| network | images/s | ms/step | timed steps | loss first -> last |",
      "|---|---|---|---|---|"};
  for (const auto& [name, spec] : nets) {
    if (absl::Now() > o.deadline) {
      s.markdown.push_back(absl::StrCat("| ", name, " | not measured: time budget spent | | | |"));
      continue;
    }
    auto f = MeasureTraining(spec, photos, o.device, o.train_seconds, o.train_warmup_steps);
    if (!f.ok()) {
      s.ok = false;
      s.markdown.push_back(absl::StrCat("| ", name, " | ", f.status().ToString(), " | | | |"));
      continue;
    }
    s.markdown.push_back(absl::StrFormat("| %s | %.1f | %.1f | %d | %.4f -> %.4f |", name,
                                         f->images_per_s, 1e3 * f->seconds / f->steps, f->steps,
                                         f->loss_first, f->loss_last));
    rows.push_back(JsonObject()
                       .Str("network", name)
                       .Int("batch", f->batch)
                       .Num("images_per_s", f->images_per_s)
                       .Num("ms_per_step", 1e3 * f->seconds / f->steps)
                       .Int("steps", f->steps)
                       .Num("loss_first", f->loss_first)
                       .Num("loss_last", f->loss_last)
                       .Done());
  }
  s.markdown.push_back("");
  s.markdown.push_back(
      "The 5-minute training curve is not part of the kit: the 6,755 training photos do not fit "
      "in what may travel with the checkout (docs/GPU.md).");
  s.json = JsonObject()
               .Raw("recipes", JsonArray(rows))
               .Str("curve", "not run: the training photos do not travel (docs/GPU.md)")
               .Done();
  return s;
}

Section Skipped(const std::string& name, const std::string& why) {
  Section s{
      name, false, JsonObject().Str("error", why).Done(), {absl::StrCat("Not measured: ", why)}};
  return s;
}

}  // namespace dogsearch::gpu_kit
