// api/hub.hpp — hub ids where a model path is accepted: the one call Model::load and
// convert_model make (a local path always wins), and the convert-once cache of `.attend` files
// beside huggingface_hub's snapshots (docs/hub.md).
#pragma once
#include <string>

#include "attend/hub.hpp"

namespace attend::hub {

// True when `s` is not an existing file or directory and is a hub id (attend/hub.hpp).
bool names_hub_model(const std::string& s);

// The local path to load for hub id `id`: the converted file
// <cache>/models--ORG--NAME/attend/<commit>-<settings>.attend, made once from the snapshot. With
// that file (or a complete snapshot) in the cache for the revision (refs/<revision>), no network
// request is made; otherwise the files are downloaded first (download_model). When the cache is
// not writable the snapshot directory itself is returned (converted at every load).
std::string model_path_for(const std::string& id, const HubOptions& options);

// The snapshot directory of hub id `id`: the cached one when it holds everything Attend needs
// (no network), else after download_model.
std::string snapshot_for(const std::string& id, const HubOptions& options);

}  // namespace attend::hub
