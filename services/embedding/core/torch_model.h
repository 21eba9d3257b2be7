// EmbeddingModel backed by LibTorch. Load() reads a checkpoint directory through
// common/model/checkpoint (manifest, content hash, architecture and tensor shapes checked),
// moves it to the device, runs the probe batch (finite, unit-norm outputs of the right size)
// and warm-up passes, and only then returns a model. LibTorch stays out of this header.
//
// Devices: CUDA when asked for and available (inputs staged in pinned host memory and copied
// non-blocking; optional half precision), CPU otherwise. Inference runs under
// c10::InferenceMode; concurrent Embed calls on one model are safe.
#ifndef DOGSEARCH_SERVICES_EMBEDDING_CORE_TORCH_MODEL_H_
#define DOGSEARCH_SERVICES_EMBEDDING_CORE_TORCH_MODEL_H_

#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "services/embedding/core/embedding_model.h"

namespace dogsearch::embedding {

struct TorchOptions {
  // "auto" (CUDA if available, else CPU), "cpu", "cuda" or "cuda:N".
  std::string device = "auto";
  // Half precision on CUDA (ignored on CPU, and for versions served in bfloat16: a
  // version's serving precision is its own, ModelSpec::serving_precision).
  bool half = false;
  // Batch size used for warm-up passes.
  int warmup_batch = 8;
  int warmup_passes = 2;
  // Whether a lone photo runs as a pair on CPU (LibTorch 1.13 uses oneDNN convolutions only
  // from batch 2, or for large kernels or feature maps; for a small network its fallback for a
  // batch of one is an order of magnitude slower). Unset: measured at load, the faster wins.
  std::optional<bool> pair_lone_photos;
  // Let the network fold batch norms and pick inference kernels (EmbeddingNet::
  // PrepareForServing; for MobileNetV2 on CPU the 1x1 convolutions of small batches run ~10x
  // faster). Off only to measure the difference (tools/bench/embedding_bench --prepare); a
  // version served in bfloat16 needs it (FAILED_PRECONDITION otherwise).
  bool prepare_for_serving = true;
  // On CPU, batches of more images (photos and their mirrors) run in chunks of this many
  // (0 = whole batch at once).
  int cpu_chunk_images = 16;
  // Compute bfloat16 versions with the emulation (model::Numerics) even where the CPU has
  // bfloat16 arithmetic: replicas on mixed CPUs then embed alike to float rounding, at
  // float32's speed. No effect on float32 versions or on CUDA.
  bool emulate_bfloat16 = false;
  // On CPU, while the model is loaded, malloc keeps the memory that its batches free
  // (ScopedHeapRetention) instead of mapping, faulting in and unmapping fresh pages for every
  // large activation: measured on 2 cores with the 128-px default, in-process batches of 8 ran
  // at 0.3x the photos/s without it in some runs, and 32 clients of the service at 0.25-0.5x
  // in all (docs/BENCHMARKS.md, "Keeping freed memory while serving"). The resident size then
  // stays at the largest batch's peak (+3% after the gateway bench). Off only to compare.
  bool keep_freed_memory = true;
};

// The device string "auto" resolves to on this machine.
std::string ResolveDevice(const std::string& requested);

absl::StatusOr<std::shared_ptr<const EmbeddingModel>> LoadTorchModel(const std::string& dir,
                                                                     const TorchOptions& options);

// Sets LibTorch's intra-op thread count (0 = leave as is). Returns the count in effect.
int SetTorchThreads(int threads);

}  // namespace dogsearch::embedding

#endif  // DOGSEARCH_SERVICES_EMBEDDING_CORE_TORCH_MODEL_H_
