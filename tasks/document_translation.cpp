// tasks/document_translation.cpp — Model::translate_documents: paragraphs → sentences (the
// rule-based splitter), every sentence of every document translated in shared batches, the
// translations put back into the documents' original layout.
#include <algorithm>
#include <string_view>

#include "attend/attend.hpp"
#include "runtime/model_impl.hpp"
#include "tokenizer/text/sentence_splitter.hpp"
#include "tokenizer/text/unicode.hpp"

namespace attend {
namespace {

bool is_ascii_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; }

// Sentence byte ranges of a whole document: paragraphs are runs of lines that are not blank
// (whitespace only); each is split on its own, so no sentence crosses a blank line.
std::vector<text::Span> document_sentences(std::string_view doc) {
  std::vector<text::Span> out;
  size_t para_begin = std::string_view::npos, para_end = 0;
  auto flush = [&] {
    if (para_begin == std::string_view::npos) return;
    for (const text::Span& s : text::split_sentences(doc.substr(para_begin, para_end - para_begin))) {
      out.push_back({para_begin + s.begin, para_begin + s.end});
    }
    para_begin = std::string_view::npos;
  };
  size_t pos = 0;
  while (pos <= doc.size()) {
    size_t eol = doc.find('\n', pos);
    if (eol == std::string_view::npos) eol = doc.size();
    const std::string_view line = doc.substr(pos, eol - pos);
    const bool blank = std::all_of(line.begin(), line.end(), is_ascii_space);
    if (blank) {
      flush();
    } else {
      if (para_begin == std::string_view::npos) para_begin = pos;
      para_end = eol;
    }
    if (eol == doc.size()) break;
    pos = eol + 1;
  }
  flush();
  return out;
}

// The sentence as the model sees it: every whitespace run (line breaks included) is one space.
std::string collapse_whitespace(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  bool in_space = false;
  for (char c : s) {
    if (is_ascii_space(c)) {
      in_space = true;
      continue;
    }
    if (in_space && !out.empty()) out.push_back(' ');
    in_space = false;
    out.push_back(c);
  }
  return out;
}

size_t count_replacement_chars(const std::string& s) {
  size_t n = 0;
  for (size_t pos = s.find("\xEF\xBF\xBD"); pos != std::string::npos; pos = s.find("\xEF\xBF\xBD", pos + 3)) ++n;
  return n;
}

// Cuts `text` (no leading/trailing whitespace) into pieces whose encodings fit `limit` tokens:
// at the whitespace nearest the middle, else at the code point boundary nearest the middle.
// Encoded with the options' input prefix and languages.
void cut_to_fit(const Tokenizer& tok, const TranslateOptions& options, const std::string& text, size_t limit,
                std::vector<std::string>& pieces, std::vector<std::vector<int32_t>>& ids) {
  std::vector<int32_t> enc = tok.encode_with_languages(options.input_prefix + text, options.src_lang, options.tgt_lang);
  if (enc.size() <= limit || text.size() <= 4) {
    pieces.push_back(text);
    ids.push_back(std::move(enc));
    return;
  }
  const size_t mid = text.size() / 2;
  size_t cut = std::string::npos;
  for (size_t d = 0; d < mid; ++d) {
    if (is_ascii_space(text[mid + d])) { cut = mid + d; break; }
    if (is_ascii_space(text[mid - d])) { cut = mid - d; break; }
  }
  std::string left, right;
  if (cut != std::string::npos && cut > 0) {
    left = text.substr(0, cut);
    right = text.substr(cut + 1);
  } else {
    cut = mid;
    while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
    if (cut == 0) cut = mid;
    left = text.substr(0, cut);
    right = text.substr(cut);
  }
  cut_to_fit(tok, options, left, limit, pieces, ids);
  cut_to_fit(tok, options, right, limit, pieces, ids);
}

}  // namespace

std::vector<DocumentTranslation> Model::translate_documents(const std::vector<std::string>& documents,
                                                            const TranslateOptions& options) const {
  if (!impl_->tokenizer) throw Error(impl_->label + ": this model has no tokenizer; document translation needs one");
  // Pieces longer than a few hundred tokens translate badly with sentence-level models (they
  // stop early), so the cut limit is 256 tokens even where the model accepts more.
  constexpr size_t kMaxPieceTokens = 256;
  size_t limit = kMaxPieceTokens;
  if (impl_->spec.max_positions > 0) limit = std::min(limit, static_cast<size_t>(impl_->spec.max_positions));

  std::vector<DocumentTranslation> results(documents.size());
  std::vector<std::string> cleaned(documents.size());
  std::vector<std::vector<text::Span>> spans(documents.size());
  // Each sentence becomes pieces [first_piece[k], first_piece[k+1]) of the flat lists below.
  std::vector<std::string> pieces;
  std::vector<std::vector<int32_t>> ids;
  std::vector<std::vector<size_t>> first_piece(documents.size());
  impl_->tokenizer->check_languages(options.src_lang, options.tgt_lang);  // also when there are no sentences
  for (size_t d = 0; d < documents.size(); ++d) {
    if (is_valid_utf8(documents[d])) {
      cleaned[d] = documents[d];
    } else {
      cleaned[d] = utf8_decode_replace(documents[d]);
      results[d].invalid_utf8 = count_replacement_chars(cleaned[d]) - count_replacement_chars(documents[d]);
    }
    spans[d] = document_sentences(cleaned[d]);
    results[d].sentences = spans[d].size();
    for (const text::Span& s : spans[d]) {
      first_piece[d].push_back(pieces.size());
      const std::string sentence = collapse_whitespace(std::string_view(cleaned[d]).substr(s.begin, s.end - s.begin));
      cut_to_fit(*impl_->tokenizer, options, sentence, limit, pieces, ids);
    }
    first_piece[d].push_back(pieces.size());
  }
  std::vector<TranslationResult> translated;
  if (!ids.empty()) translated = generate(ids, options);

  for (size_t d = 0; d < documents.size(); ++d) {
    const std::string& src = cleaned[d];
    std::string& out = results[d].text;
    size_t copied = 0;
    for (size_t k = 0; k < spans[d].size(); ++k) {
      out.append(src, copied, spans[d][k].begin - copied);
      for (size_t p = first_piece[d][k]; p < first_piece[d][k + 1]; ++p) {
        if (p > first_piece[d][k]) out.push_back(' ');
        const auto& hyps = translated[p].hypotheses;
        if (!hyps.empty()) out += hyps[0].text;
      }
      copied = spans[d][k].end;
    }
    out.append(src, copied, std::string::npos);
  }
  return results;
}

DocumentTranslation Model::translate_document(const std::string& document, const TranslateOptions& options) const {
  return std::move(translate_documents({document}, options).front());
}

}  // namespace attend
