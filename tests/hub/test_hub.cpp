// tests/hub/test_hub.cpp — hub model ids against the loopback mock hub (mock_hub.hpp): download
// and translate equal to the local checkpoint, huggingface_hub's cache layout both ways, resume
// after a cut connection, checksum, 401/404, offline mode, convert-once, concurrent downloads, `attend serve -m ID`.
#include <catch2/catch.hpp>

#include <httplib.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "attend/attend.h"
#include "attend/attend.hpp"
#include "engine/safetensors.hpp"
#include "tests/hub/mock_hub.hpp"
#include "tests/support/test_support.hpp"

namespace fs = std::filesystem;
using namespace attend_test;

namespace {

const std::string kCommit = "0123456789abcdef0123456789abcdef01234567";
const std::vector<std::string> kSentences = {"A dog runs in the park.", "Two girls are playing in the snow."};

// Clears the hub variables of the environment and points HF_HOME at a fresh directory (no token
// file); the cache is a temporary directory of its own.
struct HubEnv {
  TempDir tmp{"attend-hub"};
  std::string cache = tmp.file("cache");
  HubEnv() {
    // (a proxy from the environment would be asked for 127.0.0.1 too)
    for (const char* v : {"HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "HF_TOKEN_PATH", "HF_HUB_OFFLINE", "HF_ENDPOINT",
                          "HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE", "http_proxy", "HTTP_PROXY", "https_proxy",
                          "HTTPS_PROXY", "all_proxy", "ALL_PROXY"})
      ::unsetenv(v);
    ::setenv("HF_HOME", tmp.file("hf-home").c_str(), 1);
  }
  attend::HubOptions options(const MockHub& hub) const {
    attend::HubOptions o;
    o.cache_dir = cache;
    o.endpoint = hub.endpoint();
    o.quiet = true;
    return o;
  }
  attend::LoadOptions load(const MockHub& hub) const {
    attend::LoadOptions lo;
    lo.hub = options(hub);
    return lo;
  }
  std::string repo_dir(const std::string& folder) const { return cache + "/" + folder; }
};

std::string marian_dir() { return fixtures_root() + "/models/marian"; }

// The fixture's weights are random: a few tokens are enough to compare two loads of it.
std::vector<std::string> translate(const attend::Model& m) {
  attend::TranslateOptions opt;
  opt.generation.max_new_tokens = 8;
  opt.generation.num_beams = 2;
  std::vector<std::string> out;
  for (const auto& r : m.translate(kSentences, opt)) {
    std::string ids;
    for (int32_t id : r.hypotheses.at(0).ids) ids += " " + std::to_string(id);
    out.push_back(r.hypotheses.at(0).text + " |" + ids);
  }
  return out;
}

// translate() of the fixture directory itself (computed once).
const std::vector<std::string>& local_translation() {
  static const std::vector<std::string> out = translate(*attend::Model::load(marian_dir()));
  return out;
}

const MockFile& file_of(const MockRepo& r, const std::string& name) {
  for (const auto& f : r.files)
    if (f.name == name) return f;
  throw std::runtime_error("no file " + name);
}

std::vector<std::string> dir_entries(const std::string& dir) {
  std::vector<std::string> names;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const attend::Error& e) {
    return e.what();
  }
  return "";
}

// The files Attend fetches from the marian fixture: not cases.json, tensors.safetensors or
// pytorch_model.bin.
const std::vector<std::string> kMarianNeeded = {"config.json",  "generation_config.json", "model.safetensors",
                                                "source.spm",   "target.spm",             "tokenizer_config.json",
                                                "vocab.json"};

}  // namespace

TEST_CASE("is_hub_model_id follows huggingface_hub's repo id rule", "[hub]") {
  for (const char* id : {"Helsinki-NLP/opus-mt-en-de", "t5-small", "facebook/nllb-200-distilled-600M", "a/b@v1.0",
                         "org/name@refs/pr/1", "google/flan-t5-base@0123456789abcdef0123456789abcdef01234567"})
    CHECK(attend::is_hub_model_id(id));
  for (const char* s : {"", "/abs/path", "./model", "../x", "a/b/c", "org/na--me", "-org/name", "org/name.",
                        "org//name", "model.attend", "org/model.attend", "org/name@", "org/name@../x", "a b",
                        "org/name@with space"})
    CHECK_FALSE(attend::is_hub_model_id(s));
}

