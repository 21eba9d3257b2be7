// The GPU kit (docs/GPU.md): one program that measures the CUDA path of the embedding service
// and the trainer against the CPU, writing one JSON + Markdown report. Each section returns
// what it measured and whether its checks held; none aborts the others.
//
// Sections: parity (the default model's embeddings on the device vs the CPU, half vs full
// precision, with verification accuracy and rank-1 each way), throughput (photos/s and latency
// against batch size, fp32/fp16, the default model and a 224-px ResNet of ResNet-50 cost), hot
// reload under load (the real ModelRepository and DynamicBatcher, 16 client threads), training
// throughput (the default recipe's step and the 224-px network's).
#ifndef DOGSEARCH_TOOLS_GPU_KIT_H_
#define DOGSEARCH_TOOLS_GPU_KIT_H_

#include <string>
#include <vector>

#include "absl/time/time.h"
#include "tools/gpu/kit_photos.h"

namespace dogsearch::gpu_kit {

struct KitOptions {
  std::string device = "cuda";  // "cuda", "cuda:N" or "cpu" (the dry run).
  std::string model_dir;        // The default model's checkpoint directory.
  std::string scratch_dir;      // Checkpoints the kit makes (the 224-px net, version B).
  std::vector<int> batch_sizes = {1, 2, 4, 8, 16, 32, 64, 128, 256};
  std::vector<int> big_batch_sizes = {1, 2, 4, 8, 16, 32, 64, 128, 256};
  double cell_seconds = 0.5;  // Timed per throughput cell, after warm-up.
  int reloads = 20;
  int reload_clients = 16;
  double train_seconds = 20;  // Timed per training recipe, after warm-up.
  int train_warmup_steps = 5;
  absl::Time deadline = absl::InfiniteFuture();  // Sections left undone past it say so.

  bool cuda() const { return device != "cpu"; }
};

struct Section {
  std::string name;
  bool ok = true;                     // Every check held, and it ran.
  std::string json;                   // One JSON object.
  std::vector<std::string> markdown;  // Lines, tables included.
};

Section RunParity(const KitOptions& o, const KitPhotos& photos);
Section RunThroughput(const KitOptions& o, const KitPhotos& photos);
Section RunReload(const KitOptions& o, const KitPhotos& photos);
Section RunTraining(const KitOptions& o, const KitPhotos& photos);

// A section that could not run (not ok), saying why.
Section Skipped(const std::string& name, const std::string& why);

}  // namespace dogsearch::gpu_kit

#endif  // DOGSEARCH_TOOLS_GPU_KIT_H_
