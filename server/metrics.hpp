// server/metrics.hpp — the counters `attend serve` keeps and their Prometheus text rendering
// (exposition format 0.0.4): requests by endpoint and status, a request latency histogram,
// generated tokens and load time per model, plus per-model gauges the caller samples (queue
// depth, the Translator's batch sizes). Thread-safe.
#pragma once
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace attend_server {

// Cumulative histogram with fixed upper bounds (+Inf implied).
struct Histogram {
  explicit Histogram(std::vector<double> bounds = {});
  void observe(double value, uint64_t times = 1);
  std::vector<double> bounds;
  std::vector<uint64_t> counts;  // per bucket (not cumulative), bounds.size() + 1 (the last: +Inf)
  double sum = 0;
  uint64_t count = 0;
};

// What the caller reads from a model at scrape time.
struct ModelSample {
  std::string model;
  double load_seconds = 0;
  size_t queued_inputs = 0;               // accepted inputs not answered yet
  std::vector<size_t> batch_sizes;        // Translator::Stats::batch_sizes
  size_t cached_bytes = 0;                // Model::cached_bytes: kept between batches, resident
  size_t cache_releases = 0;              // Translator::Stats::cache_releases
};

class Metrics {
 public:
  void request(const std::string& endpoint, int status, double seconds);
  void generated_tokens(const std::string& model, uint64_t tokens);
  // The text of GET /metrics.
  std::string render(const std::vector<ModelSample>& models, size_t requests_in_flight) const;

 private:
  mutable std::mutex mu_;
  std::map<std::pair<std::string, int>, uint64_t> requests_;
  std::map<std::string, Histogram> latency_;
  std::map<std::string, uint64_t> tokens_;
};

// A Prometheus label value with \\, " and newline escaped.
std::string prometheus_escape(const std::string& value);

}  // namespace attend_server