TEST_CASE("download then translate equals the local checkpoint, in huggingface_hub's layout", "[hub]") {
  if (!fixtures_available(marian_dir())) return;
  HubEnv env;
  MockHub hub;
  const MockRepo repo = repo_from_dir("Helsinki-NLP/opus-mt-test", kCommit, marian_dir());
  hub.add(repo);

  const auto remote = attend::Model::load("Helsinki-NLP/opus-mt-test", env.load(hub));
  CHECK(translate(*remote) == local_translation());

  // refs/main holds the commit; snapshots hold relative symlinks to blobs named by ETag.
  const std::string dir = env.repo_dir("models--Helsinki-NLP--opus-mt-test");
  CHECK(read_file(dir + "/refs/main") == kCommit);
  CHECK(dir_entries(dir + "/snapshots/" + kCommit) == kMarianNeeded);
  for (const auto& name : kMarianNeeded) {
    const MockFile& f = file_of(repo, name);
    const std::string etag = f.lfs ? sha256_hex(f.content) : git_blob_sha1(f.content);
    const std::string link = dir + "/snapshots/" + kCommit + "/" + name;
    REQUIRE(fs::is_symlink(link));
    CHECK(fs::read_symlink(link).string() == "../../blobs/" + etag);
    CHECK(read_file(link) == f.content);
  }
  CHECK(dir_entries(dir + "/blobs").size() == kMarianNeeded.size());  // no .incomplete left, nothing else
  CHECK(hub.cdn_bytes(sha256_hex(file_of(repo, "model.safetensors").content)) ==
        file_of(repo, "model.safetensors").content.size());
  // Converted once, beside the snapshots.
  const auto converted = dir_entries(dir + "/attend");
  CHECK(std::count_if(converted.begin(), converted.end(), [](const std::string& n) {
          return n.rfind(kCommit, 0) == 0 && n.size() > 7 && n.substr(n.size() - 7) == ".attend";
        }) == 1);

  SECTION("a second load makes no request and loads the converted file") {
    const int before = hub.requests();
    const auto again = attend::Model::load("Helsinki-NLP/opus-mt-test", env.load(hub));
    CHECK(hub.requests() == before);
    CHECK(translate(*again) == local_translation());
  }
  SECTION("offline with the model in the cache") {
    const int before = hub.requests();
    attend::LoadOptions lo = env.load(hub);
    lo.hub.offline = true;
    CHECK(translate(*attend::Model::load("Helsinki-NLP/opus-mt-test", lo)) == local_translation());
    const attend::DownloadResult r = attend::download_model("Helsinki-NLP/opus-mt-test", lo.hub);
    CHECK(r.commit == kCommit);
    CHECK(r.bytes_downloaded == 0);
    CHECK(hub.requests() == before);
  }
  SECTION("download again: one request for the revision, nothing fetched") {
    const int before = hub.requests();
    const attend::DownloadResult r = attend::download_model("Helsinki-NLP/opus-mt-test", env.options(hub));
    CHECK(hub.requests() == before + 1);
    CHECK(r.bytes_downloaded == 0);
    CHECK(r.snapshot_dir == dir + "/snapshots/" + kCommit);
    CHECK(r.files.size() == kMarianNeeded.size());
  }
}

TEST_CASE("a revision by @ or option is resolved and recorded in refs", "[hub]") {
  if (!fixtures_available(marian_dir())) return;
  HubEnv env;
  MockHub hub;
  MockRepo repo = repo_from_dir("org/tagged", kCommit, marian_dir());
  repo.revisions = {"main", "v1.0"};
  hub.add(repo);
  const attend::DownloadResult r = attend::download_model("org/tagged@v1.0", env.options(hub));
  CHECK(r.revision == "v1.0");
  CHECK(read_file(env.repo_dir("models--org--tagged") + "/refs/v1.0") == kCommit);
  CHECK_FALSE(fs::exists(env.repo_dir("models--org--tagged") + "/refs/main"));
  attend::HubOptions o = env.options(hub);
  o.revision = "v2";
  CHECK_THAT(error_of([&] { attend::download_model("org/tagged@v1.0", o); }), Catch::Contains("two revisions"));
  CHECK_THAT(error_of([&] { attend::download_model("org/tagged", o); }), Catch::Contains("no revision 'v2'"));
}

