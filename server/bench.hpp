// server/bench.hpp — `attend bench-serve`: throughput and latency of `attend serve` on loopback
// with 1, 16, 64 and 256 concurrent clients each sending single sentences, against the batch
// path (Model::translate in batches, as `attend translate` runs) on the same sentences in the
// same run, plus the server's peak RSS. Figures: docs/serving.md.
#pragma once
#include <iosfwd>
#include <string>
#include <vector>

namespace attend_server {

struct BenchServeOptions {
  std::string model;                  // what `attend serve -m` and Model::load take
  std::string input;                  // sentences, one per line
  std::string url;                    // a running server to measure ("": start `attend serve` here)
  std::string attend_binary = "/proc/self/exe";
  std::vector<int> clients = {1, 16, 64, 256};
  int requests = 600;                 // requests (one sentence each) per level
  int threads = 0;                    // compute threads (server and batch path)
  int beam_size = 0;                  // 0: the model's default
  int batch_size = 32;                // batch path and the server's --max-batch-size
  int wait_ms = 5;                    // the server's --batch-wait-ms
};

// Prints a table to `out`; returns 0, or 1 when an answer differed from the batch path's.
int bench_serve(const BenchServeOptions& options, std::ostream& out);

}  // namespace attend_server
