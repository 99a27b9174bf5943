// tools/support/file_jobs.hpp — file handling for batch commands over files and folders (attend
// summarize): expanding PATH arguments (recursive, --glob), reading one input as text with the
// bad-input rules (unreadable, empty, binary, too large, invalid UTF-8 → U+FFFD), output
// directories, stale temporary files of killed runs, and the JSONL results journal.
#pragma once
#include <cstddef>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace attend_cli {

struct InputFile {
  std::string path;   // as found: the argument, or argument/relative for files in folders
  std::string rel;    // relative name used under --out-dir (file argument: its file name)
};

struct FailedPath {
  std::string path, reason;
};

struct InputListing {
  std::vector<InputFile> files;
  std::vector<FailedPath> errors;  // arguments that do not exist, unreadable folders
};

// Expands the arguments in order: a file is taken as is; a folder is walked recursively (sorted,
// symlinked folders not followed), keeping regular files whose name (or relative path, when the
// pattern holds a '/') matches `glob` ("" = all). Files under `skip_dir` (the output folder) and
// temporary files of this tool are left out.
InputListing list_inputs(const std::vector<std::string>& args, const std::string& glob, const std::string& skip_dir);

struct TextInput {
  std::string text;
  std::string error;    // non-empty: the file cannot be used (reason)
  std::string warning;  // non-empty: used, with this remark (e.g. invalid UTF-8 replaced)
};

// Reads a file as UTF-8 text. Errors: cannot open/read, larger than max_bytes, empty (or only
// whitespace), binary (a NUL byte, or mostly bytes that are neither text nor UTF-8). Invalid
// UTF-8 sequences are replaced by U+FFFD with a warning naming the first offset.
TextInput read_text_input(const std::string& path, size_t max_bytes);

// `in` with every invalid UTF-8 sequence (maximal invalid subpart) replaced by U+FFFD.
std::string repair_utf8(std::string_view in, size_t* invalid_count = nullptr, size_t* first_invalid = nullptr);

// Creates the folder that will hold `file` (and its parents); "" on success, else the reason.
std::string prepare_output_dir(const std::string& file);

// Removes "<name>.tmp.<pid>" files under `dir` (recursively) left by processes that no longer
// run (killed mid-write). Returns how many were removed.
size_t remove_stale_temp_files(const std::string& dir);

// Results journal for --format jsonl with --out-dir: one {"path":..., "summary":...} line per
// completed input, appended and synced as each completes, so an interrupted run keeps what was
// done; a truncated last line (killed mid-append) is dropped when the journal is reopened.
class JsonlJournal {
 public:
  // Opens (creating) `path`; with `fresh` the previous contents are discarded. Throws
  // attend::Error naming the file.
  JsonlJournal(const std::string& path, bool fresh);
  ~JsonlJournal();
  JsonlJournal(const JsonlJournal&) = delete;
  JsonlJournal& operator=(const JsonlJournal&) = delete;

  bool has(const std::string& path) const { return records_.count(path) != 0; }
  size_t dropped_lines() const { return dropped_; }
  // Appends one record and syncs it to disk; throws attend::Error on a failed write (the
  // journal is truncated back to its previous size).
  void append(const std::string& path, const std::string& summary, int chunks, int rounds);
  // Rewrites the journal atomically with the records of `order` first (in that order), then
  // the others in journal order.
  void finalize(const std::vector<std::string>& order);

 private:
  std::string path_;
  int fd_ = -1;
  long long size_ = 0;
  std::map<std::string, std::string> records_;  // path -> JSON line (with '\n')
  std::vector<std::string> journal_order_;
  size_t dropped_ = 0;
};

// One JSONL line {"path": path, "summary": summary, "chunks": n, "rounds": n} (with '\n');
// invalid UTF-8 is replaced.
std::string jsonl_record(const std::string& path, const std::string& summary, int chunks, int rounds);

}  // namespace attend_cli
