// Embedding benchmark: photos/s and p50/p99 latency of the embedding service over loopback gRPC
// at 1, 8 and 32 concurrent clients (one photo per request, so the dynamic batcher does the
// batching), against in-process LibTorch forward of the same model on the same preprocessed
// photos at batch 1 and at the service's max batch, measured in one run.
//
//   build/tools/bench/embedding_bench [--arch=seed_inception] [--side=224] [--seconds=10]
//
// Photos are generated JPEGs of the model's input size (the DogFaceNet photos are 224x224 too).
#include <grpcpp/grpcpp.h>
#include <torch/torch.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <filesystem>
#include <thread>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/base/log.h"
#include "common/image/image_decoder.h"
#include "common/rpc/channel.h"
#include "common/rpc/grpc_server.h"
#include "common/torch_model/checkpoint.h"
#include "services/embedding/core/torch_model.h"
#include "services/embedding/embedding_service.h"
#include "tests/testing/test_images.h"

ABSL_FLAG(std::string, arch, "seed_inception", "Architecture to benchmark");
ABSL_FLAG(int, side, 224, "Input side in pixels");
ABSL_FLAG(int, seconds, 10, "Seconds per measurement");
ABSL_FLAG(int, threads, 2, "LibTorch intra-op threads");
ABSL_FLAG(int, max_batch, 4, "Service max batch");
ABSL_FLAG(int, workers, 1, "Service batcher workers (batches run at once)");
ABSL_FLAG(int, max_delay_ms, 2, "Service max delay (ms) waiting for a batch to fill");
ABSL_FLAG(bool, prepare, true,
          "Let the network prepare for serving (fold batch norms, oneDNN kernels: "
          "TorchOptions::prepare_for_serving); false measures the unprepared network");
ABSL_FLAG(int, cpu_chunk, 16,
          "Images per forward pass on CPU (TorchOptions::cpu_chunk_images; 0 = whole batch)");
ABSL_FLAG(bool, emulate_bfloat16, false,
          "Compute a bfloat16 version with the float32 emulation (TorchOptions::"
          "emulate_bfloat16), as a CPU without bfloat16 arithmetic does");
ABSL_FLAG(bool, keep_freed_memory, true,
          "Keep the memory batches free (TorchOptions::keep_freed_memory); false measures "
          "malloc's defaults");
ABSL_FLAG(std::string, dir, "/tmp/dogsearch-embedding-bench", "Scratch checkpoint directory");
ABSL_FLAG(std::string, checkpoint, "",
          "Benchmark this checkpoint directory (e.g. deploy/models/<version>) instead of a "
          "randomly initialised --arch/--side network");

