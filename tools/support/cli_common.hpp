// tools/support/cli_common.hpp — shared pieces of the `attend` command line: the subcommand registry
// (each tools/cmd_*.cpp registers itself, so adding a command touches no other file), the
// default model path, the hub options of -m and small input/output helpers.
#pragma once
#include <functional>
#include <iosfwd>
#include <string>
#include <vector>

#include "attend/hub.hpp"

namespace CLI {
class App;
}

namespace attend_cli {

// A subcommand's setup adds it to the app (options bound to its own state) and returns the
// function that runs it after parsing; that function returns the process exit code.
struct Subcommand {
  CLI::App* app = nullptr;
  std::function<int()> run;
};
using SubcommandSetup = std::function<Subcommand(CLI::App& parent)>;

// Registers a subcommand at static-initialisation time; `order` sorts `attend --help`.
struct RegisterSubcommand {
  RegisterSubcommand(int order, SubcommandSetup setup);
};
std::vector<std::pair<int, SubcommandSetup>>& subcommand_registry();

// ATTEND_MODEL from the environment, else the bundled default model ("" when none).
std::string default_model_path();
// `path` if given, else the default model; throws attend::Error when there is neither.
std::string model_path_or_default(const std::string& path);

// The "Hub model" options of every subcommand whose -m may be a hub id (ORG/NAME[@REV]):
// --revision, --cache-dir, --token, --offline, stored into `hub`.
void add_hub_options(CLI::App* app, attend::HubOptions& hub);
// Help text of -m for the subcommands that load a model.
extern const char* const kModelOptionHelp;

// Every line of `in` without its '\n' (a trailing '\r' is kept as text).
std::vector<std::string> read_lines(std::istream& in);
// Lines of a file, or of stdin for "" / "-"; throws attend::Error naming the file.
std::vector<std::string> read_lines_from(const std::string& path);

// Writes `content` to `path` atomically: a temporary file beside it, then rename.
// Throws attend::Error naming the file on any failure (the temporary file is removed).
void write_file_atomically(const std::string& path, const std::string& content);
// Writes `content` to stdout for "" / "-" (flushed; a failed write throws), else to `path`
// atomically (write_file_atomically).
void write_output(const std::string& path, const std::string& content);

}  // namespace attend_cli
