// tokenizer/sentencepiece_family.cpp — the sentencepiece tokenizers of transformers 4.30 other than
// Marian: T5Tokenizer, PegasusTokenizer, MBart50Tokenizer, NllbTokenizer and M2M100Tokenizer
// (id layouts, language tokens, prefix/suffix tokens and each class's convert_tokens_to_string).
#include "tokenizer/sentencepiece_family.hpp"

#include <algorithm>
#include <unordered_map>

#include "attend/error.hpp"
#include "tokenizer/text/cleanup.hpp"
#include "tokenizer/hf_config.hpp"
#include "tokenizer/language_codes.hpp"
#include "tokenizer/slow_tokenizer.hpp"
#include "tokenizer/spm_model.hpp"
#include "tokenizer/text/unicode.hpp"

namespace attend {
namespace {

const char kSpieceUnderline[] = "\xE2\x96\x81";  // U+2581 "▁"

std::string join_codes(const std::vector<std::string>& codes) {
  std::string s;
  for (size_t i = 0; i < codes.size(); ++i) s += (i ? ", " : "") + codes[i];
  return s;
}

[[noreturn]] void unknown_language(const std::string& kind, const std::string& code,
                                   const std::vector<std::string>& codes) {
  throw Error("tokenizer (" + kind + "): unknown language code '" + code + "'; valid codes: " + join_codes(codes));
}

// The three convert_tokens_to_string variants of these classes. Tokens in `is_special` are never
// given to sentencepiece.
enum class JoinStyle {
  T5,      // " " before a special token unless the previous token was special too
           // (T5Tokenizer, MBart50Tokenizer)
  Plain,   // special tokens glued to the decoded text (PegasusTokenizer, M2M100Tokenizer)
  Concat,  // "".join(tokens).replace("▁", " ") (NllbTokenizer)
};

template <typename IsSpecial>
std::string join_tokens(const SpmModel& sp, const std::vector<std::string>& tokens, JoinStyle style,
                        IsSpecial is_special) {
  std::string out;
  if (style == JoinStyle::Concat) {
    for (const std::string& t : tokens) out += t;
    out = replace_all(std::move(out), kSpieceUnderline, " ");
    return py_strip(out);
  }
  std::vector<std::string> pending;
  bool prev_is_special = false;
  for (const std::string& token : tokens) {
    if (is_special(token)) {
      if (style == JoinStyle::T5 && !prev_is_special) out += ' ';
      out += sp.decode_pieces(pending);
      out += token;
      pending.clear();
      prev_is_special = true;
    } else {
      pending.push_back(token);
      prev_is_special = false;
    }
  }
  out += sp.decode_pieces(pending);
  return py_strip(out);
}

// Common base: one sentencepiece model, special tokens from the config files.
class SpmFamilyTokenizer : public SlowTokenizer {
 protected:
  SpmFamilyTokenizer(const std::string& kind, const TokenizerFiles& files, const std::string& model_file)
      : SlowTokenizer(kind), sp_(require_file(files, model_file, kind), model_file),
        cfg_(HfTokenizerConfig::from_files(files)) {
    clean_up_tokenization_spaces_ = cfg_.get_bool("clean_up_tokenization_spaces", true);
  }

  std::vector<std::string> tokenize_chunk(const std::string& chunk, Side) const override {
    return sp_.encode(chunk);
  }

  // The final additional_special_tokens: special_tokens_map.json's list if present, else what the
  // class constructor made of tokenizer_config.json's list (`merge`).
  template <typename Merge>
  std::vector<SpecialToken> additional_tokens(Merge merge) const {
    std::vector<SpecialToken> out;
    auto from_map = cfg_.map_additional_special_tokens();
    if (from_map) {
      for (const ConfiguredToken& t : *from_map) out.push_back(t.as_special(plain_token_flags()));
      return out;
    }
    std::vector<ConfiguredToken> given;
    if (auto c = cfg_.config_additional_special_tokens()) given = *c;
    for (const ConfiguredToken& t : merge(given)) out.push_back(t.as_special(plain_token_flags()));
    return out;
  }

  static ConfiguredToken plain(const std::string& content) {
    ConfiguredToken t;
    t.content = content;
    return t;
  }

