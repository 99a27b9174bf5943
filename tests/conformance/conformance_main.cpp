// tests/conformance/conformance_main.cpp — `attend-conformance [--long] [FIXTURE_ROOT]`: discovers every
// folder under FIXTURE_ROOT/models and FIXTURE_ROOT/tokenizers (root default: $ATTEND_FIXTURES,
// else ../shared/fixtures), checks each, prints one line per folder and case group and ends
// with "conformance: N passed, M failed, K skipped". Exit code 1 on any failure; a missing
// root is a skip for a user's clone and a failure under CI=true.
#include <dirent.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "tests/conformance/model_conformance.hpp"
#include "tests/conformance/tokenizer_conformance.hpp"

namespace {

bool is_dir(const std::string& p) {
  struct stat st {};
  return ::stat(p.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

std::vector<std::string> subdirs(const std::string& root) {
  std::vector<std::string> out;
  if (DIR* d = ::opendir(root.c_str())) {
    while (dirent* e = ::readdir(d)) {
      if (e->d_name[0] == '.') continue;
      if (is_dir(root + "/" + e->d_name)) out.push_back(e->d_name);
    }
    ::closedir(d);
  }
  std::sort(out.begin(), out.end());
  return out;
}

struct Counts {
  int passed = 0, failed = 0, skipped = 0;
};

void print_result(Counts& c, const std::string& folder, const std::string& group, int status, int cases,
                  const std::string& message) {
  const char* word = status == 0 ? "PASS" : status == 1 ? "FAIL" : "SKIP";
  if (status == 0) ++c.passed;
  else if (status == 1) ++c.failed;
  else ++c.skipped;
  std::printf("%s %s [%s]", word, folder.c_str(), group.c_str());
  if (cases > 0) std::printf(" (%d cases)", cases);
  if (status == 2 && !message.empty()) std::printf(": %s", message.c_str());
  std::printf("\n");
  if (status == 1 && !message.empty()) {
    std::string m = message;
    if (m.size() > 4000) m = m.substr(0, 4000) + "...\n";
    std::printf("%s", m.c_str());
    if (m.back() != '\n') std::printf("\n");
  }
  std::fflush(stdout);
}

int status_of(const attend::conformance::CaseResult& r) { return r.passed ? 0 : 1; }

// One line per fixture folder: passed only when every group of it passed and at least one ran.
struct FolderTally {
  std::vector<std::pair<std::string, std::string>> lines;  // folder, verdict
  void add(const std::string& folder, int groups, int failed_groups) {
    std::string verdict = groups == 0 ? "FAIL (nothing checked)"
                          : failed_groups ? "FAIL (" + std::to_string(failed_groups) + " of " + std::to_string(groups) + " groups failed)"
                                          : "PASS (" + std::to_string(groups) + " groups)";
    lines.emplace_back(folder, verdict);
  }
};

}  // namespace

int main(int argc, char** argv) {
  // `--long`: the long-input root (LED, LongT5; issue 18) from $ATTEND_FIXTURES_LONG, else
  // ../shared/fixtures-long, under the same skip / CI rules.
  std::string root;
  const bool long_root = argc > 1 && std::strcmp(argv[1], "--long") == 0;
  const char* env_name = long_root ? "ATTEND_FIXTURES_LONG" : "ATTEND_FIXTURES";
  if (argc > 1 && !long_root) root = argv[1];
  else if (argc > 2) root = argv[2];
  else if (const char* env = std::getenv(env_name); env && *env) root = env;
  else root = long_root ? "../shared/fixtures-long" : "../shared/fixtures";
  const char* ci = std::getenv("CI");
  const bool under_ci = ci && std::strcmp(ci, "true") == 0;
  Counts counts;
  if (!is_dir(root)) {
    if (under_ci) {
      std::printf("FAIL fixture root '%s' not found (CI=true requires the fixtures)\n", root.c_str());
      std::printf("conformance: 0 passed, 1 failed, 0 skipped\n");
      return 1;
    }
    std::printf("SKIP fixture root '%s' not found: set %s to run the conformance suite\n", root.c_str(), env_name);
    std::printf("conformance: 0 passed, 0 failed, 1 skipped\n");
    return 77;  // ctest's SKIP_RETURN_CODE: reported as skipped, never as passed
  }
  FolderTally tally;
  int folder_failures = 0;
  for (const auto& name : subdirs(root + "/models")) {
    const std::string folder = root + "/models/" + name;
    int groups = 0, bad = 0;
    for (const auto& r : attend::conformance::check_model_folder(folder)) {
      const int st = static_cast<int>(r.status);
      print_result(counts, "models/" + name, r.group, st, r.cases, r.message);
      ++groups;
      bad += st != 0;
    }
    for (const auto& r : attend::conformance::check_text_model_tokenizer(folder)) {
      print_result(counts, "models/" + name, "tokenizer: " + r.group, status_of(r), 0, r.message);
      ++groups;
      bad += !r.passed;
    }
    tally.add("models/" + name, groups, bad);
    folder_failures += groups == 0 || bad;
  }
  for (const auto& name : subdirs(root + "/tokenizers")) {
    const std::string folder = root + "/tokenizers/" + name;
    int groups = 0, bad = 0;
    for (const auto& r : attend::conformance::check_tokenizer_folder(folder)) {
      print_result(counts, "tokenizers/" + name, r.group, status_of(r), 0, r.message);
      ++groups;
      bad += !r.passed;
    }
    tally.add("tokenizers/" + name, groups, bad);
    folder_failures += groups == 0 || bad;
  }
  std::printf("\nfixture folders under %s:\n", root.c_str());
  for (const auto& [folder, verdict] : tally.lines) std::printf("  %-32s %s\n", folder.c_str(), verdict.c_str());
  std::printf("conformance: %d passed, %d failed, %d skipped; %zu folders, %d not passing\n", counts.passed,
              counts.failed, counts.skipped, tally.lines.size(), folder_failures);
  return counts.failed == 0 && counts.skipped == 0 && folder_failures == 0 ? 0 : 1;
}
