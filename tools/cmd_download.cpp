// tools/cmd_download.cpp — `attend download ID`: fetches the files Attend needs from the Hugging
// Face hub into its cache (attend::download_model) and prints the snapshot directory.
#include <cstdint>
#include <cstdio>
#include <iostream>
#include <memory>
#include <string>

#include <CLI/CLI.hpp>

#include "attend/attend.hpp"
#include "tools/support/cli_common.hpp"

namespace attend_cli {
namespace {

struct DownloadArgs {
  std::string id;
  attend::HubOptions hub;
  bool quiet = false;
};

std::string megabytes(uint64_t bytes) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f MB", static_cast<double>(bytes) / 1e6);
  return buf;
}

const RegisterSubcommand registered(40, [](CLI::App& app) {
  auto a = std::make_shared<DownloadArgs>();
  auto* dl = app.add_subcommand("download",
                                "Download a model from the Hugging Face hub into its cache (config, generation "
                                "config, tokenizer files, weights) and print the snapshot directory");
  dl->add_option("ID", a->id, "Hub model id: ORG/NAME or NAME, optionally @REVISION")->required();
  add_hub_options(dl, a->hub);
  dl->add_flag("-q,--quiet", a->quiet, "No progress display");
  return Subcommand{dl, [a] {
                      a->hub.quiet = a->quiet;
                      const attend::DownloadResult r = attend::download_model(a->id, a->hub);
                      if (!a->quiet) {
                        std::cerr << "attend: " << r.model_id << " at " << r.revision << " is commit " << r.commit
                                  << ": " << r.files.size() << " files"
                                  << (r.bytes_downloaded ? ", " + megabytes(r.bytes_downloaded) + " downloaded"
                                                         : std::string(", all already in the cache"))
                                  << "\n";
                      }
                      std::cout << r.snapshot_dir << "\n";
                      return 0;
                    }};
});

}  // namespace
}  // namespace attend_cli