  SpmModel sp_;
  HfTokenizerConfig cfg_;
};

// ---------------------------------------------------------------------------------------------
// T5Tokenizer: ids = sentencepiece ids; <extra_id_N> = vocab_size - 1 - N.
class T5Tokenizer final : public SpmFamilyTokenizer {
 public:
  explicit T5Tokenizer(const TokenizerFiles& files) : SpmFamilyTokenizer("t5", files, "spiece.model") {
    const int64_t extra = cfg_.get_int("extra_ids", 100);
    if (extra < 0 || extra > 100000) throw Error("tokenizer (t5): tokenizer_config.json: bad extra_ids");
    extra_ids_ = static_cast<int32_t>(extra);
    const ConfiguredToken eos = cfg_.token_or("eos_token", "</s>");
    const ConfiguredToken unk = cfg_.token_or("unk_token", "<unk>");
    const ConfiguredToken pad = cfg_.token_or("pad_token", "<pad>");
    unk_token_ = unk.content;
    unk_id_ = convert_token_to_id(unk.content, Side::Source);
    eos_id_ = convert_token_to_id(eos.content, Side::Source);
    pad_id_ = convert_token_to_id(pad.content, Side::Source);

    std::vector<SpecialToken> specials = {eos.as_special(plain_token_flags()), unk.as_special(plain_token_flags()),
                                          pad.as_special(plain_token_flags())};
    auto additional = additional_tokens([&](std::vector<ConfiguredToken> given) {
      if (given.empty())
        for (int32_t i = 0; i < extra_ids_; ++i) given.push_back(plain("<extra_id_" + std::to_string(i) + ">"));
      return given;
    });
    specials.insert(specials.end(), additional.begin(), additional.end());
    set_special_tokens(specials);
  }

 protected:
  int32_t base_vocab_size() const override { return sp_.size() + extra_ids_; }

  // re.match(r"<extra_id_(\d+)>", token) for tokens starting with "<extra_id_".
  static bool parse_sentinel(const std::string& token, int64_t* num) {
    static const std::string prefix = "<extra_id_";
    if (token.compare(0, prefix.size(), prefix) != 0) return false;
    size_t i = prefix.size();
    int64_t v = 0;
    size_t digits = 0;
    while (i < token.size() && token[i] >= '0' && token[i] <= '9' && digits < 12) {
      v = v * 10 + (token[i] - '0');
      ++i;
      ++digits;
    }
    if (digits == 0 || i >= token.size() || token[i] != '>') return false;
    *num = v;
    return true;
  }

  int32_t convert_token_to_id(const std::string& token, Side) const override {
    int64_t num = 0;
    if (parse_sentinel(token, &num)) return static_cast<int32_t>(base_vocab_size() - num - 1);
    return sp_.piece_to_id(token);
  }
  bool has_token(const std::string& token) const override {
    int64_t num = 0;
    if (parse_sentinel(token, &num)) return num < extra_ids_ && token.size() == std::to_string(num).size() + 11;
    return sp_.has_piece(token);
  }
  std::string convert_id_to_token(int32_t id) const override {
    if (id < sp_.size()) return sp_.id_to_piece(id);
    return "<extra_id_" + std::to_string(base_vocab_size() - 1 - id) + ">";
  }
  // _add_eos_if_not_present
  std::vector<int32_t> build_inputs(std::vector<int32_t> ids, Side) const override {
    if (ids.empty() || ids.back() != eos_id_) ids.push_back(eos_id_);
    return ids;
  }
  std::string convert_tokens_to_string(const std::vector<std::string>& tokens, Side) const override {
    return join_tokens(sp_, tokens, JoinStyle::T5, [this](const std::string& t) { return is_special_token_string(t); });
  }

