// api/hub_id.hpp — hub model ids: parsing "org/name[@revision]" (the rule of attend/hub.hpp),
// validating revisions and file names the hub gives us, and URL-quoting them as
// huggingface_hub does.
#pragma once
#include <optional>
#include <string>

namespace attend::hub {

struct HubId {
  std::string repo;      // "org/name" or "name"
  std::string revision;  // after '@', "" when none was given
};

// nullopt when `s` is not an id (see is_hub_model_id).
std::optional<HubId> parse_hub_id(const std::string& s);

// The revision to use: the id's own, `option`, or "main"; throws attend::Error when both are
// given and differ, or when the revision is not a valid git ref name or commit.
std::string effective_revision(const HubId& id, const std::string& option);

// 40 lowercase hex digits (a git commit hash, as the hub reports `sha`).
bool is_commit_hash(const std::string& s);
// 64 hex digits (an LFS object's SHA-256, as X-Linked-Etag carries it).
bool is_sha256_hex(const std::string& s);

// A repository file name the hub listed, safe to use as a relative path below a snapshot
// directory: non-empty, relative, no "." or ".." component, no empty component, no NUL/'\\'.
bool is_safe_repo_file(const std::string& name);

// "models--org--name" (huggingface_hub's repo_folder_name).
std::string repo_folder_name(const std::string& repo);

// Percent-encodes every byte except unreserved characters (and '/' when keep_slash):
// urllib.parse.quote(s, safe="" or "/").
std::string url_quote(const std::string& s, bool keep_slash);

}  // namespace attend::hub
