// tokenizer/slow_tokenizer.cpp — PreTrainedTokenizer.tokenize / encode / _decode of transformers
// 4.30, on top of the family hooks.
#include "tokenizer/slow_tokenizer.hpp"

#include "attend/error.hpp"
#include "tokenizer/text/cleanup.hpp"

namespace attend {

void SlowTokenizer::set_special_tokens(const std::vector<SpecialToken>& tokens) {
  splitter_ = SpecialTokenSplitter(tokens);
  special_list_.clear();
  special_strings_.clear();
  special_ids_.clear();
  added_encoder_.clear();
  added_decoder_.clear();
  for (const SpecialToken& t : tokens) {
    if (t.content.empty() || special_strings_.count(t.content)) continue;
    special_strings_.insert(t.content);
    special_list_.push_back(t.content);
    if (t.content != unk_token_ && convert_token_to_id(t.content, Side::Source) == unk_id_) {
      const int32_t id = vocab_size();
      added_encoder_[t.content] = id;
      added_decoder_[id] = t.content;
    }
  }
  for (const std::string& content : special_list_) {
    auto added = added_encoder_.find(content);
    special_ids_.insert(added != added_encoder_.end() ? added->second : convert_token_to_id(content, Side::Source));
  }
}

std::vector<std::string> SlowTokenizer::tokenize_side(const std::string& text, Side side) const {
  std::vector<std::string> out;
  for (const TextSegment& seg : splitter_.split(prepare_for_tokenization(text))) {
    if (seg.special) {
      out.push_back(seg.text);
    } else {
      std::vector<std::string> pieces = tokenize_chunk(seg.text, side);
      out.insert(out.end(), pieces.begin(), pieces.end());
    }
  }
  return out;
}

std::vector<int32_t> SlowTokenizer::text_ids(const std::string& text, Side side) const {
  std::vector<int32_t> ids;
  for (const std::string& token : tokenize_side(text, side)) {
    auto added = added_encoder_.find(token);
    ids.push_back(added != added_encoder_.end() ? added->second : convert_token_to_id(token, side));
  }
  return ids;
}

std::vector<int32_t> SlowTokenizer::encode_side(const std::string& text, Side side) const {
  return build_inputs(text_ids(text, side), side);
}

std::vector<int32_t> SlowTokenizer::build_inputs(std::vector<int32_t> ids, Side) const {
  ids.push_back(eos_id_);
  return ids;
}

std::string SlowTokenizer::id_to_token(int32_t id) const {
  if (id < 0 || id >= vocab_size())
    throw Error("tokenizer (" + kind_ + "): token id " + std::to_string(id) + " outside the vocabulary [0, " +
                std::to_string(vocab_size()) + ")");
  auto added = added_decoder_.find(id);
  if (added != added_decoder_.end()) return added->second;
  if (id >= base_vocab_size()) return unk_token_;
  return convert_id_to_token(id);
}

std::optional<int32_t> SlowTokenizer::token_to_id(const std::string& token) const {
  auto added = added_encoder_.find(token);
  if (added != added_encoder_.end()) return added->second;
  if (!has_token(token)) return std::nullopt;
  return convert_token_to_id(token, Side::Source);
}

std::string SlowTokenizer::decode_side(const std::vector<int32_t>& ids, bool skip_special_tokens, Side side) const {
  // convert_ids_to_tokens(ids, skip_special_tokens)
  std::vector<std::string> tokens;
  tokens.reserve(ids.size());
  const int32_t size = vocab_size();
  for (int32_t id : ids) {
    if (id < 0 || id >= size) {  // not a token of this tokenizer: treated as the unknown token
      if (!skip_special_tokens) tokens.push_back(unk_token_);
      continue;
    }
    if (skip_special_tokens && special_ids_.count(id)) continue;
    auto added = added_decoder_.find(id);
    if (added != added_decoder_.end())
      tokens.push_back(added->second);
    else
      tokens.push_back(id < base_vocab_size() ? convert_id_to_token(id) : unk_token_);
  }
  // _decode: added tokens are kept apart from the sub-texts and everything is joined with spaces
  // (spaces_between_special_tokens=True).
  std::string text;
  if (added_encoder_.empty()) {
    if (!tokens.empty()) text = convert_tokens_to_string(tokens, side);
  } else {
    std::vector<std::string> sub_texts, current;
    for (std::string& token : tokens) {
      if (added_encoder_.count(token)) {
        if (!current.empty()) sub_texts.push_back(convert_tokens_to_string(current, side));
        current.clear();
        sub_texts.push_back(std::move(token));
      } else {
        current.push_back(std::move(token));
      }
    }
    if (!current.empty()) sub_texts.push_back(convert_tokens_to_string(current, side));
    for (size_t i = 0; i < sub_texts.size(); ++i) {
      if (i) text += ' ';
      text += sub_texts[i];
    }
  }
  if (clean_up_tokenization_spaces_) text = clean_up_tokenization(std::move(text));
  return text;
}

}  // namespace attend
