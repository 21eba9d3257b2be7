#include "common/base/heap_retention.h"

#include <malloc.h>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace dogsearch {
namespace {

// glibc's defaults (mallopt(3)): 65,536 mappings, trim above 128 KiB. Setting the trim
// threshold turns off glibc's dynamic threshold; that is also what a process gets that sets
// it once at start, and the difference is a heap top trimmed at 128 KiB rather than later.
constexpr int kDefaultMmapMax = 65536;
constexpr int kDefaultTrimThreshold = 128 * 1024;
constexpr int kNeverTrim = 0x7fffffff;

absl::Mutex mu;
int live_scopes ABSL_GUARDED_BY(mu) = 0;  // ScopedHeapRetention objects alive.

}  // namespace

ScopedHeapRetention::ScopedHeapRetention() {
  absl::MutexLock lock(&mu);
  if (live_scopes++ > 0) return;
  mallopt(M_MMAP_MAX, 0);
  mallopt(M_TRIM_THRESHOLD, kNeverTrim);
}

ScopedHeapRetention::~ScopedHeapRetention() {
  absl::MutexLock lock(&mu);
  if (--live_scopes > 0) return;
  mallopt(M_MMAP_MAX, kDefaultMmapMax);
  mallopt(M_TRIM_THRESHOLD, kDefaultTrimThreshold);
  malloc_trim(0);
}

bool ScopedHeapRetention::Active() {
  absl::MutexLock lock(&mu);
  return live_scopes > 0;
}

}  // namespace dogsearch
