// tests/hub/mock_hub.cpp — the loopback hub and CDN of the hub tests (see mock_hub.hpp).
#include "tests/hub/mock_hub.hpp"

#include <httplib.h>
#include <openssl/evp.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <thread>

#include <nlohmann/json.hpp>

namespace attend_test {
namespace {

std::string digest_hex(const EVP_MD* md, const std::string& bytes) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(bytes.data(), bytes.size(), out, &len, md, nullptr) != 1) throw std::runtime_error("EVP_Digest failed");
  static const char* hex = "0123456789abcdef";
  std::string s;
  for (unsigned int i = 0; i < len; ++i) s += {hex[out[i] >> 4], hex[out[i] & 15]};
  return s;
}

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

}  // namespace

std::string sha256_hex(const std::string& bytes) { return digest_hex(EVP_sha256(), bytes); }

std::string git_blob_sha1(const std::string& bytes) {
  return digest_hex(EVP_sha1(), "blob " + std::to_string(bytes.size()) + std::string(1, '\0') + bytes);
}

MockRepo repo_from_dir(const std::string& id, const std::string& commit, const std::string& dir) {
  MockRepo r;
  r.id = id;
  r.commit = commit;
  std::vector<std::string> names;
  for (const auto& e : std::filesystem::directory_iterator(dir))
    if (e.is_regular_file()) names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  for (const auto& n : names) {
    MockFile f;
    f.name = n;
    f.content = slurp(dir + "/" + n);
    f.lfs = f.content.size() > 100000;
    r.files.push_back(std::move(f));
  }
  return r;
}

struct MockHub::Impl {
  httplib::Server hub, cdn;
  std::thread hub_thread, cdn_thread;
  int hub_port = 0, cdn_port = 0;
  mutable std::mutex mu;
  std::map<std::string, MockRepo> repos;
  std::map<std::string, std::string> lfs;  // sha256 -> content
  std::map<std::string, uint64_t> served;  // sha256 -> bytes sent
  std::vector<std::string> ranges, cdn_auth, hub_auth;

  // The repo a request may see: nullptr after answering 401/404 itself.
  const MockRepo* authorize(const std::string& id, const httplib::Request& req, httplib::Response& res) {
    std::lock_guard<std::mutex> lock(mu);
    hub_auth.push_back(req.get_header_value("Authorization"));
    auto it = repos.find(id);
    if (it == repos.end()) {
      // The real hub answers 401 for a missing repository when no token is sent.
      res.status = req.has_header("Authorization") ? 404 : 401;
      res.set_header("X-Error-Code", "RepoNotFound");
      res.set_content("{\"error\":\"Repository Not Found\"}", "application/json");
      return nullptr;
    }
    if (!it->second.token.empty() && req.get_header_value("Authorization") != "Bearer " + it->second.token) {
      res.status = 401;
      res.set_header("X-Error-Code", "RepoNotFound");
      res.set_header("X-Error-Message", "Invalid username or password.");
      res.set_content("{\"error\":\"Invalid username or password.\"}", "application/json");
      return nullptr;
    }
    return &it->second;
  }

  static bool resolves(const MockRepo& r, const std::string& rev) {
    return rev == r.commit || std::find(r.revisions.begin(), r.revisions.end(), rev) != r.revisions.end();
  }
};