 private:
  int32_t extra_ids_ = 100;
};

// ---------------------------------------------------------------------------------------------
// PegasusTokenizer: sentencepiece id + offset; ids below offset are <pad>, </s>, <mask_1>,
// <mask_2>, <unk_2> ... <unk_102>.
class PegasusTokenizer final : public SpmFamilyTokenizer {
 public:
  explicit PegasusTokenizer(const TokenizerFiles& files) : SpmFamilyTokenizer("pegasus", files, "spiece.model") {
    const int64_t offset = cfg_.get_int("offset", 103);
    if (offset < 0 || offset > 100000) throw Error("tokenizer (pegasus): tokenizer_config.json: bad offset");
    offset_ = static_cast<int32_t>(offset);
    const ConfiguredToken eos = cfg_.token_or("eos_token", "</s>");
    const ConfiguredToken unk = cfg_.token_or("unk_token", "<unk>");
    const ConfiguredToken pad = cfg_.token_or("pad_token", "<pad>");
    const ConfiguredToken mask = cfg_.token_or("mask_token", "<mask_2>");
    const std::optional<ConfiguredToken> mask_sent = cfg_.token_or("mask_token_sent", "<mask_1>");

    auto additional = additional_tokens([&](const std::vector<ConfiguredToken>& given) {
      std::vector<ConfiguredToken> ext;
      if (!given.empty()) {
        const bool has_sent = mask_sent && std::any_of(given.begin(), given.end(), [&](const ConfiguredToken& t) {
                                return t.content == mask_sent->content;
                              });
        if (mask_sent && !has_sent) ext.push_back(*mask_sent);
        ext.insert(ext.end(), given.begin(), given.end());
        for (int32_t i = static_cast<int32_t>(ext.size()); i < offset_ - 1; ++i)
          ext.push_back(plain("<unk_" + std::to_string(i) + ">"));
      } else {
        if (mask_sent) ext.push_back(*mask_sent);
        for (int32_t i = 2; i < offset_; ++i) ext.push_back(plain("<unk_" + std::to_string(i) + ">"));
      }
      return ext;
    });

    // self.encoder: the reserved ids.
    encoder_[0] = pad.content;
    encoder_[1] = eos.content;
    if (mask_sent) {
      encoder_[2] = mask_sent->content;
      encoder_[3] = mask.content;
    }
    for (int32_t i = 1; i < offset_ - 1 && i < static_cast<int32_t>(additional.size()); ++i)
      encoder_[i + 3] = additional[i].content;
    for (const auto& kv : encoder_) decoder_[kv.second] = kv.first;

    unk_token_ = unk.content;
    unk_id_ = convert_token_to_id(unk.content, Side::Source);
    eos_id_ = convert_token_to_id(eos.content, Side::Source);
    pad_id_ = convert_token_to_id(pad.content, Side::Source);

    std::vector<SpecialToken> specials = {eos.as_special(plain_token_flags()), unk.as_special(plain_token_flags()),
                                          pad.as_special(plain_token_flags()), mask.as_special(plain_token_flags())};
    specials.insert(specials.end(), additional.begin(), additional.end());
    set_special_tokens(specials);
  }

 protected:
  int32_t base_vocab_size() const override { return sp_.size() + offset_; }
  int32_t convert_token_to_id(const std::string& token, Side) const override {
    auto it = decoder_.find(token);
    if (it != decoder_.end()) return it->second;
    return sp_.piece_to_id(token) + offset_;
  }
  bool has_token(const std::string& token) const override { return decoder_.count(token) || sp_.has_piece(token); }
  std::string convert_id_to_token(int32_t id) const override {
    auto it = encoder_.find(id);
    if (it != encoder_.end()) return it->second;
    if (id < offset_) return unk_token_;  // reserved id without a token (no mask_token_sent)
    return sp_.id_to_piece(id - offset_);
  }
  std::string convert_tokens_to_string(const std::vector<std::string>& tokens, Side) const override {
    return join_tokens(sp_, tokens, JoinStyle::Plain,
                       [this](const std::string& t) { return is_special_token_string(t); });
  }

 private:
  int32_t offset_ = 103;
  std::unordered_map<int32_t, std::string> encoder_;
  std::unordered_map<std::string, int32_t> decoder_;
};

// ---------------------------------------------------------------------------------------------
// Language handling shared by the multilingual classes.
class MultilingualSpmTokenizer : public SpmFamilyTokenizer {
 public:
  std::vector<std::string> language_codes() const override { return codes_; }
  void check_languages(const std::string& src_lang, const std::string& tgt_lang) const override {
    if (!src_lang.empty() && !language_id(src_lang)) unknown_language(kind_, src_lang, codes_);
    if (!tgt_lang.empty() && !language_id(tgt_lang)) unknown_language(kind_, tgt_lang, codes_);
  }
  void set_languages(const std::string& src_lang, const std::string& tgt_lang) override {
    check_languages(src_lang, tgt_lang);
    if (!src_lang.empty()) src_lang_ = src_lang;
    if (!tgt_lang.empty()) tgt_lang_ = tgt_lang;
  }
  std::vector<int32_t> encode_with_languages(const std::string& text, const std::string& src_lang,
                                             const std::string& tgt_lang) const override {
    check_languages(src_lang, tgt_lang);
    const std::string& code = src_lang.empty() ? src_lang_ : src_lang;
    return add_language(text_ids(text, Side::Source), language_id_of(code, Side::Source));
  }
  std::optional<int32_t> target_language_id() const override {
    if (tgt_lang_.empty()) return std::nullopt;
    return language_id(tgt_lang_);
  }

