// tests/cli/test_translate_document.cpp — `attend translate --document`, `FILE... --out-dir` and
// `--format jsonl` driven through the real attend binary with the bundled en→de model on
// Multi30k test2016 text: layout reassembly, cross-file batching = one at a time, resume/skip,
// JSONL ids, and every bad-input case (empty, binary, invalid UTF-8, 100,000-character line,
// unreadable input, unwritable output, bad JSON line).
#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "tests/support/child_process.hpp"

namespace fs = std::filesystem;
using attend_test::CommandOptions;
using attend_test::CommandResult;
using attend_test::run_command;

namespace {

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void write_file(const fs::path& p, const std::string& s) {
  fs::create_directories(p.parent_path());
  std::ofstream out(p, std::ios::binary);
  out << s;
}

// A scratch directory under the build tree, removed at the end of the test case.
struct Scratch {
  fs::path dir;
  Scratch() {
    std::string tmpl = (fs::current_path() / "cli-test-XXXXXX").string();
    if (!::mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
    dir = tmpl;
  }
  ~Scratch() {
    std::error_code ec;
    fs::permissions(dir, fs::perms::owner_all, fs::perm_options::add, ec);
    for (auto& e : fs::recursive_directory_iterator(dir, ec)) fs::permissions(e.path(), fs::perms::owner_all, fs::perm_options::add, ec);
    fs::remove_all(dir, ec);
  }
  fs::path operator/(const std::string& name) const { return dir / name; }
};

// Runs `attend ARGS` in the scratch directory with `stdin_text` on its standard input.
CommandResult attend(const Scratch& s, std::vector<std::string> args, const std::string& stdin_text = "") {
  args.insert(args.begin(), attend_test::attend_cli());
  CommandOptions options;
  options.stdin_text = stdin_text;
  options.cwd = s.dir.string();
  // One thread: the tests run next to other jobs, where OpenMP's spinning threads are slow.
  options.env = {{"OMP_NUM_THREADS", "1"}};
  return run_command(args, options);
}

std::string shared_root() {
  const char* env = std::getenv("ATTEND_SHARED");
  return env && *env ? env : (fs::path(ATTEND_SOURCE_DIR) / ".." / "shared").string();
}

// Sentences of Multi30k test2016 the splitter must keep whole: one final period after a
// lower-case word, no other sentence punctuation. Empty (with a SKIP or FAIL) when the data is absent.
std::vector<std::string> multi30k_sentences(size_t n) {
  const fs::path src = fs::path(shared_root()) / "data/multi30k/test_2016_flickr.en";
  if (!fs::exists(src)) {
    const char* ci = std::getenv("CI");
    if (ci && std::string(ci) == "true") FAIL("Multi30k data missing: " << src);
    WARN("Multi30k data missing (" << src << "): test skipped");
    return {};
  }
  std::ifstream in(src);
  std::vector<std::string> out;
  std::string line;
  while (out.size() < n && std::getline(in, line)) {
    if (line.size() < 10 || line.back() != '.' || line.find_first_of(".!?") != line.size() - 1) continue;
    const size_t sp = line.rfind(' ');
    const std::string last = line.substr(sp + 1, line.size() - sp - 2);
    if (last.size() < 3 || last.find_first_not_of("abcdefghijklmnopqrstuvwxyz") != std::string::npos) continue;
    out.push_back(line);
  }
  return out;
}

// Line-mode translations (one sentence per line) of `sentences`: the reference the document
// modes must reproduce.
std::vector<std::string> translate_lines(const Scratch& s, const std::vector<std::string>& sentences) {
  std::string text;
  for (const auto& x : sentences) text += x + "\n";
  write_file(s / "lines.en", text);
  const CommandResult r = attend(s, {"translate", "-i", "lines.en"});
  REQUIRE(r.exit_code == 0);
  std::vector<std::string> out;
  std::istringstream in(r.out);
  std::string line;
  while (std::getline(in, line)) out.push_back(line);
  REQUIRE(out.size() == sentences.size());
  return out;
}

// A document with leading/trailing whitespace, blank lines (one with spaces), paragraphs whose
// sentences are separated by spaces or line breaks; `sep` gives the layout of each gap.
std::string layout(const std::vector<std::string>& sentences) {
  const std::vector<std::string> gaps = {" ", "  ", "\n", "\n\n", " ", "\n  \n\n", " ", "\n"};
  std::string doc = "  \n";
  for (size_t i = 0; i < sentences.size(); ++i) {
    if (i > 0) doc += gaps[i % gaps.size()];
    doc += sentences[i];
  }
  return doc + "\n\n";
}

}  // namespace

TEST_CASE("translate --document keeps the layout and equals sentence-by-sentence translation", "[cli]") {
  const auto src = multi30k_sentences(16);
  if (src.empty()) return;
  REQUIRE(src.size() == 16);
  Scratch s;
  const auto expected_sentences = translate_lines(s, src);
  write_file(s / "doc.en", layout(src));
  const CommandResult r = attend(s, {"translate", "--document", "-i", "doc.en"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(r.out == layout(expected_sentences));
  // stdin/stdout and -o give the same bytes
  const CommandResult piped = attend(s, {"translate", "--document"}, read_file(s / "doc.en"));
  CHECK(piped.exit_code == 0);
  CHECK(piped.out == r.out);
  REQUIRE(attend(s, {"translate", "--document", "-i", "doc.en", "-o", "doc.de"}).exit_code == 0);
  CHECK(read_file(s / "doc.de") == r.out);
}

TEST_CASE("translate FILE... --out-dir: batching across files equals one at a time, skip and --overwrite", "[cli]") {
  const auto src = multi30k_sentences(18);
  if (src.empty()) return;
  REQUIRE(src.size() == 18);
  Scratch s;
  const std::vector<std::string> docs = {layout({src.begin(), src.begin() + 7}),
                                         layout({src.begin() + 7, src.begin() + 9}),
                                         layout({src.begin() + 9, src.end()})};
  write_file(s / "in/a.txt", docs[0]);
  write_file(s / "in/sub/b.txt", docs[1]);
  write_file(s / "c.txt", docs[2]);
  const CommandResult all = attend(s, {"translate", "in", "c.txt", "--out-dir", "out", "--batch-size", "64"});
  INFO(all.err);
  REQUIRE(all.exit_code == 0);
  CHECK(all.err.find("3 file(s) translated (18 sentences), 0 skipped") != std::string::npos);
  const std::vector<std::pair<std::string, std::string>> pairs = {
      {"in/a.txt", "out/a.txt.translated.txt"}, {"in/sub/b.txt", "out/sub/b.txt.translated.txt"},
      {"c.txt", "out/c.txt.translated.txt"}};
  for (const auto& [in, out] : pairs) {
    const CommandResult one = attend(s, {"translate", "--document", "-i", in});
    REQUIRE(one.exit_code == 0);
    CHECK(read_file(s / out) == one.out);
  }
  // No temporary files left behind.
  for (const auto& e : fs::recursive_directory_iterator(s / "out"))
    CHECK(e.path().filename().string().find(".tmp") == std::string::npos);

  // A second run skips the complete outputs; --overwrite redoes them.
  write_file(s / "out/c.txt.translated.txt", "stale");
  const CommandResult again = attend(s, {"translate", "in", "c.txt", "--out-dir", "out"});
  CHECK(again.exit_code == 0);
  CHECK(again.err.find("0 file(s) translated (0 sentences), 3 skipped") != std::string::npos);
  CHECK(read_file(s / "out/c.txt.translated.txt") == "stale");
  const CommandResult redo =
      attend(s, {"translate", "c.txt", "--out-dir", "out", "--overwrite", "--suffix", ".translated.txt"});
  CHECK(redo.exit_code == 0);
  CHECK(read_file(s / "out/c.txt.translated.txt") == attend(s, {"translate", "--document", "-i", "c.txt"}).out);
}

TEST_CASE("translate --format jsonl writes the same ids back with each record's document translation", "[cli]") {
  const auto src = multi30k_sentences(6);
  if (src.empty()) return;
  REQUIRE(src.size() == 6);
  Scratch s;
  const auto tr = translate_lines(s, src);
  // ids of several JSON types; a text with a paragraph break; a blank line in the file (skipped)
  std::string in = "{\"id\": 7, \"text\": \"" + src[0] + " " + src[1] + "\"}\n";
  in += "{\"text\": \"" + src[2] + "\\n\\n" + src[3] + "\", \"id\": \"doc-b\"}\n\n";
  in += "{\"id\": {\"k\": [1, 2]}, \"text\": \"" + src[4] + "  " + src[5] + "\", \"extra\": true}\n";
  write_file(s / "in.jsonl", in);
  const std::string expected = "{\"id\": 7, \"translation\": \"" + tr[0] + " " + tr[1] + "\"}\n" +
                               "{\"id\": \"doc-b\", \"translation\": \"" + tr[2] + "\\n\\n" + tr[3] + "\"}\n" +
                               "{\"id\": {\"k\":[1,2]}, \"translation\": \"" + tr[4] + "  " + tr[5] + "\"}\n";
  const CommandResult r = attend(s, {"translate", "--format", "jsonl", "-i", "in.jsonl"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(r.out == expected);
  const CommandResult files = attend(s, {"translate", "in.jsonl", "--format", "jsonl", "--out-dir", "out"});
  REQUIRE(files.exit_code == 0);
  CHECK(read_file(s / "out/in.jsonl.translated.jsonl") == expected);

  // A bad line: error naming file and line, nothing written.
  write_file(s / "bad.jsonl", "{\"id\": 1, \"text\": \"A dog runs.\"}\n\n{\"id\": 2, text: 3}\n");
  const CommandResult bad = attend(s, {"translate", "--format", "jsonl", "-i", "bad.jsonl", "-o", "bad.out"});
  CHECK(bad.exit_code == 1);
  CHECK(bad.err.find("bad.jsonl:3: invalid JSON") != std::string::npos);
  CHECK_FALSE(fs::exists(s / "bad.out"));
  write_file(s / "noid.jsonl", "{\"text\": \"A dog runs.\"}\n");
  CHECK(attend(s, {"translate", "--format", "jsonl", "-i", "noid.jsonl"})
            .err.find("noid.jsonl:1: missing field \"id\"") != std::string::npos);
  write_file(s / "notext.jsonl", "{\"id\": 1, \"text\": 5}\n");
  CHECK(attend(s, {"translate", "--format", "jsonl", "-i", "notext.jsonl"})
            .err.find("notext.jsonl:1: field \"text\" must be a string") != std::string::npos);
  write_file(s / "array.jsonl", "[1, 2]\n");
  CHECK(attend(s, {"translate", "--format", "jsonl", "-i", "array.jsonl"})
            .err.find("array.jsonl:1: expected a JSON object") != std::string::npos);
}

TEST_CASE("translate --out-dir: every bad input fails on its own, the other files go on", "[cli]") {
  const auto src = multi30k_sentences(3);
  if (src.empty()) return;
  REQUIRE(src.size() == 3);
  Scratch s;
  const auto tr = translate_lines(s, src);
  write_file(s / "in/good.txt", src[0] + "\n");
  write_file(s / "in/empty.txt", "");
  write_file(s / "in/blank.txt", " \n\n\t\n");
  write_file(s / "in/binary.dat", std::string("PK\x03\x04\0\0\x14\0", 8) + "rest");
  write_file(s / "in/invalid.txt", src[1] + " Bad \xff\xfe bytes. " + src[2] + "\n");
  write_file(s / "in/long.txt", "A dog runs.\n" + std::string(100000, 'x') + "\n");
  write_file(s / "in/unreadable.txt", src[0] + "\n");
  ::chmod((s / "in/unreadable.txt").c_str(), 0);
  const bool can_deny_read = ::access((s / "in/unreadable.txt").c_str(), R_OK) != 0;  // not as root
  const CommandResult r = attend(s, {"translate", "in", "missing.txt", "--out-dir", "out"});
  INFO(r.err);
  CHECK(r.exit_code == 1);
  CHECK(r.err.find("in/empty.txt: empty input") != std::string::npos);
  CHECK(r.err.find("in/blank.txt: empty input") != std::string::npos);
  CHECK(r.err.find("in/binary.dat: binary file (NUL byte at offset 4)") != std::string::npos);
  CHECK(r.err.find("in/long.txt:2: line of 100000 characters") != std::string::npos);
  CHECK(r.err.find("missing.txt: cannot open input file") != std::string::npos);
  CHECK(r.err.find("warning: in/invalid.txt: 2 invalid UTF-8 sequence(s) replaced by U+FFFD") != std::string::npos);
  if (can_deny_read) CHECK(r.err.find("in/unreadable.txt: cannot open input file") != std::string::npos);
  const size_t failed = can_deny_read ? 6 : 5;
  CHECK(r.err.find(std::to_string(7 - failed + 1) + " file(s) translated") != std::string::npos);
  CHECK(r.err.find(std::to_string(failed) + " failed") != std::string::npos);
  CHECK(read_file(s / "out/good.txt.translated.txt") == tr[0] + "\n");
  // The valid sentences around the invalid bytes are translated as usual.
  const std::string inv = read_file(s / "out/invalid.txt.translated.txt");
  CHECK(inv.rfind(tr[1] + " ", 0) == 0);
  CHECK(inv.size() > tr[2].size());
  CHECK(inv.substr(inv.size() - tr[2].size() - 1) == tr[2] + "\n");
  for (const char* bad : {"empty.txt", "blank.txt", "binary.dat", "long.txt"})
    CHECK_FALSE(fs::exists(s / "out" / (std::string(bad) + ".translated.txt")));

  // --max-line-length 0 accepts the long line: a sentence longer than the model's limit is cut,
  // not failed (a shorter one here to keep the test fast).
  std::string long_sentence;
  for (int i = 0; i < 90; ++i) long_sentence += "a man walks with a dog in the park and ";
  write_file(s / "longok.txt", long_sentence + "smiles.\n");
  const CommandResult longok = attend(s, {"translate", "--document", "-i", "longok.txt", "--max-line-length", "0"});
  CHECK(longok.exit_code == 0);
  CHECK(longok.out.size() > 100);

  // stdin: empty input is an error, not an empty success.
  write_file(s / "zero.txt", "");
  const CommandResult zero = attend(s, {"translate", "--document"}, read_file(s / "zero.txt"));
  CHECK(zero.exit_code == 1);
  CHECK(zero.err.find("stdin: empty input") != std::string::npos);
  // A folder argument where a file is expected by -i.
  CHECK(attend(s, {"translate", "--document", "-i", "in"}).err.find("in: is a directory") != std::string::npos);
}

TEST_CASE("translate --out-dir: an unwritable output directory fails each file with a clear error", "[cli]") {
  const auto src = multi30k_sentences(2);
  if (src.empty()) return;
  Scratch s;
  write_file(s / "a.txt", src[0] + "\n");
  write_file(s / "b.txt", src[1] + "\n");
  write_file(s / "out", "a file where the output folder should be");
  const CommandResult r = attend(s, {"translate", "a.txt", "b.txt", "--out-dir", "out"});
  CHECK(r.exit_code == 1);
  CHECK(r.err.find("a.txt: out: cannot create output directory") != std::string::npos);
  CHECK(r.err.find("b.txt: out: cannot create output directory") != std::string::npos);
  CHECK(r.err.find("2 failed") != std::string::npos);
  // Usage errors.
  CHECK(attend(s, {"translate", "a.txt"}).err.find("need --out-dir") != std::string::npos);
  CHECK(attend(s, {"translate", "--out-dir", "o"}).err.find("--out-dir needs input files") != std::string::npos);
  CHECK(attend(s, {"translate", "--document", "-i", "a.txt", "--n-best", "2"})
            .err.find("--n-best, --scores and --alignments apply to line") != std::string::npos);
}
