// api/hub_http.cpp — libcurl requests to the hub and its file hosts: JSON GETs, HEADs that keep
// redirects for the caller, and resumable downloads verified with OpenSSL's SHA-256.
#include "api/hub_http.hpp"

#include <curl/curl.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <mutex>
#include <thread>
#include <vector>

#include "attend/attend.hpp"

namespace attend::hub {
namespace {

void global_init() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// scheme://host:port of an absolute URL ("" when it does not parse).
std::string origin_of(const std::string& url) {
  CURLU* u = curl_url();
  if (!u) return "";
  std::string out;
  if (curl_url_set(u, CURLUPART_URL, url.c_str(), 0) == CURLUE_OK) {
    char *scheme = nullptr, *host = nullptr, *port = nullptr;
    if (curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) == CURLUE_OK) {
      out = lower(scheme) + "://" + lower(host) + ":" + port;
    }
    curl_free(scheme);
    curl_free(host);
    curl_free(port);
  }
  curl_url_cleanup(u);
  return out;
}

// Streaming SHA-256 (OpenSSL EVP).
class Sha256 {
 public:
  Sha256() : ctx_(EVP_MD_CTX_new()) {
    if (!ctx_) throw std::bad_alloc();
    reset();
  }
  ~Sha256() { EVP_MD_CTX_free(ctx_); }
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;
  void reset() {
    if (EVP_DigestInit_ex(ctx_, EVP_sha256(), nullptr) != 1) throw Error("SHA-256: OpenSSL initialisation failed");
  }
  void update(const void* data, size_t n) {
    if (EVP_DigestUpdate(ctx_, data, n) != 1) throw Error("SHA-256: OpenSSL update failed");
  }
  std::string hex() {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (EVP_DigestFinal_ex(ctx_, md, &len) != 1) throw Error("SHA-256: OpenSSL final failed");
    static const char* digits = "0123456789abcdef";
    std::string out;
    for (unsigned int i = 0; i < len; ++i) {
      out += digits[md[i] >> 4];
      out += digits[md[i] & 15];
    }
    return out;
  }

 private:
  EVP_MD_CTX* ctx_;
};

struct Headers {
  long status = 0;
  std::map<std::string, std::string> map;
};

size_t on_header(char* data, size_t size, size_t n, void* user) {
  auto* h = static_cast<Headers*>(user);
  const std::string line(data, size * n);
  if (line.rfind("HTTP/", 0) == 0) {  // a new response (after a redirect or 100 Continue)
    h->map.clear();
    const size_t sp = line.find(' ');
    h->status = sp == std::string::npos ? 0 : std::strtol(line.c_str() + sp + 1, nullptr, 10);
  } else if (const size_t colon = line.find(':'); colon != std::string::npos) {
    h->map[lower(trim_space(line.substr(0, colon)))] = trim_space(line.substr(colon + 1));
  }
  return size * n;
}

struct BodySink {
  std::string body;
  size_t max = 0;
  bool overflow = false;
};

size_t on_body(char* data, size_t size, size_t n, void* user) {
  auto* b = static_cast<BodySink*>(user);
  if (b->body.size() + size * n > b->max) {
    b->overflow = true;
    return 0;
  }
  b->body.append(data, size * n);
  return size * n;
}

bool transient(CURLcode rc) {
  return rc == CURLE_PARTIAL_FILE || rc == CURLE_RECV_ERROR || rc == CURLE_SEND_ERROR ||
         rc == CURLE_OPERATION_TIMEDOUT || rc == CURLE_GOT_NOTHING || rc == CURLE_HTTP2_STREAM;
}

}  // namespace

std::string HttpResponse::header(const std::string& name) const {
  auto it = headers.find(name);
  return it == headers.end() ? std::string() : it->second;
}

struct HttpClient::Impl {
  HubSettings settings;
  std::string endpoint_origin;
  CURL* curl = nullptr;
  char errbuf[CURL_ERROR_SIZE] = {0};

