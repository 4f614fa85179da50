#pragma once
// A small thread-safe Prometheus registry. Look a metric up once (the lookup takes a
// mutex) and keep the reference: updating a metric is a few relaxed atomics. Metric
// objects live as long as the registry. Render() writes the text exposition format 0.0.4.

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace causeloop::http {

// Label pairs in the order they are rendered, e.g. {{"method","GET"},{"route","/health"}}.
using Labels = std::vector<std::pair<std::string, std::string>>;

class Counter {
 public:
  void Inc(uint64_t by = 1) { value_.fetch_add(by, std::memory_order_relaxed); }
  [[nodiscard]] uint64_t Value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> value_{0};
};

class Gauge {
 public:
  void Set(double v) { value_.store(v, std::memory_order_relaxed); }
  void Add(double by) { value_.fetch_add(by, std::memory_order_relaxed); }
  [[nodiscard]] double Value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

class Histogram {
 public:
  // `upper_bounds` ascending; +Inf is implicit.
  explicit Histogram(std::vector<double> upper_bounds);
  void Observe(double value);
  [[nodiscard]] const std::vector<double>& upper_bounds() const { return bounds_; }
  // Non-cumulative count of bucket i (i == upper_bounds().size() is +Inf).
  [[nodiscard]] uint64_t BucketCount(size_t i) const {
    return counts_[i].load(std::memory_order_relaxed);
  }
  [[nodiscard]] uint64_t Count() const;
  [[nodiscard]] double Sum() const { return sum_.load(std::memory_order_relaxed); }

 private:
  std::vector<double> bounds_;
  std::unique_ptr<std::atomic<uint64_t>[]> counts_;
  std::atomic<double> sum_{0};
};

// Latency buckets in seconds, 0.5 ms … 10 s.
std::vector<double> DefaultLatencyBuckets();

class Metrics {
 public:
  Metrics() = default;
  Metrics(const Metrics&) = delete;
  Metrics& operator=(const Metrics&) = delete;

  // The metric named `name` with exactly these labels, created on first use. `help` is
  // taken from the first call for a name. A name used with two different types is a
  // programming error: the second type's call gets a detached metric that is never
  // rendered (and a log line).
  http::Counter& Counter(std::string_view name, std::string_view help, const Labels& labels = {});
  http::Gauge& Gauge(std::string_view name, std::string_view help, const Labels& labels = {});
  // `upper_bounds` empty -> DefaultLatencyBuckets(); taken from the first call for a name.
  http::Histogram& Histogram(std::string_view name, std::string_view help,
                             const Labels& labels = {}, std::vector<double> upper_bounds = {});

  // Every metric, families sorted by name, series in creation order.
  [[nodiscard]] std::string Render() const;

 private:
  enum class Type { kCounter, kGauge, kHistogram };
  struct Series {
    std::string labels;  // rendered: `a="x",b="y"` (may be empty)
    std::unique_ptr<http::Counter> counter;
    std::unique_ptr<http::Gauge> gauge;
    std::unique_ptr<http::Histogram> histogram;
  };
  struct Family {
    Type type = Type::kCounter;
    std::string help;
    std::vector<double> bounds;
    std::vector<std::unique_ptr<Series>> series;
    std::map<std::string, Series*, std::less<>> by_labels;
  };
  Series& Find(std::string_view name, std::string_view help, Type type, const Labels& labels,
               std::vector<double> bounds);

  mutable std::mutex mu_;
  std::map<std::string, Family, std::less<>> families_;  // guarded by mu_
  std::vector<std::unique_ptr<Series>> detached_;        // guarded by mu_
};

}  // namespace causeloop::http
