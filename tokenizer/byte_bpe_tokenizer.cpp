// tokenizer/byte_bpe_tokenizer.cpp — BartTokenizer (= GPT-2 / RoBERTa byte-level BPE) of
// transformers 4.30: GPT-2 pre-tokenizer regex (implemented by hand), bytes_to_unicode, merges by
// rank, vocab.json lookup, and byte-level decoding with errors="replace".
#include "tokenizer/byte_bpe_tokenizer.hpp"

#include <algorithm>
#include <cctype>
#include <climits>
#include <unordered_map>

#include "attend/error.hpp"
#include "tokenizer/hf_config.hpp"
#include "tokenizer/slow_tokenizer.hpp"
#include "tokenizer/text/unicode.hpp"

namespace attend {

std::vector<char32_t> gpt2_bytes_to_unicode() {
  std::vector<char32_t> map(256, 0);
  std::vector<bool> direct(256, false);
  for (int b = '!'; b <= '~'; ++b) direct[b] = true;
  for (int b = 0xA1; b <= 0xAC; ++b) direct[b] = true;
  for (int b = 0xAE; b <= 0xFF; ++b) direct[b] = true;
  int n = 0;
  for (int b = 0; b < 256; ++b) map[b] = direct[b] ? static_cast<char32_t>(b) : static_cast<char32_t>(256 + n++);
  return map;
}

std::vector<std::string> gpt2_pretokenize(const std::string& text) {
  // Code points with their byte offsets.
  std::vector<char32_t> cps;
  std::vector<size_t> offs;
  for (size_t i = 0; i < text.size();) {
    char32_t cp;
    const size_t n = utf8_next(text, i, &cp);
    cps.push_back(cp);
    offs.push_back(i);
    i += n;
  }
  offs.push_back(text.size());
  const size_t n = cps.size();
  auto is_other = [&](size_t k) { return !is_regex_space(cps[k]) && !is_letter(cps[k]) && !is_number(cps[k]); };
  auto run = [&](size_t k, auto pred) {
    while (k < n && pred(k)) ++k;
    return k;
  };
  auto letter = [&](size_t k) { return is_letter(cps[k]); };
  auto number = [&](size_t k) { return is_number(cps[k]); };
  auto space = [&](size_t k) { return is_regex_space(cps[k]); };

  std::vector<std::string> pieces;
  size_t i = 0;
  while (i < n) {
    size_t end = i;
    // 's|'t|'re|'ve|'m|'ll|'d
    if (cps[i] == '\'' && i + 1 < n) {
      const char32_t a = cps[i + 1];
      const char32_t b = i + 2 < n ? cps[i + 2] : 0;
      if (a == 's' || a == 't' || a == 'm' || a == 'd')
        end = i + 2;
      else if ((a == 'r' && b == 'e') || (a == 'v' && b == 'e') || (a == 'l' && b == 'l'))
        end = i + 3;
    }
    if (end == i) {
      const bool sp = cps[i] == ' ' && i + 1 < n;  // " ?" can take the space
      const size_t j = sp ? i + 1 : i;
      if (letter(i) || (sp && letter(j))) {               // ?\p{L}+
        end = run(letter(i) ? i : j, letter);
      } else if (number(i) || (sp && number(j))) {        // ?\p{N}+
        end = run(number(i) ? i : j, number);
      } else if (is_other(i) || (sp && is_other(j))) {    // ?[^\s\p{L}\p{N}]+
        end = run(is_other(i) ? i : j, is_other);
      } else {                                            // \s+(?!\S)|\s+
        const size_t ws_end = run(i, space);
        if (ws_end == n || ws_end - i < 2)
          end = ws_end;
        else
          end = ws_end - 1;
      }
    }
    pieces.push_back(text.substr(offs[i], offs[end] - offs[i]));
    i = end;
  }
  return pieces;
}

namespace {

class ByteBpeTokenizer final : public SlowTokenizer {
 public:
  explicit ByteBpeTokenizer(const TokenizerFiles& files) : SlowTokenizer("bart") {
    encoder_ = load_vocab_json(files, "vocab.json");
    for (const auto& kv : encoder_) decoder_[kv.second] = kv.first;
    load_merges(require_file(files, "merges.txt", "bart"));
    const std::vector<char32_t> b2u = gpt2_bytes_to_unicode();
    for (int b = 0; b < 256; ++b) {
      byte_encoder_[b] = utf8_encode(b2u[b]);
      byte_decoder_[b2u[b]] = static_cast<uint8_t>(b);
    }

    const HfTokenizerConfig cfg = HfTokenizerConfig::from_files(files);
    clean_up_tokenization_spaces_ = cfg.get_bool("clean_up_tokenization_spaces", true);
    add_prefix_space_ = cfg.get_bool("add_prefix_space", false);
    const std::string errors = cfg.get_string("errors", "replace");
    if (errors != "replace")
      throw Error("tokenizer (bart): tokenizer_config.json: errors='" + errors + "' is not supported (only 'replace')");

    const ConfiguredToken bos = cfg.token_or("bos_token", "<s>");
    const ConfiguredToken eos = cfg.token_or("eos_token", "</s>");
    const ConfiguredToken sep = cfg.token_or("sep_token", "</s>");
    const ConfiguredToken cls = cfg.token_or("cls_token", "<s>");
    const ConfiguredToken unk = cfg.token_or("unk_token", "<unk>");
    const ConfiguredToken pad = cfg.token_or("pad_token", "<pad>");
    const ConfiguredToken mask = cfg.token_or("mask_token", "<mask>");
    unk_token_ = unk.content;
    auto unk_it = encoder_.find(unk.content);
    if (unk_it == encoder_.end()) throw Error("tokenizer (bart): vocab.json has no \"" + unk.content + "\" token");
    unk_id_ = unk_it->second;

    // BartTokenizer wraps plain strings in AddedToken(lstrip=False, rstrip=False); <mask> lstrips.
    const SpecialToken keep{"", false, false};
    const SpecialToken mask_default{"", true, false};
    set_special_tokens({bos.as_special(keep), eos.as_special(keep), unk.as_special(keep), sep.as_special(keep),
                        pad.as_special(keep), cls.as_special(keep), mask.as_special(mask_default)});
    // Ids after set_special_tokens: a token the vocabulary lacks has been added after it.
    bos_id_ = *token_to_id(bos.content);
    eos_id_ = *token_to_id(eos.content);
    pad_id_ = *token_to_id(pad.content);
    cls_id_ = *token_to_id(cls.content);
    sep_id_ = *token_to_id(sep.content);
  }

