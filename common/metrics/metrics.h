// Prometheus metrics: counters, gauges and histograms with labels, rendered in the text
// exposition format 0.0.4.
//
// Ownership and threads: a MetricsRegistry owns every metric it hands out; the returned
// pointers stay valid for the registry's lifetime. Updating a metric is lock-free (atomics) and
// safe from any thread. Registration and rendering take the registry's mutex. Asking twice for
// the same name and labels returns the same object. A name registered with two different types
// or help texts, or an invalid metric or label name, is a programming error: it aborts with a
// message at registration (start-up), never on the hot path.
#ifndef DOGSEARCH_COMMON_METRICS_METRICS_H_
#define DOGSEARCH_COMMON_METRICS_METRICS_H_

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/strings/string_view.h"

namespace dogsearch::metrics {

// Label name/value pairs, in the order they are rendered.
using Labels = std::vector<std::pair<std::string, std::string>>;

class Counter {
 public:
  // REQUIRES: delta >= 0 (negative deltas are ignored: counters never go down).
  void Increment(double delta = 1.0);
  double Value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0.0};
};

class Gauge {
 public:
  void Set(double value) { value_.store(value, std::memory_order_relaxed); }
  void Add(double delta);
  double Value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0.0};
};

class Histogram {
 public:
  // `upper_bounds` must be strictly increasing and finite; +Inf is implicit.
  explicit Histogram(std::vector<double> upper_bounds);

  void Observe(double value);

  const std::vector<double>& upper_bounds() const { return upper_bounds_; }
  // Non-cumulative count per bucket (size upper_bounds + 1, last is +Inf).
  std::vector<uint64_t> BucketCounts() const;
  uint64_t Count() const { return count_.load(std::memory_order_relaxed); }
  double Sum() const { return sum_.load(std::memory_order_relaxed); }

 private:
  const std::vector<double> upper_bounds_;
  std::unique_ptr<std::atomic<uint64_t>[]> buckets_;
  std::atomic<uint64_t> count_{0};
  std::atomic<double> sum_{0.0};
};

// `count` bounds: start, start*factor, ... REQUIRES: start > 0, factor > 1, count >= 1.
std::vector<double> ExponentialBuckets(double start, double factor, int count);
// 0.5 ms .. ~16 s, for request latencies in seconds.
std::vector<double> LatencyBuckets();

class MetricsRegistry {
 public:
  MetricsRegistry() = default;
  MetricsRegistry(const MetricsRegistry&) = delete;
  MetricsRegistry& operator=(const MetricsRegistry&) = delete;

  // The process-wide registry that /metrics serves by default.
  static MetricsRegistry& Default();

  Counter* GetCounter(absl::string_view name, absl::string_view help, const Labels& labels = {});
  Gauge* GetGauge(absl::string_view name, absl::string_view help, const Labels& labels = {});
  // Buckets are fixed by the first registration of the name.
  Histogram* GetHistogram(absl::string_view name, absl::string_view help,
                          const std::vector<double>& upper_bounds, const Labels& labels = {});

  // Every metric in the text exposition format, families sorted by name.
  std::string RenderText() const;

 private:
  enum class Type { kCounter, kGauge, kHistogram };
  struct Family {
    Type type;
    std::string help;
    std::vector<double> upper_bounds;  // Histograms only.
    // Keyed by rendered label set, e.g. {code="OK",method="Embed"}.
    std::map<std::string, std::unique_ptr<Counter>> counters;
    std::map<std::string, std::unique_ptr<Gauge>> gauges;
    std::map<std::string, std::unique_ptr<Histogram>> histograms;
  };

  Family& FamilyFor(absl::string_view name, absl::string_view help, Type type)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void RenderFamily(const std::string& name, const Family& family, std::string* out) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  // Guards the family map. Metric objects themselves are atomics, updated without it.
  // std::mutex rather than absl::Mutex: Debian's Abseil is not built with TSan annotations,
  // so ThreadSanitizer could not see absl::Mutex hand-offs (see docs/ARCHITECTURE.md).
  mutable std::mutex mu_;
  std::map<std::string, Family> families_ ABSL_GUARDED_BY(mu_);
};

// Renders a label set as {a="x",b="y"} with values escaped ("" when empty).
std::string RenderLabels(const Labels& labels);
// Formats a sample value as Prometheus expects (+Inf, -Inf, NaN, shortest round-trip).
std::string FormatValue(double value);

}  // namespace dogsearch::metrics

#endif  // DOGSEARCH_COMMON_METRICS_METRICS_H_
