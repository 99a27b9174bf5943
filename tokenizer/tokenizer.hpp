// tokenizer/tokenizer.hpp — public tokenizer API: Hugging Face transformers 4.30 *slow* tokenizers
// (Marian, T5, Pegasus, mBART-50, M2M100, NLLB, BART byte-level BPE) reproduced exactly, built from
// the tokenizer files of a checkpoint held in memory, plus a streaming decoder.
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace attend {

// File name -> file bytes ("source.spm", "vocab.json", "merges.txt", "spiece.model",
// "sentencepiece.bpe.model", "tokenizer_config.json", "special_tokens_map.json", ...).
using TokenizerFiles = std::map<std::string, std::string>;

// All methods are const and thread-safe except set_languages(). A tokenizer shared between callers
// (a loaded Model's) is never changed: each call passes its languages to encode_with_languages().
class Tokenizer {
 public:
  virtual ~Tokenizer() = default;

  // The kind this tokenizer was made for ("marian", "t5", ...).
  virtual std::string kind() const = 0;

  // tokenizer(text).input_ids: source side, with the family's prefix/suffix tokens.
  virtual std::vector<int32_t> encode(const std::string& text) const = 0;
  // tokenizer(text_target=text).input_ids.
  virtual std::vector<int32_t> encode_target(const std::string& text) const = 0;
  // tokenizer.tokenize(text): subword pieces, special tokens found in the text included, no
  // prefix/suffix tokens added.
  virtual std::vector<std::string> tokenize(const std::string& text) const = 0;
  // The same in target mode (Marian: target.spm; language tokens are not part of pieces).
  virtual std::vector<std::string> tokenize_target(const std::string& text) const { return tokenize(text); }

  // tokenizer.decode(ids, skip_special_tokens) with clean_up_tokenization_spaces as configured
  // (target side: Marian decodes with target.spm). Ids outside the vocabulary decode like the
  // unknown token (and are dropped when skip_special_tokens).
  virtual std::string decode(const std::vector<int32_t>& ids, bool skip_special_tokens = true) const = 0;
  // Marian: decode with source.spm (use_source_tokenizer=True); other families: decode().
  virtual std::string decode_source(const std::vector<int32_t>& ids, bool skip_special_tokens = true) const {
    return decode(ids, skip_special_tokens);
  }

  // convert_ids_to_tokens(id); throws attend::Error for ids outside [0, vocab_size()).
  virtual std::string id_to_token(int32_t id) const = 0;
  // The id of a token string if the vocabulary (or the special tokens) has it, else nullopt.
  virtual std::optional<int32_t> token_to_id(const std::string& token) const = 0;
  // len(tokenizer): vocabulary size including the family's added/special tokens.
  virtual int32_t vocab_size() const = 0;
  // Whether id is one of all_special_ids (what skip_special_tokens drops).
  virtual bool is_special_id(int32_t id) const = 0;

  virtual int32_t pad_id() const = 0;
  virtual int32_t eos_id() const = 0;
  virtual int32_t unk_id() const = 0;
  virtual std::optional<int32_t> bos_id() const { return std::nullopt; }

  // Language codes as the family spells them (mbart50 "en_XX", m2m100 "en", nllb "eng_Latn",
  // marian multilingual target codes ">>fra<<"); empty for monolingual families.
  virtual std::vector<std::string> language_codes() const { return {}; }
  // Sets source/target language. An empty string leaves that side unchanged. Throws
  // attend::Error listing the valid codes when a code is unknown (or the family has none).
  virtual void set_languages(const std::string& src_lang, const std::string& tgt_lang);
  // The checks of set_languages() without changing anything.
  virtual void check_languages(const std::string& src_lang, const std::string& tgt_lang) const;
  // encode(text) with these languages for this call only; an empty code means the tokenizer's own
  // (tokenizer_config.json's, or what set_languages() chose). Throws like set_languages().
  // Multilingual SentencePiece families: the source language token; Marian: a target code
  // ">>xx<<" put in front of the text.
  virtual std::vector<int32_t> encode_with_languages(const std::string& text, const std::string& src_lang,
                                                     const std::string& tgt_lang) const;
  // Id to force as BOS / use as decoder start, if a target language is set.
  virtual std::optional<int32_t> target_language_id() const { return std::nullopt; }
  // Id of a language code's token (mbart50/nllb: the code; m2m100: "__xx__"), nullopt if unknown.
  virtual std::optional<int32_t> language_id(const std::string& code) const;
};

// kind: "marian", "t5", "pegasus", "mbart50", "m2m100", "nllb", "bart". Throws attend::Error
// naming the missing/bad file or the unknown kind.
std::unique_ptr<Tokenizer> make_tokenizer(const std::string& kind, const TokenizerFiles& files);

// Names of the files a kind reads: the required ones first, then the optional ones
// (tokenizer_config.json, special_tokens_map.json, ...). A converter packs those that exist.
std::vector<std::string> tokenizer_file_names(const std::string& kind);
// Only the files make_tokenizer() cannot do without.
std::vector<std::string> required_tokenizer_file_names(const std::string& kind);
// A guess of the kind from the files present in a HF checkpoint directory and config.json's
// model_type ("" if none fits). NLLB checkpoints have model_type "m2m_100" and no vocab.json.
// model_type "mbart" is taken for mBART-50 (MBart50Tokenizer); the mbart-large-cc25 layout
// (MBartTokenizer: "X </s> [lang]") is not supported. When tokenizer_config.json names its
// tokenizer_class, tokenizer_kind_for_class() is the better source.
std::string detect_tokenizer_kind(const std::string& model_type, const std::vector<std::string>& files_present);
// The kind implementing a transformers tokenizer class ("MarianTokenizer" -> "marian",
// "T5TokenizerFast" -> "t5", ...); "" if none.
std::string tokenizer_kind_for_class(const std::string& tokenizer_class);
// All kinds make_tokenizer() accepts.
std::vector<std::string> tokenizer_kinds();

// tokenizer(texts, padding=True): right padding with pad_id, attention mask 1/0.
struct EncodedBatch {
  std::vector<std::vector<int32_t>> input_ids;
  std::vector<std::vector<int32_t>> attention_mask;
};
EncodedBatch encode_batch(const Tokenizer& tokenizer, const std::vector<std::string>& texts,
                          bool target = false);

// Streaming detokenizer: feed generated ids one at a time and get the text that is final.
// Text is held back while it could still change: an incomplete UTF-8 sequence at the end (shown
// as U+FFFD by decode), trailing whitespace (decode strips it, or the next piece decides), and a
// space that a following token could remove through clean_up_tokenization_spaces (" ." " n't" ...).
// With skip_special_tokens=false the text after the last special token is also held until the
// next special token (T5 / mBART-50 decide its spacing only then).
// The concatenation of all push() results and finish() equals decode(all ids).
// Work is linear in the length: once all text so far is final, later pushes decode only the ids
// after that point plus kContext tokens before it (whose decoding is cached), so a long sequence
// is not re-decoded at every token; finish() decodes the whole sequence once. (With
// skip_special_tokens=false that point is only taken right after a special token.)
class IncrementalDecoder {
 public:
  explicit IncrementalDecoder(const Tokenizer& tokenizer, bool skip_special_tokens = true);
  // Adds one id; returns the newly completed text (often empty).
  std::string push(int32_t id);
  // Returns everything not yet emitted (call once at the end of the sequence).
  std::string finish();
  // Forgets all ids and emitted text.
  void reset();
  const std::string& emitted() const { return emitted_; }
  const std::vector<int32_t>& ids() const { return ids_; }

  // Tokens of context decoded before the last point where all text was final.
  static constexpr size_t kContext = 8;

 private:
  std::string decode_range(size_t from, size_t to) const;
  std::string text_upto(size_t to);

  const Tokenizer& tokenizer_;
  bool skip_special_tokens_;
  std::vector<int32_t> ids_;
  std::string emitted_;
  size_t committed_ = 0;        // ids_[0:committed_] decode to committed_text_, all final (0: none)
  size_t window_ = 0;           // committed_ - kContext: where the window's decoding starts
  std::string committed_text_;
  std::string window_head_;     // decode(ids_[window_:committed_])
};

}  // namespace attend
