// tools/cmd_summarize.cpp — `attend summarize PATH...`: summaries of files and folders through
// Model::summarize (the model's own summarization settings, long-document chunking, chunks of all
// inputs batched together), written to stdout in input order, to DIR/<relative path>.summary.txt
// or to one JSONL file; atomic outputs, resume, per-file errors, progress and a final report.
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "attend/attend.hpp"
#include "tools/support/async_writer.hpp"
#include "tools/support/cli_common.hpp"
#include "tools/support/file_jobs.hpp"
#include "tools/support/progress.hpp"

namespace attend_cli {
namespace {

namespace fs = std::filesystem;

struct SummarizeArgs {
  std::vector<std::string> paths;
  std::string model, out_dir, glob, format = "text";
  attend::HubOptions hub;
  std::optional<std::string> prefix, early_stopping;
  int batch_size = 32, max_batch_tokens = 0, threads = 0;
  int beam_size = 0, min_length = -1, max_length = 0, no_repeat_ngram_size = -1, max_input_tokens = 0, max_rounds = 4;
  std::optional<float> length_penalty;
  bool overwrite = false;
  double log_interval = 10.0;
  std::string progress = "auto";
  size_t max_file_bytes = 64u << 20;
};

constexpr const char* kJsonlName = "summaries.jsonl";
constexpr const char* kSuffix = ".summary.txt";

enum class State { Pending, Writing, Done, Skipped, Failed };

struct Entry {
  InputFile in;
  std::string out;  // output file (text format with --out-dir)
  State state = State::Pending;
  std::string reason;
  std::string summary;  // stdout mode: held until earlier inputs are printed
};

// Summaries on stdout are one line each: line breaks inside a summary become spaces.
std::string one_line(std::string s) {
  for (char& c : s)
    if (c == '\n' || c == '\r') c = ' ';
  return s;
}

class SummarizeRun {
 public:
  explicit SummarizeRun(const SummarizeArgs& a) : a_(a) {}

