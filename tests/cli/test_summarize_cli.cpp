// tests/cli/test_summarize_cli.cpp — `attend summarize` through the real binary on the text
// fixture models (t5_text, bart_text): transformers' expected summaries, batching across files,
// resume after kill -9, long-document chunking, and every bad-input case (empty, invalid UTF-8,
// binary, a 100 000-character line, unreadable, unwritable output folder, full disk).
// Fixtures: $ATTEND_FIXTURES or ../shared/fixtures (working directory = repository root); absent
// fixtures skip with a message, or fail when CI=true.
#include <catch2/catch.hpp>

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "attend/attend.hpp"
#include "tests/support/child_process.hpp"

namespace fs = std::filesystem;
using nlohmann::json;
using attend_test::CommandOptions;
using attend_test::CommandResult;

namespace {

fs::path fixture_root() {
  if (const char* env = std::getenv("ATTEND_FIXTURES"); env && *env) return env;
  return fs::path("..") / "shared" / "fixtures";
}

// The model folder, or "" after WARN (skip) / FAIL (CI=true) when the fixtures are absent.
std::string fixture_model(const std::string& name) {
  const fs::path p = fixture_root() / "models" / name;
  if (fs::exists(p / "cases.json")) return p.string();
  const char* ci = std::getenv("CI");
  if (ci && std::string(ci) == "true") FAIL("fixture model not found: " << p.string() << " (set ATTEND_FIXTURES)");
  WARN("fixture model not found: " << p.string() << " (set ATTEND_FIXTURES); skipping");
  return "";
}

json load_cases(const std::string& model_dir) {
  std::ifstream in(fs::path(model_dir) / "cases.json");
  return json::parse(in);
}

const json& find_case(const json& cases, const std::string& name) {
  for (const auto& c : cases.at("cases"))
    if (c.at("name") == name) return c;
  FAIL("case not in cases.json: " << name);
  throw std::logic_error("unreachable");
}

// A fresh folder under $TMPDIR (/tmp), world-accessible so an unprivileged child can use it.
struct TempDir {
  fs::path path;
  TempDir() {
    const char* base = std::getenv("TMPDIR");
    std::string tmpl = std::string(base && *base ? base : "/tmp") + "/attend-summarize-XXXXXX";
    if (!::mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
    path = tmpl;
    fs::permissions(path, fs::perms::all);
  }
  ~TempDir() {
    std::error_code ec;
    for (auto& e : fs::recursive_directory_iterator(path, ec))
      fs::permissions(e.path(), fs::perms::owner_all, fs::perm_options::add, ec);
    fs::remove_all(path, ec);
  }
  fs::path operator/(const std::string& s) const { return path / s; }
};

void write_file(const fs::path& p, const std::string& content) {
  fs::create_directories(p.parent_path());
  std::ofstream out(p, std::ios::binary);
  out << content;
  REQUIRE(out.good());
  fs::permissions(p, fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read | fs::perms::others_read);
}

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// One compute thread: the fixture models are tiny, and OpenMP's busy-waiting threads make
// runs on a loaded machine many times slower.
CommandResult run_attend(std::vector<std::string> args, const CommandOptions& opt = {}) {
  args.insert(args.begin(), attend_test::attend_cli());
  args.insert(args.end(), {"--threads", "1"});
  CommandResult r = attend_test::run_command(args, opt);
  INFO("stderr: " << r.err);
  return r;
}

std::vector<json> parse_jsonl(const std::string& text) {
  std::vector<json> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) out.push_back(json::parse(line));
  return out;
}

// Every file under dir (relative path -> content).
std::map<std::string, std::string> tree(const fs::path& dir) {
  std::map<std::string, std::string> out;
  for (auto& e : fs::recursive_directory_iterator(dir))
    if (e.is_regular_file()) out[e.path().lexically_relative(dir).generic_string()] = read_file(e.path());
  return out;
}

bool has_temp_files(const fs::path& dir) {
  for (auto& e : fs::recursive_directory_iterator(dir))
    if (e.path().filename().string().find(".tmp.") != std::string::npos) return true;
  return false;
}

// All distinct input texts of a model's generation cases.
std::vector<std::string> all_input_texts(const json& cases) {
  std::vector<std::string> out;
  std::set<std::string> seen;
  for (const auto& c : cases.at("cases"))
    for (const auto& t : c.at("input_text"))
      if (seen.insert(t.get<std::string>()).second) out.push_back(t.get<std::string>());
  return out;
}

std::string name_of(size_t i) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "doc%03zu.txt", i);
  return buf;
}