 protected:
  std::string prepare_for_tokenization(const std::string& text) const override {
    if (!add_prefix_space_ || text.empty()) return text;
    char32_t first;
    utf8_next(text, 0, &first);
    return is_python_space(first) ? text : " " + text;
  }

  std::vector<std::string> tokenize_chunk(const std::string& chunk, Side) const override {
    std::vector<std::string> out;
    for (const std::string& piece : gpt2_pretokenize(chunk)) {
      std::vector<std::string> symbols;
      symbols.reserve(piece.size());
      for (unsigned char b : piece) symbols.push_back(byte_encoder_[b]);
      bpe(symbols);
      out.insert(out.end(), symbols.begin(), symbols.end());
    }
    return out;
  }

  int32_t convert_token_to_id(const std::string& token, Side) const override {
    auto it = encoder_.find(token);
    return it != encoder_.end() ? it->second : unk_id_;
  }
  bool has_token(const std::string& token) const override { return encoder_.count(token) != 0; }
  int32_t base_vocab_size() const override { return static_cast<int32_t>(encoder_.size()); }
  std::string convert_id_to_token(int32_t id) const override {
    auto it = decoder_.find(id);
    return it != decoder_.end() ? it->second : unk_token_;
  }
  // <s> X </s>
  std::vector<int32_t> build_inputs(std::vector<int32_t> ids, Side) const override {
    ids.insert(ids.begin(), cls_id_);
    ids.push_back(sep_id_);
    return ids;
  }
  // bytearray(byte_decoder[c] for c in "".join(tokens)).decode("utf-8", errors="replace")
  std::string convert_tokens_to_string(const std::vector<std::string>& tokens, Side) const override {
    std::string bytes;
    for (const std::string& token : tokens) {
      for (size_t i = 0; i < token.size();) {
        char32_t cp;
        const size_t n = utf8_next(token, i, &cp);
        auto it = byte_decoder_.find(cp);
        if (it != byte_decoder_.end())
          bytes.push_back(static_cast<char>(it->second));
        else
          bytes.append(token, i, n);  // not a byte symbol (cannot come from vocab.json): keep as is
        i += n;
      }
    }
    return utf8_decode_replace(bytes);
  }

