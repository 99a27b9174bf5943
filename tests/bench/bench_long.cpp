// tests/bench/bench_long.cpp — `attend-bench-long MODEL TOKENS BEAM [COMPUTE_TYPE] [NEW_TOKENS]`:
// one long input of exactly TOKENS source tokens (deterministic ids, no tokenizer) through the
// encoder and NEW_TOKENS (default 64) generated tokens with beam BEAM, as one JSON line: encode
// seconds, total seconds, peak RSS of the process (one configuration per process, so the peak
// is this run's). Threads: OMP_NUM_THREADS, adapted per call to a busy machine as the API does
// (runtime/threads.hpp; "threads" in the output). tests/bench/run_long.sh runs the rows of
// docs/performance.md "Long inputs". A benchmark program, not a test.
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <vector>

#include "engine/decoding/search.hpp"
#include "engine/transformer.hpp"
#include "runtime/model_impl.hpp"
#include "runtime/threads.hpp"

namespace {
double now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}
double peak_rss_mb() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_maxrss / 1024.0;
}
}  // namespace

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: attend-bench-long MODEL TOKENS BEAM [COMPUTE_TYPE=default] [NEW_TOKENS=64]\n");
    return 2;
  }
  try {
    const std::string path = argv[1];
    const int tokens = std::atoi(argv[2]), beam = std::atoi(argv[3]);
    const std::string ct = argc > 4 ? argv[4] : "default";
    const int new_tokens = argc > 5 ? std::atoi(argv[5]) : 64;
    if (tokens < 1 || beam < 1 || new_tokens < 1) throw std::runtime_error("TOKENS, BEAM and NEW_TOKENS must be positive");
    const double t_load = now();
    const auto m = attend::load_model_impl(path, 0, ct);
    const double load_s = now() - t_load;
    const int vocab = m->spec.src_vocab_size;
    std::vector<std::vector<int32_t>> ids(1), mask(1, std::vector<int32_t>(tokens, 1));
    uint64_t state = 12345;
    for (int i = 0; i < tokens; ++i) {
      state = state * 6364136223846793005ull + 1442695040888963407ull;
      ids[0].push_back(static_cast<int32_t>(4 + (state >> 33) % static_cast<uint64_t>(vocab - 8)));
    }
    attend::GenerationConfig g = m->defaults;
    g.num_beams = beam;
    g.max_new_tokens = new_tokens;
    g.min_new_tokens = new_tokens;
    g.no_repeat_ngram_size = 0;
    g.validate();
    attend::CallThreads call_threads;  // the thread count every API call uses (busy machine: fewer)
    const double t0 = now();
    const auto enc = m->net->encode(ids, mask);  // LED: global attention on the first token
    const double encode_s = now() - t0;
    attend::DecoderState state_dec(*m->net, enc);
    const auto hyps = attend::generate(state_dec, g);
    const double total_s = now() - t0;
    std::printf("{\"model\":\"%s\",\"family\":\"%s\",\"tokens\":%d,\"beam\":%d,\"new_tokens\":%d,\"compute_type\":\"%s\","
                "\"load_s\":%.3f,\"encode_s\":%.3f,\"total_s\":%.3f,\"peak_rss_mb\":%.1f,\"generated\":%zu,\"threads\":%d}\n",
                path.c_str(), m->spec.family.c_str(), tokens, beam, new_tokens,
                attend::compute_type_name(m->net->compute_type()), load_s, encode_s, total_s, peak_rss_mb(),
                hyps.empty() || hyps[0].empty() ? 0 : hyps[0][0].ids.size() - 1, call_threads.threads());
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "attend-bench-long: %s\n", e.what());
    return 1;
  }
}
