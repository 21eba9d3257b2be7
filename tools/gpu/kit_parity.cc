// Parity: the default model's embeddings of the kit's photos on the device against the CPU,
// half precision against full, each with the accuracy it gives on those photos.
#include <cstdio>

#include "absl/strings/str_format.h"
#include "services/trainer/core/evaluation.h"
#include "tools/gpu/kit.h"
#include "tools/gpu/kit_embed.h"
#include "tools/gpu/kit_json.h"

namespace dogsearch::gpu_kit {
namespace {

constexpr int kBatch = 64;
// CUDA convolutions may run in TF32 (cuDNN's default): unit vectors agree to a few 1e-3.
constexpr double kFp32Tolerance = 5e-3;
constexpr double kCpuTolerance = 1e-4;  // CPU, batch 1 against batch 64.
constexpr double kAccuracyTolerance = 0.01;

struct Way {
  std::string name;
  std::vector<float> vectors;
  model::EvalMetrics metrics;
};

absl::StatusOr<Way> Measure(const std::string& name, const std::string& dir,
                            const std::string& device, bool half, int batch,
                            const KitPhotos& photos) {
  auto m = LoadModel(dir, device, half);
  if (!m.ok()) return m.status();
  Way w{name, {}, {}};
  auto v = EmbedAll(**m, photos, batch);
  if (!v.ok()) return v.status();
  w.vectors = *std::move(v);
  trainer::EmbeddingTable t{w.vectors, (*m)->dimension(), photos.labels};
  trainer::EvalOptions eo;
  eo.calibrate_identification = false;
  auto r = trainer::Evaluate(t, eo);
  if (!r.ok()) return r.status();
  w.metrics = r->metrics;
  return w;
}

std::string WayJson(const Way& w) {
  return JsonObject()
      .Str("way", w.name)
      .Num("verification", w.metrics.verification_accuracy)
      .Num("rank1", w.metrics.rank1)
      .Num("tar_at_far_1e3", w.metrics.tar_at_far_1e3)
      .Done();
}

std::string Row(const Way& w, double diff) {
  return absl::StrFormat("| %s | %.3f | %.3f | %.3f | %s |", w.name,
                         w.metrics.verification_accuracy, w.metrics.rank1, w.metrics.tar_at_far_1e3,
                         diff < 0 ? "(reference)" : absl::StrFormat("%.2e", diff));
}

}  // namespace

Section RunParity(const KitOptions& o, const KitPhotos& photos) {
  Section s{"parity", true, "", {}};
  // The reference: the CPU at batch 64. Against it: the device at batch 64 (on the CPU dry run,
  // the CPU at batch 1: batch composition must not change an embedding).
  auto ref = Measure("cpu fp32, batch 64", o.model_dir, "cpu", false, kBatch, photos);
  auto dev = o.cuda() ? Measure(o.device + " fp32", o.model_dir, o.device, false, kBatch, photos)
                      : Measure("cpu fp32, batch 1", o.model_dir, "cpu", false, 1, photos);
  if (!ref.ok() || !dev.ok()) {
    return Skipped("parity", (ref.ok() ? dev : ref).status().ToString());
  }
  const double d_dev = MaxAbsDifference(ref->vectors, dev->vectors);
  const double tol = o.cuda() ? kFp32Tolerance : kCpuTolerance;
  const bool dev_ok =
      d_dev <= tol && std::fabs(dev->metrics.verification_accuracy -
                                ref->metrics.verification_accuracy) <= kAccuracyTolerance;
  s.ok = dev_ok;
  JsonObject j;
  j.Int("photos", static_cast<int64_t>(photos.size()))
      .Raw("reference", WayJson(*ref))
      .Raw("device_fp32", WayJson(*dev))
      .Num("max_abs_diff_device_vs_cpu", d_dev)
      .Num("tolerance", tol)
      .Bool("device_fp32_ok", dev_ok);
  s.markdown = {absl::StrFormat("%zu photos (%d dogs); max |difference| of unit vectors against "
                                "the CPU reference.",
                                photos.size(), photos.labels.back() + 1),
                "",
                "| way | verification | rank-1 | TAR@FAR=1e-3 | max abs diff |",
                "|---|---|---|---|---|",
                Row(*ref, -1),
                Row(*dev, d_dev)};
  if (o.cuda()) {
    auto half = Measure(o.device + " fp16", o.model_dir, o.device, true, kBatch, photos);
    if (half.ok()) {
      const double d_half = MaxAbsDifference(dev->vectors, half->vectors);
      const bool half_ok = std::fabs(half->metrics.verification_accuracy -
                                     dev->metrics.verification_accuracy) <= kAccuracyTolerance;
      s.ok = s.ok && half_ok;
      j.Raw("device_fp16", WayJson(*half))
          .Num("max_abs_diff_fp16_vs_fp32", d_half)
          .Bool("device_fp16_ok", half_ok);
      s.markdown.push_back(Row(*half, d_half) + " (against fp32)");
    } else {
      s.ok = false;
      j.Str("device_fp16_error", half.status().ToString());
    }
  } else {
    j.Str("device_fp16", "not measured: half precision is served on CUDA only");
  }
  s.json = j.Done();
  return s;
}

}  // namespace dogsearch::gpu_kit
