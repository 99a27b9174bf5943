// attend/shortlist.hpp — vocabulary shortlists (issue 17; CTranslate2's use_vmap, Marian's lexical
// shortlist): a table from source token ids to likely target token ids plus always-allowed
// target tokens. Given to TranslateOptions::shortlist, each batch's output layer and softmax
// are restricted to the union of its source tokens' lists, the always-allowed tokens and the
// model's special tokens. Opt-in; without it nothing changes. File format: docs/shortlist.md.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "attend/attend.hpp"
#include "attend/export.h"

namespace attend {

struct ShortlistBuildOptions {
  int per_source = 100;     // target tokens kept per source token, by p(target | source)
  int always = 1000;        // the most frequent target tokens of the corpus, always allowed
  int min_count = 1;        // sentence pairs a (source, target) pair must co-occur in
  bool identity = true;     // allow every source token's own id on the target side too
                            // (shared vocabularies: names, numbers, punctuation copied through)
  // Model lexicon: when > 0, every source vocabulary piece is also translated on its own by the
  // model (beam search, this many hypotheses, at most 8 new tokens) and the target tokens of
  // those translations are added to that piece's list. Covers source tokens the corpus lacks.
  int from_model = 0;
};

class ATTEND_API Shortlist {
 public:
  // Reads a shortlist file; throws attend::Error naming the file and line on bad content.
  static std::shared_ptr<const Shortlist> load(const std::string& path);
  // Builds from a parallel corpus (sources[i] translates to targets[i]) with the model's
  // tokenizers: co-occurrence counts per sentence pair, p(t|s) = count(s,t) / count(s).
  static std::shared_ptr<const Shortlist> build(const Model& model, const std::vector<std::string>& sources,
                                                const std::vector<std::string>& targets,
                                                const ShortlistBuildOptions& options = {});
  void save(const std::string& path) const;

  int vocab_size() const;                // target vocabulary size it was built for
  size_t source_entries() const;         // source tokens with a list
  size_t always_allowed() const;
  // The allowed target ids for these source token ids (sorted, unique): always-allowed plus
  // the lists of every source id (special tokens of the model are added at translation time).
  std::vector<int32_t> candidates(const std::vector<std::vector<int32_t>>& source_ids) const;
  // Throws attend::Error when the shortlist was built for another vocabulary than the model's
  // (size or token fingerprint differ).
  void check_model(const Model& model) const;

  struct ATTEND_HIDDEN Impl;
  const Impl& impl() const { return *impl_; }
  explicit Shortlist(std::shared_ptr<Impl> impl);

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace attend
