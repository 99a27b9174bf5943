// tests/unit/test_layering.cpp — the layering check (tests/layering) on small trees the test writes:
// a clean tree passes, and each kind of violation (an upward include, a front end reaching past the
// public API, a folder with no layer, a flat room) is reported naming the file and line.
#include <catch2/catch.hpp>

#include <filesystem>

#include "tests/layering/layering.hpp"
#include "tests/support/test_support.hpp"

namespace fs = std::filesystem;
using attend_test::TempDir;
using attend_test::write_file;

namespace {

const char* kRules =
    "public: include/attend\n"
    "low: lib/kernels\n"
    "core: lib\n"
    "high: api\n"
    "frontend: cli + srv\n"
    "frontend: srv\n"
    "unchecked: tests\n"
    "max-files: 3\n";

void put(const TempDir& t, const std::string& rel, const std::string& text) {
  fs::create_directories((t.path / rel).parent_path());
  write_file(t.file(rel), text);
}

// A tree that follows kRules.
void clean_tree(const TempDir& t) {
  put(t, "rules.txt", kRules);
  put(t, "include/attend/api.hpp", "// public\n");
  put(t, "lib/kernels/k.hpp", "// kernel\n#include \"attend/api.hpp\"\n");
  put(t, "lib/core.cpp", "// core\n#include \"lib/kernels/k.hpp\"\n#include \"core.hpp\"\n#include <vector>\n");
  put(t, "api/impl.cpp", "// api\n#include \"lib/core.hpp\"\n#include \"lib/kernels/k.hpp\"\n");
  put(t, "cli/main.cpp", "// cli\n#include \"attend/api.hpp\"\n#include \"srv/server.hpp\"\n");
  put(t, "srv/server.hpp", "// server\n#include \"attend/api.hpp\"\n");
  put(t, "tests/t.cpp", "// test\n#include \"lib/kernels/k.hpp\"\n#include \"api/impl.hpp\"\n");
  put(t, "build/ignored.cpp", "#include \"api/impl.hpp\"\n");  // build trees are not code
}

}  // namespace

TEST_CASE("layering: a tree that follows the rules passes", "[layering]") {
  TempDir t;
  clean_tree(t);
  CHECK(attend::layering::check_tree(t.path, t.file("rules.txt")).empty());
}

TEST_CASE("layering: an upward include is reported with file, line and both layers", "[layering]") {
  TempDir t;
  clean_tree(t);
  put(t, "lib/kernels/bad.cpp", "// kernel\n\n#include \"lib/core.hpp\"\n");
  const auto errors = attend::layering::check_tree(t.path, t.file("rules.txt"));
  REQUIRE(errors.size() == 1);
  CHECK(errors[0].find("lib/kernels/bad.cpp:3") == 0);
  CHECK(errors[0].find("points up, from layer 'low'") != std::string::npos);
  CHECK(errors[0].find("'core'") != std::string::npos);
}

TEST_CASE("layering: a front end including internals or another front end not allowed to it fails", "[layering]") {
  TempDir t;
  clean_tree(t);
  put(t, "srv/uses_engine.cpp", "// server\n#include \"lib/core.hpp\"\n#include \"cli/main.hpp\"\n");
  const auto errors = attend::layering::check_tree(t.path, t.file("rules.txt"));
  REQUIRE(errors.size() == 2);
  CHECK(errors[0].find("srv/uses_engine.cpp:2") == 0);
  CHECK(errors[1].find("srv/uses_engine.cpp:3") == 0);
}

TEST_CASE("layering: a layer including a front end fails", "[layering]") {
  TempDir t;
  clean_tree(t);
  put(t, "api/up.cpp", "// api\n#include \"cli/main.hpp\"\n");
  const auto errors = attend::layering::check_tree(t.path, t.file("rules.txt"));
  REQUIRE(errors.size() == 1);
  CHECK(errors[0].find("front end or unchecked") != std::string::npos);
}

TEST_CASE("layering: a source folder with no layer and a flat room are reported", "[layering]") {
  TempDir t;
  clean_tree(t);
  put(t, "newroom/x.cpp", "// new\n");
  put(t, "lib/a.cpp", "// a\n");
  put(t, "lib/b.cpp", "// b\n");
  put(t, "lib/c.cpp", "// c\n");
  const auto errors = attend::layering::check_tree(t.path, t.file("rules.txt"));
  REQUIRE(errors.size() == 2);
  CHECK(errors[0].find("lib/: 4 source files") == 0);
  CHECK(errors[1].find("newroom/x.cpp: folder 'newroom' has no place") == 0);
}