TEST_CASE("a dropped connection resumes where it stopped", "[hub]") {
  if (!fixtures_available(marian_dir())) return;
  HubEnv env;
  MockHub hub;
  const MockRepo repo = repo_from_dir("org/cut", kCommit, marian_dir());
  hub.add(repo);
  const MockFile& w = file_of(repo, "model.safetensors");
  const std::string sha = sha256_hex(w.content);
  const std::string blob = env.repo_dir("models--org--cut") + "/blobs/" + sha;

  SECTION("within one download") {
    hub.cut_after = 1000000;
    const attend::DownloadResult r = attend::download_model("org/cut", env.options(hub));
    CHECK(hub.cdn_bytes(sha) == w.content.size());  // the first 1 MB was not sent twice
    const auto ranges = hub.cdn_ranges();
    CAPTURE(ranges);
    CHECK(std::find(ranges.begin(), ranges.end(), "bytes=1000000-") != ranges.end());
    CHECK(read_file(r.snapshot_dir + "/model.safetensors") == w.content);
  }
  SECTION("from the .incomplete blob an interrupted run left") {
    fs::create_directories(fs::path(blob).parent_path());
    write_file(blob + ".incomplete", w.content.substr(0, 3000000));
    const attend::DownloadResult r = attend::download_model("org/cut", env.options(hub));
    CHECK(hub.cdn_bytes(sha) == w.content.size() - 3000000);
    const auto ranges = hub.cdn_ranges();
    CHECK(std::find(ranges.begin(), ranges.end(), "bytes=3000000-") != ranges.end());
    CHECK(read_file(r.snapshot_dir + "/model.safetensors") == w.content);
    CHECK_FALSE(fs::exists(blob + ".incomplete"));
  }
}

TEST_CASE("a wrong checksum is an error and leaves nothing in snapshots", "[hub]") {
  if (!fixtures_available(marian_dir())) return;
  HubEnv env;
  MockHub hub;
  MockRepo repo = repo_from_dir("org/bad", kCommit, marian_dir());
  repo.wrong_checksum = "model.safetensors";
  hub.add(repo);
  const std::string msg = error_of([&] { attend::Model::load("org/bad", env.load(hub)); });
  CHECK_THAT(msg, Catch::Contains("SHA-256 mismatch") && Catch::Contains("model.safetensors") && Catch::Contains("org/bad"));
  const std::string dir = env.repo_dir("models--org--bad");
  CHECK(dir_entries(dir + "/snapshots").empty());
  CHECK_FALSE(fs::exists(dir + "/refs/main"));
  for (const auto& b : dir_entries(dir + "/blobs")) CHECK(b.find("incomplete") == std::string::npos);
  // The files before it were fetched and are kept as blobs; the bad one is gone.
  const auto blobs = dir_entries(dir + "/blobs");
  CHECK(std::find(blobs.begin(), blobs.end(), git_blob_sha1(file_of(repo, "config.json").content)) != blobs.end());
  CHECK(std::find(blobs.begin(), blobs.end(), sha256_hex(file_of(repo, "model.safetensors").content)) == blobs.end());
}

TEST_CASE("404 and 401 name the model and what to do", "[hub]") {
  if (!fixtures_available(marian_dir())) return;
  HubEnv env;
  MockHub hub;
  MockRepo repo = repo_from_dir("org/private", kCommit, marian_dir());
  repo.token = "hf_secret_token_123";
  hub.add(repo);
  hub.add(repo_from_dir("org/public", kCommit, marian_dir()));
  attend::HubOptions o = env.options(hub);

  SECTION("401 without a token, 200 with it, and the token goes to the hub only") {
    const std::string msg = error_of([&] { attend::download_model("org/private", o); });
    CHECK_THAT(msg, Catch::Contains("org/private") && Catch::Contains("HF_TOKEN") && Catch::Contains("401"));
    o.token = "hf_secret_token_123";
    attend::LoadOptions lo;
    lo.hub = o;
    CHECK(translate(*attend::Model::load("org/private", lo)) == local_translation());
    for (const auto& a : hub.cdn_authorization()) CHECK(a.empty());  // never to the redirect target
    const auto seen = hub.hub_authorization();
    CHECK(std::count(seen.begin(), seen.end(), "Bearer hf_secret_token_123") >= 2);
  }
  SECTION("a refused token is not printed") {
    o.token = "hf_wrong_token_456";
    const std::string msg = error_of([&] { attend::download_model("org/private", o); });
    CHECK_THAT(msg, Catch::Contains("token was refused"));
    CHECK(msg.find("hf_wrong_token_456") == std::string::npos);
  }
  SECTION("404: no such model, no such revision") {
    o.token = "hf_any";
    CHECK_THAT(error_of([&] { attend::download_model("org/nothing", o); }),
               Catch::Contains("org/nothing") && Catch::Contains("no such model") && Catch::Contains("404"));
    CHECK_THAT(error_of([&] { attend::download_model("org/public@v9", o); }),
               Catch::Contains("no revision 'v9'") && Catch::Contains("404"));
  }
}

