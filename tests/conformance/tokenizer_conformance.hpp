// tests/conformance/tokenizer_conformance.hpp — checks the tokenizers against the fixture folders
// ($ATTEND_FIXTURES/tokenizers/<name>/ and the text models models/{marian,bart_text,t5_text}/).
#pragma once
#include <string>
#include <vector>

#include "tokenizer/tokenizer.hpp"

namespace attend {
namespace conformance {

// One result per group of checks (a group that checks nothing is not reported at all).
struct CaseResult {
  std::string group;
  bool passed = false;
  std::string message;  // counts, and for failures: case name, what differed, expected vs got
};

// Checks every case of <folder_path>/cases.json. The kind comes from cases.json
// "tokenizer_class" (a Marian folder has none: source.spm present / "marian" in the folder name);
// an unknown class is one failed "load" result. Groups:
//   "load"           building the tokenizer from the folder's files (fails -> nothing else runs)
//   "special_tokens" eos/pad/unk/mask/bos ids and len(tokenizer) against "special_tokens"
//   "source"         tokenizer(text).input_ids, tokenize(text), convert_ids_to_tokens
//   "target"         the same with text_target=
//   "decode"         decode(ids, skip_special_tokens=True/False) of both sides
//   "stream"         IncrementalDecoder over target.input_ids reproduces "decoded" and
//                    (skip_special_tokens=false) "decoded_keep_special"
//   "batch"          batch_example (padding=True)
//   "extras"         family-specific checks (partial UTF-8 decoding, add_prefix_space, language
//                    ids, sentinels, reserved ids, generation ids); absent when there are none
std::vector<CaseResult> check_tokenizer_folder(const std::string& folder_path);

// For models/marian, models/bart_text, models/t5_text: encodes each generation case's
// input_text (with cases.json "tokenizer.input_prefix") padded to the batch and compares with
// input_ids / attention_mask ("encode"), and decodes expected.sequences with
// skip_special_tokens=True against expected.decoded_text ("decode"). A model folder without
// tokenizer files gives no result (its tokenizer is not under test).
std::vector<CaseResult> check_text_model_tokenizer(const std::string& model_folder);

// The tokenizer files of `kind` present in `folder` (file name -> bytes).
TokenizerFiles load_tokenizer_files(const std::string& folder, const std::string& kind);

// Sub-directories of `dir` (names only, sorted); empty if `dir` does not exist.
std::vector<std::string> list_subdirectories(const std::string& dir);

// One line per result: "[PASS] group: message" / "[FAIL] ..." / "[SKIP] ...".
std::string format_results(const std::string& title, const std::vector<CaseResult>& results);

}  // namespace conformance
}  // namespace attend
