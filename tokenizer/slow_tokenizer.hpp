// tokenizer/slow_tokenizer.hpp — the generic part of transformers' PreTrainedTokenizer (slow
// tokenizers) shared by every family: special-token splitting, token <-> id conversion,
// prefix/suffix tokens, decode with skip_special_tokens, added tokens and clean-up.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "tokenizer/special_tokens.hpp"
#include "tokenizer/tokenizer.hpp"

namespace attend {

enum class Side { Source, Target };

class SlowTokenizer : public Tokenizer {
 public:
  std::string kind() const override { return kind_; }
  std::vector<int32_t> encode(const std::string& text) const override { return encode_side(text, Side::Source); }
  std::vector<int32_t> encode_target(const std::string& text) const override {
    return encode_side(text, Side::Target);
  }
  std::vector<std::string> tokenize(const std::string& text) const override {
    return tokenize_side(text, Side::Source);
  }
  std::vector<std::string> tokenize_target(const std::string& text) const override {
    return tokenize_side(text, Side::Target);
  }
  std::string decode(const std::vector<int32_t>& ids, bool skip_special_tokens = true) const override {
    return decode_side(ids, skip_special_tokens, Side::Target);
  }
  std::string decode_source(const std::vector<int32_t>& ids, bool skip_special_tokens = true) const override {
    return decode_side(ids, skip_special_tokens, Side::Source);
  }
  std::string id_to_token(int32_t id) const override;
  std::optional<int32_t> token_to_id(const std::string& token) const override;
  bool is_special_id(int32_t id) const override { return special_ids_.count(id) != 0; }
  // len(tokenizer): the model vocabulary plus special tokens it lacks (added at its end).
  int32_t vocab_size() const final {
    return base_vocab_size() + static_cast<int32_t>(added_encoder_.size());
  }
  int32_t pad_id() const override { return pad_id_; }
  int32_t eos_id() const override { return eos_id_; }
  int32_t unk_id() const override { return unk_id_; }
  std::optional<int32_t> bos_id() const override { return bos_id_; }

  std::vector<int32_t> encode_side(const std::string& text, Side side) const;
  // encode_side() without build_inputs(): the ids of the text alone.
  std::vector<int32_t> text_ids(const std::string& text, Side side) const;
  std::vector<std::string> tokenize_side(const std::string& text, Side side) const;
  std::string decode_side(const std::vector<int32_t>& ids, bool skip_special_tokens, Side side) const;

 protected:
  explicit SlowTokenizer(std::string kind) : kind_(std::move(kind)) {}

  // ---- family hooks (the overridable methods of PreTrainedTokenizer) ----
  // prepare_for_tokenization: applied to the whole text before the special-token split.
  virtual std::string prepare_for_tokenization(const std::string& text) const { return text; }
  // _tokenize: one chunk of text without special tokens -> pieces.
  virtual std::vector<std::string> tokenize_chunk(const std::string& chunk, Side side) const = 0;
  // _convert_token_to_id (unknown tokens -> the unknown id).
  virtual int32_t convert_token_to_id(const std::string& token, Side side) const = 0;
  // Whether the vocabulary really has the token (for token_to_id()).
  virtual bool has_token(const std::string& token) const = 0;
  // The vocab_size property (without added tokens).
  virtual int32_t base_vocab_size() const = 0;
  // _convert_id_to_token for 0 <= id < base_vocab_size().
  virtual std::string convert_id_to_token(int32_t id) const = 0;
  // build_inputs_with_special_tokens for one sequence.
  virtual std::vector<int32_t> build_inputs(std::vector<int32_t> ids, Side side) const;
  // convert_tokens_to_string.
  virtual std::string convert_tokens_to_string(const std::vector<std::string>& tokens, Side side) const = 0;

  // ---- set-up helpers for the derived constructors ----
  // Registers the special tokens (all_special_tokens_extended in HF order: bos, eos, unk, sep,
  // pad, cls, mask, additional...; duplicates allowed). Must be called by the most derived
  // constructor once the vocabulary and unk_id_/unk_token_ are set. As from_pretrained's
  // sanitize_special_tokens does, special tokens the vocabulary lacks (they convert to the
  // unknown id) are added after it (added_tokens_encoder); decode keeps those apart and joins
  // them with spaces, like PreTrainedTokenizer._decode.
  void set_special_tokens(const std::vector<SpecialToken>& tokens);
  bool is_special_token_string(const std::string& token) const { return special_strings_.count(token) != 0; }
  const std::vector<std::string>& special_token_strings() const { return special_list_; }

  std::string kind_;
  bool clean_up_tokenization_spaces_ = true;
  std::string unk_token_ = "<unk>";
  int32_t pad_id_ = 0;
  int32_t eos_id_ = 0;
  int32_t unk_id_ = 0;
  std::optional<int32_t> bos_id_;

 private:
  SpecialTokenSplitter splitter_;
  std::vector<std::string> special_list_;
  std::unordered_set<std::string> special_strings_;
  std::unordered_set<int32_t> special_ids_;
  std::unordered_map<std::string, int32_t> added_encoder_;
  std::unordered_map<int32_t, std::string> added_decoder_;
};

}  // namespace attend
