// tokenizer/marian_tokenizer.cpp — MarianTokenizer of transformers 4.30: source.spm / target.spm
// pieces looked up in vocab.json (optionally target_vocab.json), a leading ">>xx<<" language code
// split off as one token, </s> appended, decoding through target.spm (or source.spm).
#include "tokenizer/marian_tokenizer.hpp"

#include <algorithm>
#include <unordered_map>

#include "attend/error.hpp"
#include "tokenizer/hf_config.hpp"
#include "tokenizer/slow_tokenizer.hpp"
#include "tokenizer/spm_model.hpp"
#include "tokenizer/text/unicode.hpp"

namespace attend {

std::vector<std::pair<size_t, size_t>> find_marian_language_codes(const std::string& text) {
  // Python: re.compile(">>.+<<") — '.' is any character but '\n', '.+' is greedy.
  std::vector<std::pair<size_t, size_t>> matches;
  size_t i = 0;
  while (i + 1 < text.size()) {
    if (text[i] != '>' || text[i + 1] != '>') {
      ++i;
      continue;
    }
    size_t line_end = text.find('\n', i + 2);
    if (line_end == std::string::npos) line_end = text.size();
    // The last "<<" on this line that leaves at least one character for ".+".
    size_t close = std::string::npos;
    if (line_end >= i + 5) {
      size_t pos = text.rfind("<<", line_end - 2);
      if (pos != std::string::npos && pos >= i + 3) close = pos;
    }
    if (close == std::string::npos) {
      ++i;
      continue;
    }
    matches.emplace_back(i, close + 2);
    i = close + 2;
  }
  return matches;
}

namespace {

class MarianTokenizer final : public SlowTokenizer {
 public:
  explicit MarianTokenizer(const TokenizerFiles& files)
      : SlowTokenizer("marian"),
        source_(require_file(files, "source.spm", "marian"), "source.spm"),
        target_(require_file(files, "target.spm", "marian"), "target.spm") {
    require_file(files, "vocab.json", "marian");
    const HfTokenizerConfig cfg = HfTokenizerConfig::from_files(files);
    clean_up_tokenization_spaces_ = cfg.get_bool("clean_up_tokenization_spaces", true);
    target_lang_ = cfg.get_string("target_lang", "");

    encoder_ = load_vocab_json(files, "vocab.json");
    separate_vocabs_ = cfg.get_bool("separate_vocabs", false);
    if (separate_vocabs_) {
      if (!files.count("target_vocab.json"))
        throw Error("tokenizer (marian): separate_vocabs is true but target_vocab.json is missing");
      target_encoder_ = load_vocab_json(files, "target_vocab.json");
    }
    // decode uses the target vocabulary when the vocabularies are separate.
    for (const auto& kv : separate_vocabs_ ? target_encoder_ : encoder_) {
      decoder_[kv.second] = kv.first;
      base_vocab_size_ = std::max(base_vocab_size_, kv.second + 1);
    }

    const ConfiguredToken eos = cfg.token_or("eos_token", "</s>");
    const ConfiguredToken unk = cfg.token_or("unk_token", "<unk>");
    const ConfiguredToken pad = cfg.token_or("pad_token", "<pad>");
    unk_token_ = unk.content;
    auto unk_it = encoder_.find(unk.content);
    if (unk_it == encoder_.end()) throw Error("tokenizer (marian): vocab.json has no \"" + unk.content + "\" token");
    if (!encoder_.count(pad.content)) throw Error("tokenizer (marian): vocab.json has no \"" + pad.content + "\" token");
    if (!encoder_.count(eos.content)) throw Error("tokenizer (marian): vocab.json has no \"" + eos.content + "\" token");
    unk_id_ = unk_it->second;
    eos_id_ = encoder_.at(eos.content);
    pad_id_ = encoder_.at(pad.content);

    for (const auto& kv : encoder_) {
      const std::string& t = kv.first;
      if (t.size() > 4 && t.compare(0, 2, ">>") == 0 && t.compare(t.size() - 2, 2, "<<") == 0)
        supported_codes_.emplace_back(kv.second, t);
    }
    std::sort(supported_codes_.begin(), supported_codes_.end());

    const SpecialToken p = plain_token_flags();
    set_special_tokens({eos.as_special(p), unk.as_special(p), pad.as_special(p)});
  }

  std::vector<int32_t> encode(const std::string& text) const override {
    return encode_side(with_code(text), Side::Source);
  }
  std::vector<std::string> tokenize(const std::string& text) const override {
    return tokenize_side(with_code(text), Side::Source);
  }

