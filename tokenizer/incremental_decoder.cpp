// tokenizer/incremental_decoder.cpp — streaming detokenization: decodes the ids since the last point
// where all text was final (plus a few tokens of context) and emits only the part of the text that
// later tokens can no longer change; linear in the length of the sequence.
#include <algorithm>

#include "tokenizer/text/cleanup.hpp"
#include "tokenizer/tokenizer.hpp"
#include "tokenizer/text/unicode.hpp"

namespace attend {
namespace {

// Length of the prefix of `text` that is final (see IncrementalDecoder in tokenizer.hpp).
size_t stable_length(const std::string& text) {
  static const std::string kReplacement = utf8_encode(kReplacementChar);
  size_t end = text.size();
  // Trailing U+FFFD: possibly an incomplete UTF-8 sequence that more bytes will complete (one
  // followed by anything else is final).
  while (end >= kReplacement.size() && text.compare(end - kReplacement.size(), kReplacement.size(), kReplacement) == 0)
    end -= kReplacement.size();
  while (true) {
    const size_t before = end;
    // Trailing whitespace: strip() would drop it, or the next piece decides about it.
    end = py_rstrip(text.substr(0, end)).size();
    // A space that clean_up_tokenization could still remove (" n" + "'t", " '" + "s", ...).
    end -= cleanup_pending_suffix(text.substr(0, end));
    // A final "'" may come from " ' " -> "'" having taken the trailing space; a next token such
    // as "." gives that space to the earlier rule " ." instead ("a ' ." -> "a '."), so the "'"
    // (and the space that may come back before it) is not final yet.
    if (end > 0 && text[end - 1] == '\'') --end;
    if (end == before) return end;
  }
}

}  // namespace

IncrementalDecoder::IncrementalDecoder(const Tokenizer& tokenizer, bool skip_special_tokens)
    : tokenizer_(tokenizer), skip_special_tokens_(skip_special_tokens) {}

std::string IncrementalDecoder::decode_range(size_t from, size_t to) const {
  const std::vector<int32_t> part(ids_.begin() + static_cast<std::ptrdiff_t>(from),
                                  ids_.begin() + static_cast<std::ptrdiff_t>(to));
  return tokenizer_.decode(part, skip_special_tokens_);
}

// decode(ids[0:to]) for to >= committed_: the committed text plus what the window's tokens after
// the commit point add to the window's decoding (only ids[window_:to] are decoded). Falls back to
// decoding everything when the window's head does not decode to its cached text.
std::string IncrementalDecoder::text_upto(size_t to) {
  if (committed_ > 0) {
    std::string w = decode_range(window_, to);
    if (w.compare(0, window_head_.size(), window_head_) == 0) return committed_text_ + w.substr(window_head_.size());
    committed_ = window_ = 0;  // the tokenizer joined across the window start: start over
    committed_text_.clear();
    window_head_.clear();
  }
  return decode_range(0, to);
}

std::string IncrementalDecoder::push(int32_t id) {
  ids_.push_back(id);
  const std::string text = text_upto(ids_.size());
  size_t stable = stable_length(text);
  if (!skip_special_tokens_) {
    // Special tokens kept: T5 / mBART-50 put a space before a special token unless another one
    // precedes it, and decode the pieces after it as a new sentencepiece text, so the text after
    // the last special token is only final once the next special token (or the end) is known.
    // (A commit in this mode happens only right after a special token, so the last one is at or
    // after committed_ - 1.)
    size_t last_special = ids_.size();
    const size_t lowest = committed_ > 0 ? committed_ - 1 : 0;
    for (size_t i = ids_.size(); i-- > lowest;)
      if (tokenizer_.is_special_id(ids_[i])) {
        last_special = i;
        break;
      }
    if (last_special < ids_.size() && last_special + 1 < ids_.size()) {
      const std::string head_text = text_upto(last_special + 1);
      if (text.compare(0, head_text.size(), head_text) == 0) stable = std::min(stable, head_text.size());
    }
  }
  // The emitted text is a prefix of every later decoding (decode is prefix-stable apart from the
  // held-back cases); if a tokenizer ever revises it, nothing is emitted until it is passed.
  if (stable <= emitted_.size() || text.compare(0, emitted_.size(), emitted_) != 0) return {};
  std::string fresh = text.substr(emitted_.size(), stable - emitted_.size());
  emitted_ += fresh;
  // Everything decoded so far is final: later pushes decode only a window of kContext tokens
  // before this point plus the tokens after it, so the work per token stays constant.
  if (stable == text.size() && ids_.size() > kContext &&
      (skip_special_tokens_ || tokenizer_.is_special_id(ids_.back()))) {
    committed_ = ids_.size();
    committed_text_ = emitted_;
    window_ = committed_ - kContext;
    window_head_ = decode_range(window_, committed_);
  }
  return fresh;
}

std::string IncrementalDecoder::finish() {
  const std::string text = tokenizer_.decode(ids_, skip_special_tokens_);
  if (text.size() <= emitted_.size()) return {};
  std::string fresh = text.substr(emitted_.size());
  emitted_ += fresh;
  return fresh;
}

void IncrementalDecoder::reset() {
  ids_.clear();
  emitted_.clear();
  committed_ = window_ = 0;
  committed_text_.clear();
  window_head_.clear();
}

}  // namespace attend
