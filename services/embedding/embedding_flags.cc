#include "services/embedding/embedding_flags.h"

#include <algorithm>

#include "absl/flags/flag.h"
#include "common/base/log.h"
#include "common/base/process_stats.h"
#include "common/model/checkpoint_manifest.h"

ABSL_FLAG(std::string, model_dir, "./data/models", "Directory of checkpoint directories");
ABSL_FLAG(std::string, default_model, "", "Version to load and serve first (empty = newest)");
ABSL_FLAG(int, watch_interval_seconds, 5, "Poll model_dir for new checkpoints (0 = off)");
ABSL_FLAG(bool, watch_make_default, false, "Make each newly found checkpoint the default");
ABSL_FLAG(std::string, trainer_address, "",
          "host:port of the trainer: follow its WatchCheckpoints stream (empty = off)");
ABSL_FLAG(bool, trainer_make_default, false,
          "Make each checkpoint the trainer publishes the default (promotions always do)");
ABSL_FLAG(std::string, backend_token, "",
          "Bearer token sent to the backends this server calls (the trainer), as the gateway's "
          "--backend_token");
ABSL_FLAG(std::string, trainer_token, "", "Deprecated name of --backend_token");
ABSL_FLAG(std::string, trainer_tls_ca, "", "PEM CA to verify the trainer (enables TLS)");
ABSL_FLAG(std::string, device, "auto", "auto, cpu, cuda or cuda:N");
ABSL_FLAG(bool, half, false, "Half precision on CUDA");
ABSL_FLAG(int, threads, 0,
          "LibTorch intra-op threads; 0 = the usable cores less one (at least 1), leaving one to "
          "decoding and gRPC (measured on 2 cores: 1 thread serves 1.7-2.9x the photos/s of 2, "
          "see docs/BENCHMARKS.md)");
ABSL_FLAG(int, max_batch, 0,
          "Largest batch per forward pass; 0 = per device: 4 on CPU (the 128-px default model, "
          "two views a photo: as many photos/s as batches of 8, with a shorter tail at 8 "
          "clients, see docs/BENCHMARKS.md), 32 on CUDA (not yet measured)");
ABSL_FLAG(bool, prepare_for_serving, true,
          "Let a network fold its batch norms and use inference kernels (MobileNetV2 on CPU: "
          "~7x the photos/s for a lone photo, docs/BENCHMARKS.md); false only to compare");
ABSL_FLAG(int, cpu_chunk_images, 16,
          "On CPU, run larger batches (photos and their mirrors) in chunks of this many images "
          "(0 = whole batch; 32 images at once cost 1.7x per image what 16 do)");
ABSL_FLAG(bool, emulate_bfloat16, false,
          "Serve bfloat16 versions (spec.serving_precision) with the float32 emulation even on "
          "CPUs with bfloat16 arithmetic, so that replicas on mixed CPUs embed alike (at "
          "float32's speed; native is ~2x, docs/BENCHMARKS.md)");
ABSL_FLAG(bool, keep_freed_memory, true,
          "On CPU, keep the memory that batches free for the next batch instead of unmapping "
          "it (the default model at 32 clients: 106-209 photos/s against 47-58 without; the "
          "resident size stays at the peak, docs/BENCHMARKS.md); false only to compare");
ABSL_FLAG(int, max_delay_ms, 2, "Longest a photo waits for a batch to fill");
ABSL_FLAG(int, batch_workers, 1,
          "Batches computed at once (each with --threads); 2 on a 2-core CPU: +52% photos/s at "
          "32 clients, slightly less at 1-8 (docs/BENCHMARKS.md)");
ABSL_FLAG(int, max_queued_photos, 1024, "Photos queued before RESOURCE_EXHAUSTED");
ABSL_FLAG(int, decode_threads, 2, "Threads decoding and preprocessing photos");
ABSL_FLAG(int, max_photos, 64, "Photos per Embed request");
ABSL_FLAG(int64_t, max_photo_bytes, 10 << 20, "Encoded bytes per photo");
ABSL_FLAG(int64_t, max_pixels, 40000000, "Pixels per photo (checked from the header)");
ABSL_FLAG(int64_t, max_request_pixels, 100000000,
          "Pixels of all photos in one Embed request (from the headers; the gateway keeps its "
          "calls under 100 million)");
ABSL_FLAG(int, max_loaded_models, 3, "READY versions kept; more retire the oldest non-default");