  // Common options of every request; the token only for the endpoint's own origin.
  curl_slist* prepare(const std::string& url, Headers& headers, const std::vector<std::string>& extra) {
    curl_easy_reset(curl);
    errbuf[0] = '\0';
    curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_USERAGENT, (std::string("attend/") + version() + "; " + curl_version()).c_str());
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(settings.etag_timeout_s * 1000));
    curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(curl, CURLOPT_HEADERDATA, &headers);
    // Only http(s), also after redirects; libcurl drops custom Authorization headers when a
    // redirect leaves the origin, and we only ever add the header for the endpoint's origin.
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(curl, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(curl, CURLOPT_UNRESTRICTED_AUTH, 0L);
    curl_slist* list = nullptr;
    for (const auto& h : extra) list = curl_slist_append(list, h.c_str());
    if (!settings.token.empty() && origin_of(url) == endpoint_origin)
      list = curl_slist_append(list, ("Authorization: Bearer " + settings.token).c_str());
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, list);
    return list;
  }

  [[noreturn]] void network_failure(CURLcode rc, const std::string& url) {
    std::string what = errbuf[0] ? std::string(errbuf) : curl_easy_strerror(rc);
    std::string origin = origin_of(url);
    throw NetworkError("cannot reach " + (origin.empty() ? url : origin) + ": " + what);
  }

  HttpResponse finish(CURLcode rc, const std::string& url, Headers& h, curl_slist* list, std::string body) {
    curl_slist_free_all(list);
    if (rc != CURLE_OK) network_failure(rc, url);
    HttpResponse r;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &r.status);
    char* eff = nullptr;
    curl_easy_getinfo(curl, CURLINFO_EFFECTIVE_URL, &eff);
    r.url = eff ? eff : url;
    r.headers = std::move(h.map);
    r.body = std::move(body);
    return r;
  }
};

HttpClient::HttpClient(const HubSettings& settings) : impl_(std::make_unique<Impl>()) {
  global_init();
  impl_->settings = settings;
  impl_->endpoint_origin = origin_of(settings.endpoint);
  if (impl_->endpoint_origin.empty()) throw Error("HF_ENDPOINT '" + settings.endpoint + "' is not a URL");
  impl_->curl = curl_easy_init();
  if (!impl_->curl) throw Error("libcurl: cannot create a handle");
}

HttpClient::~HttpClient() {
  if (impl_ && impl_->curl) curl_easy_cleanup(impl_->curl);
}

HttpResponse HttpClient::get(const std::string& url, size_t max_body) {
  Headers h;
  BodySink sink;
  sink.max = max_body;
  curl_slist* list = impl_->prepare(url, h, {"Accept: application/json"});
  CURL* c = impl_->curl;
  curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt(c, CURLOPT_MAXREDIRS, 10L);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &sink);
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(impl_->settings.etag_timeout_s * 1000 * 6));
  const CURLcode rc = curl_easy_perform(c);
  if (sink.overflow) {
    curl_slist_free_all(list);
    throw Error(url + ": response larger than " + std::to_string(max_body) + " bytes");
  }
  return impl_->finish(rc, url, h, list, std::move(sink.body));
}

HttpResponse HttpClient::head(const std::string& url) {
  Headers h;
  curl_slist* list = impl_->prepare(url, h, {"Accept-Encoding: identity"});
  CURL* c = impl_->curl;
  curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
  curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(impl_->settings.etag_timeout_s * 1000));
  const CURLcode rc = curl_easy_perform(c);
  return impl_->finish(rc, url, h, list, "");
}