namespace dogsearch::embedding {
namespace {

struct Result {
  double photos_per_second = 0, p50_ms = 0, p99_ms = 0;
};

Result Summarise(std::vector<double> latencies_ms, double seconds) {
  Result r;
  r.photos_per_second = latencies_ms.size() / seconds;
  if (latencies_ms.empty()) return r;
  std::sort(latencies_ms.begin(), latencies_ms.end());
  r.p50_ms = latencies_ms[latencies_ms.size() / 2];
  r.p99_ms = latencies_ms[std::min(latencies_ms.size() - 1, latencies_ms.size() * 99 / 100)];
  return r;
}

Result InProcess(const EmbeddingModel& m, const std::vector<std::string>& photos, int batch,
                 absl::Duration budget) {
  std::vector<double> lat;
  const absl::Time end = absl::Now() + budget, start = absl::Now();
  size_t next = 0;
  while (absl::Now() < end) {
    const absl::Time t0 = absl::Now();
    std::vector<float> in;
    for (int b = 0; b < batch; ++b) {  // Decode + preprocess + forward, as the service does.
      auto rgb = *image::DecodeImage(photos[next++ % photos.size()], {});
      std::vector<float> x = image::ToInputCHW(rgb, m.input_spec());
      in.insert(in.end(), x.begin(), x.end());
    }
    (void)m.Embed(in.data(), batch);
    const double ms = absl::ToDoubleMilliseconds(absl::Now() - t0);
    for (int b = 0; b < batch; ++b) lat.push_back(ms);
  }
  return Summarise(lat, absl::ToDoubleSeconds(absl::Now() - start));
}

Result OverGrpc(v1::Embedding::Stub& stub, const std::vector<std::string>& photos, int clients,
                absl::Duration budget) {
  std::mutex mu;
  std::vector<double> lat;
  std::atomic<int> errors{0};
  const absl::Time start = absl::Now(), end = start + budget;
  std::vector<std::thread> ts;
  for (int c = 0; c < clients; ++c) {
    ts.emplace_back([&, c] {
      std::vector<double> mine;
      for (size_t i = c; absl::Now() < end; i += clients) {
        v1::EmbedRequest req;
        req.add_photos()->set_data(photos[i % photos.size()]);
        v1::EmbedResponse resp;
        grpc::ClientContext ctx;
        const absl::Time t0 = absl::Now();
        if (stub.Embed(&ctx, req, &resp).ok()) {
          mine.push_back(absl::ToDoubleMilliseconds(absl::Now() - t0));
        } else {
          ++errors;
        }
      }
      std::lock_guard<std::mutex> lock(mu);
      lat.insert(lat.end(), mine.begin(), mine.end());
    });
  }
  for (auto& t : ts) t.join();
  if (errors) std::fprintf(stderr, "%d requests failed\n", errors.load());
  return Summarise(lat, absl::ToDoubleSeconds(absl::Now() - start));
}

int Main() {
  SetLogLevel(LogLevel::kWarning);
  const int threads = SetTorchThreads(absl::GetFlag(FLAGS_threads));
  model::ModelSpec spec;
  spec.architecture = absl::GetFlag(FLAGS_arch);
  spec.input.width = spec.input.height = absl::GetFlag(FLAGS_side);
  const std::string dir = absl::GetFlag(FLAGS_dir);
  std::filesystem::remove_all(dir);
  model::CheckpointManifest manifest;
  manifest.version = "bench";
  if (const std::string from = absl::GetFlag(FLAGS_checkpoint); !from.empty()) {
    auto loaded = model::LoadCheckpoint(from);
    if (!loaded.ok()) {
      std::fprintf(stderr, "embedding_bench: %s\n", loaded.status().ToString().c_str());
      return 1;
    }
    spec = loaded->manifest.model;
    manifest.model = spec;
    if (!model::PublishCheckpoint(dir, manifest, *loaded->net).ok()) return 1;
  } else {
    auto net = *model::BuildEmbeddingNet(spec);
    net->eval();
    manifest.model = spec;
    if (!model::PublishCheckpoint(dir, manifest, *net).ok()) return 1;
  }
  TorchOptions options{"cpu",
                       false,
                       4,
                       2,
                       std::nullopt,
                       absl::GetFlag(FLAGS_prepare),
                       absl::GetFlag(FLAGS_cpu_chunk),
                       absl::GetFlag(FLAGS_emulate_bfloat16),
                       absl::GetFlag(FLAGS_keep_freed_memory)};
  auto m = *LoadTorchModel(dir + "/bench", options);
  std::vector<std::string> photos;
  for (int i = 0; i < 32; ++i)
    photos.push_back(testing::MakeJpeg(spec.input.width, spec.input.height, i));
  const absl::Duration budget = absl::Seconds(absl::GetFlag(FLAGS_seconds));
  const int max_batch = absl::GetFlag(FLAGS_max_batch);

  std::printf(
      "model %s%s %dx%d%s%s, %s, CPU chunk %d images,%s keeping freed memory, %d LibTorch "
      "threads, %u cores, service max_batch %d, max_delay %d ms\n\n",
      absl::GetFlag(FLAGS_checkpoint).empty() ? ""
                                              : (absl::GetFlag(FLAGS_checkpoint) + ": ").c_str(),
      spec.architecture.c_str(), spec.input.width, spec.input.height,
      spec.flip_average ? " with test-time flip" : "",
      options.prepare_for_serving ? ", prepared for serving" : ", not prepared",
      m->numerics().c_str(), options.cpu_chunk_images, options.keep_freed_memory ? "" : " not",
      threads, std::thread::hardware_concurrency(), max_batch, absl::GetFlag(FLAGS_max_delay_ms));
  std::printf("| path | clients / batch | photos/s | p50 ms | p99 ms |\n|---|---|---|---|---|\n");
  for (int batch : {1, max_batch}) {
    Result r = InProcess(*m, photos, batch, budget);
    std::printf("| in-process LibTorch (decode+forward) | batch %d | %.1f | %.1f | %.1f |\n", batch,
                r.photos_per_second, r.p50_ms, r.p99_ms);
  }

  ModelRepository repo(
      [dir, options](const std::string& v) {
        TorchOptions o = options;
        o.warmup_passes = 1;
        return LoadTorchModel(dir + "/" + v, o);
      },
      {});
  repo.StartLoad("bench", true).IgnoreError();
  repo.WaitUntilLoaded("bench", absl::Minutes(5)).IgnoreError();
  BatcherOptions bo;
  bo.max_batch = max_batch;
  bo.max_delay = absl::Milliseconds(absl::GetFlag(FLAGS_max_delay_ms));
  bo.workers = absl::GetFlag(FLAGS_workers);
  DynamicBatcher batcher(bo, Clock::Real());
  ThreadPool decode(2, 1024), admin(1, 4);
  metrics::MetricsRegistry registry;
  EmbeddingService service({&repo, &batcher, &decode, &admin, dir, &registry}, {},
                           rpc::TokenAuthenticator("", false));
  auto server = *rpc::GrpcServer::Start({}, {&service});
  auto stub =
      v1::Embedding::NewStub(*rpc::CreateChannel(absl::StrCat("127.0.0.1:", server->port()), {}));
  for (int clients : {1, 8, 32}) {
    Result r = OverGrpc(*stub, photos, clients, budget);
    std::printf("| embedding service over gRPC | %d clients | %.1f | %.1f | %.1f |\n", clients,
                r.photos_per_second, r.p50_ms, r.p99_ms);
  }
  server->Shutdown(absl::Seconds(5));
  batcher.Stop();
  std::filesystem::remove_all(dir);
  return 0;
}

}  // namespace
}  // namespace dogsearch::embedding

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  return dogsearch::embedding::Main();
}