TEST_CASE("an unsupported architecture is rejected before the weights", "[hub]") {
  HubEnv env;
  MockHub hub;
  MockRepo repo;
  repo.id = "org/gpt";
  repo.commit = kCommit;
  repo.files = {{"config.json", R"({"model_type": "gpt2", "n_layer": 2})", false},
                {"model.safetensors", std::string(300000, 'x'), true}};
  hub.add(repo);
  const std::string msg = error_of([&] { attend::download_model("org/gpt", env.options(hub)); });
  CHECK_THAT(msg, Catch::Contains("gpt2") && Catch::Contains("marian") && Catch::Contains("t5") && Catch::Contains("pegasus"));
  CHECK(hub.cdn_bytes(sha256_hex(repo.files[1].content)) == 0);
  CHECK(hub.cdn_ranges().empty());
}

TEST_CASE("offline mode makes no request", "[hub]") {
  HubEnv env;
  MockHub hub;
  attend::LoadOptions lo = env.load(hub);
  SECTION("by option") { lo.hub.offline = true; }
  SECTION("by HF_HUB_OFFLINE=1") { ::setenv("HF_HUB_OFFLINE", "1", 1); }
  const std::string msg = error_of([&] { attend::Model::load("org/absent", lo); });
  CHECK_THAT(msg, Catch::Contains("org/absent") && Catch::Contains("not in the hub cache") && Catch::Contains("offline"));
  CHECK(hub.requests() == 0);
  ::unsetenv("HF_HUB_OFFLINE");
}

TEST_CASE("no network: the error names the endpoint", "[hub]") {
  HubEnv env;
  int port = 0;
  {
    MockHub probe;  // a port that was free a moment ago and is closed now
    port = std::stoi(probe.endpoint().substr(probe.endpoint().rfind(':') + 1));
  }
  attend::HubOptions o;
  o.cache_dir = env.cache;
  o.endpoint = "http://127.0.0.1:" + std::to_string(port);
  o.quiet = true;
  const std::string msg = error_of([&] { attend::download_model("org/any", o); });
  CHECK_THAT(msg, Catch::Contains("org/any") && Catch::Contains("127.0.0.1:" + std::to_string(port)) &&
                      Catch::Contains("HF_HUB_OFFLINE"));
}

TEST_CASE("a cache tree laid out as huggingface_hub writes it is found offline", "[hub]") {
  if (!fixtures_available(marian_dir())) return;
  HubEnv env;
  // What `huggingface_hub.snapshot_download("Helsinki-NLP/opus-mt-made")` leaves: blobs named by
  // ETag (git blob sha1, LFS sha256), refs/main, relative symlinks in snapshots/<commit>/.
  const MockRepo repo = repo_from_dir("Helsinki-NLP/opus-mt-made", kCommit, marian_dir());
  const std::string dir = env.repo_dir("models--Helsinki-NLP--opus-mt-made");
  fs::create_directories(dir + "/blobs");
  fs::create_directories(dir + "/refs");
  fs::create_directories(dir + "/snapshots/" + kCommit);
  write_file(dir + "/refs/main", kCommit);
  for (const auto& f : repo.files) {
    const std::string etag = f.lfs ? sha256_hex(f.content) : git_blob_sha1(f.content);
    write_file(dir + "/blobs/" + etag, f.content);
    fs::create_symlink("../../blobs/" + etag, dir + "/snapshots/" + kCommit + "/" + f.name);
  }
  attend::LoadOptions lo;
  lo.hub.cache_dir = env.cache;
  lo.hub.quiet = true;
  SECTION("offline") { lo.hub.offline = true; }
  SECTION("online, with an endpoint nobody listens on: no request is needed") { lo.hub.endpoint = "http://127.0.0.1:9"; }
  SECTION("through HF_HUB_CACHE") {
    lo.hub.cache_dir.clear();
    lo.hub.offline = true;
    ::setenv("HF_HUB_CACHE", env.cache.c_str(), 1);
  }
  SECTION("through HF_HOME/hub") {
    const std::string home = env.tmp.file("home");
    fs::create_directories(home);
    fs::rename(env.cache, home + "/hub");
    lo.hub.cache_dir.clear();
    lo.hub.offline = true;
    ::setenv("HF_HOME", home.c_str(), 1);
  }
  CHECK(translate(*attend::Model::load("Helsinki-NLP/opus-mt-made", lo)) == local_translation());
  ::unsetenv("HF_HUB_CACHE");
}

