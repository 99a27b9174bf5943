// api/hub.cpp — hub models by id: download_model (the hub's protocol into huggingface_hub's
// cache: revision info, per-file HEAD metadata, resumable verified downloads, snapshot
// symlinks), the no-network path through the cache, and the convert-once `.attend` cache.
#include "api/hub.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <memory>

#include <nlohmann/json.hpp>

#include "api/hub_cache.hpp"
#include "api/hub_http.hpp"
#include "api/hub_id.hpp"
#include "api/hub_progress.hpp"
#include "attend/attend.hpp"
#include "engine/mapped_file.hpp"
#include "engine/model_file.hpp"
#include "models/converter.hpp"
#include "models/family.hpp"
#include "tokenizer/tokenizer.hpp"

namespace attend {
namespace hub {
namespace {

const char* const kSafetensors = "model.safetensors";
const char* const kSafetensorsIndex = "model.safetensors.index.json";
const char* const kBin = "pytorch_model.bin";
const char* const kBinIndex = "pytorch_model.bin.index.json";

// Tokenizer files any family may use (detect_tokenizer_kind looks at these names).
const char* const kTokenizerNames[] = {"source.spm", "target.spm", "vocab.json", "target_vocab.json",
                                       "merges.txt", "spiece.model", "sentencepiece.bpe.model",
                                       "tokenizer_config.json", "special_tokens_map.json"};

struct Session {
  HubId id;
  std::string revision;
  HubSettings settings;
  RepoCache cache;
  StderrProgress printer;
  std::function<void(const DownloadProgress&)> on_progress;

  Session(const HubId& id_, const HubOptions& o)
      : id(id_),
        revision(effective_revision(id_, o.revision)),
        settings(resolve_settings(o)),
        cache(settings.cache_dir, id_.repo),
        printer(o.quiet),
        on_progress(o.on_progress) {}