std::string HttpClient::resolve(const std::string& base, const std::string& location) const {
  CURLU* u = curl_url();
  if (!u) throw std::bad_alloc();
  std::string out;
  char* full = nullptr;
  if (curl_url_set(u, CURLUPART_URL, base.c_str(), 0) == CURLUE_OK &&
      curl_url_set(u, CURLUPART_URL, location.c_str(), 0) == CURLUE_OK &&
      curl_url_get(u, CURLUPART_URL, &full, 0) == CURLUE_OK) {
    out = full;
  }
  curl_free(full);
  curl_url_cleanup(u);
  if (out.empty()) throw Error(base + ": the server redirected to an invalid URL '" + location + "'");
  return out;
}

namespace {

// One download attempt's state, shared with the write callback.
struct Transfer {
  CURL* curl = nullptr;
  int fd = -1;
  Sha256* sha = nullptr;
  uint64_t offset = 0;       // bytes in the file
  uint64_t fetched = 0;      // bytes received by this call (all attempts)
  bool started = false;      // the final response's first body byte arrived
  long status = 0;
  int write_errno = 0;
  std::string error_body;
  std::string bad_range;     // a 206 that does not start where we asked
  const Headers* headers = nullptr;
  const DownloadRequest* req = nullptr;
  uint64_t resumed = 0;
};

size_t on_file_data(char* data, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const size_t len = size * n;
  if (!t->started) {
    t->started = true;
    curl_easy_getinfo(t->curl, CURLINFO_RESPONSE_CODE, &t->status);
    if (t->status == 206) {
      // "bytes START-END/TOTAL" must start where the file ends
      auto it = t->headers->map.find("content-range");
      const std::string cr = it == t->headers->map.end() ? "" : it->second;
      const size_t sp = cr.find(' ');
      const uint64_t start = sp == std::string::npos ? UINT64_MAX : std::strtoull(cr.c_str() + sp + 1, nullptr, 10);
      if (start != t->offset) {
        t->bad_range = cr.empty() ? "(none)" : cr;
        return 0;
      }
    } else if (t->status == 200 && t->offset > 0) {
      // the server ignored the Range: start the file again
      if (::ftruncate(t->fd, 0) != 0) {
        t->write_errno = errno;
        return 0;
      }
      t->offset = 0;
      t->resumed = 0;
      t->sha->reset();
    }
  }
  if (t->status != 200 && t->status != 206) {
    if (t->error_body.size() < 65536) t->error_body.append(data, std::min<size_t>(len, 65536));
    return len;
  }
  size_t done = 0;
  while (done < len) {
    const ssize_t w = ::write(t->fd, data + done, len - done);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) {
      t->write_errno = w < 0 ? errno : EIO;
      return 0;
    }
    done += static_cast<size_t>(w);
  }
  t->sha->update(data, len);
  t->offset += len;
  t->fetched += len;
  if (t->req->on_bytes) t->req->on_bytes(t->offset, t->resumed);
  return len;
}

std::string human_errno(int e) {
  std::string s = std::strerror(e);
  if (e == ENOSPC || e == EDQUOT) s += " (disk full)";
  return s;
}

}  // namespace

