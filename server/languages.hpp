// server/languages.hpp — the languages a loaded model translates between, in LibreTranslate's
// spelling ("en", "de"), from what Model::info() says (Marian: tokenizer_config.json's
// source/target language, multilingual models: their codes), and the way back to the code the
// model's tokenizer takes. Pure functions.
#pragma once
#include <string>
#include <vector>

#include "attend/attend.hpp"

namespace attend_server {

struct ModelLanguages {
  std::vector<std::string> sources, targets;  // LibreTranslate codes; empty: the model says nothing
  bool multilingual = false;                  // the target is chosen per call (tgt_lang)
};

ModelLanguages languages_of(const attend::ModelInfo& info);

// The code to pass as TranslateOptions::src_lang/tgt_lang for LibreTranslate code `code`
// ("" when the model does not need one, e.g. a monolingual Marian model); throws
// attend::Error when the model does not have the language.
std::string model_language_code(const attend::ModelInfo& info, const std::string& code);

// LibreTranslate's spelling of a model's language code: "en_XX" → "en", ">>fra<<" → "fra",
// anything else unchanged.
std::string libre_code(const std::string& model_code);

// An English name for a code ("de" → "German"); the code itself when it is not in the table.
std::string language_name(const std::string& code);

}  // namespace attend_server