// The options that give a case's effective generation config.
std::vector<std::string> options_for(const json& e) {
  std::vector<std::string> o = {"--beam-size", std::to_string(e.at("num_beams").get<int>()),
                                "--max-length", std::to_string(e.at("max_length").get<int>()),
                                "--min-length", std::to_string(e.at("min_length").get<int>()),
                                "--no-repeat-ngram-size", std::to_string(e.at("no_repeat_ngram_size").get<int>())};
  std::ostringstream lp;
  lp << e.at("length_penalty").get<double>();
  o.insert(o.end(), {"--length-penalty", lp.str()});
  const json& es = e.at("early_stopping");
  o.insert(o.end(), {"--early-stopping", es.is_string() ? es.get<std::string>() : (es.get<bool>() ? "true" : "false")});
  return o;
}

}  // namespace

TEST_CASE("summarize t5_text: task_specific_params summary equals transformers'", "[cli][summarize]") {
  const std::string model = fixture_model("t5_text");
  if (model.empty()) return;
  const json cases = load_cases(model);
  const json& c = find_case(cases, "summarization_task_params");
  TempDir tmp;
  write_file(tmp / "article.txt", c.at("input_text").at(0).get<std::string>());
  const std::string expected = c.at("expected").at("decoded_text").at(0);

  // No settings given: the prefix and generation settings come from config.json.
  CommandResult r = run_attend({"summarize", "-m", model, (tmp / "article.txt").string(), "--format", "jsonl"});
  REQUIRE(r.exit_code == 0);
  auto lines = parse_jsonl(r.out);
  REQUIRE(lines.size() == 1);
  CHECK(lines[0].at("path") == (tmp / "article.txt").string());
  CHECK(lines[0].at("summary") == expected);
  CHECK(lines[0].at("chunks") == 1);
  CHECK(r.err.find("summarize: 1 done, 0 skipped (output exists), 0 failed") != std::string::npos);

  // Text output to stdout, and to --out-dir.
  r = run_attend({"summarize", "-m", model, (tmp / "article.txt").string()});
  REQUIRE(r.exit_code == 0);
  CHECK(r.out == expected + "\n");
  r = run_attend({"summarize", "-m", model, (tmp / "article.txt").string(), "--out-dir", (tmp / "out").string()});
  REQUIRE(r.exit_code == 0);
  CHECK(read_file(tmp / "out" / "article.txt.summary.txt") == expected + "\n");

  // Overriding the task parameters changes the result (no prefix: a different input).
  r = run_attend({"summarize", "-m", model, (tmp / "article.txt").string(), "--prefix", "", "--format", "jsonl"});
  REQUIRE(r.exit_code == 0);
  CHECK(parse_jsonl(r.out).at(0).at("summary") != expected);
}

TEST_CASE("summarize: fixture cases with explicit settings equal transformers' (files batched)", "[cli][summarize]") {
  for (const std::string name : {"t5_text", "bart_text"}) {
    const std::string model = fixture_model(name);
    if (model.empty()) return;
    const json cases = load_cases(model);
    for (const std::string cname : {"greedy_max_length_cut", "beam_max_length_cut", "config_defaults"}) {
      const json& c = find_case(cases, cname);
      INFO(name << " / " << cname);
      TempDir tmp;
      const auto& inputs = c.at("input_text");
      for (size_t i = 0; i < inputs.size(); ++i) write_file(tmp / "in" / name_of(i), inputs[i].get<std::string>());
      std::vector<std::string> args = {"summarize", "-m", model, (tmp / "in").string(), "--format", "jsonl"};
      for (auto& o : options_for(c.at("effective_generation_config"))) args.push_back(o);
      CommandResult r = run_attend(args);
      REQUIRE(r.exit_code == 0);
      auto lines = parse_jsonl(r.out);
      REQUIRE(lines.size() == inputs.size());
      for (size_t i = 0; i < inputs.size(); ++i) {
        CHECK(lines[i].at("path") == (tmp / "in" / name_of(i)).string());
        CHECK(lines[i].at("summary") == c.at("expected").at("decoded_text").at(i));
      }
    }
  }
}

