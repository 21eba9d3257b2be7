// Keeps the memory that large, short-lived buffers free inside the process (glibc's malloc).
//
// A training step allocates and frees the same activations and gradients every step, many of
// them larger than glibc's mmap threshold (at most 32 MiB), so by default every step maps
// fresh pages from the kernel, faults each one in (zero-filled) and unmaps it again: measured
// on the 2-core CPU, 14% (96-px ResNet) to 36% (128-px MobileNetV2) of the trainer's CPU time
// went to the kernel (docs/TRAINING.md, "Keeping freed tensor memory"). While a ScopedHeapRetention
// lives, malloc takes no new mapping (M_MMAP_MAX 0) and never gives the heap's top back
// (M_TRIM_THRESHOLD), so freed memory is reused; the resident size stays at the run's peak.
// When the last scope ends, glibc's defaults come back and malloc_trim returns what is free.
//
// Process-wide (mallopt is); scopes may nest and overlap across threads: a count under a
// mutex decides the first and the last. The embedding service holds one while a CPU model is
// loaded (TorchOptions::keep_freed_memory): a batch of photos at 128 px frees several to tens of
// MiB of activations per forward pass, and without it the same churn cost up to 3x the time.
#ifndef DOGSEARCH_COMMON_BASE_HEAP_RETENTION_H_
#define DOGSEARCH_COMMON_BASE_HEAP_RETENTION_H_

namespace dogsearch {

class ScopedHeapRetention {
 public:
  ScopedHeapRetention();
  ~ScopedHeapRetention();
  ScopedHeapRetention(const ScopedHeapRetention&) = delete;
  ScopedHeapRetention& operator=(const ScopedHeapRetention&) = delete;

  // Whether any scope is alive in the process.
  static bool Active();
};

}  // namespace dogsearch

#endif  // DOGSEARCH_COMMON_BASE_HEAP_RETENTION_H_