 protected:
  using SpmFamilyTokenizer::SpmFamilyTokenizer;

  // build_inputs_with_special_tokens with the language token `lang` of the side being encoded.
  virtual std::vector<int32_t> add_language(std::vector<int32_t> ids, int32_t lang) const = 0;
  std::vector<int32_t> build_inputs(std::vector<int32_t> ids, Side side) const final {
    return add_language(std::move(ids), language_id_of(side == Side::Source ? src_lang_ : tgt_lang_, side));
  }

  // Id of the language `code` for `side`; throws if the code is empty (that side has none).
  int32_t language_id_of(const std::string& code, Side side) const {
    if (code.empty())
      throw Error("tokenizer (" + kind_ + "): no " + std::string(side == Side::Source ? "source" : "target") +
                  " language set (set_languages, or src_lang/tgt_lang in tokenizer_config.json)");
    auto id = language_id(code);
    if (!id) unknown_language(kind_, code, codes_);
    return *id;
  }

  // src_lang/tgt_lang of tokenizer_config.json (the class default source when absent).
  void init_languages(const std::string& default_src) {
    src_lang_ = cfg_.get_string("src_lang", default_src);
    tgt_lang_ = cfg_.get_string("tgt_lang", "");
    if (!src_lang_.empty() && !language_id(src_lang_)) unknown_language(kind_, src_lang_, codes_);
    if (!tgt_lang_.empty() && !language_id(tgt_lang_)) unknown_language(kind_, tgt_lang_, codes_);
  }

  std::vector<std::string> codes_;
  std::string src_lang_, tgt_lang_;
};

// ---------------------------------------------------------------------------------------------
// MBart50Tokenizer / NllbTokenizer: fairseq layout <s> <pad> </s> <unk>, piece p -> p + 1, then the
// language codes, then <mask>.
class FairseqSpmTokenizer final : public MultilingualSpmTokenizer {
 public:
  FairseqSpmTokenizer(const std::string& kind, const TokenizerFiles& files)
      : MultilingualSpmTokenizer(kind, files, "sentencepiece.bpe.model") {
    const bool nllb = kind == "nllb";
    codes_ = nllb ? nllb_language_codes() : mbart50_language_codes();
    legacy_ = nllb && cfg_.get_bool("legacy_behaviour", false);

    fairseq_ = {{"<s>", 0}, {"<pad>", 1}, {"</s>", 2}, {"<unk>", 3}};
    const int32_t sp_size = sp_.size();
    for (size_t i = 0; i < codes_.size(); ++i) fairseq_[codes_[i]] = sp_size + static_cast<int32_t>(i) + 1;
    fairseq_["<mask>"] = sp_size + static_cast<int32_t>(codes_.size()) + 1;
    for (const auto& kv : fairseq_) fairseq_ids_[kv.second] = kv.first;

    const ConfiguredToken bos = cfg_.token_or("bos_token", "<s>");
    const ConfiguredToken eos = cfg_.token_or("eos_token", "</s>");
    const ConfiguredToken sep = cfg_.token_or("sep_token", "</s>");
    const ConfiguredToken cls = cfg_.token_or("cls_token", "<s>");
    const ConfiguredToken unk = cfg_.token_or("unk_token", "<unk>");
    const ConfiguredToken pad = cfg_.token_or("pad_token", "<pad>");
    const ConfiguredToken mask = cfg_.token_or("mask_token", "<mask>");
    unk_token_ = unk.content;
    unk_id_ = convert_token_to_id(unk.content, Side::Source);
    eos_id_ = convert_token_to_id(eos.content, Side::Source);
    pad_id_ = convert_token_to_id(pad.content, Side::Source);
    bos_id_ = convert_token_to_id(bos.content, Side::Source);

    const SpecialToken p = plain_token_flags();
    const SpecialToken mask_default{"", true, false};  // AddedToken(mask, lstrip=True, rstrip=False)
    std::vector<SpecialToken> specials = {bos.as_special(p), eos.as_special(p), unk.as_special(p),
                                          sep.as_special(p), pad.as_special(p), cls.as_special(p),
                                          mask.as_special(mask_default)};
    auto additional = additional_tokens([&](const std::vector<ConfiguredToken>& given) {
      std::vector<ConfiguredToken> out;
      auto contains = [](const std::vector<ConfiguredToken>& v, const std::string& c) {
        return std::any_of(v.begin(), v.end(), [&](const ConfiguredToken& t) { return t.content == c; });
      };
      if (nllb) {  // codes first, then the given ones not already there
        for (const std::string& c : codes_) out.push_back(plain(c));
        for (const ConfiguredToken& t : given)
          if (!contains(out, t.content)) out.push_back(t);
      } else {  // given ones, then the codes not already there
        out = given;
        for (const std::string& c : codes_)
          if (!contains(given, c)) out.push_back(plain(c));
      }
      return out;
    });
    specials.insert(specials.end(), additional.begin(), additional.end());
    set_special_tokens(specials);
    init_languages(nllb ? "eng_Latn" : "en_XX");
  }

