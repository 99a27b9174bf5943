// tests/hub/mock_hub.hpp — a Hugging Face hub on loopback for the hub tests (cpp-httplib): the
// revision API, /resolve/ with the hub's headers (X-Repo-Commit, ETag, X-Linked-Etag with the
// real SHA-256, X-Linked-Size), LFS files redirected (302) to a second server on another port
// (the "CDN"), private repositories that want a token, and knobs to cut a connection, corrupt an
// announced checksum or slow transfers down. Counts requests and bytes served.
#pragma once
#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace attend_test {

std::string sha256_hex(const std::string& bytes);
// git's blob id (what the hub's ETag is for files kept in git): sha1("blob <size>\0" + bytes).
std::string git_blob_sha1(const std::string& bytes);

struct MockFile {
  std::string name;     // path in the repository
  std::string content;
  bool lfs = false;     // served through a 302 to the CDN, with X-Linked-Etag/X-Linked-Size
};

struct MockRepo {
  std::string id;                 // "org/name"
  std::string commit;             // 40 hex digits
  std::vector<MockFile> files;
  std::vector<std::string> revisions = {"main"};  // names that resolve to `commit`
  std::string token;              // non-empty: private, requests need "Bearer <token>"
  std::string wrong_checksum;     // this LFS file announces a SHA-256 that is not its own
};

// Every file of a fixture checkpoint directory (config.json, weights, tokenizer files, ...);
// files over 100 kB are LFS files, as the hub's .gitattributes makes them.
MockRepo repo_from_dir(const std::string& id, const std::string& commit, const std::string& dir);

class MockHub {
 public:
  MockHub();   // both servers listening on 127.0.0.1 (ephemeral ports)
  ~MockHub();  // stopped and joined
  MockHub(const MockHub&) = delete;
  MockHub& operator=(const MockHub&) = delete;

  void add(const MockRepo& repo);
  std::string endpoint() const;  // http://127.0.0.1:<hub port>

  // Knobs (apply to CDN transfers).
  std::atomic<long long> cut_after{-1};     // the next transfer of a longer object is cut after this many bytes (once)
  std::atomic<int> throttle_ms{0};          // sleep per 64 kB chunk

  // Counters.
  int requests() const { return requests_.load(); }  // both servers, every method
  uint64_t cdn_bytes(const std::string& sha256) const;  // body bytes sent for this LFS object
  std::vector<std::string> cdn_ranges() const;          // Range headers the CDN received ("" = none)
  std::vector<std::string> cdn_authorization() const;   // Authorization headers the CDN received
  std::vector<std::string> hub_authorization() const;   // ... and the hub

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::atomic<int> requests_{0};
};

}  // namespace attend_test