TEST_CASE("summarize bart_text: generation defaults summary equals transformers'", "[cli][summarize]") {
  const std::string model = fixture_model("bart_text");
  if (model.empty()) return;
  const json cases = load_cases(model);
  const json& c = find_case(cases, "config_defaults");
  TempDir tmp;
  write_file(tmp / "a.txt", c.at("input_text").at(0).get<std::string>());
  CommandResult r = run_attend({"summarize", "-m", model, (tmp / "a.txt").string(), "--out-dir", (tmp / "out").string(),
                            "--format", "jsonl"});
  REQUIRE(r.exit_code == 0);
  auto lines = parse_jsonl(read_file(tmp / "out" / "summaries.jsonl"));
  REQUIRE(lines.size() == 1);
  // decoded_text holds U+FFFD and control characters: JSONL carries them exactly.
  CHECK(lines[0].at("summary") == c.at("expected").at("decoded_text").at(0));
}

TEST_CASE("summarize: batching across files gives the outputs of one file at a time", "[cli][summarize]") {
  const std::string model = fixture_model("t5_text");
  if (model.empty()) return;
  const auto texts = all_input_texts(load_cases(model));
  REQUIRE(texts.size() >= 12);
  TempDir tmp;
  for (size_t i = 0; i < 12; ++i) write_file(tmp / "in" / name_of(i), texts[i]);
  const std::vector<std::string> common = {"--max-length", "40", "--min-length", "10"};
  std::vector<std::string> args = {"summarize", "-m", model, (tmp / "in").string(), "--out-dir",
                                   (tmp / "batched").string(), "--batch-size", "12"};
  args.insert(args.end(), common.begin(), common.end());
  REQUIRE(run_attend(args).exit_code == 0);
  // A token budget that splits the batch differently gives the same outputs too.
  args[5] = (tmp / "budget").string();
  args.insert(args.end(), {"--max-batch-tokens", "300"});
  REQUIRE(run_attend(args).exit_code == 0);
  for (size_t i = 0; i < 12; ++i) {
    std::vector<std::string> one = {"summarize", "-m", model, (tmp / "in" / name_of(i)).string(), "--batch-size", "1"};
    one.insert(one.end(), common.begin(), common.end());
    CommandResult r = run_attend(one);
    REQUIRE(r.exit_code == 0);
    CHECK(read_file(tmp / "batched" / (name_of(i) + ".summary.txt")) == r.out);
    CHECK(read_file(tmp / "budget" / (name_of(i) + ".summary.txt")) == r.out);
  }
}