namespace dogsearch::embedding {

EmbeddingConfig EmbeddingConfigFromFlags() {
  EmbeddingConfig c;
  int requested_threads = absl::GetFlag(FLAGS_threads);
  if (requested_threads <= 0) requested_threads = std::max(1, UsableCores() - 1);
  c.torch_threads = SetTorchThreads(requested_threads);
  c.model_dir = absl::GetFlag(FLAGS_model_dir);
  c.device = ResolveDevice(absl::GetFlag(FLAGS_device));
  int max_batch = absl::GetFlag(FLAGS_max_batch);
  if (max_batch <= 0) max_batch = c.device == "cpu" ? 4 : 32;
  c.torch = TorchOptions{absl::GetFlag(FLAGS_device),
                         absl::GetFlag(FLAGS_half),
                         max_batch,
                         2,
                         std::nullopt,
                         absl::GetFlag(FLAGS_prepare_for_serving),
                         std::max(0, absl::GetFlag(FLAGS_cpu_chunk_images)),
                         absl::GetFlag(FLAGS_emulate_bfloat16),
                         absl::GetFlag(FLAGS_keep_freed_memory)};
  c.batch = BatcherOptions{max_batch, absl::Milliseconds(absl::GetFlag(FLAGS_max_delay_ms)),
                           static_cast<size_t>(absl::GetFlag(FLAGS_max_queued_photos)),
                           std::max(1, absl::GetFlag(FLAGS_batch_workers))};
  c.decode_threads = absl::GetFlag(FLAGS_decode_threads);
  c.limits.max_photos = absl::GetFlag(FLAGS_max_photos);
  c.limits.image.max_bytes = static_cast<uint64_t>(absl::GetFlag(FLAGS_max_photo_bytes));
  c.limits.image.max_pixels = static_cast<uint64_t>(absl::GetFlag(FLAGS_max_pixels));
  c.limits.max_request_pixels = static_cast<uint64_t>(absl::GetFlag(FLAGS_max_request_pixels));
  c.max_loaded_models = absl::GetFlag(FLAGS_max_loaded_models);
  c.first_model = absl::GetFlag(FLAGS_default_model);
  if (c.first_model.empty()) {
    auto all = model::ListCheckpoints(c.model_dir);
    if (all.ok() && !all->empty()) c.first_model = all->back().version;
  }
  c.watch_make_default = absl::GetFlag(FLAGS_watch_make_default);
  c.watch_interval = absl::Seconds(absl::GetFlag(FLAGS_watch_interval_seconds));
  c.trainer_address = absl::GetFlag(FLAGS_trainer_address);
  c.subscriber.watch.channel.bearer_token = absl::GetFlag(FLAGS_backend_token);
  if (!absl::GetFlag(FLAGS_trainer_token).empty()) {
    DS_LOG(kWarning, "deprecated_flag")
        .Kv("flag", "trainer_token")
        .Kv("use", "backend_token")
        .Kv("applied", c.subscriber.watch.channel.bearer_token.empty());
    if (c.subscriber.watch.channel.bearer_token.empty()) {
      c.subscriber.watch.channel.bearer_token = absl::GetFlag(FLAGS_trainer_token);
    }
  }
  c.subscriber.watch.channel.tls.ca_file = absl::GetFlag(FLAGS_trainer_tls_ca);
  c.subscriber.make_default_on_publish = absl::GetFlag(FLAGS_trainer_make_default);
  return c;
}

ModelLoader TorchLoader(const EmbeddingConfig& config, metrics::MetricsRegistry* registry) {
  return
      [model_dir = config.model_dir, torch = config.torch, registry](const std::string& version) {
        auto m = LoadTorchModel(model_dir + "/" + version, torch);
        registry
            ->GetCounter("dogsearch_embedding_model_loads_total", "Model loads by outcome.",
                         {{"outcome", m.ok() ? "ready" : "failed"}})
            ->Increment();
        return m;
      };
}

BatchObserver BatchMetrics(metrics::MetricsRegistry* r) {
  auto* size = r->GetHistogram("dogsearch_embedding_batch_size", "Photos per forward pass.",
                               metrics::ExponentialBuckets(1, 2, 8));
  auto* queue = r->GetHistogram("dogsearch_embedding_queue_seconds",
                                "Longest queue wait in a batch.", metrics::LatencyBuckets());
  auto* compute = r->GetHistogram("dogsearch_embedding_compute_seconds",
                                  "Forward pass time per batch.", metrics::LatencyBuckets());
  return {[=](int n, absl::Duration wait, absl::Duration took, const std::string&) {
    size->Observe(n);
    queue->Observe(absl::ToDoubleSeconds(wait));
    compute->Observe(absl::ToDoubleSeconds(took));
  }};
}

}  // namespace dogsearch::embedding
