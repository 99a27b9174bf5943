// tools/support/file_jobs.cpp — input listing, text reading with the bad-input rules, output folders,
// stale temporary files and the JSONL journal for file-batch commands (tools/file_jobs.hpp).
#include "tools/support/file_jobs.hpp"

#include <fcntl.h>
#include <fnmatch.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <system_error>

#include <nlohmann/json.hpp>

#include "attend/error.hpp"
#include "tools/support/cli_common.hpp"

namespace fs = std::filesystem;

namespace attend_cli {
namespace {

// "<name>.tmp.<digits>": the temporary names of write_file_atomically; returns the pid or 0.
long temp_file_pid(const std::string& name) {
  const size_t p = name.rfind(".tmp.");
  if (p == std::string::npos || p + 5 >= name.size()) return 0;
  long pid = 0;
  for (size_t i = p + 5; i < name.size(); ++i) {
    if (name[i] < '0' || name[i] > '9') return 0;
    pid = pid * 10 + (name[i] - '0');
    if (pid > 1L << 30) return 0;
  }
  return pid;
}

bool glob_matches(const std::string& glob, const std::string& rel) {
  if (glob.empty()) return true;
  const bool whole_path = glob.find('/') != std::string::npos;
  const std::string subject = whole_path ? rel : fs::path(rel).filename().string();
  return fnmatch(glob.c_str(), subject.c_str(), 0) == 0;
}

bool is_inside(const fs::path& p, const fs::path& dir) {
  if (dir.empty()) return false;
  std::error_code ec;
  const fs::path a = fs::weakly_canonical(p, ec);
  if (ec) return false;
  const fs::path b = fs::weakly_canonical(dir, ec);
  if (ec) return false;
  auto ai = a.begin();
  for (auto bi = b.begin(); bi != b.end(); ++bi, ++ai) {
    if (bi->empty()) continue;  // trailing separator
    if (ai == a.end() || *ai != *bi) return false;
  }
  return true;
}

std::string errno_text(int e) { return std::strerror(e); }

}  // namespace

InputListing list_inputs(const std::vector<std::string>& args, const std::string& glob, const std::string& skip_dir) {
  InputListing out;
  for (const std::string& arg : args) {
    std::error_code ec;
    const fs::file_status st = fs::status(arg, ec);
    if (ec || !fs::exists(st)) {
      out.errors.push_back({arg, ec && ec != std::errc::no_such_file_or_directory
                                     ? "cannot access: " + ec.message()
                                     : "no such file or directory"});
      continue;
    }
    if (!fs::is_directory(st)) {
      if (!fs::is_regular_file(st)) {
        out.errors.push_back({arg, "not a regular file or folder"});
        continue;
      }
      out.files.push_back({arg, fs::path(arg).filename().string()});
      continue;
    }
    std::vector<InputFile> found;
    fs::recursive_directory_iterator it(arg, fs::directory_options::none, ec), end;
    if (ec) {
      out.errors.push_back({arg, "cannot list folder: " + ec.message()});
      continue;
    }
    for (; it != end; it.increment(ec)) {
      if (ec) {
        out.errors.push_back({it->path().string(), "cannot list folder: " + ec.message()});
        ec.clear();
        break;
      }
      const fs::directory_entry& e = *it;
      std::error_code ec2;
      if (e.is_directory(ec2)) {
        if (e.is_symlink(ec2) || (!skip_dir.empty() && is_inside(e.path(), skip_dir))) it.disable_recursion_pending();
        continue;
      }
      if (!e.is_regular_file(ec2)) continue;
      const std::string rel = e.path().lexically_relative(arg).generic_string();
      const std::string name = e.path().filename().string();
      if (temp_file_pid(name) != 0) continue;
      if (!glob_matches(glob, rel)) continue;
      found.push_back({e.path().string(), rel});
    }
    std::sort(found.begin(), found.end(), [](const InputFile& a, const InputFile& b) { return a.rel < b.rel; });
    out.files.insert(out.files.end(), found.begin(), found.end());
  }
  return out;
}

std::string repair_utf8(std::string_view in, size_t* invalid_count, size_t* first_invalid) {
  std::string out;
  out.reserve(in.size());
  size_t bad = 0;
  const auto* s = reinterpret_cast<const unsigned char*>(in.data());
  const size_t n = in.size();
  size_t i = 0;
  while (i < n) {
    const unsigned char c = s[i];
    if (c < 0x80) {
      out.push_back(static_cast<char>(c));
      ++i;
      continue;
    }
    // Expected length and the valid range of the second byte (Unicode Table 3-7).
    size_t len = 0;
    unsigned char lo = 0x80, hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF) len = 2;
    else if (c == 0xE0) len = 3, lo = 0xA0;
    else if (c >= 0xE1 && c <= 0xEC) len = 3;
    else if (c == 0xED) len = 3, hi = 0x9F;
    else if (c >= 0xEE && c <= 0xEF) len = 3;
    else if (c == 0xF0) len = 4, lo = 0x90;
    else if (c >= 0xF1 && c <= 0xF3) len = 4;
    else if (c == 0xF4) len = 4, hi = 0x8F;
    size_t ok = 0;  // bytes of a valid prefix
    if (len > 0) {
      ok = 1;
      while (ok < len && i + ok < n) {
        const unsigned char d = s[i + ok];
        const unsigned char l = ok == 1 ? lo : 0x80, h = ok == 1 ? hi : 0xBF;
        if (d < l || d > h) break;
        ++ok;
      }
    }
    if (len > 0 && ok == len) {
      out.append(in.substr(i, len));
      i += len;
      continue;
    }
    if (bad == 0 && first_invalid) *first_invalid = i;
    ++bad;
    out += "\xEF\xBF\xBD";
    i += std::max<size_t>(1, ok);  // the maximal invalid subpart becomes one U+FFFD
  }
  if (invalid_count) *invalid_count = bad;
  return out;
}

