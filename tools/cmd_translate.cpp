// tools/cmd_translate.cpp — `attend translate`: lines of text in, one translation (or n-best
// lines) per input line out; with --document / --format jsonl / FILE... --out-dir, whole
// documents through Model::translate_documents (all inputs' sentences batched together).
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "attend/attend.hpp"
#include "attend/shortlist.hpp"
#include "tools/support/cli_common.hpp"
#include "tools/support/document_io.hpp"
#include "tools/support/progress.hpp"

namespace attend_cli {
namespace {

struct TranslateArgs {
  std::string model, input, output, src_lang, tgt_lang, batch_type = "examples", compute_type = "default";
  attend::HubOptions hub;
  int beam_size = 0, batch_size = 32, threads = 0, max_length = 0, n_best = 1;
  bool with_scores = false;
  // document translation
  bool document = false, overwrite = false;
  std::vector<std::string> files;
  std::string out_dir, suffix, format = "text";
  size_t max_line_length = 10000;
  // --- Decoding extras (issue 17) ---
  bool do_sample = false, stream = false;
  std::optional<float> temperature, top_p, typical_p;
  std::optional<int> top_k;
  std::optional<uint64_t> seed;
  std::string target_prefix, shortlist, progress = "auto";
  double log_interval = 10.0;
  int alternatives = 0;
  // word alignments from cross-attention (docs/attention.md)
  bool alignments = false;
  std::string alignment_layer = "-1";  // decoder layer, or "all" (their mean)
  int alignment_head = -1;             // -1: mean over heads
};

attend::TranslateOptions translate_options(const TranslateArgs& a) {
  attend::TranslateOptions opt;
  opt.max_batch_size = a.batch_size;
  if (a.batch_type == "tokens") opt.batch_type = attend::BatchType::Tokens;
  opt.src_lang = a.src_lang;
  opt.tgt_lang = a.tgt_lang;
  if (a.beam_size > 0) opt.generation.num_beams = a.beam_size;
  if (a.max_length > 0) opt.generation.max_length = a.max_length;
  // issue 17: sampling settings (checked by the library, which names the bad value)
  if (a.do_sample) opt.generation.do_sample = true;
  opt.generation.temperature = a.temperature;
  opt.generation.top_k = a.top_k;
  opt.generation.top_p = a.top_p;
  opt.generation.typical_p = a.typical_p;
  opt.generation.seed = a.seed;
  opt.return_alternatives = a.alternatives;
  if (a.alignments) {  // word alignments from cross-attention (docs/attention.md)
    opt.return_attention = true;
    if (a.alignment_layer == "all") {
      opt.attention_all_layers = true;
    } else {
      try {
        size_t used = 0;
        opt.attention_layer = std::stoi(a.alignment_layer, &used);
        if (used != a.alignment_layer.size()) throw std::invalid_argument("trailing");
      } catch (const std::exception&) {
        throw attend::Error("--alignment-layer must be a layer index (negative counts from the last) or all, not '" +
                            a.alignment_layer + "'");
      }
    }
    opt.attention_head = a.alignment_head;
  }
  if (!a.shortlist.empty()) opt.shortlist = attend::Shortlist::load(a.shortlist);
  return opt;
}

attend::LoadOptions load_options(const TranslateArgs& a) {
  attend::LoadOptions lo;
  lo.threads = a.threads;
  lo.compute_type = a.compute_type;
  lo.hub = a.hub;
  return lo;
}

// One input (a file, or stdin) of document translation: its documents (one for text, one per
// record for JSONL) and where the result goes.
struct DocumentJob {
  std::string label, out_path;
  std::vector<std::string> docs;
  std::vector<JsonlRecord> records;  // JSONL only
  std::vector<attend::DocumentTranslation> results;
  std::string error;
};

void load_job(DocumentJob& job, const std::string& in_path, const TranslateArgs& a) {
  const std::string bytes = read_whole_input(in_path);
  if (a.format == "jsonl") {
    job.records = parse_jsonl(job.label, bytes, a.max_line_length);
    for (const auto& r : job.records) job.docs.push_back(r.text);
  } else {
    check_text_input(job.label, bytes, a.max_line_length);
    job.docs.push_back(bytes);
  }
}

std::string job_output(const DocumentJob& job, const TranslateArgs& a) {
  size_t invalid = 0;
  for (const auto& r : job.results) invalid += r.invalid_utf8;
  if (invalid > 0) {
    std::cerr << "attend translate: warning: " << job.label << ": " << invalid
              << " invalid UTF-8 sequence(s) replaced by U+FFFD\n";
  }
  if (a.format == "jsonl") {
    std::vector<std::string> texts;
    for (const auto& r : job.results) texts.push_back(r.text);
    return format_jsonl(job.records, texts);
  }
  return job.results.at(0).text;
}

// Translates the documents of all jobs in one library call; if that fails, job by job so that
// one bad input does not fail the others.
void translate_jobs(const attend::Model& model, std::vector<DocumentJob*>& jobs, const attend::TranslateOptions& opt) {
  std::vector<std::string> all;
  for (auto* j : jobs) all.insert(all.end(), j->docs.begin(), j->docs.end());
  try {
    auto results = model.translate_documents(all, opt);
    size_t k = 0;
    for (auto* j : jobs) {
      j->results.assign(std::make_move_iterator(results.begin() + static_cast<std::ptrdiff_t>(k)),
                        std::make_move_iterator(results.begin() + static_cast<std::ptrdiff_t>(k + j->docs.size())));
      k += j->docs.size();
    }
  } catch (const attend::Error&) {
    if (jobs.size() == 1) throw;
    for (auto* j : jobs) {
      try {
        j->results = model.translate_documents(j->docs, opt);
      } catch (const attend::Error& e) {
        j->error = j->label + ": " + e.what();
      }
    }
  }
}

// --document / --format jsonl on stdin or -i: the whole input is one job, written to stdout or -o.
int run_document_stream(const TranslateArgs& a) {
  const attend::LoadOptions lo = load_options(a);
  DocumentJob job;
  job.label = a.input.empty() || a.input == "-" ? std::string("stdin") : a.input;
  load_job(job, a.input, a);
  auto model = attend::Model::load(model_path_or_default(a.model), lo);
  std::vector<DocumentJob*> jobs{&job};
  translate_jobs(*model, jobs, translate_options(a));
  const std::string out = job_output(job, a);
  write_output(a.output, out);
  return 0;
}

// FILE... --out-dir DIR: one output per input, inputs batched together, per-file errors.
int run_document_files(const TranslateArgs& a) {
  namespace fs = std::filesystem;
  const std::string suffix = !a.suffix.empty() ? a.suffix : a.format == "jsonl" ? ".translated.jsonl" : ".translated.txt";
  const std::vector<InputFile> inputs = expand_inputs(a.files, a.out_dir);
  size_t done = 0, skipped = 0, sentences = 0;
  std::vector<std::string> failures;
  auto fail = [&](const std::string& msg) {
    std::cerr << "attend translate: error: " << msg << "\n";
    failures.push_back(msg);
  };

  const attend::LoadOptions lo = load_options(a);
  auto model = attend::Model::load(model_path_or_default(a.model), lo);
  const attend::TranslateOptions opt = translate_options(a);

  std::vector<std::string> seen_outputs;
  std::vector<DocumentJob> group;
  size_t group_bytes = 0;
  auto flush = [&] {
    std::vector<DocumentJob*> ptrs;
    for (auto& j : group) ptrs.push_back(&j);
    if (!ptrs.empty()) {
      try {
        translate_jobs(*model, ptrs, opt);
      } catch (const attend::Error& e) {
        ptrs[0]->error = ptrs[0]->label + ": " + e.what();
      }
    }
    for (auto& j : group) {
      if (!j.error.empty()) {
        fail(j.error);
        continue;
      }
      try {
        std::error_code ec;
        fs::create_directories(fs::path(j.out_path).parent_path(), ec);
        if (ec) throw attend::Error(fs::path(j.out_path).parent_path().string() + ": cannot create output directory: " + ec.message());
        write_file_atomically(j.out_path, job_output(j, a));
        ++done;
        for (const auto& r : j.results) sentences += r.sentences;
      } catch (const attend::Error& e) {
        fail(j.label + ": " + e.what());
      }
    }
    group.clear();
    group_bytes = 0;
  };

  for (const InputFile& in : inputs) {
    if (in.relative.empty()) {
      fail(in.path + ": cannot read folder");
      continue;
    }
    const std::string out_path = (fs::path(a.out_dir) / (in.relative + suffix)).string();
    if (std::find(seen_outputs.begin(), seen_outputs.end(), out_path) != seen_outputs.end()) {
      fail(in.path + ": output " + out_path + " would overwrite the output of another input");
      continue;
    }
    seen_outputs.push_back(out_path);
    std::error_code ec;
    if (!a.overwrite && fs::exists(out_path, ec)) {
      ++skipped;
      continue;
    }
    DocumentJob job;
    job.label = in.path;
    job.out_path = out_path;
    try {
      load_job(job, in.path, a);
    } catch (const attend::Error& e) {
      fail(e.what());
      continue;
    }
    for (const auto& d : job.docs) group_bytes += d.size();
    group.push_back(std::move(job));
    if (group_bytes >= (1u << 20)) flush();  // bounded memory; outputs land as groups finish
  }
  flush();
  std::cerr << "attend translate: " << done << " file(s) translated (" << sentences << " sentences), " << skipped
            << " skipped (output exists; --overwrite redoes them), " << failures.size() << " failed\n";
  for (const auto& f : failures) std::cerr << "  failed: " << f << "\n";
  return failures.empty() ? 0 : 1;
}


// --target-prefix FILE: one prefix per input line ("" = none); the counts must match.
std::vector<std::string> read_prefixes(const TranslateArgs& a, size_t lines) {
  if (a.target_prefix.empty()) return {};
  std::vector<std::string> p = read_lines_from(a.target_prefix);
  if (p.size() != lines)
    throw attend::Error(a.target_prefix + ": " + std::to_string(p.size()) + " prefix lines for " + std::to_string(lines) +
                        " input lines (give one per input line, empty for none)");
  return p;
}

// --stream: stdin (or -i) read line by line; each line is translated as soon as it is read and
// its text written (and flushed) while it is decided, so the command works interactively.
int run_stream(const TranslateArgs& a, const attend::Model& model) {
  std::ifstream file_in;
  std::istream* in = &std::cin;
  if (!a.input.empty() && a.input != "-") {
    file_in.open(a.input, std::ios::binary);
    if (!file_in) throw attend::Error(a.input + ": cannot open input file");
    in = &file_in;
  }
  std::ifstream prefix_in;
  if (!a.target_prefix.empty()) {
    prefix_in.open(a.target_prefix, std::ios::binary);
    if (!prefix_in) throw attend::Error(a.target_prefix + ": cannot open target prefix file");
  }
  if (!a.output.empty() && a.output != "-") throw attend::Error("--stream writes to stdout; leave out -o");
  attend::TranslateOptions opt = translate_options(a);
  if (a.n_best > 1) opt.generation.num_return_sequences = a.n_best;
  model.validate(opt);
  // Token by token only for one plain hypothesis per line; otherwise whole lines.
  const bool incremental = a.n_best <= 1 && !a.with_scores && a.alternatives == 0;
  if (incremental) {
    opt.on_stream = [](const attend::StreamEvent& ev) {
      std::cout << ev.text;
      if (ev.finished) std::cout << "\n";
      std::cout.flush();
      return static_cast<bool>(std::cout);
    };
  }
  std::string line;
  size_t lineno = 0;
  while (std::getline(*in, line)) {
    ++lineno;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (prefix_in.is_open()) {
      std::string p;
      if (!std::getline(prefix_in, p))
        throw attend::Error(a.target_prefix + ": no prefix line for input line " + std::to_string(lineno));
      if (!p.empty() && p.back() == '\r') p.pop_back();
      opt.target_prefix = {p};
    }
    auto results = model.translate({line}, opt);
    if (!incremental) {
      for (const auto& hyp : results.at(0).hypotheses) {
        if (a.with_scores) std::cout << hyp.score << "\t";
        std::cout << hyp.text << "\n";
      }
      std::cout.flush();
    }
    if (!std::cout) throw attend::Error("stdout: write failed");
  }
  return 0;
}

// --format html: the whole input is one HTML document or fragment, translated with its markup.
int run_html(const TranslateArgs& a) {
  if (!a.files.empty() || !a.out_dir.empty() || a.document || a.n_best > 1 || a.with_scores || a.alignments ||
      a.stream || !a.target_prefix.empty() || a.alternatives > 0)
    throw attend::Error("--format html reads one input (stdin or -i) and takes no FILE..., --out-dir, --document, "
                        "--n-best, --scores, --alignments, --stream, --target-prefix or --alternatives");
  const std::string html = read_whole_input(a.input);
  auto model = attend::Model::load(model_path_or_default(a.model), load_options(a));
  TranslateArgs with_attention = a;  // the alignment layer/head options choose the attention used
  with_attention.alignments = true;
  const attend::TranslateOptions opt = translate_options(with_attention);
  const std::string out = model->translate_html({html}, opt).at(0);
  write_output(a.output, out);
  return 0;
}

int run_translate(const TranslateArgs& a) {
  if (a.format == "html") return run_html(a);
  if (a.format != "text" && a.format != "jsonl") throw attend::Error("--format must be text, jsonl or html");
  const bool documents = a.document || a.format == "jsonl" || !a.files.empty();
  if (documents && (a.n_best > 1 || a.with_scores || a.alignments)) {
    throw attend::Error("--n-best, --scores and --alignments apply to line-by-line translation, not to documents");
  }
  if (a.alignments && (a.stream || !a.target_prefix.empty() || a.alternatives > 0))
    throw attend::Error("--alignments does not go with --stream, --target-prefix or --alternatives");
  if (!a.files.empty()) {
    if (a.out_dir.empty()) throw attend::Error("input files need --out-dir DIR (one output per input file)");
    if (!a.input.empty() || !a.output.empty()) throw attend::Error("use either FILE... --out-dir or -i/-o, not both");
    return run_document_files(a);
  }
  if (!a.out_dir.empty()) throw attend::Error("--out-dir needs input files: attend translate FILE... --out-dir DIR");
  if (documents && (a.stream || !a.target_prefix.empty() || a.alternatives > 0))
    throw attend::Error("--stream, --target-prefix and --alternatives apply to line-by-line translation, not to documents");
  if (a.document || a.format == "jsonl") return run_document_stream(a);
  const attend::LoadOptions lo = load_options(a);
  auto model = attend::Model::load(model_path_or_default(a.model), lo);

  if (a.stream) return run_stream(a, *model);
  const std::vector<std::string> lines = read_lines_from(a.input);
  attend::TranslateOptions opt = translate_options(a);
  if (a.n_best > 1) opt.generation.num_return_sequences = a.n_best;
  const std::vector<std::string> prefixes = read_prefixes(a, lines.size());
  model->validate(opt);  // bad settings fail before any output

  std::ofstream file_out;
  std::ostream* out = &std::cout;
  std::string tmp_path;
  if (!a.output.empty() && a.output != "-") {
    tmp_path = a.output + ".tmp";
    file_out.open(tmp_path, std::ios::binary | std::ios::trunc);
    if (!file_out) throw attend::Error(a.output + ": cannot open output file");
    out = &file_out;
  }
  // Progress (as `attend summarize`): lines done, generated tokens/s, ETA, on stderr.
  std::unique_ptr<ProgressReporter> progress;
  bool progress_tty = false;
  size_t lines_done = 0, chunk_start = 0;
  int64_t tokens = 0, chunk_tokens = 0;  // before this chunk, and within it
  if (a.progress != "none") {
    progress_tty = a.progress == "bar" || (a.progress == "auto" && is_terminal(2));
    progress = std::make_unique<ProgressReporter>(std::cerr, "translate", lines.size(), progress_tty, a.log_interval, "lines");
    // after each batch (a line's text is not decoded while its batch runs, as streaming would)
    opt.on_progress = [&](const attend::ProgressEvent& ev) {
      lines_done = chunk_start + ev.inputs_done;
      chunk_tokens = ev.tokens;
      progress->update(lines_done, tokens + chunk_tokens);
      return true;
    };
  }
  // Translate in chunks so output starts early on long inputs; order is the input order.
  const size_t chunk = 2048;
  for (size_t start = 0; start < lines.size(); start += chunk) {
    const size_t end = std::min(lines.size(), start + chunk);
    std::vector<std::string> part(lines.begin() + static_cast<std::ptrdiff_t>(start),
                                  lines.begin() + static_cast<std::ptrdiff_t>(end));
    if (!prefixes.empty())
      opt.target_prefix.assign(prefixes.begin() + static_cast<std::ptrdiff_t>(start),
                               prefixes.begin() + static_cast<std::ptrdiff_t>(end));
    chunk_start = start;
    chunk_tokens = 0;
    auto results = model->translate(part, opt);
    lines_done = end;
    tokens += chunk_tokens;
    for (const auto& r : results) {
      for (const auto& hyp : r.hypotheses) {
        if (a.with_scores) *out << hyp.score << "\t";
        *out << hyp.text;
        if (a.alignments) *out << "\t" << attend::format_alignment(model->align_words(hyp));
        *out << "\n";
      }
    }
    out->flush();
    if (!*out) throw attend::Error((tmp_path.empty() ? std::string("stdout") : a.output) + ": write failed");
    if (progress) progress->update(lines_done, tokens, progress_tty || (a.progress == "log" && end == lines.size()));
  }
  if (progress) progress->finish();
  if (!tmp_path.empty()) {
    file_out.close();
    if (!file_out) throw attend::Error(a.output + ": write failed");
    if (std::rename(tmp_path.c_str(), a.output.c_str()) != 0) throw attend::Error(a.output + ": cannot rename output");
  }
  return 0;
}

const RegisterSubcommand registered(10, [](CLI::App& app) {
  auto a = std::make_shared<TranslateArgs>();
  auto* tr = app.add_subcommand("translate", "Translate lines of text (stdin or -i FILE), one output line per input line; "
      "or whole documents (--document, --format jsonl, FILE... --out-dir DIR)");
  tr->add_option("-m,--model", a->model, std::string(kModelOptionHelp) + " (default: the bundled en→de model)");
  add_hub_options(tr, a->hub);
  tr->add_option("-i,--input", a->input, "Input file, one sentence per line (default: stdin)");
  tr->add_option("-o,--output", a->output, "Output file (default: stdout); written atomically");
  tr->add_option("--beam-size", a->beam_size, "Beam size (default: the model's num_beams)")->check(CLI::Range(1, 256));
  tr->add_option("--batch-size", a->batch_size, "Sentences (or tokens, with --batch-type tokens) decoded together")
      ->check(CLI::Range(1, 1 << 20));
  tr->add_option("--batch-type", a->batch_type, "What --batch-size counts: examples or tokens (padded)")
      ->check(CLI::IsMember({"examples", "tokens"}));
  tr->add_option("--threads", a->threads, "Compute threads (default: all cores)")->check(CLI::Range(1, 1024));
  tr->add_option("--max-length", a->max_length, "Maximum output length in tokens, start token included")
      ->check(CLI::Range(2, 100000));
  tr->add_option("--n-best", a->n_best, "Hypotheses written per input (consecutive lines)")->check(CLI::Range(1, 256));
  tr->add_option("--compute-type", a->compute_type,
                 "Matmul arithmetic: default (as the file was quantized), auto (fastest on this CPU), fp32, bf16, int8")
      ->check(CLI::IsMember({"default", "auto", "fp32", "bf16", "int8"}));
  tr->add_flag("--scores", a->with_scores, "Prefix each output with its score and a tab");
  tr->add_option("--src-lang", a->src_lang, "Source language code (multilingual models: en_XX, eng_Latn, en)");
  tr->add_option("--tgt-lang", a->tgt_lang, "Target language code (multilingual models)");
  tr->add_flag("--document", a->document,
               "The whole input is one document: split into sentences, translated, layout kept");
  tr->add_option("files", a->files, "Input files or folders (recursively) for document translation; needs --out-dir");
  tr->add_option("--out-dir", a->out_dir, "Output folder: DIR/<relative path><suffix> per input file");
  tr->add_option("--suffix", a->suffix, "Output file name suffix (default .translated.txt, .translated.jsonl)");
  tr->add_flag("--overwrite", a->overwrite, "Translate again inputs whose output already exists");
  tr->add_option("--format", a->format, "text, or jsonl: lines {\"id\": ..., \"text\": ...} in, "
                 "{\"id\": ..., \"translation\": ...} out, or html: the whole input is HTML, translated with "
                 "its markup kept (docs/attention.md)")->check(CLI::IsMember({"text", "jsonl", "html"}));
  tr->add_flag("--alignments", a->alignments,
               "Append a tab and the word alignment (Moses format 'src-tgt ...', whitespace words) taken "
               "from the cross-attention");
  tr->add_option("--alignment-layer", a->alignment_layer,
                 "Decoder layer the alignment is read from (negative counts from the last; all = their mean)")
      ->capture_default_str();
  tr->add_option("--alignment-head", a->alignment_head, "Attention head of the alignment (-1: mean over heads)")
      ->check(CLI::Range(-1, 1024))->capture_default_str();
  tr->add_option("--max-line-length", a->max_line_length,
                 "Documents: reject an input with a line longer than this many characters (0 = no limit)");
  // issue 17: sampling, target prefixes, alternatives, shortlist, streaming and progress
  tr->add_flag("--do-sample", a->do_sample, "Sample each token (transformers' do_sample; needs beam size 1)");
  tr->add_option("--temperature", a->temperature, "Sampling temperature (> 0; default 1)");
  tr->add_option("--top-k", a->top_k, "Sampling: keep the K most likely tokens (0 = off; default 50)");
  tr->add_option("--top-p", a->top_p, "Sampling: nucleus probability mass in (0, 1] (default 1 = off)");
  tr->add_option("--typical-p", a->typical_p, "Sampling: typical-decoding mass in (0, 1] (default 1 = off)");
  tr->add_option("--seed", a->seed, "Sampling seed: the same seed gives the same output (default 0)");
  tr->add_option("--target-prefix", a->target_prefix,
                 "File with one target prefix per input line (empty line = none): decoding continues after it");
  tr->add_option("--alternatives", a->alternatives,
                 "Write the N most likely next-token alternatives after each prefix, each completed (N lines per input)")
      ->check(CLI::Range(0, 256));
  tr->add_option("--shortlist", a->shortlist, "Vocabulary shortlist file (attend shortlist build): faster, approximate");
  tr->add_flag("--stream", a->stream, "Read the input line by line and write each translation as it is decided");
  tr->add_option("--progress", a->progress, "auto (bar on a terminal, log lines otherwise), bar, log or none")
      ->check(CLI::IsMember({"auto", "bar", "log", "none"}));
  tr->add_option("--log-interval", a->log_interval, "Seconds between progress log lines (not a terminal)");
  return Subcommand{tr, [a] { return run_translate(*a); }};
});

}  // namespace
}  // namespace attend_cli
