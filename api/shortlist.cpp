// api/shortlist.cpp — vocabulary shortlists (attend/shortlist.hpp): the text file format, the
// builder from a parallel corpus (co-occurrence counts, p(t|s), always-allowed frequent targets,
// identity pieces), the vocabulary fingerprint check and a batch's candidate set.
#include "attend/shortlist.hpp"

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <mutex>
#include <sstream>
#include <unordered_map>

#include "api/shortlist_internal.hpp"
#include "attend/error.hpp"
#include "runtime/model_impl.hpp"

namespace attend {

struct ATTEND_HIDDEN Shortlist::Impl {
  int vocab_size = 0;
  uint64_t fingerprint = 0;                                  // 0: not recorded (no tokenizer)
  bool identity = false;                                     // source id s also allows target id s
  std::vector<int32_t> always;                               // sorted
  std::unordered_map<int32_t, std::vector<int32_t>> lists;   // source id -> target ids
  mutable std::mutex mu;
  mutable const void* checked = nullptr;                     // last Model::Impl that passed
};

namespace {

// FNV-1a over the target vocabulary's pieces in id order: equal for the same vocabulary.
uint64_t vocab_fingerprint(const Model::Impl& m) {
  if (!m.tokenizer) return 0;
  uint64_t h = 1469598103934665603ull;
  auto add = [&](unsigned char c) { h = (h ^ c) * 1099511628211ull; };
  const int V = std::min(m.spec.vocab_size, m.tokenizer->vocab_size());
  for (int i = 0; i < V; ++i) {
    for (unsigned char c : m.tokenizer->id_to_token(i)) add(c);
    add('\n');
  }
  return h;
}

[[noreturn]] void bad_file(const std::string& path, size_t line, const std::string& what) {
  throw Error(path + ":" + std::to_string(line) + ": shortlist: " + what);
}

}  // namespace

Shortlist::Shortlist(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}

int Shortlist::vocab_size() const { return impl_->vocab_size; }
size_t Shortlist::source_entries() const { return impl_->lists.size(); }
size_t Shortlist::always_allowed() const { return impl_->always.size(); }

std::vector<int32_t> Shortlist::candidates(const std::vector<std::vector<int32_t>>& source_ids) const {
  std::vector<uint8_t> mark(static_cast<size_t>(impl_->vocab_size), 0);
  for (int32_t t : impl_->always) mark[static_cast<size_t>(t)] = 1;
  for (const auto& row : source_ids)
    for (int32_t s : row) {
      if (impl_->identity && s >= 0 && s < impl_->vocab_size) mark[static_cast<size_t>(s)] = 1;
      auto it = impl_->lists.find(s);
      if (it == impl_->lists.end()) continue;
      for (int32_t t : it->second) mark[static_cast<size_t>(t)] = 1;
    }
  std::vector<int32_t> out;
  for (int32_t v = 0; v < impl_->vocab_size; ++v)
    if (mark[static_cast<size_t>(v)]) out.push_back(v);
  return out;
}

void Shortlist::check_model(const Model& model) const { shortlist_check(*this, *model.impl_); }

void shortlist_check(const Shortlist& list, const Model::Impl& m) {
  const Shortlist::Impl& s = list.impl();
  std::lock_guard<std::mutex> lock(s.mu);
  if (s.checked == &m) return;
  if (s.vocab_size != m.spec.vocab_size)
    throw Error("shortlist is for another vocabulary: built for " + std::to_string(s.vocab_size) +
                " target tokens, the model has " + std::to_string(m.spec.vocab_size));
  if (s.fingerprint != 0) {
    const uint64_t fp = vocab_fingerprint(m);
    if (fp != 0 && fp != s.fingerprint)
      throw Error("shortlist is for another vocabulary: same size (" + std::to_string(s.vocab_size) +
                  ") but different tokens than the model's tokenizer");
  }
  s.checked = &m;
}

std::vector<int32_t> shortlist_candidates(const Shortlist& list, const std::vector<std::vector<int32_t>>& batch,
                                          const GenerationConfig& g) {
  std::vector<int32_t> c = list.candidates(batch);
  std::vector<int32_t> special = g.eos_token_ids;
  special.push_back(g.pad_token_id);
  special.push_back(g.decoder_start_token_id);
  if (g.forced_bos_token_id) special.push_back(*g.forced_bos_token_id);
  if (g.forced_eos_token_id) special.push_back(*g.forced_eos_token_id);
  for (int32_t t : special)
    if (t >= 0 && t < list.vocab_size()) c.push_back(t);
  std::sort(c.begin(), c.end());
  c.erase(std::unique(c.begin(), c.end()), c.end());
  return c;
}

std::shared_ptr<const Shortlist> Shortlist::load(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw Error(path + ": cannot open shortlist file");
  auto impl = std::make_shared<Impl>();
  std::string line;
  size_t lineno = 0;
  auto next = [&](const char* what) {
    while (std::getline(in, line)) {
      ++lineno;
      if (!line.empty() && line[0] != '#') return;
    }
    bad_file(path, lineno, std::string("unexpected end of file, expected ") + what);
  };
  auto read_ids = [&](std::istringstream& ss, size_t n, std::vector<int32_t>& out) {
    out.resize(n);
    for (size_t i = 0; i < n; ++i) {
      long long v;
      if (!(ss >> v)) bad_file(path, lineno, "expected " + std::to_string(n) + " token ids");
      if (v < 0 || v >= impl->vocab_size) bad_file(path, lineno, "token id " + std::to_string(v) + " outside the vocabulary");
      out[i] = static_cast<int32_t>(v);
    }
    std::string extra;
    if (ss >> extra) bad_file(path, lineno, "unexpected '" + extra + "' after " + std::to_string(n) + " ids");
  };
  next("the header");
  if (line != "attend-shortlist 1") bad_file(path, lineno, "not a shortlist file (expected 'attend-shortlist 1')");
  long long n = 0;
  std::string key;
  next("vocab_size");
  {
    std::istringstream ss(line);
    if (!(ss >> key >> n) || key != "vocab_size" || n <= 0 || n > (1 << 30)) bad_file(path, lineno, "expected 'vocab_size N'");
    impl->vocab_size = static_cast<int>(n);
  }
  next("fingerprint");
  {
    std::istringstream ss(line);
    std::string hex;
    if (!(ss >> key >> hex) || key != "fingerprint") bad_file(path, lineno, "expected 'fingerprint HEX'");
    try {
      impl->fingerprint = std::stoull(hex, nullptr, 16);
    } catch (const std::exception&) {
      bad_file(path, lineno, "bad fingerprint '" + hex + "'");
    }
  }
  next("identity");
  {
    std::istringstream ss(line);
    if (!(ss >> key >> n) || key != "identity" || (n != 0 && n != 1)) bad_file(path, lineno, "expected 'identity 0' or 'identity 1'");
    impl->identity = n == 1;
  }
  next("always");
  {
    std::istringstream ss(line);
    if (!(ss >> key >> n) || key != "always" || n < 0 || n > impl->vocab_size) bad_file(path, lineno, "expected 'always N ids...'");
    read_ids(ss, static_cast<size_t>(n), impl->always);
    std::sort(impl->always.begin(), impl->always.end());
  }
  next("entries");
  long long entries = 0;
  {
    std::istringstream ss(line);
    if (!(ss >> key >> entries) || key != "entries" || entries < 0 || entries > (1 << 30))
      bad_file(path, lineno, "expected 'entries N'");
  }
  for (long long e = 0; e < entries; ++e) {
    next("a source entry");
    std::istringstream ss(line);
    long long src = 0, count = 0;
    if (!(ss >> src >> count) || src < 0 || src > (1 << 30) || count < 0 || count > impl->vocab_size)
      bad_file(path, lineno, "expected 'SOURCE_ID COUNT TARGET_IDS...'");
    std::vector<int32_t> ids;
    read_ids(ss, static_cast<size_t>(count), ids);
    if (!impl->lists.emplace(static_cast<int32_t>(src), std::move(ids)).second)
      bad_file(path, lineno, "source id " + std::to_string(src) + " listed twice");
  }
  return std::make_shared<const Shortlist>(impl);
}

void Shortlist::save(const std::string& path) const {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp);
    if (!out) throw Error(path + ": cannot write shortlist file");
    out << "# attend vocabulary shortlist (docs/shortlist.md)\nattend-shortlist 1\n";
    out << "vocab_size " << impl_->vocab_size << "\n";
    char hex[32];
    std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(impl_->fingerprint));
    out << "fingerprint " << hex << "\n";
    out << "identity " << (impl_->identity ? 1 : 0) << "\n";
    out << "always " << impl_->always.size();
    for (int32_t t : impl_->always) out << ' ' << t;
    out << "\n";
    std::vector<int32_t> keys;
    for (const auto& kv : impl_->lists) keys.push_back(kv.first);
    std::sort(keys.begin(), keys.end());
    out << "entries " << keys.size() << "\n";
    for (int32_t k : keys) {
      const auto& ids = impl_->lists.at(k);
      out << k << ' ' << ids.size();
      for (int32_t t : ids) out << ' ' << t;
      out << "\n";
    }
    if (!out.flush()) throw Error(path + ": write failed");
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) throw Error(path + ": cannot rename the written shortlist");
}