TEST_CASE("summarize: a run killed with SIGKILL resumes to the uninterrupted outputs", "[cli][summarize]") {
  const std::string model = fixture_model("t5_text");
  if (model.empty()) return;
  const auto texts = all_input_texts(load_cases(model));
  TempDir tmp;
  const size_t n = std::min<size_t>(texts.size(), 40);
  for (size_t i = 0; i < n; ++i) write_file(tmp / "in" / "sub" / name_of(i), texts[i]);
  auto args_for = [&](const fs::path& out) {
    return std::vector<std::string>{attend_test::attend_cli(), "summarize", "-m", model, (tmp / "in").string(),
                                    "--out-dir", out.string(), "--batch-size", "1", "--threads", "1"};
  };
  // Reference: uninterrupted.
  CommandResult ref = attend_test::run_command(args_for(tmp / "ref"));
  REQUIRE(ref.exit_code == 0);

  const fs::path out = tmp / "out";
  attend_test::BackgroundCommand run(args_for(out));
  // Kill as soon as a few summaries are complete (well before the end).
  size_t seen = 0;
  for (int i = 0; i < 6000 && seen < 3; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    seen = 0;
    std::error_code ec;
    for (auto& e : fs::recursive_directory_iterator(out, ec))
      if (e.path().string().size() > 12 && e.path().string().rfind(".summary.txt") == e.path().string().size() - 12)
        ++seen;
  }
  REQUIRE(run.kill(SIGKILL));
  REQUIRE(run.wait().signal == SIGKILL);
  size_t before = 0;
  for (auto& [rel, content] : tree(out))
    if (rel.find(".tmp.") == std::string::npos) {
      ++before;
      CHECK(content == read_file(tmp / "ref" / rel));  // what exists is complete
    }
  REQUIRE(before >= 3);
  REQUIRE(before < n);  // the kill happened mid-run

  CommandResult again = attend_test::run_command(args_for(out));
  INFO(again.err);
  REQUIRE(again.exit_code == 0);
  CHECK(again.err.find(std::to_string(n - before) + " done, " + std::to_string(before) + " skipped") !=
        std::string::npos);
  CHECK(tree(out) == tree(tmp / "ref"));
  CHECK_FALSE(has_temp_files(out));

  // --overwrite redoes everything; without it a changed output is left alone.
  const fs::path first = out / "sub" / (name_of(0) + ".summary.txt");
  write_file(first, "edited\n");
  CommandResult skip = attend_test::run_command(args_for(out));
  REQUIRE(skip.exit_code == 0);
  CHECK(skip.err.find("0 done, " + std::to_string(n) + " skipped") != std::string::npos);
  CHECK(read_file(first) == "edited\n");
  auto ow = args_for(out);
  ow.push_back("--overwrite");
  CommandResult redo = attend_test::run_command(ow);
  REQUIRE(redo.exit_code == 0);
  CHECK(redo.err.find(std::to_string(n) + " done, 0 skipped") != std::string::npos);
  CHECK(tree(out) == tree(tmp / "ref"));
}

TEST_CASE("summarize: JSONL journal survives a truncated line and ends in input order", "[cli][summarize]") {
  const std::string model = fixture_model("t5_text");
  if (model.empty()) return;
  const auto texts = all_input_texts(load_cases(model));
  TempDir tmp;
  for (size_t i = 0; i < 5; ++i) write_file(tmp / "in" / name_of(i), texts[i]);
  const std::vector<std::string> base = {"summarize", "-m", model, (tmp / "in").string(), "--format", "jsonl",
                                         "--max-length", "30"};
  CommandResult ref = run_attend(base);  // stdout, input order
  REQUIRE(ref.exit_code == 0);
  const auto expected = parse_jsonl(ref.out);
  REQUIRE(expected.size() == 5);
  // An interrupted run: records 3 and 1 complete, then a line cut by the kill.
  std::string journal = expected[3].dump() + "\n" + expected[1].dump() + "\n" + expected[4].dump().substr(0, 20);
  write_file(tmp / "out" / "summaries.jsonl", journal);
  auto args = base;
  args.insert(args.end(), {"--out-dir", (tmp / "out").string()});
  CommandResult r = run_attend(args);
  REQUIRE(r.exit_code == 0);
  CHECK(r.err.find("dropped 1 incomplete line") != std::string::npos);
  CHECK(r.err.find("3 done, 2 skipped") != std::string::npos);
  CHECK(read_file(tmp / "out" / "summaries.jsonl") == ref.out);
  CHECK_FALSE(has_temp_files(tmp / "out"));
}

