// tests/support/test_support.cpp — implementation of the shared test helpers (fixture lookup,
// temporary directories, file I/O).
#include "tests/support/test_support.hpp"

#include <catch2/catch.hpp>

#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <iterator>
#include <system_error>

namespace fs = std::filesystem;

namespace attend_test {

// Absolute, so that a test which changes directory (or links to a fixture) still finds it.
std::string fixtures_root() {
  const auto absolute = [](const fs::path& p) { return fs::absolute(p).lexically_normal().string(); };
  if (const char* env = std::getenv("ATTEND_FIXTURES"); env && *env) return absolute(env);
  const std::vector<fs::path> candidates = {
      "../shared/fixtures", fs::path(__FILE__).parent_path() / ".." / ".." / ".." / "shared" / "fixtures"};
  for (const auto& c : candidates)
    if (fs::is_directory(c)) return absolute(c);
  return absolute(candidates.front());
}

bool fixtures_available(const std::string& dir) {
  if (fs::is_directory(dir)) return true;
  const char* ci = std::getenv("CI");
  if (ci && std::string(ci) == "true") {
    FAIL("fixtures not found at " << dir << " (CI=true requires them; set ATTEND_FIXTURES)");
  } else {
    WARN("fixtures not found at " << dir << "; skipping this test (set ATTEND_FIXTURES)");
  }
  return false;
}

TempDir::TempDir(const std::string& prefix) {
  const char* base = std::getenv("TMPDIR");
  std::string tmpl = std::string(base && *base ? base : "/tmp") + "/" + prefix + "-XXXXXX";
  std::vector<char> buf(tmpl.begin(), tmpl.end());
  buf.push_back('\0');
  REQUIRE(::mkdtemp(buf.data()) != nullptr);
  path = buf.data();
}

TempDir::~TempDir() {
  std::error_code ec;
  fs::remove_all(path, ec);
}

TwoInputs two_inputs(int src_vocab, int length, int second_real) {
  TwoInputs in;
  in.ids.resize(2);
  in.mask.resize(2);
  for (int i = 0; i < length; ++i) {
    in.ids[0].push_back(2 + (i * 31) % (src_vocab - 3));
    in.ids[1].push_back(2 + (i * 17 + 5) % (src_vocab - 3));
    in.mask[0].push_back(1);
    in.mask[1].push_back(i < second_real ? 1 : 0);
  }
  return in;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

void write_file(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  out.close();
  REQUIRE(out.good());
}

}  // namespace attend_test
