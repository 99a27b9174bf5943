// tests/bench/bench_hub_load.cpp — benchmark (not a test): how long `-m ORG/NAME` takes to load,
// the first time (download from the loopback mock hub + convert once + load) and afterwards
// (the converted file in the cache, no request), against loading the same model from a local
// .attend file and from its checkpoint directory. Prints medians over the repeats.
// Usage: attend-bench-hub-load [CHECKPOINT_DIR (default ../shared/models/marian-en-de-multi30k)] [REPEATS (5)]
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "attend/attend.hpp"
#include "tests/hub/mock_hub.hpp"

namespace fs = std::filesystem;

namespace {

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
}

double seconds(const std::function<void()>& f) {
  const auto t = std::chrono::steady_clock::now();
  f();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

}  // namespace

int main(int argc, char** argv) {
  const std::string dir = argc > 1 ? argv[1] : "../shared/models/marian-en-de-multi30k";
  const int repeats = argc > 2 ? std::max(1, std::atoi(argv[2])) : 5;
  if (!fs::is_directory(dir)) {
    std::fprintf(stderr, "no checkpoint directory %s\n", dir.c_str());
    return 2;
  }
  char tmpl[] = "/tmp/attend-bench-hub-XXXXXX";
  if (!::mkdtemp(tmpl)) return 2;
  const std::string tmp = tmpl;
  for (const char* v : {"HF_TOKEN", "HF_HUB_OFFLINE", "HF_ENDPOINT", "HF_HUB_CACHE"}) ::unsetenv(v);
  ::setenv("HF_HOME", (tmp + "/hf-home").c_str(), 1);

  attend_test::MockHub hub;
  attend_test::MockRepo repo = attend_test::repo_from_dir("bench/model", "0123456789abcdef0123456789abcdef01234567", dir);
  hub.add(repo);
  const std::string local_attend = tmp + "/local.attend";
  attend::convert_model(dir, local_attend);

  std::vector<double> first, cached, from_attend, from_dir;
  int cached_requests = 0;
  uint64_t fetched = 0;
  for (int r = 0; r < repeats; ++r) {
    attend::LoadOptions lo;
    lo.hub.cache_dir = tmp + "/cache-" + std::to_string(r);
    lo.hub.endpoint = hub.endpoint();
    lo.hub.quiet = true;
    if (r == 0) {  // what the first load fetches
      attend::HubOptions o = lo.hub;
      o.cache_dir = tmp + "/cache-probe";
      fetched = attend::download_model("bench/model", o).bytes_downloaded;
    }
    first.push_back(seconds([&] { attend::Model::load("bench/model", lo); }));
    const int before = hub.requests();
    cached.push_back(seconds([&] { attend::Model::load("bench/model", lo); }));
    cached_requests += hub.requests() - before;
    from_attend.push_back(seconds([&] { attend::Model::load(local_attend); }));
    from_dir.push_back(seconds([&] { attend::Model::load(dir); }));
  }
  fs::remove_all(tmp);

  uint64_t bytes = 0;
  for (const auto& f : repo.files) bytes += f.content.size();
  std::printf("model: %s (%.1f MB in the repository, %.1f MB fetched), %d repeats, medians\n", dir.c_str(), bytes / 1e6,
              fetched / 1e6, repeats);
  std::printf("-m ID, first time (download from loopback + convert + load): %.3f s\n", median(first));
  std::printf("-m ID, cached (converted file, %d requests in all repeats):   %.3f s\n", cached_requests, median(cached));
  std::printf("-m local .attend file:                                        %.3f s\n", median(from_attend));
  std::printf("-m local checkpoint directory (converted at each load):      %.3f s\n", median(from_dir));
  std::printf("cached / local .attend: %.2f\n", median(cached) / median(from_attend));
  return 0;
}