TEST_CASE("summarize: long documents are chunked at paragraphs and summarized in rounds", "[cli][summarize]") {
  const std::string model = fixture_model("t5_text");
  if (model.empty()) return;
  const auto texts = all_input_texts(load_cases(model));
  auto lib = attend::Model::load(model);
  auto count = [&](const std::string& t) { return lib->tokenize("summarize: " + t).size(); };
  // Paragraphs of two fixture texts each; the limit fits any one paragraph but no two.
  std::vector<std::string> paragraphs;
  for (size_t i = 0; i + 1 < texts.size() && paragraphs.size() < 8; i += 2) {
    const std::string p = texts[i] + " " + texts[i + 1];
    if (count(p) <= 200) paragraphs.push_back(p);
  }
  REQUIRE(paragraphs.size() >= 6);
  size_t limit = 0, smallest = 1 << 30;
  for (auto& p : paragraphs) {
    limit = std::max(limit, count(p));
    smallest = std::min(smallest, count(p));
  }
  const size_t overhead = count("");
  REQUIRE(2 * (smallest - overhead) + overhead > limit);  // no two paragraphs share a chunk
  REQUIRE(2 * (smallest - overhead) >= limit - overhead);  // and a chunk is full after one
  std::string doc;
  for (auto& p : paragraphs) doc += p + "\n\n";

  TempDir tmp;
  write_file(tmp / "long.txt", doc);
  const std::vector<std::string> settings = {"--max-input-tokens", std::to_string(limit), "--max-length", "30",
                                             "--min-length", "20"};
  auto run = [&](const fs::path& file, std::vector<std::string> extra) {
    std::vector<std::string> args = {"summarize", "-m", model, file.string(), "--format", "jsonl"};
    args.insert(args.end(), settings.begin(), settings.end());
    args.insert(args.end(), extra.begin(), extra.end());
    CommandResult r = run_attend(args);
    REQUIRE(r.exit_code == 0);
    return parse_jsonl(r.out).at(0);
  };
  // One round: the joined summaries of the paragraphs, each summarized on its own.
  const json one = run(tmp / "long.txt", {"--max-rounds", "1"});
  CHECK(one.at("chunks") == paragraphs.size());
  CHECK(one.at("rounds") == 1);
  std::string joined;
  for (size_t i = 0; i < paragraphs.size(); ++i) {
    write_file(tmp / ("p" + std::to_string(i)), paragraphs[i]);
    const std::string s = run(tmp / ("p" + std::to_string(i)), {}).at("summary");
    const size_t b = s.find_first_not_of(' '), e = s.find_last_not_of(' ');
    if (b == std::string::npos) continue;
    joined += (joined.empty() ? "" : " ") + s.substr(b, e - b + 1);
  }
  CHECK(one.at("summary") == joined);
  // More rounds: the joined summaries are longer than the summary limit, so they are summarized
  // again — exactly what summarizing the joined text as a document gives.
  REQUIRE(count(joined) > 30);
  const json full = run(tmp / "long.txt", {"--max-rounds", "4"});
  CHECK(full.at("rounds").get<int>() >= 2);
  write_file(tmp / "joined.txt", joined);
  const json again = run(tmp / "joined.txt", {"--max-rounds", "3"});
  CHECK(full.at("summary") == again.at("summary"));
  CHECK(full.at("rounds").get<int>() == again.at("rounds").get<int>() + 1);
}