TEST_CASE("an existing local path wins over a hub id", "[hub]") {
  if (!fixtures_available(marian_dir())) return;
  HubEnv env;
  const fs::path old = fs::current_path();
  const std::string root = env.tmp.file("cwd");
  fs::create_directories(root + "/org/name");
  for (const auto& e : fs::directory_iterator(marian_dir())) fs::create_symlink(e.path(), root + "/org/name/" + e.path().filename().string());
  fs::current_path(root);
  attend::LoadOptions lo;
  lo.hub.cache_dir = env.cache;
  lo.hub.offline = true;  // a hub lookup would fail: nothing is cached
  std::string msg;
  std::vector<std::string> out;
  try {
    out = translate(*attend::Model::load("org/name", lo));
  } catch (const attend::Error& e) {
    msg = e.what();
  }
  fs::current_path(old);
  CHECK(msg.empty());
  CHECK(out == local_translation());
  // Neither a path nor an id: the usual missing-file error, no hub lookup.
  CHECK_THAT(error_of([&] { attend::Model::load("./no/such/dir", lo); }), Catch::Contains("no such model file"));
}

TEST_CASE("sharded safetensors: the index and its shards are fetched and loaded", "[hub]") {
  if (!fixtures_available(marian_dir())) return;
  HubEnv env;
  MockHub hub;
  MockRepo repo = repo_from_dir("org/sharded", kCommit, marian_dir());
  // Split model.safetensors into two shards with an index, as transformers' save_pretrained does.
  const auto st = attend::read_safetensors(marian_dir() + "/model.safetensors");
  std::vector<std::pair<std::string, attend::HostTensor>> a, b;
  nlohmann::json index = {{"metadata", {{"total_size", 0}}}, {"weight_map", nlohmann::json::object()}};
  size_t i = 0;
  for (const auto& [name, t] : st.tensors) {
    const bool first = i++ % 2 == 0;
    (first ? a : b).emplace_back(name, t);
    index["weight_map"][name] = first ? "model-00001-of-00002.safetensors" : "model-00002-of-00002.safetensors";
  }
  attend::write_safetensors(env.tmp.file("s1"), a, {});
  attend::write_safetensors(env.tmp.file("s2"), b, {});
  repo.files.erase(std::remove_if(repo.files.begin(), repo.files.end(),
                                  [](const MockFile& f) { return f.name == "model.safetensors" || f.name == "pytorch_model.bin"; }),
                   repo.files.end());
  repo.files.push_back({"model.safetensors.index.json", index.dump(), false});
  repo.files.push_back({"model-00001-of-00002.safetensors", read_file(env.tmp.file("s1")), true});
  repo.files.push_back({"model-00002-of-00002.safetensors", read_file(env.tmp.file("s2")), true});
  hub.add(repo);
  const auto remote = attend::Model::load("org/sharded", env.load(hub));
  CHECK(translate(*remote) == local_translation());
  const auto files = dir_entries(env.repo_dir("models--org--sharded") + "/snapshots/" + kCommit);
  CHECK(std::count(files.begin(), files.end(), "model-00002-of-00002.safetensors") == 1);
  CHECK(std::count(files.begin(), files.end(), "model.safetensors.index.json") == 1);
}

