// api/hub_id.cpp — hub model id parsing and validation, repository folder names, URL quoting.
#include "api/hub_id.hpp"

#include <cctype>

#include "attend/error.hpp"
#include "attend/hub.hpp"

namespace attend {
namespace hub {
namespace {

bool id_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
}

// One part of an id, as huggingface_hub's validate_repo_id accepts it.
bool valid_part(const std::string& p) {
  if (p.empty() || p.size() > 96) return false;
  for (char c : p) {
    if (!id_char(c)) return false;
  }
  if (p.front() == '-' || p.front() == '.' || p.back() == '-' || p.back() == '.') return false;
  return p.find("--") == std::string::npos && p.find("..") == std::string::npos;
}

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// A revision is used as a relative path below refs/ (huggingface_hub writes refs/<revision>), so
// it must be one: git ref names and commit hashes are.
bool valid_revision(const std::string& r) {
  if (r.empty() || r.size() > 255) return false;
  for (char c : r) {
    const unsigned char u = static_cast<unsigned char>(c);
    if (u < 0x21 || u == 0x7f || c == '\\' || c == '@' || c == '~' || c == '^' || c == ':' || c == '?' ||
        c == '*' || c == '[')
      return false;
  }
  return is_safe_repo_file(r);
}

}  // namespace

std::optional<HubId> parse_hub_id(const std::string& s) {
  HubId id;
  const size_t at = s.find('@');
  id.repo = s.substr(0, at);
  if (at != std::string::npos) {
    id.revision = s.substr(at + 1);
    if (!valid_revision(id.revision)) return std::nullopt;
  }
  const size_t slash = id.repo.find('/');
  if (slash == std::string::npos) {
    if (!valid_part(id.repo)) return std::nullopt;
  } else if (!valid_part(id.repo.substr(0, slash)) || !valid_part(id.repo.substr(slash + 1))) {
    return std::nullopt;  // also rejects a second '/', which is not an id character
  }
  if (ends_with(id.repo, ".attend")) return std::nullopt;
  return id;
}

std::string effective_revision(const HubId& id, const std::string& option) {
  if (!option.empty() && !valid_revision(option))
    throw Error("revision '" + option + "' is not a valid branch, tag or commit name");
  if (!id.revision.empty() && !option.empty() && id.revision != option)
    throw Error(id.repo + ": two revisions given ('" + id.revision + "' in the id, '" + option + "' as an option)");
  if (!id.revision.empty()) return id.revision;
  return option.empty() ? "main" : option;
}

bool is_commit_hash(const std::string& s) {
  if (s.size() != 40) return false;
  for (char c : s) {
    if (!std::isdigit(static_cast<unsigned char>(c)) && (c < 'a' || c > 'f')) return false;
  }
  return true;
}

bool is_sha256_hex(const std::string& s) {
  if (s.size() != 64) return false;
  for (char c : s) {
    if (!std::isxdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

bool is_safe_repo_file(const std::string& name) {
  if (name.empty() || name.front() == '/' || name.size() > 4096) return false;
  size_t start = 0;
  while (start <= name.size()) {
    size_t end = name.find('/', start);
    if (end == std::string::npos) end = name.size();
    const std::string part = name.substr(start, end - start);
    if (part.empty() || part == "." || part == "..") return false;
    start = end + 1;
  }
  for (char c : name) {
    if (c == '\0' || c == '\\') return false;
  }
  return true;
}

std::string repo_folder_name(const std::string& repo) {
  std::string out = "models";
  size_t start = 0;
  while (true) {
    const size_t slash = repo.find('/', start);
    out += "--" + repo.substr(start, slash == std::string::npos ? std::string::npos : slash - start);
    if (slash == std::string::npos) break;
    start = slash + 1;
  }
  return out;
}

std::string url_quote(const std::string& s, bool keep_slash) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' || (keep_slash && c == '/')) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

}  // namespace hub

bool is_hub_model_id(const std::string& s) { return hub::parse_hub_id(s).has_value(); }

}  // namespace attend