MockHub::MockHub() : impl_(std::make_unique<Impl>()) {
  Impl& m = *impl_;
  auto count = [this](const httplib::Request&, httplib::Response&) {
    ++requests_;
    return httplib::Server::HandlerResponse::Unhandled;
  };
  m.hub.set_pre_routing_handler(count);
  m.cdn.set_pre_routing_handler(count);

  m.hub.Get(R"(/api/models/([^/]+(?:/[^/]+)?)/revision/(.+))", [&m](const httplib::Request& req, httplib::Response& res) {
    const MockRepo* r = m.authorize(req.matches[1], req, res);
    if (!r) return;
    if (!Impl::resolves(*r, req.matches[2])) {
      res.status = 404;
      res.set_header("X-Error-Code", "RevisionNotFound");
      res.set_content("{\"error\":\"Invalid rev id\"}", "application/json");
      return;
    }
    nlohmann::json j = {{"id", r->id}, {"sha", r->commit}, {"siblings", nlohmann::json::array()}};
    for (const auto& f : r->files) j["siblings"].push_back({{"rfilename", f.name}});
    res.set_content(j.dump(), "application/json");
  });

  // HEAD and GET (httplib routes HEAD to the GET handlers and sends no body).
  m.hub.Get(R"(/(.+?)/resolve/([^/]+)/(.+))", [&m](const httplib::Request& req, httplib::Response& res) {
    const MockRepo* r = m.authorize(req.matches[1], req, res);
    if (!r) return;
    if (!Impl::resolves(*r, req.matches[2])) {
      res.status = 404;
      res.set_header("X-Error-Code", "RevisionNotFound");
      return;
    }
    const std::string name = req.matches[3];
    auto f = std::find_if(r->files.begin(), r->files.end(), [&](const MockFile& x) { return x.name == name; });
    if (f == r->files.end()) {
      res.status = 404;
      res.set_header("X-Error-Code", "EntryNotFound");
      return;
    }
    res.set_header("X-Repo-Commit", r->commit);
    if (f->lfs) {
      std::string sha = sha256_hex(f->content);
      if (r->wrong_checksum == f->name) sha[0] = sha[0] == '0' ? '1' : '0';
      res.set_header("ETag", "\"" + sha + "\"");
      res.set_header("X-Linked-Etag", "\"" + sha + "\"");
      res.set_header("X-Linked-Size", std::to_string(f->content.size()));
      res.set_redirect("http://127.0.0.1:" + std::to_string(m.cdn_port) + "/lfs/" + sha256_hex(f->content) + "?sig=x", 302);
    } else {
      res.set_header("ETag", "\"" + git_blob_sha1(f->content) + "\"");
      res.set_content(f->content, "application/octet-stream");
    }
  });

  m.cdn.Get(R"(/lfs/([0-9a-f]{64}))", [this, &m](const httplib::Request& req, httplib::Response& res) {
    std::string content;
    {
      std::lock_guard<std::mutex> lock(m.mu);
      m.ranges.push_back(req.get_header_value("Range"));
      m.cdn_auth.push_back(req.get_header_value("Authorization"));
      auto it = m.lfs.find(req.matches[1]);
      if (it == m.lfs.end()) {
        res.status = 404;
        return;
      }
      content = it->second;
    }
    const std::string sha = req.matches[1];
    auto data = std::make_shared<std::string>(std::move(content));
    long long cut = cut_after.load();  // taken by the first transfer longer than the cut
    if (cut < 0 || static_cast<long long>(data->size()) <= cut || !cut_after.compare_exchange_strong(cut, -1)) cut = -1;
    auto sent = std::make_shared<long long>(0);
    // httplib applies a Range header itself: the provider is asked for [offset, offset + length).
    res.set_content_provider(data->size(), "application/octet-stream",
                             [this, &m, data, cut, sent, sha](size_t offset, size_t length, httplib::DataSink& sink) {
                               size_t n = std::min<size_t>(length, 65536);
                               if (cut >= 0) {
                                 if (*sent >= cut) return false;  // close the connection mid-file
                                 n = std::min<size_t>(n, static_cast<size_t>(cut - *sent));
                               }
                               if (const int t = throttle_ms.load(); t > 0) std::this_thread::sleep_for(std::chrono::milliseconds(t));
                               if (!sink.write(data->data() + offset, n)) return false;
                               *sent += static_cast<long long>(n);
                               std::lock_guard<std::mutex> lock(m.mu);
                               m.served[sha] += n;
                               return true;
                             });
  });

  m.hub_port = m.hub.bind_to_any_port("127.0.0.1");
  m.cdn_port = m.cdn.bind_to_any_port("127.0.0.1");
  if (m.hub_port <= 0 || m.cdn_port <= 0) throw std::runtime_error("mock hub: cannot listen on 127.0.0.1");
  m.hub_thread = std::thread([&m] { m.hub.listen_after_bind(); });
  m.cdn_thread = std::thread([&m] { m.cdn.listen_after_bind(); });
  // stop() does nothing to a server whose listen loop has not started yet: wait for both.
  while (!m.hub.is_running() || !m.cdn.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
}

MockHub::~MockHub() {
  impl_->hub.stop();
  impl_->cdn.stop();
  impl_->hub_thread.join();
  impl_->cdn_thread.join();
}

void MockHub::add(const MockRepo& repo) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  impl_->repos[repo.id] = repo;
  for (const auto& f : repo.files)
    if (f.lfs) impl_->lfs[sha256_hex(f.content)] = f.content;
}

std::string MockHub::endpoint() const { return "http://127.0.0.1:" + std::to_string(impl_->hub_port); }

uint64_t MockHub::cdn_bytes(const std::string& sha256) const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  auto it = impl_->served.find(sha256);
  return it == impl_->served.end() ? 0 : it->second;
}

std::vector<std::string> MockHub::cdn_ranges() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->ranges;
}

std::vector<std::string> MockHub::cdn_authorization() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->cdn_auth;
}

std::vector<std::string> MockHub::hub_authorization() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->hub_auth;
}

}  // namespace attend_test