 private:
  // merges.txt: "#version" line, then "a b" per line, lower line number = higher priority.
  // transformers reads split("\n")[1:-1]: the first and the last line are skipped.
  void load_merges(const std::string& text) {
    std::vector<std::string> lines;
    size_t start = 0;
    while (true) {
      const size_t nl = text.find('\n', start);
      if (nl == std::string::npos) {
        lines.push_back(text.substr(start));
        break;
      }
      lines.push_back(text.substr(start, nl - start));
      start = nl + 1;
    }
    if (lines.size() < 2) return;
    int32_t rank = 0;
    for (size_t l = 1; l + 1 < lines.size(); ++l, ++rank) {
      // merge.split(): any whitespace
      std::vector<std::string> parts;
      const std::string& line = lines[l];
      size_t i = 0;
      while (i < line.size()) {
        while (i < line.size() && std::isspace(static_cast<unsigned char>(line[i]))) ++i;
        size_t j = i;
        while (j < line.size() && !std::isspace(static_cast<unsigned char>(line[j]))) ++j;
        if (j > i) parts.push_back(line.substr(i, j - i));
        i = j;
      }
      if (parts.size() != 2) continue;  // e.g. an empty line: a tuple that never matches a pair
      bpe_ranks_[parts[0] + ' ' + parts[1]] = rank;  // dict(zip(...)): a repeated pair keeps its last rank
    }
  }

  // GPT2Tokenizer.bpe: repeatedly merge every occurrence of the best-ranked adjacent pair.
  void bpe(std::vector<std::string>& word) const {
    while (word.size() > 1) {
      int32_t best_rank = INT32_MAX;
      size_t best = 0;
      for (size_t i = 0; i + 1 < word.size(); ++i) {
        auto it = bpe_ranks_.find(word[i] + ' ' + word[i + 1]);
        if (it != bpe_ranks_.end() && it->second < best_rank) {
          best_rank = it->second;
          best = i;
        }
      }
      if (best_rank == INT32_MAX) break;
      const std::string first = word[best], second = word[best + 1];
      std::vector<std::string> merged;
      merged.reserve(word.size());
      for (size_t i = 0; i < word.size();) {
        if (i + 1 < word.size() && word[i] == first && word[i + 1] == second) {
          merged.push_back(first + second);
          i += 2;
        } else {
          merged.push_back(word[i]);
          ++i;
        }
      }
      word.swap(merged);
    }
  }

  std::unordered_map<std::string, int32_t> encoder_;
  std::unordered_map<int32_t, std::string> decoder_;
  std::unordered_map<std::string, int32_t> bpe_ranks_;
  std::string byte_encoder_[256];
  std::unordered_map<char32_t, uint8_t> byte_decoder_;
  bool add_prefix_space_ = false;
  int32_t cls_id_ = 0, sep_id_ = 0;
};

}  // namespace

std::unique_ptr<Tokenizer> make_bart_tokenizer(const TokenizerFiles& files) {
  return std::make_unique<ByteBpeTokenizer>(files);
}

}  // namespace attend
