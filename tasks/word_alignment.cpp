// tasks/word_alignment.cpp — word alignments from a hypothesis's cross-attention weights
// (Model::align_words, format_alignment, parse_alignment) and token pieces (Model::token_pieces).
#include "tasks/word_alignment.hpp"

#include <algorithm>
#include <sstream>

#include "runtime/model_impl.hpp"

namespace attend {

std::vector<int> words_of_tokens(const Tokenizer& tok, const std::vector<int32_t>& ids, int* words) {
  std::vector<int> out(ids.size(), -1);
  int count = 0;
  for (size_t i = 0; i < ids.size(); ++i) {
    const int32_t id = ids[i];
    if (id < 0 || id >= tok.vocab_size() || tok.is_special_id(id)) continue;
    const std::string piece = tok.id_to_token(id);
    const bool starts = count == 0 || piece.rfind("\xE2\x96\x81", 0) == 0 /* ▁ */ ||
                        piece.rfind("\xC4\xA0", 0) == 0 /* Ġ */ || piece.rfind("\xC4\x8A", 0) == 0 /* Ċ */;
    if (starts) ++count;
    out[i] = count - 1;
  }
  if (words) *words = count;
  return out;
}

std::vector<WordLink> align_hypothesis(const Tokenizer& tok, const Hypothesis& h) {
  const AttentionWeights& a = h.attention;
  if (a.empty()) throw Error("align_words: the hypothesis has no attention weights (translate with return_attention)");
  int src_words = 0, tgt_words = 0;
  const std::vector<int> sw = words_of_tokens(tok, a.source_ids, &src_words);
  // rows are ids[1..]: the token each step produced
  const std::vector<int32_t> produced(h.ids.begin() + 1, h.ids.end());
  const std::vector<int> tw = words_of_tokens(tok, produced, &tgt_words);
  if (static_cast<int>(produced.size()) != a.target || static_cast<int>(sw.size()) != a.source)
    throw Error("align_words: attention shape does not match the hypothesis");
  // word matrix: per target word, the mean over its pieces (and the layers and heads held) of the
  // attention each source word's pieces receive together
  std::vector<double> m(static_cast<size_t>(tgt_words) * src_words, 0.0);
  const int groups = static_cast<int>(a.layers.size()) * a.heads;
  for (int t = 0; t < a.target; ++t) {
    if (tw[t] < 0) continue;
    double* row = m.data() + static_cast<size_t>(tw[t]) * src_words;
    for (int l = 0; l < static_cast<int>(a.layers.size()); ++l)
      for (int hh = 0; hh < a.heads; ++hh)
        for (int s = 0; s < a.source; ++s)
          if (sw[s] >= 0) row[sw[s]] += a.at(l, hh, t, s) / groups;
  }
  std::vector<WordLink> links;
  if (src_words == 0) return links;
  for (int t = 0; t < tgt_words; ++t) {
    const double* row = m.data() + static_cast<size_t>(t) * src_words;
    const int best = static_cast<int>(std::max_element(row, row + src_words) - row);
    links.push_back(WordLink{best, t});
  }
  return links;
}

std::string format_alignment(const std::vector<WordLink>& links) {
  std::string out;
  for (const WordLink& l : links) {
    if (!out.empty()) out += ' ';
    out += std::to_string(l.source) + "-" + std::to_string(l.target);
  }
  return out;
}

std::vector<WordLink> parse_alignment(const std::string& text) {
  std::vector<WordLink> links;
  std::istringstream in(text);
  std::string pair;
  while (in >> pair) {
    const size_t dash = pair.find('-');
    auto number = [&](const std::string& s) {
      if (s.empty() || s.size() > 9 || s.find_first_not_of("0123456789") != std::string::npos)
        throw Error("alignment: '" + pair + "' is not a pair of word indices like 3-5");
      return std::stoi(s);
    };
    if (dash == std::string::npos) throw Error("alignment: '" + pair + "' is not a pair of word indices like 3-5");
    links.push_back(WordLink{number(pair.substr(0, dash)), number(pair.substr(dash + 1))});
  }
  return links;
}

std::vector<std::string> Model::token_pieces(const std::vector<int32_t>& ids) const {
  if (!impl_->tokenizer) throw Error(impl_->label + ": this model has no tokenizer");
  std::vector<std::string> out;
  out.reserve(ids.size());
  for (int32_t id : ids) out.push_back(impl_->tokenizer->id_to_token(id));
  return out;
}

std::vector<WordLink> Model::align_words(const Hypothesis& hypothesis) const {
  if (!impl_->tokenizer) throw Error(impl_->label + ": this model has no tokenizer; word alignment needs one");
  return align_hypothesis(*impl_->tokenizer, hypothesis);
}

}  // namespace attend
