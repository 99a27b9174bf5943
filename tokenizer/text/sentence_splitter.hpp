// tokenizer/text/sentence_splitter.hpp — rule-based sentence splitting of one paragraph (English,
// German, French, Spanish and CJK punctuation), returning byte ranges so callers can reassemble
// the original text exactly.
#pragma once
#include <cstddef>
#include <string_view>
#include <vector>

namespace attend::text {

// A sentence: bytes [begin, end) of the paragraph.
struct Span {
  size_t begin, end;
};

// The sentences of `paragraph`, in order, as byte ranges. Whitespace before the first sentence,
// between sentences and after the last one belongs to no span; an empty or all-whitespace
// paragraph gives no span. Line breaks inside the paragraph are ordinary whitespace.
//
// Rules (see tokenizer/sentence_splitter.cpp for the details):
// - '.', '!', '?', '…' (and runs of them such as "?!" or "...") end a sentence when whitespace and
//   a non-lowercase character follow; closing quotes/brackets right after them (and a French
//   " »") stay with the sentence; opening quotes, brackets, '¿' and '¡' before the next word
//   are looked through when checking its case.
// - '。', '！', '？' (and the halfwidth '｡') end a sentence without a following space.
// - A period does not end a sentence after a known abbreviation (Dr., Mr., Nr., z. B., e.g., i.e.,
//   Sr., Mme, "Hauptstr.", ...), after a single letter (initials: "J. R. R. Tolkien"), after a dotted token with
//   an upper-case letter ("U.S."), after "No."/"Nr."/"Art."/"S." before a number, after a number
//   that opens the sentence ("1. Introduction"), or in German ordinals before a month/"Jahrhundert".
// Never fails: invalid UTF-8 bytes count as ordinary non-letter characters.
std::vector<Span> split_sentences(std::string_view paragraph);

}  // namespace attend::text
