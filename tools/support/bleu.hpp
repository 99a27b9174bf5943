// tools/support/bleu.hpp — corpus BLEU with the semantics of sacreBLEU 2.x's default command line
// (`sacrebleu HYP -r REF`: one reference, 13a tokenization, cased, "exp" smoothing, n-grams up
// to 4, no effective order), used to score translations against reference files.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace attend {

// The result of corpus_bleu, with the numbers sacreBLEU reports.
struct BleuScore {
  double score = 0.0;                    // BLEU, 0..100
  double precisions[4] = {0, 0, 0, 0};   // n-gram precisions in percent (smoothed where 0 matches)
  double bp = 0.0;                       // brevity penalty
  double ratio = 0.0;                    // hyp_len / ref_len (0 when ref_len == 0)
  std::size_t hyp_len = 0, ref_len = 0;  // token counts after 13a tokenization
  std::size_t counts[4] = {0, 0, 0, 0};  // clipped n-gram matches, n = 1..4
  std::size_t totals[4] = {0, 0, 0, 0};  // hypothesis n-grams, n = 1..4

  // sacreBLEU's score text, e.g.
  // "37.54 66.8/43.7/30.9/22.0 (BP = 1.000 ratio = 1.016 hyp_len = 12301 ref_len = 12106)".
  std::string signature_line() const;
};

// sacreBLEU's "13a" tokenizer (mteval-v13a): drops "<skipped>", joins "-\n", turns other
// newlines into spaces, unescapes &quot; &amp; &lt; &gt;, splits ASCII punctuation (except
// ' , . -), splits . and , unless between digits, splits - after a digit, and collapses
// whitespace (Python's str.split() set, Unicode spaces included). Works on UTF-8 bytes.
// It does not rstrip first: corpus_bleu does that, as sacreBLEU does before tokenizing.
std::string tokenize_13a(const std::string& line);

// Corpus BLEU of hyps against refs (one reference per hypothesis), as sacreBLEU computes it:
// each line is rstripped and 13a-tokenized, clipped n-gram statistics are summed over the
// corpus, BP = exp(1 - ref_len / hyp_len) when hyp_len < ref_len (0 when hyp_len == 0).
// Throws attend::Error if the counts differ or a reference line is empty (after rstrip), the
// cases sacreBLEU's command line rejects.
BleuScore corpus_bleu(const std::vector<std::string>& hyps, const std::vector<std::string>& refs);

// Reads a text file into lines the way sacreBLEU's command line does: split on '\n' only, a
// final line without '\n' counts, a trailing '\n' does not start another line; '\r' is kept
// (corpus_bleu's rstrip removes it). Throws attend::Error if the file cannot be read.
std::vector<std::string> read_bleu_lines(const std::string& path);

}  // namespace attend
