// tools/support/cli_common.cpp — the subcommand registry, default model path, hub options and
// I/O helpers shared by the `attend` subcommands.
#include "tools/support/cli_common.hpp"

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>

#include <unistd.h>

#include <CLI/CLI.hpp>

#include "attend/error.hpp"

#ifndef ATTEND_DEFAULT_MODEL
#define ATTEND_DEFAULT_MODEL ""
#endif

namespace attend_cli {

std::vector<std::pair<int, SubcommandSetup>>& subcommand_registry() {
  static std::vector<std::pair<int, SubcommandSetup>> registry;
  return registry;
}

RegisterSubcommand::RegisterSubcommand(int order, SubcommandSetup setup) {
  subcommand_registry().emplace_back(order, std::move(setup));
}

std::string default_model_path() {
  if (const char* env = std::getenv("ATTEND_MODEL"); env && *env) return env;
  return ATTEND_DEFAULT_MODEL;
}

std::string model_path_or_default(const std::string& path) {
  if (!path.empty()) return path;
  std::string p = default_model_path();
  if (p.empty()) throw attend::Error("no model given (-m) and no bundled default model in this build");
  return p;
}

const char* const kModelOptionHelp =
    "Model: an Attend file, a Hugging Face checkpoint directory, or a hub id ORG/NAME[@REVISION] "
    "(downloaded into the Hugging Face cache and converted once; an existing path wins)";

void add_hub_options(CLI::App* app, attend::HubOptions& hub) {
  const std::string group = "Hub model (-m ORG/NAME)";
  app->add_option("--revision", hub.revision, "Branch, tag or commit of a hub model (default: main)")->group(group);
  app->add_option("--cache-dir", hub.cache_dir,
                  "Hugging Face cache (default: $HF_HUB_CACHE, else $HF_HOME/hub, else ~/.cache/huggingface/hub)")
      ->group(group);
  app->add_option("--token", hub.token, "Hub access token for private or gated models (default: $HF_TOKEN)")->group(group);
  app->add_flag_callback("--offline", [&hub] { hub.offline = true; },
                         "Use only the cache, no network (as HF_HUB_OFFLINE=1)")
      ->group(group);
}

std::vector<std::string> read_lines(std::istream& in) {
  std::vector<std::string> lines;
  std::string line;
  while (std::getline(in, line)) lines.push_back(line);
  return lines;
}

std::vector<std::string> read_lines_from(const std::string& path) {
  if (path.empty() || path == "-") return read_lines(std::cin);
  std::ifstream in(path, std::ios::binary);
  if (!in) throw attend::Error(path + ": cannot open input file: " + std::strerror(errno));
  auto lines = read_lines(in);
  if (in.bad()) throw attend::Error(path + ": read error");
  return lines;
}

void write_output(const std::string& path, const std::string& content) {
  if (!path.empty() && path != "-") return write_file_atomically(path, content);
  std::cout << content;
  std::cout.flush();
  if (!std::cout) throw attend::Error("stdout: write failed");
}

void write_file_atomically(const std::string& path, const std::string& content) {
  const std::string tmp = path + ".tmp." + std::to_string(::getpid());
  FILE* f = std::fopen(tmp.c_str(), "wb");
  if (!f) throw attend::Error(path + ": cannot create output file: " + std::strerror(errno));
  bool ok = std::fwrite(content.data(), 1, content.size(), f) == content.size();
  ok = (std::fflush(f) == 0) && ok;
  ok = (::fsync(::fileno(f)) == 0) && ok;
  const int saved = errno;
  ok = (std::fclose(f) == 0) && ok;
  if (!ok) {
    std::remove(tmp.c_str());
    throw attend::Error(path + ": write failed: " + std::strerror(saved ? saved : EIO));
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    const int e = errno;
    std::remove(tmp.c_str());
    throw attend::Error(path + ": cannot rename temporary output into place: " + std::strerror(e));
  }
}

}  // namespace attend_cli
