// api/hub_cache.hpp — huggingface_hub's cache layout, read and written exactly as it does:
// <cache>/models--ORG--NAME/{blobs/<etag>, refs/<revision>, snapshots/<commit>/<file>} with
// relative symlinks from snapshots to blobs, <etag>.incomplete blobs while downloading, and lock
// files under <cache>/.locks/models--ORG--NAME/<etag>.lock (flock, as Python's filelock takes
// them). Also where the options and the environment put the cache, the endpoint and the token.
#pragma once
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "attend/hub.hpp"

namespace attend::hub {

// HubOptions with every default filled in from the environment (attend/hub.hpp).
struct HubSettings {
  std::string cache_dir;
  std::string endpoint;   // without a trailing '/'
  std::string token;      // "" = none
  bool offline = false;
  double etag_timeout_s = 10;      // metadata requests ($HF_HUB_ETAG_TIMEOUT)
  double download_timeout_s = 10;  // a download stalled this long fails ($HF_HUB_DOWNLOAD_TIMEOUT)
};
HubSettings resolve_settings(const HubOptions& options);

// One repository's folder in the cache.
class RepoCache {
 public:
  RepoCache(const std::string& cache_dir, const std::string& repo);

  const std::string& repo() const { return repo_; }
  const std::string& dir() const { return dir_; }           // <cache>/models--org--name
  std::string blob_path(const std::string& etag) const;     // blobs/<etag>
  std::string lock_path(const std::string& etag) const;     // <cache>/.locks/models--org--name/<etag>.lock
  std::string snapshot_dir(const std::string& commit) const;
  std::string snapshot_file(const std::string& commit, const std::string& file) const;

  // The commit a revision resolves to without the network: the revision itself when it is a
  // commit hash whose snapshot folder exists, else the hash stored in refs/<revision>.
  std::optional<std::string> cached_commit(const std::string& revision) const;
  // Writes refs/<revision> (atomically; not for a revision that is the commit itself).
  void write_ref(const std::string& revision, const std::string& commit) const;
  // snapshots/<commit>/<file> -> ../../blobs/<etag> (relative; replaced atomically).
  void link(const std::string& commit, const std::string& file, const std::string& etag) const;

  // A regular file (or a symlink to one) at snapshots/<commit>/<file>.
  bool has_file(const std::string& commit, const std::string& file) const;

 private:
  std::string cache_dir_, repo_, folder_, dir_;
};

// An exclusive flock on `path` (created with its directories), held until destruction.
// `on_wait` is called once when another process holds it and we start waiting.
class FileLock {
 public:
  FileLock(const std::string& path, const std::function<void()>& on_wait = nullptr);
  ~FileLock();
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;

 private:
  int fd_ = -1;
};

// `s` without leading and trailing whitespace (headers, refs and token files).
std::string trim_space(const std::string& s);

// mkdir -p; throws attend::Error naming the directory.
void make_dirs(const std::string& dir);
bool is_regular_file(const std::string& path);  // follows symlinks
// Writes `content` to `path` through a temporary file and rename; throws attend::Error.
void write_file_atomic(const std::string& path, const std::string& content);

}  // namespace attend::hub
