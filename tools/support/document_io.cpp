// tools/support/document_io.cpp — reading and checking document inputs, JSONL records, input → output
// path mapping for `attend translate --document` / `--out-dir` (see document_io.hpp).
#include "tools/support/document_io.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>

#include <nlohmann/json.hpp>

#include "attend/error.hpp"

namespace fs = std::filesystem;

namespace attend_cli {

std::string read_whole_input(const std::string& path) {
  if (path.empty() || path == "-") {
    std::ostringstream ss;
    ss << std::cin.rdbuf();
    if (std::cin.bad()) throw attend::Error("stdin: read error");
    return ss.str();
  }
  std::error_code ec;
  const fs::file_status st = fs::status(path, ec);
  if (fs::is_directory(st)) throw attend::Error(path + ": is a directory, not a file");
  // A FIFO or device would block or never end: only regular files are documents.
  if (fs::exists(st) && !fs::is_regular_file(st)) throw attend::Error(path + ": not a regular file");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw attend::Error(path + ": cannot open input file: " + std::strerror(errno));
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) throw attend::Error(path + ": read error");
  return bytes;
}

namespace {

// Throws when a line of `text` is longer than `limit` code points; `line_of` maps a line index of
// `text` to the number shown in the message.
void check_line_lengths(const std::string& label, const std::string& text, size_t limit, size_t first_line,
                        bool same_line) {
  if (limit == 0) return;
  size_t line = 0, chars = 0;
  for (size_t i = 0; i <= text.size(); ++i) {
    if (i == text.size() || text[i] == '\n') {
      if (chars > limit) {
        const size_t shown = same_line ? first_line : first_line + line;
        throw attend::Error(label + ":" + std::to_string(shown) + ": line of " + std::to_string(chars) +
                            " characters, longer than the limit of " + std::to_string(limit) +
                            " (--max-line-length)");
      }
      ++line;
      chars = 0;
    } else if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80) {
      ++chars;
    }
  }
}

}  // namespace

void check_text_input(const std::string& label, const std::string& bytes, size_t max_line_chars) {
  if (bytes.find_first_not_of(" \t\r\n\v\f") == std::string::npos) {
    throw attend::Error(label + ": empty input, nothing to translate");
  }
  if (const size_t nul = bytes.find('\0'); nul != std::string::npos) {
    throw attend::Error(label + ": binary file (NUL byte at offset " + std::to_string(nul) + "), not translated");
  }
  check_line_lengths(label, bytes, max_line_chars, 1, false);
}

std::vector<JsonlRecord> parse_jsonl(const std::string& label, const std::string& bytes, size_t max_line_chars) {
  if (const size_t nul = bytes.find('\0'); nul != std::string::npos) {
    throw attend::Error(label + ": binary file (NUL byte at offset " + std::to_string(nul) + "), not translated");
  }
  std::vector<JsonlRecord> records;
  size_t pos = 0, line_no = 0;
  while (pos < bytes.size()) {
    size_t eol = bytes.find('\n', pos);
    if (eol == std::string::npos) eol = bytes.size();
    std::string line = bytes.substr(pos, eol - pos);
    pos = eol + 1;
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.find_first_not_of(" \t") == std::string::npos) continue;
    const std::string where = label + ":" + std::to_string(line_no) + ": ";
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(line);
    } catch (const nlohmann::json::exception& e) {
      std::string what = e.what();
      if (const size_t p = what.find("] "); p != std::string::npos) what = what.substr(p + 2);
      if (const size_t p = what.find("at line 1, "); p != std::string::npos) what.erase(p + 3, 8);
      throw attend::Error(where + "invalid JSON: " + what);
    }
    if (!j.is_object()) throw attend::Error(where + "expected a JSON object {\"id\": ..., \"text\": ...}");
    if (!j.contains("id")) throw attend::Error(where + "missing field \"id\"");
    if (!j.contains("text")) throw attend::Error(where + "missing field \"text\"");
    if (!j["text"].is_string()) throw attend::Error(where + "field \"text\" must be a string");
    JsonlRecord r;
    r.line = line_no;
    r.id_json = j["id"].dump();
    r.text = j["text"].get<std::string>();
    check_line_lengths(label, r.text, max_line_chars, line_no, true);
    records.push_back(std::move(r));
  }
  if (records.empty()) throw attend::Error(label + ": empty input, no JSONL records to translate");
  return records;
}

std::string format_jsonl(const std::vector<JsonlRecord>& records, const std::vector<std::string>& translations) {
  std::string out;
  for (size_t i = 0; i < records.size(); ++i) {
    const std::string t =
        nlohmann::json(translations.at(i)).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    out += "{\"id\": " + records[i].id_json + ", \"translation\": " + t + "}\n";
  }
  return out;
}

std::vector<InputFile> expand_inputs(const std::vector<std::string>& args, const std::string& skip_dir) {
  std::vector<InputFile> out;
  std::error_code ec;
  const fs::path skip = skip_dir.empty() ? fs::path() : fs::weakly_canonical(skip_dir, ec);
  auto under_skip = [&](const fs::path& p) {
    if (skip.empty()) return false;
    std::error_code e2;
    const fs::path c = fs::weakly_canonical(p, e2);
    auto [s_end, c_it] = std::mismatch(skip.begin(), skip.end(), c.begin(), c.end());
    (void)c_it;
    return s_end == skip.end();
  };
  for (const std::string& arg : args) {
    const fs::path p(arg);
    if (fs::is_directory(p, ec)) {
      std::vector<InputFile> found;
      for (auto it = fs::recursive_directory_iterator(p, fs::directory_options::skip_permission_denied, ec);
           !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
        if (!it->is_regular_file(ec)) continue;
        if (under_skip(it->path())) continue;
        found.push_back({it->path().string(), it->path().lexically_relative(p).generic_string()});
      }
      if (ec) found.push_back({arg, ""});  // reported by the caller as unreadable
      std::sort(found.begin(), found.end(), [](const InputFile& a, const InputFile& b) { return a.path < b.path; });
      out.insert(out.end(), found.begin(), found.end());
      continue;
    }
    const fs::path norm = p.lexically_normal();
    bool plain = norm.is_relative();
    for (const auto& part : norm) plain = plain && part != "..";
    out.push_back({arg, (plain ? norm : p.filename()).generic_string()});
  }
  return out;
}

}  // namespace attend_cli
