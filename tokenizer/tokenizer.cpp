// tokenizer/tokenizer.cpp — the tokenizer factory (kind -> family), the file lists a kind needs,
// kind detection for checkpoints, batch encoding and the Tokenizer base-class defaults.
#include "tokenizer/tokenizer.hpp"

#include <algorithm>

#include "attend/error.hpp"
#include "tokenizer/byte_bpe_tokenizer.hpp"
#include "tokenizer/marian_tokenizer.hpp"
#include "tokenizer/sentencepiece_family.hpp"

namespace attend {

void Tokenizer::check_languages(const std::string& src_lang, const std::string& tgt_lang) const {
  if (src_lang.empty() && tgt_lang.empty()) return;
  throw Error("tokenizer (" + kind() + "): this tokenizer has no language codes (asked for source '" + src_lang +
              "', target '" + tgt_lang + "')");
}

void Tokenizer::set_languages(const std::string& src_lang, const std::string& tgt_lang) {
  check_languages(src_lang, tgt_lang);
}

std::vector<int32_t> Tokenizer::encode_with_languages(const std::string& text, const std::string& src_lang,
                                                      const std::string& tgt_lang) const {
  check_languages(src_lang, tgt_lang);
  return encode(text);
}

std::optional<int32_t> Tokenizer::language_id(const std::string&) const { return std::nullopt; }

std::vector<std::string> tokenizer_kinds() { return {"marian", "t5", "pegasus", "mbart50", "m2m100", "nllb", "bart"}; }

std::unique_ptr<Tokenizer> make_tokenizer(const std::string& kind, const TokenizerFiles& files) {
  for (const std::string& name : required_tokenizer_file_names(kind))
    if (!files.count(name)) throw Error("tokenizer (" + kind + "): missing file " + name);
  if (kind == "marian") return make_marian_tokenizer(files);
  if (kind == "t5") return make_t5_tokenizer(files);
  if (kind == "pegasus") return make_pegasus_tokenizer(files);
  if (kind == "mbart50") return make_mbart50_tokenizer(files);
  if (kind == "m2m100") return make_m2m100_tokenizer(files);
  if (kind == "nllb") return make_nllb_tokenizer(files);
  if (kind == "bart") return make_bart_tokenizer(files);
  throw Error("unknown tokenizer kind '" + kind + "' (expected marian, t5, pegasus, mbart50, m2m100, nllb or bart)");
}

std::vector<std::string> required_tokenizer_file_names(const std::string& kind) {
  if (kind == "marian") return {"source.spm", "target.spm", "vocab.json"};
  if (kind == "t5" || kind == "pegasus") return {"spiece.model"};
  if (kind == "mbart50" || kind == "nllb") return {"sentencepiece.bpe.model"};
  if (kind == "m2m100") return {"sentencepiece.bpe.model", "vocab.json"};
  if (kind == "bart") return {"vocab.json", "merges.txt"};
  throw Error("unknown tokenizer kind '" + kind + "' (expected marian, t5, pegasus, mbart50, m2m100, nllb or bart)");
}

std::vector<std::string> tokenizer_file_names(const std::string& kind) {
  std::vector<std::string> names = required_tokenizer_file_names(kind);
  if (kind == "marian") names.push_back("target_vocab.json");
  names.push_back("tokenizer_config.json");
  names.push_back("special_tokens_map.json");
  return names;
}

std::string detect_tokenizer_kind(const std::string& model_type, const std::vector<std::string>& files_present) {
  auto has = [&](const char* name) {
    return std::find(files_present.begin(), files_present.end(), name) != files_present.end();
  };
  const bool spm_bpe = has("sentencepiece.bpe.model");
  if (model_type == "marian") return (has("source.spm") && has("target.spm") && has("vocab.json")) ? "marian" : "";
  if (model_type == "t5" || model_type == "mt5" || model_type == "longt5" || model_type == "umt5")
    return has("spiece.model") ? "t5" : "";
  if (model_type == "pegasus" || model_type == "pegasus_x") return has("spiece.model") ? "pegasus" : "";
  if (model_type == "mbart") return spm_bpe ? "mbart50" : "";
  if (model_type == "m2m_100" || model_type == "nllb-moe" || model_type == "nllb_moe") {
    if (spm_bpe && has("vocab.json")) return "m2m100";
    if (spm_bpe) return "nllb";
    return "";
  }
  if (model_type == "bart" || model_type == "led" || model_type == "roberta") return (has("vocab.json") && has("merges.txt")) ? "bart" : "";
  // Unknown model_type: go by the files alone when they are unambiguous.
  if (has("source.spm") && has("target.spm") && has("vocab.json")) return "marian";
  if (has("vocab.json") && has("merges.txt")) return "bart";
  return "";
}

std::string tokenizer_kind_for_class(const std::string& tokenizer_class) {
  std::string c = tokenizer_class;
  const std::string fast = "Fast";
  if (c.size() > fast.size() && c.compare(c.size() - fast.size(), fast.size(), fast) == 0)
    c.resize(c.size() - fast.size());
  if (c == "MarianTokenizer") return "marian";
  if (c == "T5Tokenizer") return "t5";
  if (c == "PegasusTokenizer") return "pegasus";
  if (c == "MBart50Tokenizer") return "mbart50";
  if (c == "M2M100Tokenizer") return "m2m100";
  if (c == "NllbTokenizer") return "nllb";
  if (c == "BartTokenizer" || c == "RobertaTokenizer") return "bart";
  return "";
}

EncodedBatch encode_batch(const Tokenizer& tokenizer, const std::vector<std::string>& texts, bool target) {
  EncodedBatch batch;
  size_t longest = 0;
  for (const std::string& text : texts) {
    batch.input_ids.push_back(target ? tokenizer.encode_target(text) : tokenizer.encode(text));
    longest = std::max(longest, batch.input_ids.back().size());
  }
  for (auto& ids : batch.input_ids) {
    std::vector<int32_t> mask(ids.size(), 1);
    mask.resize(longest, 0);
    ids.resize(longest, tokenizer.pad_id());
    batch.attention_mask.push_back(std::move(mask));
  }
  return batch;
}

}  // namespace attend