TEST_CASE("summarize: bad inputs fail per file, the others go on", "[cli][summarize]") {
  const std::string model = fixture_model("t5_text");
  if (model.empty()) return;
  const auto texts = all_input_texts(load_cases(model));
  TempDir tmp;
  const fs::path in = tmp / "in";
  write_file(in / "good.txt", texts[0]);
  write_file(in / "empty.txt", "");
  write_file(in / "blank.txt", " \n\t\n  ");
  write_file(in / "binary.bin", std::string("\x7f" "ELF\x02\x01\x01\0\0\0\0\0\0\0\0\0\x03\0>\0", 20) + "payload");
  // Invalid UTF-8 (a lone continuation byte, a truncated sequence): replaced with U+FFFD, warned.
  write_file(in / "latin1.txt", "Caf\xE9 " + texts[1] + " \x80 end.");
  write_file(tmp / "repaired" / "latin1.txt", "Caf\xEF\xBF\xBD " + texts[1] + " \xEF\xBF\xBD end.");
  // A 100 000-character line of sentences (no line break).
  std::string line;
  for (size_t i = 0; line.size() < 100000; ++i) line += texts[i % texts.size()] + " ";
  line.resize(100000);
  write_file(in / "long_line.txt", line + "\n");
  // A 20 000-character run without a single space (each 'x' is a token of this vocabulary).
  write_file(in / "no_spaces.txt", std::string(20000, 'x'));

  // A small input limit keeps the many chunks cheap to encode.
  const std::vector<std::string> settings = {"--max-length", "20", "--min-length", "5", "--beam-size", "2",
                                             "--max-input-tokens", "128"};
  std::vector<std::string> args = {"summarize", "-m", model, in.string(), (tmp / "missing.txt").string(),
                                   "--out-dir", (tmp / "out").string()};
  args.insert(args.end(), settings.begin(), settings.end());
  CommandResult r = run_attend(args);
  CHECK(r.exit_code == 1);
  CHECK(r.signal == 0);
  const std::string base = in.string() + "/";
  CHECK(r.err.find("failed: " + base + "empty.txt: empty file") != std::string::npos);
  CHECK(r.err.find("failed: " + base + "blank.txt: empty file (only whitespace)") != std::string::npos);
  CHECK(r.err.find("failed: " + base + "binary.bin: binary file (NUL byte at offset 7)") != std::string::npos);
  CHECK(r.err.find("failed: " + (tmp / "missing.txt").string() + ": no such file or directory") != std::string::npos);
  CHECK(r.err.find("warning: " + base + "latin1.txt: invalid UTF-8 (2 sequences, first at byte 3) replaced with U+FFFD") !=
        std::string::npos);
  CHECK(r.err.find("summarize: 4 done, 0 skipped (output exists), 4 failed") != std::string::npos);
  for (const char* ok : {"good.txt", "latin1.txt", "long_line.txt", "no_spaces.txt"})
    CHECK(fs::file_size(tmp / "out" / (std::string(ok) + ".summary.txt")) > 1);
  for (const char* bad : {"empty.txt", "blank.txt", "binary.bin"})
    CHECK_FALSE(fs::exists(tmp / "out" / (std::string(bad) + ".summary.txt")));
  // The repaired text gives the same summary as the same text written with U+FFFD.
  std::vector<std::string> rep = {"summarize", "-m", model, (tmp / "repaired" / "latin1.txt").string()};
  rep.insert(rep.end(), settings.begin(), settings.end());
  CommandResult rr = run_attend(rep);
  REQUIRE(rr.exit_code == 0);
  CHECK(read_file(tmp / "out" / "latin1.txt.summary.txt") == rr.out);
  // The good file equals its summary alone; the rerun skips what is done and fails the rest again.
  std::vector<std::string> good = {"summarize", "-m", model, (in / "good.txt").string()};
  good.insert(good.end(), settings.begin(), settings.end());
  CHECK(read_file(tmp / "out" / "good.txt.summary.txt") == run_attend(good).out);
  CommandResult again = run_attend(args);
  CHECK(again.exit_code == 1);
  CHECK(again.err.find("summarize: 0 done, 4 skipped (output exists), 4 failed") != std::string::npos);
}

TEST_CASE("summarize: unreadable inputs and unwritable output folders fail per file", "[cli][summarize]") {
  const std::string model = fixture_model("t5_text");
  if (model.empty()) return;
  const auto texts = all_input_texts(load_cases(model));
  TempDir tmp;
  const fs::path in = tmp / "in";
  write_file(in / "a" / "one.txt", texts[0]);
  write_file(in / "b" / "two.txt", texts[1]);
  write_file(in / "c" / "three.txt", texts[2]);
  write_file(in / "a" / "secret.txt", texts[3]);
  fs::permissions(in / "a" / "secret.txt", fs::perms::none);
  const fs::path out = tmp / "out";
  // out/b cannot be a folder (a file is in the way); out/c is read-only.
  write_file(out / "b", "not a folder");
  fs::create_directories(out / "c");
  fs::permissions(out / "c", fs::perms::owner_read | fs::perms::owner_exec | fs::perms::group_read |
                                 fs::perms::group_exec | fs::perms::others_read | fs::perms::others_exec);
  fs::permissions(out, fs::perms::all);
  CommandOptions unprivileged;
  unprivileged.drop_privileges = true;  // root ignores permission bits
  CommandResult r = run_attend({"summarize", "-m", model, in.string(), "--out-dir", out.string(), "--max-length", "20"},
                           unprivileged);
  INFO(r.err);
  CHECK(r.exit_code == 1);
  CHECK(r.err.find("failed: " + (in / "a" / "secret.txt").string() + ": cannot open: Permission denied") !=
        std::string::npos);
  CHECK(r.err.find("failed: " + (in / "b" / "two.txt").string() + ": cannot create output folder") != std::string::npos);
  CHECK(r.err.find("failed: " + (in / "c" / "three.txt").string() + ": output folder " + (out / "c").string() +
                   " is not writable") != std::string::npos);
  CHECK(r.err.find("summarize: 1 done, 0 skipped (output exists), 3 failed") != std::string::npos);
  CHECK(fs::exists(out / "a" / "one.txt.summary.txt"));
}