TextInput read_text_input(const std::string& path, size_t max_bytes) {
  TextInput r;
  std::error_code ec;
  const auto size = fs::file_size(path, ec);
  if (ec) {
    r.error = "cannot read: " + ec.message();
    return r;
  }
  if (size > max_bytes) {
    r.error = "file too large (" + std::to_string(size) + " bytes; the limit is " + std::to_string(max_bytes) + ")";
    return r;
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    r.error = "cannot open: " + errno_text(errno);
    return r;
  }
  std::string bytes;
  bytes.resize(static_cast<size_t>(size));
  in.read(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (in.bad() || static_cast<size_t>(in.gcount()) != bytes.size()) {
    r.error = "read error: " + errno_text(errno ? errno : EIO);
    return r;
  }
  if (const size_t nul = bytes.find('\0'); nul != std::string::npos) {
    r.error = "binary file (NUL byte at offset " + std::to_string(nul) + "), not summarized";
    return r;
  }
  size_t invalid = 0, first = 0;
  std::string text = repair_utf8(bytes, &invalid, &first);
  size_t controls = 0;
  for (unsigned char c : bytes)
    if (c < 0x20 && c != '\t' && c != '\n' && c != '\r' && c != '\f') ++controls;
  // Mostly undecodable bytes or control characters: not text.
  if (bytes.size() >= 16 && (invalid + controls) * 4 > bytes.size()) {
    r.error = "binary file (" + std::to_string(invalid) + " invalid UTF-8 sequences, " + std::to_string(controls) +
              " control bytes in " + std::to_string(bytes.size()) + " bytes), not summarized";
    return r;
  }
  if (std::all_of(text.begin(), text.end(), [](char c) { return c == ' ' || (c >= '\t' && c <= '\r'); })) {
    r.error = bytes.empty() ? "empty file" : "empty file (only whitespace)";
    return r;
  }
  if (invalid > 0)
    r.warning = "invalid UTF-8 (" + std::to_string(invalid) + " sequence" + (invalid == 1 ? "" : "s") +
                ", first at byte " + std::to_string(first) + ") replaced with U+FFFD";
  r.text = std::move(text);
  return r;
}

std::string prepare_output_dir(const std::string& file) {
  const fs::path dir = fs::path(file).parent_path();
  if (dir.empty()) return "";
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return "cannot create output folder " + dir.string() + ": " + ec.message();
  if (!fs::is_directory(dir, ec)) return "output folder " + dir.string() + " is not a folder";
  if (::access(dir.c_str(), W_OK | X_OK) != 0) return "output folder " + dir.string() + " is not writable: " + errno_text(errno);
  return "";
}

size_t remove_stale_temp_files(const std::string& dir) {
  size_t removed = 0;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return 0;
  fs::recursive_directory_iterator it(dir, fs::directory_options::skip_permission_denied, ec), end;
  for (; !ec && it != end; it.increment(ec)) {
    std::error_code ec2;
    if (!it->is_regular_file(ec2)) continue;
    const long pid = temp_file_pid(it->path().filename().string());
    if (pid <= 0) continue;
    if (pid == static_cast<long>(::getpid())) continue;
    if (::kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM) continue;  // still running
    if (fs::remove(it->path(), ec2)) ++removed;
  }
  return removed;
}

std::string jsonl_record(const std::string& path, const std::string& summary, int chunks, int rounds) {
  nlohmann::json j;
  j["path"] = repair_utf8(path);
  j["summary"] = repair_utf8(summary);
  j["chunks"] = chunks;
  j["rounds"] = rounds;
  return j.dump() + "\n";
}

JsonlJournal::JsonlJournal(const std::string& path, bool fresh) : path_(path) {
  if (!fresh) {
    std::ifstream in(path, std::ios::binary);
    if (in) {
      std::string line;
      long long good = 0;
      bool tail_bad = false;
      while (std::getline(in, line)) {
        const bool complete = !in.eof();  // a line ended by '\n'
        try {
          if (!complete) throw std::runtime_error("no newline");
          const auto j = nlohmann::json::parse(line);
          const std::string p = j.at("path").get<std::string>();
          j.at("summary").get<std::string>();
          if (!records_.count(p)) journal_order_.push_back(p);
          records_[p] = line + "\n";
          good += static_cast<long long>(line.size()) + 1;
        } catch (const std::exception&) {
          tail_bad = true;
          ++dropped_;
          break;  // everything from a broken line on is dropped (only a killed append makes one)
        }
      }
      if (tail_bad) {
        while (std::getline(in, line)) ++dropped_;
        if (::truncate(path.c_str(), good) != 0)
          throw attend::Error(path + ": cannot truncate the broken tail of the journal: " + errno_text(errno));
      }
    }
  }
  fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | (fresh ? O_TRUNC : 0), 0644);
  if (fd_ < 0) throw attend::Error(path + ": cannot open the JSONL output: " + errno_text(errno));
  struct stat st {};
  if (::fstat(fd_, &st) == 0) size_ = st.st_size;
}

