// attend/hub.hpp — Hugging Face hub model ids: which strings are ids, the options that say where
// the cache is and how to reach the hub, and download_model (what `attend download` runs). The
// cache is huggingface_hub's own (docs/hub.md): a model transformers downloaded is found there,
// and one Attend downloads is usable by transformers.
#pragma once
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "attend/export.h"

namespace attend {

// Progress of one file's download (HubOptions::on_progress).
struct DownloadProgress {
  std::string model_id;     // "org/name"
  std::string file;         // path in the repository, e.g. "model.safetensors"
  uint64_t bytes_done = 0;  // of this file, including bytes an earlier run left (resume)
  uint64_t bytes_total = 0; // 0 when the hub did not say
  uint64_t bytes_resumed = 0;  // bytes that were already there when this download started
  double seconds = 0.0;     // since this download started
  bool finished = false;    // the file is complete and verified
};

struct HubOptions {
  std::string revision;     // branch, tag or commit ("" = the id's @revision, else "main")
  std::string cache_dir;    // "" = $HF_HUB_CACHE, else $HF_HOME/hub, else ~/.cache/huggingface/hub
  std::string endpoint;     // "" = $HF_ENDPOINT, else https://huggingface.co
  // Sent as "Authorization: Bearer ..." to the endpoint's host only, never printed.
  // "" = $HF_TOKEN, else the file $HF_TOKEN_PATH, else $HF_HOME/token (huggingface-cli login).
  std::string token;
  std::optional<bool> offline;  // unset = $HF_HUB_OFFLINE ("1", "true", "yes", "on"); true: no network
  // Download progress. Unset: a bar on stderr when it is a terminal, log lines otherwise.
  std::function<void(const DownloadProgress&)> on_progress;
  bool quiet = false;           // no progress or notes on stderr (on_progress is still called)
};

// Is `s` a hub model id? `name` or `org/name`, each part 1-96 characters of letters, digits,
// '-', '_' and '.', not starting or ending with '-' or '.', without "--" or "..", the name not
// ending in ".attend"; optionally followed by "@revision" (a branch, tag or commit; '@' never
// occurs in an id). Model::load tries this only when `s` is not an existing file or directory.
ATTEND_API bool is_hub_model_id(const std::string& s);

// The hub cache directory the options select (see HubOptions::cache_dir).
ATTEND_API std::string hub_cache_dir(const HubOptions& options = {});

struct DownloadResult {
  std::string model_id;       // "org/name"
  std::string revision;       // as asked ("main", a tag, a commit)
  std::string commit;         // the commit it resolved to
  std::string snapshot_dir;   // <cache>/models--org--name/snapshots/<commit>
  std::vector<std::string> files;  // the files Attend needs, relative to snapshot_dir
  uint64_t bytes_downloaded = 0;   // fetched by this call (0: everything was in the cache)
};

// Fetches into the hub cache the files Attend needs from model `model_id` (optionally
// "org/name@revision"): config.json, generation_config.json, the family's tokenizer files and
// the weights (model.safetensors, or its index and shards, else pytorch_model.bin, or its index
// and shards). Asks the hub which commit the revision is now; files already in the cache are not
// fetched again. Rejects a model_type Attend does not support after reading config.json, before
// any weights. Offline (HubOptions::offline / HF_HUB_OFFLINE=1) it makes no request and returns
// the cached snapshot, or throws when there is none. Throws attend::Error naming the model and
// the file on any failure (401/403, 404, no network, checksum mismatch, full disk).
ATTEND_API DownloadResult download_model(const std::string& model_id, const HubOptions& options = {});

}  // namespace attend
