// Embedding the kit's photos through the embedding service's own model loader
// (LoadTorchModel: checkpoint verified, probed, warmed up), and timing helpers. No LibTorch.
#ifndef DOGSEARCH_TOOLS_GPU_KIT_EMBED_H_
#define DOGSEARCH_TOOLS_GPU_KIT_EMBED_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "services/embedding/core/embedding_model.h"
#include "tools/gpu/kit_photos.h"

namespace dogsearch::gpu_kit {

using ModelPtr = std::shared_ptr<const embedding::EmbeddingModel>;

absl::StatusOr<ModelPtr> LoadModel(const std::string& dir, const std::string& device, bool half);

// Every photo's embedding, `batch` photos per call, row-major.
absl::StatusOr<std::vector<float>> EmbedAll(const embedding::EmbeddingModel& m,
                                            const KitPhotos& photos, int batch);

// The largest |a_i - b_i|.
double MaxAbsDifference(const std::vector<float>& a, const std::vector<float>& b);

// Device memory in use, in bytes, as nvidia-smi reports it: this process's entry, or (inside a
// PID namespace, where nvidia-smi shows host PIDs) the first GPU's total; -1 without
// nvidia-smi. Resident host memory is ResidentMemoryBytes().
int64_t DeviceMemoryBytes();

double Percentile(std::vector<double> v, double q);

}  // namespace dogsearch::gpu_kit

#endif  // DOGSEARCH_TOOLS_GPU_KIT_EMBED_H_
