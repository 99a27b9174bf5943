// tools/support/document_io.hpp — input side of `attend translate --document` / `--out-dir`: reading
// whole files, rejecting bad input with messages naming file and line, JSONL records in and
// out, and the mapping of input paths to output paths.
#pragma once
#include <cstddef>
#include <string>
#include <vector>

namespace attend_cli {

// Whole content of `path` ("" or "-" = stdin). Throws attend::Error naming the file when it
// cannot be opened or read (a directory is an error too).
std::string read_whole_input(const std::string& path);

// Rejects input that is no text document: empty or whitespace only, binary (a NUL byte), or a
// line longer than `max_line_chars` code points (0 = no limit). Throws attend::Error starting
// with `label` (and ":LINE" where a line is concerned). Invalid UTF-8 is not rejected here: the
// library replaces it by U+FFFD and the caller warns.
void check_text_input(const std::string& label, const std::string& bytes, size_t max_line_chars);

// One `{"id": ..., "text": ...}` line: the id is kept as JSON text so it is written back unchanged.
struct JsonlRecord {
  size_t line = 0;
  std::string id_json;
  std::string text;
};
// Parses JSONL (blank lines skipped). Throws attend::Error "label:LINE: ..." for bad JSON, a line
// that is not an object, a missing id, a missing or non-string "text", an over-long text line.
std::vector<JsonlRecord> parse_jsonl(const std::string& label, const std::string& bytes, size_t max_line_chars);
// `{"id": <id>, "translation": "..."}` per record, in order, each ending in '\n'.
std::string format_jsonl(const std::vector<JsonlRecord>& records, const std::vector<std::string>& translations);

// An input file found on the command line (a file, or a file under a folder argument).
struct InputFile {
  std::string path;      // as opened
  std::string relative;  // path below the output directory (before the suffix)
};
// Files named on the command line, folders walked recursively (sorted, regular files only;
// anything under `skip_dir` left out). A file argument keeps its relative path when it is relative
// and has no "..", else only its file name. A folder that cannot be walked is returned as one
// entry with `relative` empty, for the caller to report; missing files fail when read.
std::vector<InputFile> expand_inputs(const std::vector<std::string>& args, const std::string& skip_dir);

}  // namespace attend_cli