TEST_CASE("a full disk is an error naming the model and the file", "[hub]") {
  if (!fixtures_available(marian_dir())) return;
  if (!fs::exists("/dev/full")) {
    WARN("no /dev/full; skipping");
    return;
  }
  HubEnv env;
  MockHub hub;
  const MockRepo repo = repo_from_dir("org/full", kCommit, marian_dir());
  hub.add(repo);
  // The blob being written is /dev/full: every write fails with ENOSPC.
  const std::string blob = env.repo_dir("models--org--full") + "/blobs/" + sha256_hex(file_of(repo, "model.safetensors").content);
  fs::create_directories(fs::path(blob).parent_path());
  fs::create_symlink("/dev/full", blob + ".incomplete");
  const std::string msg = error_of([&] { attend::download_model("org/full", env.options(hub)); });
  CHECK_THAT(msg, Catch::Contains("org/full") && Catch::Contains("model.safetensors") && Catch::Contains("disk full"));
  CHECK(dir_entries(env.repo_dir("models--org--full") + "/snapshots").empty());
}

TEST_CASE("attend download and -m ID through the command line", "[hub][cli]") {
  if (!fixtures_available(marian_dir())) return;
  HubEnv env;
  MockHub hub;
  hub.add(repo_from_dir("org/cli", kCommit, marian_dir()));
  CommandOptions co;
  co.env = {{"HF_ENDPOINT", hub.endpoint()}, {"HF_HUB_CACHE", env.cache}};
  const CommandResult d = run_command({attend_cli(), "download", "org/cli"}, co);
  REQUIRE(d.exit_code == 0);
  CHECK(d.out == env.cache + "/models--org--cli/snapshots/" + kCommit + "\n");
  CHECK_THAT(d.err, Catch::Contains("downloaded org/cli/model.safetensors"));  // log lines: stderr is not a terminal

  co.stdin_text = kSentences[0] + "\n" + kSentences[1] + "\n";
  const CommandResult by_id =
      run_command({attend_cli(), "translate", "-m", "org/cli", "--revision", "main", "--max-length", "8"}, co);
  const CommandResult by_dir = run_command({attend_cli(), "translate", "-m", marian_dir(), "--max-length", "8"}, co);
  REQUIRE(by_id.exit_code == 0);
  REQUIRE(by_dir.exit_code == 0);
  CHECK(by_id.out == by_dir.out);
  co.env.push_back({"HF_HUB_OFFLINE", "1"});
  const CommandResult info = run_command({attend_cli(), "info", "-m", "org/cli@main"}, co);
  CHECK(info.exit_code == 0);
  CHECK_THAT(info.out, Catch::Contains("family: marian"));
  const CommandResult missing = run_command({attend_cli(), "info", "-m", "org/other"}, co);
  CHECK(missing.exit_code == 1);
  CHECK_THAT(missing.err, Catch::Contains("org/other") && Catch::Contains("not in the hub cache"));
}

TEST_CASE("two processes downloading the same model at once end with one correct copy", "[hub][cli]") {
  if (!fixtures_available(marian_dir())) return;
  HubEnv env;
  MockHub hub;
  const MockRepo repo = repo_from_dir("org/race", kCommit, marian_dir());
  hub.add(repo);
  hub.throttle_ms = 8;  // ~1 s for the weights: both processes are downloading at the same time
  CommandOptions co;
  co.env = {{"HF_ENDPOINT", hub.endpoint()}, {"HF_HUB_CACHE", env.cache}};
  BackgroundCommand first({attend_cli(), "download", "-q", "org/race"}, co);
  BackgroundCommand second({attend_cli(), "download", "-q", "org/race"}, co);
  CHECK(first.wait().exit_code == 0);
  CHECK(second.wait().exit_code == 0);
  const MockFile& w = file_of(repo, "model.safetensors");
  CHECK(hub.cdn_bytes(sha256_hex(w.content)) == w.content.size());  // fetched once
  const std::string dir = env.repo_dir("models--org--race");
  CHECK(dir_entries(dir + "/blobs").size() == kMarianNeeded.size());
  for (const auto& name : kMarianNeeded)
    CHECK(read_file(dir + "/snapshots/" + kCommit + "/" + name) == file_of(repo, name).content);
}

