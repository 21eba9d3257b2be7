// Facts about the running process, read from /proc (Linux).
#ifndef DOGSEARCH_COMMON_BASE_PROCESS_STATS_H_
#define DOGSEARCH_COMMON_BASE_PROCESS_STATS_H_

#include <cstdint>

#include "absl/status/statusor.h"

namespace dogsearch {

// Resident set size (VmRSS) in bytes. UNAVAILABLE where /proc/self/status cannot be read.
absl::StatusOr<uint64_t> ResidentMemoryBytes();

// Cores this process may run on: its CPU affinity (which cpusets narrow), else the machine's;
// at least 1. A CPU quota without a cpuset (docker --cpus) is not seen.
int UsableCores();

}  // namespace dogsearch

#endif  // DOGSEARCH_COMMON_BASE_PROCESS_STATS_H_