  int run() {
    if (a_.format != "text" && a_.format != "jsonl") throw attend::Error("--format must be text or jsonl");
    ::signal(SIGXFSZ, SIG_IGN);  // a file size limit then fails the write (EFBIG) instead of killing us
    attend::SummarizeOptions opt = options();

    attend::LoadOptions lo;
    lo.threads = a_.threads;
    lo.hub = a_.hub;
    auto model = attend::Model::load(model_path_or_default(a_.model), lo);
    model->summarize_settings(opt);  // bad settings fail here, before any file is touched

    InputListing listing = list_inputs(a_.paths, a_.glob, a_.out_dir);
    for (auto& e : listing.errors) {  // arguments that are not usable: failed entries of their own
      entries_.push_back(Entry{InputFile{e.path, ""}, "", State::Pending, "", ""});
      mark_failed(entries_.back(), e.reason);
    }
    for (auto& f : listing.files) entries_.push_back(Entry{f, "", State::Pending, "", ""});
    if (entries_.empty() && failed_.empty()) throw attend::Error("no input files found");

    const bool to_dir = !a_.out_dir.empty();
    std::unique_ptr<JsonlJournal> journal;
    if (to_dir) {
      std::error_code ec;
      fs::create_directories(a_.out_dir, ec);
      if (ec || !fs::is_directory(a_.out_dir))
        std::cerr << "attend: warning: cannot create output folder " << a_.out_dir << ": "
                  << (ec ? ec.message() : std::string("not a folder")) << "\n";
      if (const size_t n = remove_stale_temp_files(a_.out_dir))
        std::cerr << "attend: removed " << n << " temporary file(s) of an interrupted run\n";
      if (a_.format == "jsonl") {
        try {
          journal = std::make_unique<JsonlJournal>((fs::path(a_.out_dir) / kJsonlName).string(), a_.overwrite);
        } catch (const attend::Error& e) {
          for (auto& en : entries_) mark_failed(en, e.what());
        }
        if (journal && journal->dropped_lines())
          std::cerr << "attend: dropped " << journal->dropped_lines() << " incomplete line(s) of " << kJsonlName
                    << " (interrupted run)\n";
      }
    }

    // Resume, output names and output folders.
    std::map<std::string, std::string> out_owner;
    for (auto& e : entries_) {
      if (e.state != State::Pending) continue;
      if (!to_dir) continue;
      if (a_.format == "jsonl") {
        if (journal && journal->has(e.in.path) && !a_.overwrite) e.state = State::Skipped;
        continue;
      }
      e.out = (fs::path(a_.out_dir) / (e.in.rel + kSuffix)).string();
      auto [it, inserted] = out_owner.emplace(e.out, e.in.path);
      if (!inserted) {
        mark_failed(e, "output " + e.out + " would overwrite the summary of " + it->second);
        continue;
      }
      std::error_code ec;
      if (!a_.overwrite && fs::is_regular_file(e.out, ec)) {
        e.state = State::Skipped;
        continue;
      }
      if (std::string why = prepare_output_dir(e.out); !why.empty()) mark_failed(e, why);
    }

    size_t pending = 0;
    for (auto& e : entries_) pending += e.state == State::Pending;
    const bool tty = a_.progress == "bar" || (a_.progress == "auto" && is_terminal(2));
    const double interval = a_.progress == "none" ? 0.0 : a_.log_interval;
    progress_ = std::make_unique<ProgressReporter>(std::cerr, "summarize", pending, tty && a_.progress != "none",
                                                   interval);

    // Windows of files per library call: chunks of all files in a window are batched together,
    // memory stays bounded, and each summary is written as soon as it is complete.
    const size_t window = std::max<size_t>(256, 8 * static_cast<size_t>(a_.batch_size));
    // Declared after the journal its jobs use, so it is joined first on every exit path.
    std::unique_ptr<AsyncWriter> writer;
    if (to_dir) writer = std::make_unique<AsyncWriter>();
    writer_ = writer.get();
    std::vector<size_t> todo;
    for (size_t i = 0; i < entries_.size(); ++i)
      if (entries_[i].state == State::Pending) todo.push_back(i);
    for (size_t w = 0; w < todo.size(); w += window) {
      std::vector<size_t> idx(todo.begin() + static_cast<std::ptrdiff_t>(w),
                              todo.begin() + static_cast<std::ptrdiff_t>(std::min(todo.size(), w + window)));
      run_window(*model, opt, idx, journal.get());
    }
    if (writer_) apply(writer_->finish());
    flush_stdout(true);
    if (tty) progress_->update(finished_, tokens_, true);
    progress_->finish();

    if (journal) {
      std::vector<std::string> order;
      for (auto& e : entries_) order.push_back(e.in.path);
      try {
        journal->finalize(order);
      } catch (const attend::Error& e) {
        std::cerr << "attend: error: " << e.what() << "\n";
        failed_.push_back({(fs::path(a_.out_dir) / kJsonlName).string(), e.what()});
      }
    }
    return report();
  }

 private:
  attend::SummarizeOptions options() const {
    attend::SummarizeOptions o;
    o.max_batch_size = a_.batch_size;
    o.max_batch_tokens = a_.max_batch_tokens;
    o.max_input_tokens = a_.max_input_tokens;
    o.max_rounds = a_.max_rounds;
    o.prefix = a_.prefix;
    if (a_.beam_size > 0) o.generation.num_beams = a_.beam_size;
    if (a_.min_length >= 0) o.generation.min_length = a_.min_length;
    if (a_.max_length > 0) o.generation.max_length = a_.max_length;
    if (a_.no_repeat_ngram_size >= 0) o.generation.no_repeat_ngram_size = a_.no_repeat_ngram_size;
    if (a_.length_penalty) o.generation.length_penalty = *a_.length_penalty;
    if (a_.early_stopping) o.generation.early_stopping = *a_.early_stopping;
    return o;
  }

  void mark_failed(Entry& e, const std::string& reason) {
    e.state = State::Failed;
    e.reason = reason;
    failed_.push_back({e.in.path, reason});
    const std::string line = "attend: error: " + e.in.path + ": " + reason;
    if (progress_) progress_->message(line);
    else std::cerr << line << "\n";
  }

  void warn(const Entry& e, const std::string& what) {
    const std::string line = "attend: warning: " + e.in.path + ": " + what;
    if (progress_) progress_->message(line);
    else std::cerr << line << "\n";
  }

