// api/hub_http.hpp — the hub's HTTP, through libcurl: metadata requests (GET JSON, HEAD without
// following redirects) and resumable, verified file downloads (Range from an .incomplete file,
// SHA-256 through OpenSSL's libcrypto). The token goes to the endpoint's own origin only, never
// to a redirect target elsewhere.
#pragma once
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "api/hub_cache.hpp"
#include "attend/error.hpp"

namespace attend::hub {

struct HttpResponse {
  long status = 0;
  std::map<std::string, std::string> headers;  // of the final response; names in lowercase
  std::string body;
  std::string url;                             // the final URL (after redirects)
  std::string header(const std::string& lowercase_name) const;
};

// The server answered with an error status (>= 400, or a redirect we do not follow).
class HttpStatusError : public Error {
 public:
  HttpStatusError(const std::string& message, HttpResponse response)
      : Error(message), response_(std::move(response)) {}
  const HttpResponse& response() const { return response_; }

 private:
  HttpResponse response_;
};

// No answer: name resolution, connection, TLS, timeout. The message names the origin.
class NetworkError : public Error {
 public:
  using Error::Error;
};

// A downloaded file's SHA-256 is not the one the hub announced (the file was removed).
class ChecksumError : public Error {
 public:
  using Error::Error;
};

struct DownloadRequest {
  std::string url;
  std::string path;             // the .incomplete file: appended to, resumed from its size
  uint64_t size = 0;            // expected size (0 = unknown)
  std::string sha256;           // expected SHA-256 in hex ("" = not checked)
  // Called as bytes arrive: the file's size so far, the bytes it had when the call started.
  std::function<void(uint64_t done, uint64_t resumed)> on_bytes;
  std::function<void(const std::string& note)> on_note;  // "connection lost at ..., resuming"
};

class HttpClient {
 public:
  explicit HttpClient(const HubSettings& settings);
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // GET following redirects; the body must not exceed max_body bytes. Throws NetworkError;
  // any status is returned.
  HttpResponse get(const std::string& url, size_t max_body);
  // HEAD without following redirects ("Accept-Encoding: identity", as huggingface_hub).
  HttpResponse head(const std::string& url);
  // `location` (absolute or relative to `base`) as an absolute URL.
  std::string resolve(const std::string& base, const std::string& location) const;
  // Downloads into request.path, continuing from its current size with a Range request, and
  // again after a dropped connection (up to 5 times). Checks the size and SHA-256: on a
  // mismatch the file is deleted and ChecksumError thrown. Returns the bytes fetched by this
  // call. Throws HttpStatusError, NetworkError, or attend::Error naming the file on a write
  // failure (full disk).
  uint64_t download(const DownloadRequest& request);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace attend::hub
