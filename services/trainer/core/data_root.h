// Confines training data sets to a configured data root: the trainer service accepts dataset
// names from the network and must never read outside that folder. Plain filesystem logic.
#ifndef DOGSEARCH_SERVICES_TRAINER_CORE_DATA_ROOT_H_
#define DOGSEARCH_SERVICES_TRAINER_CORE_DATA_ROOT_H_

#include <string>

#include "absl/status/statusor.h"

namespace dogsearch::trainer {

// The real path of `dataset` inside `root`. INVALID_ARGUMENT (naming the field "dataset") for
// an empty or absolute path, a ".." component, or a path that resolves (symbolic links
// followed) outside the root; NOT_FOUND if it does not exist or is not a directory.
absl::StatusOr<std::string> ResolveDataset(const std::string& root, const std::string& dataset);

}  // namespace dogsearch::trainer

#endif  // DOGSEARCH_SERVICES_TRAINER_CORE_DATA_ROOT_H_
