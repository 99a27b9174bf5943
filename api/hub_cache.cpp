// api/hub_cache.cpp — huggingface_hub's cache layout (refs, blobs, snapshot symlinks, locks) and
// the environment variables that configure the hub client.
#include "api/hub_cache.hpp"

#include <fcntl.h>
#include <pwd.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "api/hub_id.hpp"
#include "attend/error.hpp"

namespace attend::hub {
namespace {

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v ? std::string(v) : std::string();
}

std::string home_dir() {
  std::string h = env("HOME");
  if (!h.empty()) return h;
  if (const passwd* pw = ::getpwuid(::getuid()); pw && pw->pw_dir) return pw->pw_dir;
  return "/";
}

// os.path.expanduser for "~" and "~/...".
std::string expand_user(const std::string& p) {
  if (p == "~") return home_dir();
  if (p.rfind("~/", 0) == 0) return home_dir() + p.substr(1);
  return p;
}

std::string join(const std::string& a, const std::string& b) {
  if (a.empty() || a.back() == '/') return a + b;
  return a + "/" + b;
}

bool truthy(std::string v) {
  for (char& c : v) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return v == "1" || v == "ON" || v == "YES" || v == "TRUE";
}

double env_seconds(const char* name, double fallback) {
  const std::string v = env(name);
  if (v.empty()) return fallback;
  char* end = nullptr;
  const double d = std::strtod(v.c_str(), &end);
  if (end == v.c_str() || *end != '\0' || !(d > 0)) throw Error(std::string("$") + name + ": not a number of seconds: '" + v + "'");
  return d;
}

std::optional<std::string> read_small_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

HubSettings resolve_settings(const HubOptions& o) {
  HubSettings s;
  std::string hf_home = env("HF_HOME");
  if (hf_home.empty()) {
    const std::string xdg = env("XDG_CACHE_HOME");
    hf_home = join(xdg.empty() ? join(home_dir(), ".cache") : xdg, "huggingface");
  }
  hf_home = expand_user(hf_home);
  s.cache_dir = o.cache_dir;
  if (s.cache_dir.empty()) s.cache_dir = env("HF_HUB_CACHE");
  if (s.cache_dir.empty()) s.cache_dir = env("HUGGINGFACE_HUB_CACHE");  // older huggingface_hub name
  if (s.cache_dir.empty()) s.cache_dir = join(hf_home, "hub");
  s.cache_dir = expand_user(s.cache_dir);

  s.endpoint = o.endpoint.empty() ? env("HF_ENDPOINT") : o.endpoint;
  if (s.endpoint.empty()) s.endpoint = "https://huggingface.co";
  while (!s.endpoint.empty() && s.endpoint.back() == '/') s.endpoint.pop_back();

  s.token = o.token;
  if (s.token.empty()) s.token = env("HF_TOKEN");
  if (s.token.empty()) s.token = env("HUGGING_FACE_HUB_TOKEN");  // older huggingface_hub name
  if (s.token.empty()) {
    std::string path = env("HF_TOKEN_PATH");
    path = path.empty() ? join(hf_home, "token") : expand_user(path);
    if (auto t = read_small_file(path)) s.token = trim_space(*t);
  }
  s.offline = o.offline ? *o.offline : truthy(env("HF_HUB_OFFLINE"));
  s.etag_timeout_s = env_seconds("HF_HUB_ETAG_TIMEOUT", 10);
  s.download_timeout_s = env_seconds("HF_HUB_DOWNLOAD_TIMEOUT", 10);
  return s;
}

RepoCache::RepoCache(const std::string& cache_dir, const std::string& repo)
    : cache_dir_(cache_dir), repo_(repo), folder_(repo_folder_name(repo)), dir_(join(cache_dir, folder_)) {}

std::string RepoCache::blob_path(const std::string& etag) const { return dir_ + "/blobs/" + etag; }

std::string RepoCache::lock_path(const std::string& etag) const {
  return join(cache_dir_, ".locks/" + folder_ + "/" + etag + ".lock");
}

std::string RepoCache::snapshot_dir(const std::string& commit) const { return dir_ + "/snapshots/" + commit; }

std::string RepoCache::snapshot_file(const std::string& commit, const std::string& file) const {
  return snapshot_dir(commit) + "/" + file;
}

std::optional<std::string> RepoCache::cached_commit(const std::string& revision) const {
  struct stat st {};
  if (is_commit_hash(revision) && ::stat(snapshot_dir(revision).c_str(), &st) == 0 && S_ISDIR(st.st_mode))
    return revision;
  auto text = read_small_file(dir_ + "/refs/" + revision);
  if (!text) return std::nullopt;
  const std::string commit = trim_space(*text);
  if (!is_commit_hash(commit)) return std::nullopt;
  return commit;
}

void RepoCache::write_ref(const std::string& revision, const std::string& commit) const {
  if (revision == commit) return;
  const std::string path = dir_ + "/refs/" + revision;
  make_dirs(std::filesystem::path(path).parent_path().string());
  write_file_atomic(path, commit);
}

void RepoCache::link(const std::string& commit, const std::string& file, const std::string& etag) const {
  const std::string path = snapshot_file(commit, file);
  make_dirs(std::filesystem::path(path).parent_path().string());
  std::string target;
  for (size_t i = 0, up = 2 + static_cast<size_t>(std::count(file.begin(), file.end(), '/')); i < up; ++i) target += "../";
  target += "blobs/" + etag;
  std::ostringstream tmp;
  tmp << path << ".tmp." << ::getpid() << "." << std::this_thread::get_id();
  ::unlink(tmp.str().c_str());
  if (::symlink(target.c_str(), tmp.str().c_str()) != 0)
    throw Error(path + ": cannot create the snapshot symlink: " + std::strerror(errno));
  if (::rename(tmp.str().c_str(), path.c_str()) != 0) {
    const int e = errno;
    ::unlink(tmp.str().c_str());
    throw Error(path + ": cannot create the snapshot symlink: " + std::strerror(e));
  }
}

bool RepoCache::has_file(const std::string& commit, const std::string& file) const {
  return is_regular_file(snapshot_file(commit, file));
}

FileLock::FileLock(const std::string& path, const std::function<void()>& on_wait) {
  make_dirs(std::filesystem::path(path).parent_path().string());
  fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd_ < 0) throw Error(path + ": cannot open the lock file: " + std::strerror(errno));
  if (::flock(fd_, LOCK_EX | LOCK_NB) == 0) return;
  if (errno == EWOULDBLOCK && on_wait) on_wait();
  while (::flock(fd_, LOCK_EX) != 0) {
    if (errno == EINTR) continue;
    const int e = errno;
    ::close(fd_);
    throw Error(path + ": cannot lock: " + std::strerror(e));
  }
}

FileLock::~FileLock() {
  if (fd_ >= 0) ::close(fd_);  // closing releases the flock
}

std::string trim_space(const std::string& s) {
  size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  return s.substr(b, e - b);
}

void make_dirs(const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) throw Error(dir + ": cannot create the directory: " + ec.message());
}

bool is_regular_file(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

void write_file_atomic(const std::string& path, const std::string& content) {
  std::ostringstream tmp_name;
  tmp_name << path << ".tmp." << ::getpid() << "." << std::this_thread::get_id();
  const std::string tmp = tmp_name.str();
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) throw Error(path + ": cannot write: " + std::strerror(errno));
  size_t done = 0;
  while (done < content.size()) {
    const ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const int e = errno;
      ::close(fd);
      ::unlink(tmp.c_str());
      throw Error(path + ": cannot write: " + std::strerror(e));
    }
    done += static_cast<size_t>(n);
  }
  if (::close(fd) != 0 || ::rename(tmp.c_str(), path.c_str()) != 0) {
    const int e = errno;
    ::unlink(tmp.c_str());
    throw Error(path + ": cannot write: " + std::strerror(e));
  }
}

}  // namespace attend::hub