TEST_CASE("summarize: a full disk fails the files that do not fit, the others are written", "[cli][summarize]") {
  const std::string model = fixture_model("t5_text");
  if (model.empty()) return;
  const auto texts = all_input_texts(load_cases(model));
  TempDir tmp;
  for (size_t i = 0; i < 6; ++i) write_file(tmp / "in" / name_of(i), texts[i]);
  const std::vector<std::string> args = {"summarize", "-m", model, (tmp / "in").string(), "--out-dir",
                                         (tmp / "out").string(), "--max-length", "60", "--min-length", "2"};
  auto ref_args = args;
  ref_args[5] = (tmp / "ref").string();
  REQUIRE(run_attend(ref_args).exit_code == 0);
  std::vector<uintmax_t> sizes;
  for (size_t i = 0; i < 6; ++i) sizes.push_back(fs::file_size(tmp / "ref" / (name_of(i) + ".summary.txt")));
  std::vector<uintmax_t> sorted = sizes;
  std::sort(sorted.begin(), sorted.end());
  REQUIRE(sorted.front() < sorted.back());
  const uintmax_t limit = sorted.front();  // only the smallest summaries fit
  CommandOptions full;
  full.file_size_limit = static_cast<long long>(limit);
  CommandResult r = run_attend(args, full);
  INFO(r.err);
  CHECK(r.signal == 0);  // SIGXFSZ does not kill it
  CHECK(r.exit_code == 1);
  size_t fits = 0;
  for (size_t i = 0; i < 6; ++i) {
    const fs::path o = tmp / "out" / (name_of(i) + ".summary.txt");
    if (sizes[i] <= limit) {
      ++fits;
      CHECK(read_file(o) == read_file(tmp / "ref" / (name_of(i) + ".summary.txt")));
    } else {
      CHECK_FALSE(fs::exists(o));
      CHECK(r.err.find("failed: " + (tmp / "in" / name_of(i)).string() +
                       ": cannot write the summary: " + o.string() + ": write failed: File too large") !=
            std::string::npos);
    }
  }
  CHECK(r.err.find(std::to_string(fits) + " done") != std::string::npos);
  CHECK_FALSE(has_temp_files(tmp / "out"));
}

TEST_CASE("summarize: bad settings and arguments are clear errors", "[cli][summarize]") {
  const std::string model = fixture_model("t5_text");
  if (model.empty()) return;
  TempDir tmp;
  write_file(tmp / "a.txt", "Some text.");
  CommandResult r = run_attend({"summarize", "-m", model, (tmp / "a.txt").string(), "--max-input-tokens", "2"});
  CHECK(r.exit_code == 1);
  CHECK(r.err.find("leaves no room for text") != std::string::npos);
  r = run_attend({"summarize", "-m", model, (tmp / "a.txt").string(), "--max-input-tokens", "100000"});
  CHECK(r.exit_code == 1);
  CHECK(r.err.find("exceeds the model's maximum source length 512") != std::string::npos);
  r = run_attend({"summarize", "-m", model, (tmp / "nothing").string()});
  CHECK(r.exit_code == 1);
  CHECK(r.err.find("nothing: no such file or directory") != std::string::npos);
  r = run_attend({"summarize", "-m", (tmp / "no-model").string(), (tmp / "a.txt").string()});
  CHECK(r.exit_code == 1);
  CHECK(r.err.find("no such model file") != std::string::npos);
}