  std::optional<int32_t> language_id(const std::string& code) const override {
    if (std::find(codes_.begin(), codes_.end(), code) == codes_.end()) return std::nullopt;
    return fairseq_.at(code);
  }

 protected:
  int32_t base_vocab_size() const override { return sp_.size() + static_cast<int32_t>(codes_.size()) + 2; }
  int32_t convert_token_to_id(const std::string& token, Side) const override {
    auto it = fairseq_.find(token);
    if (it != fairseq_.end()) return it->second;
    const int32_t spm_id = sp_.piece_to_id(token);
    return spm_id ? spm_id + 1 : unk_id_;  // spm id 0 is sentencepiece's own <unk>
  }
  bool has_token(const std::string& token) const override {
    return fairseq_.count(token) || (sp_.has_piece(token) && sp_.piece_to_id(token) != 0);
  }
  std::string convert_id_to_token(int32_t id) const override {
    auto it = fairseq_ids_.find(id);
    if (it != fairseq_ids_.end()) return it->second;
    return sp_.id_to_piece(id - 1);
  }
  std::vector<int32_t> add_language(std::vector<int32_t> ids, int32_t lang) const override {
    if (legacy_) {  // NLLB legacy_behaviour: X </s> [lang]
      ids.push_back(eos_id_);
      ids.push_back(lang);
      return ids;
    }
    ids.insert(ids.begin(), lang);
    ids.push_back(eos_id_);
    return ids;
  }
  std::string convert_tokens_to_string(const std::vector<std::string>& tokens, Side) const override {
    return join_tokens(sp_, tokens, kind_ == "nllb" ? JoinStyle::Concat : JoinStyle::T5,
                       [this](const std::string& t) { return is_special_token_string(t); });
  }