std::shared_ptr<const Shortlist> Shortlist::build(const Model& model, const std::vector<std::string>& sources,
                                                  const std::vector<std::string>& targets,
                                                  const ShortlistBuildOptions& options) {
  const Model::Impl& m = *model.impl_;
  if (!m.tokenizer) throw Error(m.label + ": building a shortlist needs a model with a tokenizer");
  if (sources.size() != targets.size())
    throw Error("shortlist build: " + std::to_string(sources.size()) + " source lines but " +
                std::to_string(targets.size()) + " target lines");
  if (options.per_source < 0 || options.always < 0 || options.min_count < 1)
    throw Error("shortlist build: per_source and always must be >= 0, min_count >= 1");
  const int V = m.spec.vocab_size;
  auto impl = std::make_shared<Impl>();
  impl->vocab_size = V;
  impl->fingerprint = vocab_fingerprint(m);
  std::unordered_map<int32_t, int64_t> src_count;
  std::vector<int64_t> tgt_count(static_cast<size_t>(V), 0);
  std::unordered_map<int32_t, std::unordered_map<int32_t, int64_t>> pair_count;
  for (size_t i = 0; i < sources.size(); ++i) {
    std::vector<int32_t> s = m.tokenizer->encode(sources[i]);
    std::vector<int32_t> t = m.tokenizer->encode_target(targets[i]);
    std::sort(s.begin(), s.end());
    s.erase(std::unique(s.begin(), s.end()), s.end());
    std::sort(t.begin(), t.end());
    t.erase(std::unique(t.begin(), t.end()), t.end());
    t.erase(std::remove_if(t.begin(), t.end(), [&](int32_t id) { return id < 0 || id >= V; }), t.end());
    for (int32_t tt : t) ++tgt_count[static_cast<size_t>(tt)];
    for (int32_t ss : s) {
      ++src_count[ss];
      auto& row = pair_count[ss];
      for (int32_t tt : t) ++row[tt];
    }
  }
  // Always allowed: the most frequent target tokens (by sentence count), ties by lower id.
  std::vector<int32_t> by_freq;
  for (int32_t v = 0; v < V; ++v)
    if (tgt_count[static_cast<size_t>(v)] > 0) by_freq.push_back(v);
  std::stable_sort(by_freq.begin(), by_freq.end(),
                   [&](int32_t a, int32_t b) { return tgt_count[static_cast<size_t>(a)] > tgt_count[static_cast<size_t>(b)]; });
  if (static_cast<int>(by_freq.size()) > options.always) by_freq.resize(static_cast<size_t>(options.always));
  impl->always = by_freq;
  std::sort(impl->always.begin(), impl->always.end());
  std::vector<uint8_t> is_always(static_cast<size_t>(V), 0);
  for (int32_t t : impl->always) is_always[static_cast<size_t>(t)] = 1;
  for (auto& [s, row] : pair_count) {
    std::vector<std::pair<int32_t, int64_t>> cands;
    for (const auto& [t, c] : row)
      if (c >= options.min_count && !is_always[static_cast<size_t>(t)]) cands.emplace_back(t, c);
    // p(t|s) ranks by count(s,t) for a fixed s; ties: the rarer target (more specific), then id.
    std::sort(cands.begin(), cands.end(), [&](const auto& a, const auto& b) {
      if (a.second != b.second) return a.second > b.second;
      const int64_t fa = tgt_count[static_cast<size_t>(a.first)], fb = tgt_count[static_cast<size_t>(b.first)];
      return fa != fb ? fa < fb : a.first < b.first;
    });
    if (static_cast<int>(cands.size()) > options.per_source) cands.resize(static_cast<size_t>(options.per_source));
    std::vector<int32_t> ids;
    for (const auto& c : cands) ids.push_back(c.first);
    if (!ids.empty()) impl->lists[s] = std::move(ids);
  }
  // Encoder and decoder share one vocabulary in every supported family: a source piece may be
  // copied (names, numbers), also for source tokens the corpus never had.
  impl->identity = options.identity;
  if (options.from_model > 0) {
    // Model lexicon: each source piece translated alone; its outputs' tokens join its list.
    std::vector<std::string> words;
    std::vector<int32_t> word_src;
    const int SV = std::min(m.spec.src_vocab_size > 0 ? m.spec.src_vocab_size : V, V);
    for (int32_t sid = 0; sid < SV; ++sid) {
      if (m.tokenizer->is_special_id(sid)) continue;
      std::string w = m.tokenizer->decode_source({sid});
      const size_t a = w.find_first_not_of(' '), b = w.find_last_not_of(' ');
      if (a == std::string::npos) continue;
      words.push_back(w.substr(a, b - a + 1));
      word_src.push_back(sid);
    }
    TranslateOptions o;
    o.generation.num_beams = options.from_model;
    o.generation.num_return_sequences = options.from_model;
    o.generation.max_new_tokens = 8;
    o.max_batch_size = 64;
    const auto results = model.translate(words, o);
    for (size_t i = 0; i < results.size(); ++i) {
      auto& ids = impl->lists[word_src[i]];
      for (const auto& h : results[i].hypotheses)
        for (size_t k = 1; k < h.ids.size(); ++k) {
          const int32_t t = h.ids[k];
          if (t < 0 || t >= V || is_always[static_cast<size_t>(t)] || m.tokenizer->is_special_id(t)) continue;
          if (std::find(ids.begin(), ids.end(), t) == ids.end()) ids.push_back(t);
        }
      if (ids.empty()) impl->lists.erase(word_src[i]);
    }
  }
  for (auto& kv : impl->lists) std::sort(kv.second.begin(), kv.second.end());
  return std::make_shared<const Shortlist>(impl);
}

}  // namespace attend