  void run_window(const attend::Model& model, const attend::SummarizeOptions& opt, const std::vector<size_t>& idx,
                  JsonlJournal* journal) {
    std::vector<std::string> texts;
    std::vector<size_t> owner;  // texts[k] belongs to entries_[owner[k]]
    for (size_t i : idx) {
      Entry& e = entries_[i];
      TextInput t = read_text_input(e.in.path, a_.max_file_bytes);
      if (!t.error.empty()) {
        mark_failed(e, t.error);
        ++finished_;
        continue;
      }
      if (!t.warning.empty()) warn(e, t.warning);
      texts.push_back(std::move(t.text));
      owner.push_back(i);
    }
    progress_->update(finished_, tokens_);
    if (texts.empty()) return;

    attend::SummarizeCallbacks cb;
    cb.on_result = [&](size_t k, const attend::SummaryResult& r) {
      Entry& e = entries_[owner[k]];
      ++finished_;
      if (!r.error.empty()) {
        mark_failed(e, r.error);
      } else {
        if (!r.complete)
          warn(e, "still longer than the summary length after " + std::to_string(r.rounds) +
                      " rounds; writing the joined chunk summaries");
        deliver(owner[k], r, journal);
      }
      if (writer_) apply(writer_->drain());
      flush_stdout(false);
    };
    const int64_t tokens_before = tokens_;
    cb.on_progress = [&](const attend::SummarizeProgress& p) {
      tokens_ = tokens_before + p.source_tokens + p.generated_tokens;
      progress_->update(finished_, tokens_);
    };
    try {
      model.summarize(texts, opt, cb);
    } catch (const attend::Error& err) {
      // The whole call failed (e.g. a model error): every input of it not yet finished fails.
      for (size_t k = 0; k < owner.size(); ++k) {
        Entry& e = entries_[owner[k]];
        if (e.state != State::Pending) continue;
        ++finished_;
        mark_failed(e, std::string("summarize failed: ") + err.what());
      }
    }
  }

  // Stdout: held for in-order printing. Files: written (and synced) on the writer thread; the
  // entry is Done once that succeeded (apply()).
  void deliver(size_t index, const attend::SummaryResult& r, JsonlJournal* journal) {
    Entry& e = entries_[index];
    if (a_.out_dir.empty()) {
      e.summary = a_.format == "jsonl" ? jsonl_record(e.in.path, r.summary, r.chunks, r.rounds)
                                       : one_line(r.summary) + "\n";
      e.state = State::Done;
      return;
    }
    e.state = State::Writing;
    if (journal) {
      writer_->submit(index, [journal, path = e.in.path, summary = r.summary, chunks = r.chunks, rounds = r.rounds] {
        journal->append(path, summary, chunks, rounds);
      });
    } else if (a_.format == "jsonl") {
      mark_failed(e, "cannot write the summary: " + (fs::path(a_.out_dir) / kJsonlName).string() + ": not open");
    } else {
      writer_->submit(index, [out = e.out, content = r.summary + "\n"] { write_file_atomically(out, content); });
    }
  }

  void apply(const std::vector<AsyncWriter::Outcome>& outcomes) {
    for (const auto& o : outcomes) {
      Entry& e = entries_[o.id];
      if (o.error.empty()) e.state = State::Done;
      else mark_failed(e, "cannot write the summary: " + o.error);
    }
  }

  // stdout mode: prints the summaries of the longest finished prefix of the inputs, in order
  // (a failed input prints an empty line, so line N is always input N).
  void flush_stdout(bool all) {
    if (!a_.out_dir.empty()) return;
    bool wrote = false;
    while (next_print_ < entries_.size()) {
      Entry& e = entries_[next_print_];
      if (e.state == State::Pending && !all) break;
      if (e.state == State::Done) std::cout << e.summary;
      else if (a_.format == "text") std::cout << "\n";
      e.summary.clear();
      ++next_print_;
      wrote = true;
    }
    if (wrote) std::cout.flush();
  }