 private:
  bool legacy_ = false;
  std::unordered_map<std::string, int32_t> fairseq_;
  std::unordered_map<int32_t, std::string> fairseq_ids_;
};

// ---------------------------------------------------------------------------------------------
// M2M100Tokenizer: sentencepiece pieces looked up in vocab.json; language tokens "__xx__" after it.
class M2M100Tokenizer final : public MultilingualSpmTokenizer {
 public:
  explicit M2M100Tokenizer(const TokenizerFiles& files)
      : MultilingualSpmTokenizer("m2m100", files, "sentencepiece.bpe.model") {
    encoder_ = load_vocab_json(files, "vocab.json");
    for (const auto& kv : encoder_) decoder_[kv.second] = kv.first;
    const std::string which = cfg_.get_string("language_codes", "m2m100");
    if (which == "m2m100") {
      codes_ = m2m100_language_codes();
    } else if (which == "wmt21") {
      codes_ = wmt21_language_codes();
    } else {
      throw Error("tokenizer (m2m100): tokenizer_config.json: unknown language_codes '" + which +
                  "' (expected m2m100 or wmt21)");
    }
    const int32_t base = static_cast<int32_t>(encoder_.size());
    for (size_t i = 0; i < codes_.size(); ++i) {
      lang_tokens_[lang_token(codes_[i])] = base + static_cast<int32_t>(i);
      lang_ids_[base + static_cast<int32_t>(i)] = lang_token(codes_[i]);
    }

    const ConfiguredToken bos = cfg_.token_or("bos_token", "<s>");
    const ConfiguredToken eos = cfg_.token_or("eos_token", "</s>");
    const ConfiguredToken sep = cfg_.token_or("sep_token", "</s>");
    const ConfiguredToken unk = cfg_.token_or("unk_token", "<unk>");
    const ConfiguredToken pad = cfg_.token_or("pad_token", "<pad>");
    unk_token_ = unk.content;
    auto unk_it = encoder_.find(unk.content);
    if (unk_it == encoder_.end())
      throw Error("tokenizer (m2m100): vocab.json has no unknown token \"" + unk.content + "\"");
    unk_id_ = unk_it->second;
    eos_id_ = convert_token_to_id(eos.content, Side::Source);
    pad_id_ = convert_token_to_id(pad.content, Side::Source);
    bos_id_ = convert_token_to_id(bos.content, Side::Source);

    const SpecialToken p = plain_token_flags();
    std::vector<SpecialToken> specials = {bos.as_special(p), eos.as_special(p), unk.as_special(p),
                                          sep.as_special(p), pad.as_special(p)};
    auto additional = additional_tokens([&](const std::vector<ConfiguredToken>& given) {
      std::vector<ConfiguredToken> out = given;
      for (const std::string& c : codes_) {
        const std::string tok = lang_token(c);
        if (std::none_of(given.begin(), given.end(), [&](const ConfiguredToken& t) { return t.content == tok; }))
          out.push_back(plain(tok));
      }
      return out;
    });
    specials.insert(specials.end(), additional.begin(), additional.end());
    set_special_tokens(specials);
    init_languages("en");
  }

  // get_lang_id(code)
  std::optional<int32_t> language_id(const std::string& code) const override {
    auto it = lang_tokens_.find(lang_token(code));
    if (it == lang_tokens_.end()) return std::nullopt;
    return it->second;
  }

 protected:
  static std::string lang_token(const std::string& code) { return "__" + code + "__"; }

  int32_t base_vocab_size() const override {
    return static_cast<int32_t>(encoder_.size() + lang_tokens_.size());
  }
  int32_t convert_token_to_id(const std::string& token, Side) const override {
    auto l = lang_tokens_.find(token);
    if (l != lang_tokens_.end()) return l->second;
    auto it = encoder_.find(token);
    return it != encoder_.end() ? it->second : unk_id_;
  }
  bool has_token(const std::string& token) const override {
    return lang_tokens_.count(token) || encoder_.count(token);
  }
  std::string convert_id_to_token(int32_t id) const override {
    auto l = lang_ids_.find(id);
    if (l != lang_ids_.end()) return l->second;
    auto it = decoder_.find(id);
    return it != decoder_.end() ? it->second : unk_token_;
  }
  std::vector<int32_t> add_language(std::vector<int32_t> ids, int32_t lang) const override {
    ids.insert(ids.begin(), lang);
    ids.push_back(eos_id_);
    return ids;
  }
  std::string convert_tokens_to_string(const std::vector<std::string>& tokens, Side) const override {
    return join_tokens(sp_, tokens, JoinStyle::Plain,
                       [this](const std::string& t) { return is_special_token_string(t); });
  }

 private:
  std::unordered_map<std::string, int32_t> encoder_;
  std::unordered_map<int32_t, std::string> decoder_;
  std::unordered_map<std::string, int32_t> lang_tokens_;
  std::unordered_map<int32_t, std::string> lang_ids_;
};

}  // namespace

std::unique_ptr<Tokenizer> make_t5_tokenizer(const TokenizerFiles& files) {
  return std::make_unique<T5Tokenizer>(files);
}
std::unique_ptr<Tokenizer> make_pegasus_tokenizer(const TokenizerFiles& files) {
  return std::make_unique<PegasusTokenizer>(files);
}
std::unique_ptr<Tokenizer> make_mbart50_tokenizer(const TokenizerFiles& files) {
  return std::make_unique<FairseqSpmTokenizer>("mbart50", files);
}
std::unique_ptr<Tokenizer> make_nllb_tokenizer(const TokenizerFiles& files) {
  return std::make_unique<FairseqSpmTokenizer>("nllb", files);
}
std::unique_ptr<Tokenizer> make_m2m100_tokenizer(const TokenizerFiles& files) {
  return std::make_unique<M2M100Tokenizer>(files);
}

}  // namespace attend