JsonlJournal::~JsonlJournal() {
  if (fd_ >= 0) ::close(fd_);
}

void JsonlJournal::append(const std::string& path, const std::string& summary, int chunks, int rounds) {
  const std::string line = jsonl_record(path, summary, chunks, rounds);
  size_t done = 0;
  int err = 0;
  while (done < line.size()) {
    const ssize_t w = ::write(fd_, line.data() + done, line.size() - done);
    if (w < 0) {
      if (errno == EINTR) continue;
      err = errno;
      break;
    }
    done += static_cast<size_t>(w);
  }
  if (err == 0 && ::fsync(fd_) != 0) err = errno;
  if (err != 0) {
    if (::ftruncate(fd_, size_) != 0) {
      // the next open drops the partial line
    }
    throw attend::Error(path_ + ": write failed: " + errno_text(err));
  }
  size_ += static_cast<long long>(line.size());
  if (!records_.count(path)) journal_order_.push_back(path);
  records_[path] = line;
}

void JsonlJournal::finalize(const std::vector<std::string>& order) {
  std::string content;
  std::map<std::string, bool> written;
  for (const auto& p : order) {
    auto it = records_.find(p);
    if (it == records_.end() || written[p]) continue;
    content += it->second;
    written[p] = true;
  }
  for (const auto& p : journal_order_) {
    if (written[p]) continue;
    content += records_.at(p);
    written[p] = true;
  }
  write_file_atomically(path_, content);
}

}  // namespace attend_cli