  std::string label() const {
    return "model '" + id.repo + "'" + (revision == "main" ? "" : " (revision " + revision + ")");
  }
  void progress(const DownloadProgress& p) {
    if (on_progress) on_progress(p);
    else printer.update(p);
  }
  void note(const std::string& s) { printer.note(s); }
};

bool has_name(const std::vector<std::string>& names, const std::string& n) {
  return std::find(names.begin(), names.end(), n) != names.end();
}

std::string model_type_of(const std::string& config_path) {
  try {
    const auto j = nlohmann::json::parse(read_text_file(config_path));
    if (j.is_object() && j.contains("model_type") && j["model_type"].is_string()) return j["model_type"].get<std::string>();
  } catch (const nlohmann::json::exception&) {
  }
  return "";
}

// The supported model_type values, for messages.
std::string supported_types() {
  std::string known;
  for (const Family* f : all_families()) {
    for (const auto& t : f->model_types) known += (known.empty() ? "" : ", ") + t;
  }
  return known;
}

// The weights file Attend reads from a repository holding `names`: model.safetensors, its
// index, pytorch_model.bin, its index ("" when none).
std::string choose_weights(const std::vector<std::string>& names) {
  for (const char* n : {kSafetensors, kSafetensorsIndex, kBin, kBinIndex}) {
    if (has_name(names, n)) return n;
  }
  return "";
}

bool is_index(const std::string& weights) { return weights == kSafetensorsIndex || weights == kBinIndex; }

// The tokenizer files of the family's tokenizer kind among `names` (none when the repository has
// no tokenizer Attend reads).
std::vector<std::string> tokenizer_files(const std::string& model_type, const std::vector<std::string>& names) {
  std::vector<std::string> out;
  const std::string kind = detect_tokenizer_kind(model_type, names);
  if (kind.empty()) return out;
  for (const auto& f : tokenizer_file_names(kind)) {
    if (has_name(names, f)) out.push_back(f);
  }
  return out;
}

// What a cached snapshot holds of the files Attend needs; nullopt when it lacks config.json or
// the weights (or, with need_tokenizer, a tokenizer Attend can read).
std::optional<std::vector<std::string>> snapshot_files(const RepoCache& cache, const std::string& commit,
                                                       bool need_tokenizer) {
  if (!cache.has_file(commit, "config.json")) return std::nullopt;
  std::vector<std::string> present;
  for (const char* n : {kSafetensors, kSafetensorsIndex, kBin, kBinIndex}) {
    if (cache.has_file(commit, n)) present.push_back(n);
  }
  for (const char* n : kTokenizerNames) {
    if (cache.has_file(commit, n)) present.push_back(n);
  }
  std::vector<std::string> files = {"config.json"};
  if (cache.has_file(commit, "generation_config.json")) files.push_back("generation_config.json");
  const std::string model_type = model_type_of(cache.snapshot_file(commit, "config.json"));
  const std::vector<std::string> tok = tokenizer_files(model_type, present);
  if (tok.empty() && need_tokenizer) return std::nullopt;
  files.insert(files.end(), tok.begin(), tok.end());
  const std::string weights = choose_weights(present);
  if (weights.empty()) return std::nullopt;
  files.push_back(weights);
  if (is_index(weights)) {
    try {
      const std::string index = cache.snapshot_file(commit, weights);
      for (const auto& shard : weight_shards(read_text_file(index), index)) {
        if (!is_safe_repo_file(shard) || !cache.has_file(commit, shard)) return std::nullopt;
        files.push_back(shard);
      }
    } catch (const Error&) {
      return std::nullopt;
    }
  }
  return files;
}

// An HTTP error status as a message naming the model and the file.
[[noreturn]] void throw_status(const Session& s, const std::string& what, const HttpResponse& r) {
  const std::string code = r.header("x-error-code");
  std::string msg = s.label() + ", " + what + ": ";
  const std::string at = " (HTTP " + std::to_string(r.status) + " from " + r.url + ")";
  if (r.status == 401 || r.status == 403) {
    if (code == "GatedRepo") {
      msg += "the model is gated: accept its conditions on its hub page, and set HF_TOKEN (or --token) to a token of that account";
    } else if (s.settings.token.empty()) {
      msg += "access denied: the model is private or gated, or does not exist; set HF_TOKEN (or --token) to a token that can read it";
    } else {
      msg += "access denied: the token was refused, or it cannot read this model (private, gated, or no such model)";
    }
  } else if (r.status == 404) {
    if (code == "RevisionNotFound") msg += "no revision '" + s.revision + "'";
    else if (code == "EntryNotFound") msg += "no such file in the model";
    else if (code == "RepoNotFound") msg += "no such model";
    else msg += "not found (no such model, revision or file)";
  } else {
    msg += "the server answered HTTP " + std::to_string(r.status);
  }
  const std::string detail = r.header("x-error-message");
  if (!detail.empty()) msg += " — " + detail;
  throw Error(msg + at);
}

[[noreturn]] void throw_network(const Session& s, const std::string& what, const Error& e) {
  throw Error(s.label() + ", " + what + ": " + e.what() + " (the hub endpoint is " + s.settings.endpoint +
              "; HF_HUB_OFFLINE=1 uses only the cache)");
}

// huggingface_hub's _normalize_etag: no weak prefix, no quotes.
std::string normalize_etag(std::string e) {
  if (e.rfind("W/", 0) == 0) e = e.substr(2);
  if (e.size() >= 2 && e.front() == '"' && e.back() == '"') e = e.substr(1, e.size() - 2);
  return e;
}

bool safe_etag(const std::string& e) {
  if (e.empty() || e.size() > 256 || e == "." || e == "..") return false;
  return std::all_of(e.begin(), e.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
  });
}

struct Fetched {
  std::string path;    // the blob (or the snapshot file when it was already there)
  std::string etag;    // "" when the snapshot already had the file
  uint64_t bytes = 0;  // downloaded by this call
};

// One file of commit `commit`: from the snapshot if there, else from a blob with the hub's
// ETag, else downloaded into one (under the blob's lock, so concurrent processes fetch it once).
Fetched fetch_file(Session& s, HttpClient& http, const std::string& commit, const std::string& file) {
  if (s.cache.has_file(commit, file)) return {s.cache.snapshot_file(commit, file), "", 0};
  const std::string what = "file '" + file + "'";
  std::string url = s.settings.endpoint + "/" + s.id.repo + "/resolve/" + url_quote(commit, false) + "/" + url_quote(file, true);
  HttpResponse h;
  try {
    for (int hops = 0;; ++hops) {  // relative redirects (a renamed repository) are followed here
      h = http.head(url);
      const std::string loc = h.header("location");
      if (h.status >= 300 && h.status < 400 && !loc.empty() && loc.front() == '/' && hops < 10) {
        url = http.resolve(url, loc);
        continue;
      }
      break;
    }
  } catch (const NetworkError& e) {
    throw_network(s, what, e);
  }
  std::string source = url;
  if (h.status >= 300 && h.status < 400) {
    const std::string loc = h.header("location");
    if (loc.empty()) throw_status(s, what, h);
    source = http.resolve(url, loc);  // e.g. the LFS file host
  } else if (h.status < 200 || h.status >= 300) {
    throw_status(s, what, h);
  }
  const std::string linked = normalize_etag(h.header("x-linked-etag"));
  const std::string etag = linked.empty() ? normalize_etag(h.header("etag")) : linked;
  if (!safe_etag(etag))
    throw Error(s.label() + ", " + what + ": the hub sent " + (etag.empty() ? "no ETag" : "an unusable ETag '" + etag + "'") +
                " (is HF_ENDPOINT a Hugging Face hub?)");
  const std::string commit_header = h.header("x-repo-commit");
  if (!commit_header.empty() && commit_header != commit)
    throw Error(s.label() + ", " + what + ": asked for commit " + commit + ", the hub answered for " + commit_header);
  const std::string size_text = h.header("x-linked-size").empty() ? h.header("content-length") : h.header("x-linked-size");
  const uint64_t size = size_text.empty() ? 0 : std::strtoull(size_text.c_str(), nullptr, 10);
  const std::string blob = s.cache.blob_path(etag);
  if (is_regular_file(blob)) return {blob, etag, 0};

  make_dirs(s.cache.dir() + "/blobs");
  FileLock lock(s.cache.lock_path(etag), [&] { s.note("waiting for another process downloading " + s.id.repo + "/" + file); });
  if (is_regular_file(blob)) return {blob, etag, 0};  // the other process finished it

  DownloadRequest req;
  req.url = source;
  req.path = blob + ".incomplete";
  req.size = size;
  if (!linked.empty() && is_sha256_hex(linked)) req.sha256 = linked;  // LFS files: the SHA-256 of the content
  const auto start = std::chrono::steady_clock::now();
  DownloadProgress p;
  p.model_id = s.id.repo;
  p.file = file;
  p.bytes_total = size;
  req.on_bytes = [&](uint64_t done, uint64_t resumed) {
    p.bytes_done = done;
    p.bytes_resumed = resumed;
    p.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    s.progress(p);
  };
  req.on_note = [&](const std::string& n) { s.note(s.id.repo + "/" + file + ": " + n); };
  uint64_t bytes = 0;
  try {
    bytes = http.download(req);
  } catch (const HttpStatusError& e) {
    throw_status(s, what, e.response());
  } catch (const NetworkError& e) {
    throw_network(s, what, e);
  } catch (const Error& e) {
    throw Error(s.label() + ", " + what + ": " + e.what());
  }
  if (std::rename(req.path.c_str(), blob.c_str()) != 0)
    throw Error(s.label() + ", " + what + ": cannot move " + req.path + " into place: " + std::strerror(errno));
  struct stat st {};
  p.bytes_done = ::stat(blob.c_str(), &st) == 0 ? static_cast<uint64_t>(st.st_size) : size;
  p.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  p.finished = true;
  s.progress(p);
  return {blob, etag, bytes};
}

DownloadResult from_cache(Session& s) {
  DownloadResult r;
  r.model_id = s.id.repo;
  r.revision = s.revision;
  const auto commit = s.cache.cached_commit(s.revision);
  if (!commit)
    throw Error(s.label() + " is not in the hub cache " + s.settings.cache_dir +
                " (no refs/" + s.revision + "), and offline mode (HF_HUB_OFFLINE=1 or --offline) forbids downloading it");
  auto files = snapshot_files(s.cache, *commit, false);
  if (!files)
    throw Error(s.label() + ": the cached snapshot " + s.cache.snapshot_dir(*commit) +
                " lacks config.json or the weights, and offline mode (HF_HUB_OFFLINE=1 or --offline) forbids downloading them");
  r.commit = *commit;
  r.snapshot_dir = s.cache.snapshot_dir(*commit);
  r.files = std::move(*files);
  return r;
}

DownloadResult download(Session& s) {
  if (s.settings.offline) return from_cache(s);
  HttpClient http(s.settings);
  const std::string info_url =
      s.settings.endpoint + "/api/models/" + s.id.repo + "/revision/" + url_quote(s.revision, false);
  HttpResponse info;
  try {
    info = http.get(info_url, 64u << 20);
  } catch (const NetworkError& e) {
    throw_network(s, "model info", e);
  }
  if (info.status != 200) throw_status(s, "model info", info);
  std::string commit;
  std::vector<std::string> names;
  try {
    const auto j = nlohmann::json::parse(info.body);
    commit = j.at("sha").get<std::string>();
    for (const auto& sib : j.at("siblings")) {
      const std::string n = sib.at("rfilename").get<std::string>();
      if (is_safe_repo_file(n)) names.push_back(n);
    }
  } catch (const nlohmann::json::exception& e) {
    throw Error(s.label() + ": unexpected answer from " + info_url + " (expected JSON with sha and siblings): " + e.what());
  }
  if (!is_commit_hash(commit)) throw Error(s.label() + ": " + info_url + " gave an invalid commit '" + commit + "'");

  DownloadResult r;
  r.model_id = s.id.repo;
  r.revision = s.revision;
  r.commit = commit;
  r.snapshot_dir = s.cache.snapshot_dir(commit);
  std::vector<std::pair<std::string, Fetched>> fetched;
  auto get = [&](const std::string& file) -> Fetched {
    fetched.emplace_back(file, fetch_file(s, http, commit, file));
    r.files.push_back(file);
    r.bytes_downloaded += fetched.back().second.bytes;
    return fetched.back().second;
  };

  // config.json first: an architecture Attend cannot run is rejected before any weights.
  if (!has_name(names, "config.json"))
    throw Error(s.label() + " has no config.json at revision " + s.revision + " (not a transformers model?)");
  const std::string model_type = model_type_of(get("config.json").path);
  if (!find_family(model_type))
    throw Error(s.label() + ": model_type '" + model_type + "' is not supported (Attend runs " + supported_types() + ")");
  const std::string weights = choose_weights(names);
  if (weights.empty())
    throw Error(s.label() + " has no weights Attend reads (" + kSafetensors + ", " + kSafetensorsIndex + ", " + kBin + " or " +
                kBinIndex + ") at revision " + s.revision);
  if (has_name(names, "generation_config.json")) get("generation_config.json");
  for (const auto& f : tokenizer_files(model_type, names)) get(f);
  const Fetched w = get(weights);
  if (is_index(weights)) {
    std::vector<std::string> shards;
    try {
      shards = weight_shards(read_text_file(w.path), s.id.repo + "/" + weights);
    } catch (const Error& e) {
      throw Error(s.label() + ": " + e.what());
    }
    for (const auto& shard : shards) {
      if (!has_name(names, shard))
        throw Error(s.label() + ": " + weights + " names the shard '" + shard + "', which the model does not have");
      get(shard);
    }
  }
  // Every file is verified: now the snapshot appears (a failure above leaves it untouched).
  for (const auto& [file, f] : fetched) {
    if (!f.etag.empty()) s.cache.link(commit, file, f.etag);
  }
  make_dirs(s.cache.dir() + "/refs");
  s.cache.write_ref(s.revision, commit);
  return r;
}

HubId parse_or_throw(const std::string& id) {
  auto h = parse_hub_id(id);
  if (!h) throw Error("'" + id + "' is not a hub model id (expected org/name or name, optionally @revision)");
  return *h;
}

// The converted file's name: commit, Attend version and conversion settings.
std::string converted_name(const std::string& commit) {
  return commit + "-attend" + version() + "-f" + std::to_string(kModelFileFormatVersion) + ".attend";
}

// Converts the snapshot once into <repo>/attend/; returns the file, or the snapshot directory
// when the cache cannot be written (the model is then converted at each load).
std::string convert_once(Session& s, const std::string& commit, const std::string& snapshot) {
  const std::string dir = s.cache.dir() + "/attend";
  const std::string out = dir + "/" + converted_name(commit);
  if (is_regular_file(out)) return out;
  std::unique_ptr<FileLock> lock;
  try {
    make_dirs(dir);
    lock = std::make_unique<FileLock>(out + ".lock", [&] { s.note("waiting for another process converting " + s.id.repo); });
  } catch (const Error& e) {
    s.note(std::string("cannot write the converted-model cache (") + e.what() + "); loading from the snapshot");
    return snapshot;
  }
  if (is_regular_file(out)) return out;  // another process converted it meanwhile
  ConvertedModel cm = convert_hf_checkpoint(snapshot);
  try {
    save_converted_model(cm, out);
  } catch (const Error& e) {
    s.note(std::string("cannot keep the converted model (") + e.what() + "); loading from the snapshot");
    return snapshot;
  }
  s.note("converted " + s.id.repo + " (commit " + commit.substr(0, 12) + ") once into " + out);
  return out;
}

}  // namespace

bool names_hub_model(const std::string& s) {
  struct stat st {};
  return ::lstat(s.c_str(), &st) != 0 && parse_hub_id(s).has_value();
}

std::string snapshot_for(const std::string& id, const HubOptions& options) {
  Session s(parse_or_throw(id), options);
  if (auto commit = s.cache.cached_commit(s.revision)) {
    if (snapshot_files(s.cache, *commit, !s.settings.offline)) return s.cache.snapshot_dir(*commit);
  }
  return download(s).snapshot_dir;
}

std::string model_path_for(const std::string& id, const HubOptions& options) {
  Session s(parse_or_throw(id), options);
  if (auto commit = s.cache.cached_commit(s.revision)) {
    const std::string converted = s.cache.dir() + "/attend/" + converted_name(*commit);
    if (is_regular_file(converted)) return converted;
    if (snapshot_files(s.cache, *commit, !s.settings.offline)) return convert_once(s, *commit, s.cache.snapshot_dir(*commit));
  }
  const DownloadResult r = download(s);
  return convert_once(s, r.commit, r.snapshot_dir);
}

}  // namespace hub

DownloadResult download_model(const std::string& model_id, const HubOptions& options) {
  hub::Session s(hub::parse_or_throw(model_id), options);
  return hub::download(s);
}

std::string hub_cache_dir(const HubOptions& options) { return hub::resolve_settings(options).cache_dir; }

}  // namespace attend