TEST_CASE("summarize: progress as log lines or a bar on stderr, never on stdout", "[cli][summarize]") {
  const std::string model = fixture_model("t5_text");
  if (model.empty()) return;
  const auto texts = all_input_texts(load_cases(model));
  TempDir tmp;
  for (size_t i = 0; i < 4; ++i) write_file(tmp / "in" / name_of(i), texts[i]);
  const std::vector<std::string> base = {"summarize", "-m", model, (tmp / "in").string(), "--batch-size", "1",
                                         "--max-length", "10"};
  auto args = base;
  args.insert(args.end(), {"--progress", "log", "--log-interval", "0.000001"});
  CommandResult log = run_attend(args);
  REQUIRE(log.exit_code == 0);
  CHECK(log.err.find("summarize: 1/4 files, ") != std::string::npos);
  CHECK(log.err.find(" tok/s, elapsed 0:0") != std::string::npos);
  CHECK(log.err.find(", ETA ") != std::string::npos);
  CHECK(log.err.find("summarize: 4/4 files, ") != std::string::npos);
  args = base;
  args.insert(args.end(), {"--progress", "bar"});
  CommandResult bar = run_attend(args);
  REQUIRE(bar.exit_code == 0);
  CHECK(bar.err.find("\r\033[K[........................] 0/4 files, ") != std::string::npos);  // redrawn in place
  CHECK(bar.err.find("\r\033[K[########################] 4/4 files, ") != std::string::npos);
  CHECK(bar.out == log.out);
  int lines = 0;
  for (char c : bar.out) lines += c == '\n';
  CHECK(lines == 4);
  args = base;
  args.insert(args.end(), {"--progress", "none"});
  CommandResult none = run_attend(args);
  CHECK(none.err == "summarize: 4 done, 0 skipped (output exists), 0 failed\n");
}

TEST_CASE("summarize: folders are read recursively in sorted order, --glob filters them", "[cli][summarize]") {
  const std::string model = fixture_model("t5_text");
  if (model.empty()) return;
  const auto texts = all_input_texts(load_cases(model));
  TempDir tmp;
  const fs::path in = tmp / "in";
  write_file(in / "b.txt", texts[0]);
  write_file(in / "a.md", texts[1]);
  write_file(in / "sub" / "c.txt", texts[2]);
  write_file(tmp / "other" / "b.txt", texts[3]);
  auto paths = [&](std::vector<std::string> extra) {
    std::vector<std::string> args = {"summarize", "-m", model, in.string(), "--format", "jsonl", "--max-length", "5"};
    args.insert(args.end(), extra.begin(), extra.end());
    CommandResult r = run_attend(args);
    REQUIRE(r.exit_code == 0);
    std::vector<std::string> out;
    for (auto& j : parse_jsonl(r.out)) out.push_back(j.at("path"));
    return out;
  };
  const std::string base = in.string() + "/";
  CHECK(paths({}) == std::vector<std::string>{base + "a.md", base + "b.txt", base + "sub/c.txt"});
  CHECK(paths({"--glob", "*.txt"}) == std::vector<std::string>{base + "b.txt", base + "sub/c.txt"});
  CHECK(paths({"--glob", "sub/*"}) == std::vector<std::string>{base + "sub/c.txt"});

  // Two inputs that would share an output file: the second fails, the first is written.
  CommandResult r = run_attend({"summarize", "-m", model, (in / "b.txt").string(), (tmp / "other" / "b.txt").string(),
                                "--out-dir", (tmp / "out").string(), "--max-length", "5"});
  CHECK(r.exit_code == 1);
  CHECK(r.err.find("failed: " + (tmp / "other" / "b.txt").string() + ": output " + (tmp / "out" / "b.txt.summary.txt").string() +
                   " would overwrite the summary of " + (in / "b.txt").string()) != std::string::npos);
  CHECK(fs::exists(tmp / "out" / "b.txt.summary.txt"));
}
