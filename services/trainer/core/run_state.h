// The resumable state of a training run: which checkpoints are last and best, how far it got.
// Stored as "key value" lines in <output_dir>/state/run_state.txt, replaced atomically
// (write temp, fsync, rename). Plain data; thread-compatible.
#ifndef DOGSEARCH_SERVICES_TRAINER_CORE_RUN_STATE_H_
#define DOGSEARCH_SERVICES_TRAINER_CORE_RUN_STATE_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"

namespace dogsearch::trainer {

struct RunState {
  std::string last_version;
  std::string best_version;
  double best_accuracy = -1;  // Validation verification accuracy of best_version.
  uint32_t epochs_done = 0;
  uint64_t steps_done = 0;
  double elapsed_seconds = 0;
  std::string optimizer_file;  // Under state/; "" if none.
};

std::string StateDir(const std::string& output_dir);
absl::Status SaveRunState(const std::string& output_dir, const RunState& state);
// NOT_FOUND if the run has no state; DATA_LOSS if the file is malformed.
absl::StatusOr<RunState> LoadRunState(const std::string& output_dir);

}  // namespace dogsearch::trainer

#endif  // DOGSEARCH_SERVICES_TRAINER_CORE_RUN_STATE_H_
