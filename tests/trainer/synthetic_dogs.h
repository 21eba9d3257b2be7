// Generated "dogs" for training tests: each dog is a fixed 3x3 grid of random colours; each of
// its photos is that grid shifted, brightened and noised a little, saved as JPEG. Learnable in
// a few dozen steps by a tiny network; no real data needed.
#ifndef DOGSEARCH_TESTS_TRAINER_SYNTHETIC_DOGS_H_
#define DOGSEARCH_TESTS_TRAINER_SYNTHETIC_DOGS_H_

#include <cstdint>
#include <string>

#include "common/model/model_spec.h"
#include "dogsearch/v1/model.pb.h"

namespace dogsearch::testing {

// Writes <root>/dog<i>/<j>.jpg. Photo sides vary between `size` and 2 * size.
void WriteSyntheticDogs(const std::string& root, int dogs, int photos, int size, uint64_t seed);

// A tiny residual network for tests: 32x32 input, widths 8-16, 16-d embeddings.
model::ModelSpec TinySpec();

// A TrainingConfig for the tiny network on generated dogs in data-root folder `dataset`:
// P=4 x K=3, a quarter of the dogs held out, lr 3e-3 (3 steps per epoch on 16 dogs).
::dogsearch::v1::TrainingConfig TinyTrainingConfig(const std::string& dataset, uint32_t epochs);
// The same config as a JSON file (`dogsearch train start --config=PATH`).
void WriteTinyTrainingConfig(const std::string& path, const std::string& dataset, uint32_t epochs);

}  // namespace dogsearch::testing

#endif  // DOGSEARCH_TESTS_TRAINER_SYNTHETIC_DOGS_H_