TEST_CASE("the C API loads and downloads hub ids with load options", "[hub][c]") {
  if (!fixtures_available(marian_dir())) return;
  HubEnv env;
  MockHub hub;
  MockRepo repo = repo_from_dir("org/c-api", kCommit, marian_dir());
  repo.token = "hf_c_token";
  hub.add(repo);
  attend_load_options* o = attend_load_options_new();
  REQUIRE(o != nullptr);
  CHECK(attend_load_options_set_string(o, "endpoint", hub.endpoint().c_str()) == ATTEND_OK);
  CHECK(attend_load_options_set_string(o, "cache_dir", env.cache.c_str()) == ATTEND_OK);
  CHECK(attend_load_options_set_int(o, "quiet", 1) == ATTEND_OK);
  CHECK(attend_load_options_set_string(o, "colour", "x") == ATTEND_ERROR_INVALID_ARGUMENT);
  CHECK(attend_load_options_set_int(o, "offline", 2) == ATTEND_ERROR_INVALID_ARGUMENT);
  attend_model* m = nullptr;
  CHECK(attend_model_load_with("org/c-api", o, &m) == ATTEND_ERROR_LOAD);  // private: no token yet
  CHECK_THAT(attend_last_error(), Catch::Contains("HF_TOKEN"));
  CHECK(attend_load_options_set_string(o, "token", "hf_c_token") == ATTEND_OK);
  const char* dir = nullptr;
  REQUIRE(attend_download_model("org/c-api", o, &dir) == ATTEND_OK);
  CHECK(std::string(dir) == env.cache + "/models--org--c-api/snapshots/" + kCommit);
  CHECK(attend_load_options_set_int(o, "offline", 1) == ATTEND_OK);
  REQUIRE(attend_model_load_with("org/c-api@main", o, &m) == ATTEND_OK);
  const char* input = kSentences[0].c_str();
  attend_result* r = nullptr;
  REQUIRE(attend_translate(m, &input, 1, nullptr, &r) == ATTEND_OK);
  CHECK(attend_result_count(r) == 1);
  attend_result_free(r);
  attend_model_free(m);
  attend_load_options_free(o);
}

TEST_CASE("attend serve -m ORG/NAME downloads the model and serves it", "[hub][cli][server]") {
  if (!fixtures_available(marian_dir())) return;
  HubEnv env;
  MockHub hub;
  hub.add(repo_from_dir("org/served", kCommit, marian_dir()));
  CommandOptions co;
  co.env = {{"HF_ENDPOINT", hub.endpoint()}, {"HF_HUB_CACHE", env.cache}};
  co.stdout_file = env.tmp.file("out.txt");
  co.stderr_file = env.tmp.file("err.txt");
  BackgroundCommand child({attend_cli(), "serve", "-m", "org/served@main", "--port", "0", "--threads", "1",
                           "--drain-seconds", "5", "--keep-alive", "1"},
                          co);
  int port = 0;
  for (int i = 0; i < 6000 && port == 0; ++i) {  // download, convert, load: at most 60 s
    const std::string out = read_file(co.stdout_file);
    const std::string mark = "listening on http://127.0.0.1:";
    const size_t p = out.find(mark);
    if (p != std::string::npos && out.find('\n', p) != std::string::npos)
      port = std::stoi(out.substr(p + mark.size()));
    else
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  INFO(read_file(co.stderr_file));
  REQUIRE(port > 0);
  httplib::Client c("127.0.0.1", port);
  c.set_read_timeout(60, 0);
  auto models = c.Get("/v1/models");
  REQUIRE(models);
  const auto listed = nlohmann::json::parse(models->body);
  CHECK(listed["models"][0]["name"] == "served");  // the repository's name, without @main
  auto r = c.Post("/v1/translate", nlohmann::json{{"text", kSentences}, {"beam_size", 2}, {"max_length", 9}}.dump(),
                  "application/json");
  REQUIRE(r);
  CHECK(r->status == 200);
  attend::TranslateOptions opt;
  opt.generation.num_beams = 2;
  opt.generation.max_length = 9;
  std::vector<std::string> want, got;
  for (const auto& t : attend::Model::load(marian_dir())->translate(kSentences, opt)) want.push_back(t.hypotheses.at(0).text);
  INFO(r->body);
  const auto answer = nlohmann::json::parse(r->body);
  for (const auto& t : answer.at("translations")) got.push_back(t["text"].get<std::string>());
  CHECK(got == want);
  CHECK(child.kill(SIGTERM));
  CHECK(child.wait().exit_code == 0);
}
