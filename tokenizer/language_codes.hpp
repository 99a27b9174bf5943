// tokenizer/language_codes.hpp — built-in language-code lists of the multilingual tokenizer classes.
#pragma once
#include <string>
#include <vector>

namespace attend {

// mBART-50: "ar_AR" ... "sl_SI" (52 codes).
const std::vector<std::string>& mbart50_language_codes();
// M2M100 ("language_codes": "m2m100"): "af" ... "zu" (100 codes; tokens are "__xx__").
const std::vector<std::string>& m2m100_language_codes();
// M2M100 ("language_codes": "wmt21"): 8 codes.
const std::vector<std::string>& wmt21_language_codes();
// NLLB-200 (FLORES-200): "ace_Arab" ... "zul_Latn" (202 codes).
const std::vector<std::string>& nllb_language_codes();

}  // namespace attend