uint64_t HttpClient::download(const DownloadRequest& r) {
  const int fd = ::open(r.path.c_str(), O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) throw Error(r.path + ": cannot create: " + human_errno(errno));
  struct FdCloser {
    int fd;
    ~FdCloser() { ::close(fd); }
  } closer{fd};
  struct stat st {};
  if (::fstat(fd, &st) != 0) throw Error(r.path + ": cannot stat: " + human_errno(errno));
  Sha256 sha;
  Transfer t;
  t.curl = impl_->curl;
  t.fd = fd;
  t.sha = &sha;
  t.req = &r;
  t.offset = static_cast<uint64_t>(st.st_size);
  if (S_ISREG(st.st_mode) && r.size > 0 && t.offset > r.size) {
    if (::ftruncate(fd, 0) != 0) throw Error(r.path + ": cannot truncate: " + human_errno(errno));
    t.offset = 0;
  }
  if (!S_ISREG(st.st_mode)) t.offset = 0;  // e.g. a device: nothing to resume
  if (t.offset > 0) {  // hash what an earlier run left
    const int in = ::open(r.path.c_str(), O_RDONLY | O_CLOEXEC);
    if (in < 0) throw Error(r.path + ": cannot read: " + human_errno(errno));
    std::vector<char> buf(1 << 20);
    uint64_t left = t.offset;
    while (left > 0) {
      const ssize_t n = ::read(in, buf.data(), static_cast<size_t>(std::min<uint64_t>(left, buf.size())));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        ::close(in);
        throw Error(r.path + ": cannot read the partial download");
      }
      sha.update(buf.data(), static_cast<size_t>(n));
      left -= static_cast<uint64_t>(n);
    }
    ::close(in);
  }
  t.resumed = t.offset;

  const int max_retries = 5;
  for (int attempt = 0;; ++attempt) {
    if (r.size > 0 && t.offset == r.size) break;  // complete (an earlier run fetched everything)
    Headers h;
    t.headers = &h;
    t.started = false;
    t.status = 0;
    t.error_body.clear();
    curl_slist* list = impl_->prepare(r.url, h, {});
    CURL* c = impl_->curl;
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(c, CURLOPT_MAXREDIRS, 10L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_file_data);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &t);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, std::max(1L, static_cast<long>(impl_->settings.download_timeout_s)));
    const std::string range = std::to_string(t.offset) + "-";
    if (t.offset > 0) curl_easy_setopt(c, CURLOPT_RANGE, range.c_str());
    const CURLcode rc = curl_easy_perform(c);
    curl_slist_free_all(list);
    if (t.write_errno) throw Error(r.path + ": cannot write: " + human_errno(t.write_errno));
    if (!t.bad_range.empty())
      throw Error(r.url + ": asked for bytes from " + std::to_string(t.offset) + ", the server sent Content-Range " + t.bad_range);
    long status = t.status;
    if (!t.started) curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    if (rc == CURLE_OK || status >= 300) {
      if (status == 416 && r.size > 0 && t.offset >= r.size) break;
      if (status != 200 && status != 206) {
        HttpResponse resp;
        resp.status = status;
        resp.headers = h.map;
        resp.body = t.error_body;
        resp.url = r.url;
        throw HttpStatusError(r.url + ": HTTP " + std::to_string(status), std::move(resp));
      }
      if (r.size == 0 || t.offset == r.size) break;
      if (t.offset > r.size)
        throw Error(r.url + ": received " + std::to_string(t.offset) + " bytes, the hub announced " + std::to_string(r.size));
      // a clean end short of the size: a cut connection the server closed politely
    } else if (!transient(rc)) {
      try {
        impl_->network_failure(rc, r.url);
      } catch (const NetworkError& e) {
        throw NetworkError(std::string(e.what()) + " (downloading " + r.path + ")");
      }
    }
    if (attempt >= max_retries)
      throw NetworkError("download of " + r.url + " failed after " + std::to_string(max_retries + 1) + " attempts (" +
                         std::to_string(t.offset) + " of " + std::to_string(r.size) + " bytes): " +
                         (impl_->errbuf[0] ? impl_->errbuf : curl_easy_strerror(rc)));
    if (r.on_note)
      r.on_note("connection lost after " + std::to_string(t.offset) + " bytes, resuming (attempt " +
                std::to_string(attempt + 2) + ")");
    std::this_thread::sleep_for(std::chrono::milliseconds(200 * (attempt + 1)));
  }
  if (::fsync(fd) != 0) throw Error(r.path + ": cannot write: " + human_errno(errno));
  if (!r.sha256.empty()) {
    const std::string got = sha.hex();
    if (lower(r.sha256) != got) {
      ::unlink(r.path.c_str());
      throw ChecksumError("SHA-256 mismatch: the hub announced " + lower(r.sha256) + ", the downloaded " +
                          std::to_string(t.offset) + " bytes have " + got + " (the partial file was removed)");
    }
  }
  return t.fetched;
}

}  // namespace attend::hub