  int report() {
    size_t done = 0, skipped = 0;
    for (auto& e : entries_) {
      done += e.state == State::Done;
      skipped += e.state == State::Skipped;
    }
    std::cerr << "summarize: " << done << " done, " << skipped << " skipped (output exists), " << failed_.size()
              << " failed\n";
    for (const auto& f : failed_) std::cerr << "  failed: " << f.path << ": " << f.reason << "\n";
    if (!std::cout) {
      std::cerr << "attend: error: writing to stdout failed\n";
      return 1;
    }
    return failed_.empty() ? 0 : 1;
  }

  const SummarizeArgs& a_;
  std::vector<Entry> entries_;
  std::vector<FailedPath> failed_;
  std::unique_ptr<ProgressReporter> progress_;
  AsyncWriter* writer_ = nullptr;  // --out-dir: outputs are written in the background
  size_t finished_ = 0, next_print_ = 0;
  int64_t tokens_ = 0;
};

const RegisterSubcommand registered(20, [](CLI::App& app) {
  auto a = std::make_shared<SummarizeArgs>();
  auto* s = app.add_subcommand("summarize",
                               "Summarize files and folders with the model's own summarization settings "
                               "(T5 task_specific_params, BART-CNN generation defaults)");
  s->add_option("paths", a->paths, "Input files and folders (folders are read recursively)")->required();
  s->add_option("-m,--model", a->model, kModelOptionHelp);
  add_hub_options(s, a->hub);
  s->add_option("--out-dir", a->out_dir,
                "Write DIR/<relative path>.summary.txt per input (or DIR/summaries.jsonl with --format jsonl); "
                "a rerun skips complete outputs. Default: stdout, one summary per input, in input order");
  s->add_option("--glob", a->glob, "Only files in folders whose name matches this pattern (e.g. '*.txt'; "
                                   "with a '/', the path relative to the folder)");
  s->add_option("--format", a->format, "text or jsonl ({\"path\":..., \"summary\":...} per input)")
      ->check(CLI::IsMember({"text", "jsonl"}));
  s->add_flag("--overwrite", a->overwrite, "Summarize again inputs whose output already exists");
  s->add_option("--batch-size", a->batch_size, "Chunks decoded together (across files)")->check(CLI::Range(1, 4096));
  s->add_option("--max-batch-tokens", a->max_batch_tokens, "Padded source tokens per batch (0 = no limit)")
      ->check(CLI::Range(0, 1 << 30));
  s->add_option("--threads", a->threads, "Compute threads (default: all cores)")->check(CLI::Range(1, 1024));
  s->add_option("--beam-size", a->beam_size, "Beam size (default: the model's summarization setting)")
      ->check(CLI::Range(1, 256));
  s->add_option("--min-length", a->min_length, "Minimum summary length in tokens, start token included")
      ->check(CLI::Range(0, 100000));
  s->add_option("--max-length", a->max_length, "Maximum summary length in tokens, start token included")
      ->check(CLI::Range(2, 100000));
  s->add_option("--no-repeat-ngram-size", a->no_repeat_ngram_size, "Forbid repeating n-grams of this size (0 = off)")
      ->check(CLI::Range(0, 1000));
  s->add_option("--length-penalty", a->length_penalty, "Beam length penalty");
  s->add_option("--early-stopping", a->early_stopping, "Beam search stopping rule: true, false or never")
      ->check(CLI::IsMember({"true", "false", "never"}));
  s->add_option("--prefix", a->prefix, "Text put before every input (default: the model's, e.g. 'summarize: ')");
  s->add_option("--max-input-tokens", a->max_input_tokens,
                "Split inputs longer than this many tokens (default: the model's maximum source length)")
      ->check(CLI::Range(0, 1 << 20));
  s->add_option("--max-rounds", a->max_rounds, "Rounds of summarizing chunk summaries again, at most")
      ->check(CLI::Range(1, 32));
  s->add_option("--max-file-bytes", a->max_file_bytes, "Inputs larger than this fail (default 64 MiB)");
  s->add_option("--progress", a->progress, "auto (bar on a terminal, log lines otherwise), bar, log or none")
      ->check(CLI::IsMember({"auto", "bar", "log", "none"}));
  s->add_option("--log-interval", a->log_interval, "Seconds between progress log lines (not a terminal)")
      ->check(CLI::Range(0.0, 86400.0));
  return Subcommand{s, [a] { return SummarizeRun(*a).run(); }};
});

}  // namespace
}  // namespace attend_cli