  // Multilingual opus-mt models: the ">>xx<<" tokens of vocab.json.
  std::vector<std::string> language_codes() const override {
    std::vector<std::string> out;
    for (const auto& c : supported_codes_) out.push_back(c.second);
    return out;
  }
  std::optional<int32_t> language_id(const std::string& code) const override {
    const std::string tok = (code.compare(0, 2, ">>") == 0) ? code : ">>" + code + "<<";
    for (const auto& c : supported_codes_)
      if (c.second == tok) return c.first;
    return std::nullopt;
  }
  // The source language is implied by the model and ignored. A target code of a multilingual
  // model ("fra" or ">>fra<<") is put in front of every source text, as users of HF do by hand.
  void check_languages(const std::string&, const std::string& tgt_lang) const override {
    if (tgt_lang.empty()) return;
    if (supported_codes_.empty()) {
      if (tgt_lang == target_lang_) return;  // monolingual model: its own target language
      throw Error("tokenizer (marian): this model has no target language codes (target_lang '" + target_lang_ +
                  "'); cannot select '" + tgt_lang + "'");
    }
    if (!language_id(tgt_lang)) {
      std::string list;
      for (const auto& c : supported_codes_) list += (list.empty() ? "" : ", ") + c.second;
      throw Error("tokenizer (marian): unknown language code '" + tgt_lang + "'; valid codes: " + list);
    }
  }
  void set_languages(const std::string& src_lang, const std::string& tgt_lang) override {
    check_languages(src_lang, tgt_lang);
    code_prefix_ = code_prefix_for(tgt_lang);
  }
  std::vector<int32_t> encode_with_languages(const std::string& text, const std::string& src_lang,
                                             const std::string& tgt_lang) const override {
    check_languages(src_lang, tgt_lang);
    return encode_side(with_code(text, code_prefix_for(tgt_lang)), Side::Source);
  }

 protected:
  // The ">>xx<<" token a (checked) target code puts in front of the text; the current one for "",
  // none for a monolingual model's own target language.
  std::string code_prefix_for(const std::string& tgt_lang) const {
    if (tgt_lang.empty()) return code_prefix_;
    if (supported_codes_.empty()) return "";
    return (tgt_lang.compare(0, 2, ">>") == 0) ? tgt_lang : ">>" + tgt_lang + "<<";
  }
  std::string with_code(const std::string& text) const { return with_code(text, code_prefix_); }
  static std::string with_code(const std::string& text, const std::string& code_prefix) {
    if (code_prefix.empty() || text.compare(0, 2, ">>") == 0) return text;
    return code_prefix + " " + text;
  }

  // _tokenize: remove_language_code + current_spm.encode
  std::vector<std::string> tokenize_chunk(const std::string& chunk, Side side) const override {
    const auto matches = find_marian_language_codes(chunk);
    std::vector<std::string> out;
    std::string rest;
    size_t pos = 0;
    for (const auto& m : matches) {
      if (m.first == 0) out.push_back(chunk.substr(0, m.second));  // re.match: only at the start
      rest.append(chunk, pos, m.first - pos);
      pos = m.second;
    }
    rest.append(chunk, pos, std::string::npos);
    std::vector<std::string> pieces = (side == Side::Source ? source_ : target_).encode(rest);
    out.insert(out.end(), pieces.begin(), pieces.end());
    return out;
  }
  int32_t convert_token_to_id(const std::string& token, Side side) const override {
    const auto& enc = (side == Side::Target && separate_vocabs_) ? target_encoder_ : encoder_;
    auto it = enc.find(token);
    return it != enc.end() ? it->second : unk_id_;
  }
  bool has_token(const std::string& token) const override { return encoder_.count(token) != 0; }
  int32_t base_vocab_size() const override { return base_vocab_size_; }
  std::string convert_id_to_token(int32_t id) const override {
    auto it = decoder_.find(id);
    return it != decoder_.end() ? it->second : unk_token_;
  }
  // Special tokens are emitted verbatim followed by a space; the rest through the side's spm.
  std::string convert_tokens_to_string(const std::vector<std::string>& tokens, Side side) const override {
    const SpmModel& sp = side == Side::Source ? source_ : target_;
    std::vector<std::string> pending;
    std::string out;
    for (const std::string& token : tokens) {
      if (is_special_token_string(token)) {
        out += sp.decode_pieces(pending);
        out += token;
        out += ' ';
        pending.clear();
      } else {
        pending.push_back(token);
      }
    }
    out += sp.decode_pieces(pending);
    return py_strip(out);
  }

 private:
  SpmModel source_, target_;
  std::unordered_map<std::string, int32_t> encoder_, target_encoder_;
  std::unordered_map<int32_t, std::string> decoder_;
  bool separate_vocabs_ = false;
  int32_t base_vocab_size_ = 0;
  std::string target_lang_;
  std::vector<std::pair<int32_t, std::string>> supported_codes_;  // (id, ">>xx<<") sorted by id
  std::string code_prefix_;
};

}  // namespace

std::unique_ptr<Tokenizer> make_marian_tokenizer(const TokenizerFiles& files) {
  return std::make_unique<MarianTokenizer>(files);
}

}  // namespace attend
