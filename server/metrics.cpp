// server/metrics.cpp — Prometheus counters and histograms of `attend serve` (see metrics.hpp).
#include "server/metrics.hpp"

#include <algorithm>
#include <cstdio>
#include <sstream>

namespace attend_server {
namespace {

const std::vector<double> kLatencyBounds = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60};
const std::vector<double> kBatchBounds = {1, 2, 4, 8, 16, 32, 64, 128, 256};

std::string num(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.9g", v);
  return buf;
}

void write_histogram(std::ostringstream& out, const std::string& name, const std::string& labels, const Histogram& h) {
  uint64_t cumulative = 0;
  const std::string sep = labels.empty() ? "" : ",";
  for (size_t i = 0; i < h.bounds.size(); ++i) {
    cumulative += h.counts[i];
    out << name << "_bucket{" << labels << sep << "le=\"" << num(h.bounds[i]) << "\"} " << cumulative << "\n";
  }
  cumulative += h.counts.back();
  out << name << "_bucket{" << labels << sep << "le=\"+Inf\"} " << cumulative << "\n";
  out << name << "_sum{" << labels << "} " << num(h.sum) << "\n";
  out << name << "_count{" << labels << "} " << h.count << "\n";
}

}  // namespace

Histogram::Histogram(std::vector<double> b) : bounds(std::move(b)), counts(bounds.size() + 1, 0) {}

void Histogram::observe(double value, uint64_t times) {
  const size_t i = static_cast<size_t>(std::lower_bound(bounds.begin(), bounds.end(), value) - bounds.begin());
  counts[i] += times;
  sum += value * static_cast<double>(times);
  count += times;
}

std::string prometheus_escape(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

void Metrics::request(const std::string& endpoint, int status, double seconds) {
  std::lock_guard<std::mutex> lock(mu_);
  ++requests_[{endpoint, status}];
  auto it = latency_.find(endpoint);
  if (it == latency_.end()) it = latency_.emplace(endpoint, Histogram(kLatencyBounds)).first;
  it->second.observe(seconds);
}

void Metrics::generated_tokens(const std::string& model, uint64_t tokens) {
  std::lock_guard<std::mutex> lock(mu_);
  tokens_[model] += tokens;
}

std::string Metrics::render(const std::vector<ModelSample>& models, size_t in_flight) const {
  std::ostringstream out;
  std::lock_guard<std::mutex> lock(mu_);
  out << "# HELP attend_requests_total HTTP requests answered, by endpoint and status.\n"
      << "# TYPE attend_requests_total counter\n";
  for (const auto& [key, n] : requests_)
    out << "attend_requests_total{endpoint=\"" << prometheus_escape(key.first) << "\",status=\"" << key.second
        << "\"} " << n << "\n";
  out << "# HELP attend_request_duration_seconds Time from reading a request to its last byte, by endpoint.\n"
      << "# TYPE attend_request_duration_seconds histogram\n";
  for (const auto& [endpoint, h] : latency_)
    write_histogram(out, "attend_request_duration_seconds", "endpoint=\"" + prometheus_escape(endpoint) + "\"", h);
  out << "# HELP attend_requests_in_flight Requests being handled.\n"
      << "# TYPE attend_requests_in_flight gauge\nattend_requests_in_flight " << in_flight << "\n";
  // One sample per model of a counter or gauge (value(m): its text).
  const auto per_model = [&](const char* name, const char* type, const char* help, const auto& value) {
    out << "# HELP " << name << " " << help << "\n# TYPE " << name << " " << type << "\n";
    for (const auto& m : models) out << name << "{model=\"" << prometheus_escape(m.model) << "\"} " << value(m) << "\n";
  };
  per_model("attend_queue_depth", "gauge", "Accepted inputs (texts) of a model not answered yet.",
            [](const ModelSample& m) { return std::to_string(m.queued_inputs); });
  out << "# HELP attend_batch_size Inputs per batch decoded by a model's Translator (dynamic batching).\n"
      << "# TYPE attend_batch_size histogram\n";
  for (const auto& m : models) {
    Histogram h(kBatchBounds);
    for (size_t n = 1; n < m.batch_sizes.size(); ++n)
      if (m.batch_sizes[n]) h.observe(static_cast<double>(n), m.batch_sizes[n]);
    write_histogram(out, "attend_batch_size", "model=\"" + prometheus_escape(m.model) + "\"", h);
  }
  per_model("attend_generated_tokens_total", "counter", "Tokens generated (best hypotheses), by model.",
            [&](const ModelSample& m) {
              const auto it = tokens_.find(m.model);
              return std::to_string(it == tokens_.end() ? 0 : it->second);
            });
  per_model("attend_model_cached_bytes", "gauge", "Resident bytes a model keeps between batches (decoder caches, logits).",
            [](const ModelSample& m) { return std::to_string(m.cached_bytes); });
  per_model("attend_cache_releases_total", "counter", "Idle periods after which a model freed the buffers it keeps.",
            [](const ModelSample& m) { return std::to_string(m.cache_releases); });
  per_model("attend_model_load_seconds", "gauge", "Time it took to load a model.",
            [](const ModelSample& m) { return num(m.load_seconds); });
  return out.str();
}

}  // namespace attend_server
