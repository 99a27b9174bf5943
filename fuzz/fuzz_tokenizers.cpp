// fuzz/fuzz_tokenizers.cpp — libFuzzer target for the tokenizers. The first input byte picks:
//  even: text through the bundled model's SentencePiece (Marian) tokenizer and a tiny byte-level
//        BPE tokenizer built here (encode, tokenize, decode, streaming decode of ids taken from
//        the input bytes);
//  odd:  the rest is tokenizer *files* (vocab.json, merges.txt, tokenizer_config.json separated
//        by "\n@@\n", untrusted data from model files) for make_tokenizer("bart"), then encode.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "attend/error.hpp"
#include "engine/model_file.hpp"
#include "tokenizer/tokenizer.hpp"

#ifndef ATTEND_FUZZ_MODEL
#error "ATTEND_FUZZ_MODEL must name the bundled model file"
#endif

namespace {

std::unique_ptr<attend::Tokenizer> g_spm, g_bpe;

// RoBERTa layout: <s> <pad> </s> <unk>, the 256 byte symbols (GPT-2 bytes_to_unicode), merges.
attend::TokenizerFiles tiny_bpe_files() {
  std::vector<std::string> symbols;
  auto utf8 = [](uint32_t cp) {
    std::string s;
    if (cp < 0x80) s.push_back(static_cast<char>(cp));
    else { s.push_back(static_cast<char>(0xC0 | (cp >> 6))); s.push_back(static_cast<char>(0x80 | (cp & 0x3F))); }
    return s;
  };
  int extra = 0;
  for (int b = 0; b < 256; ++b) {
    const bool printable = (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE);
    symbols.push_back(utf8(printable ? static_cast<uint32_t>(b) : static_cast<uint32_t>(256 + extra++)));
  }
  std::string vocab = "{\"<s>\": 0, \"<pad>\": 1, \"</s>\": 2, \"<unk>\": 3";
  int next = 4;
  auto add = [&](const std::string& tok) {
    std::string esc;
    for (char c : tok) {
      if (c == '"' || c == '\\') esc.push_back('\\');
      esc.push_back(c);
    }
    vocab += ", \"" + esc + "\": " + std::to_string(next++);
  };
  for (const auto& s : symbols) add(s);
  const char* merges[][2] = {{"t", "h"}, {"th", "e"}, {"\xC4\xA0", "t"}, {"\xC4\xA0t", "he"}, {"a", "n"},
                             {"an", "d"}, {"i", "n"}, {"in", "g"}, {"e", "r"}, {"\xC4\xA0", "a"}};
  std::string merges_txt = "#version: 0.2\n";
  for (const auto& m : merges) {
    merges_txt += std::string(m[0]) + " " + m[1] + "\n";
    add(std::string(m[0]) + m[1]);
  }
  add("<mask>");
  vocab += "}";
  return {{"vocab.json", vocab}, {"merges.txt", merges_txt}};
}

void exercise(const attend::Tokenizer& tok, const std::string& text, const uint8_t* data, size_t size) {
  const std::vector<int32_t> ids = tok.encode(text);
  (void)tok.tokenize(text);
  (void)tok.encode_target(text);
  (void)tok.decode(ids, true);
  (void)tok.decode(ids, false);
  // Arbitrary ids (in and out of range) from the input bytes, decoded in one go and streamed.
  std::vector<int32_t> any;
  for (size_t i = 0; i + 1 < size && any.size() < 64; i += 2) any.push_back((data[i] << 8 | data[i + 1]) - 1000);
  try {
    (void)tok.decode(any, true);
  } catch (const attend::Error&) {
  }
  // Streaming decode of the first ids (push re-decodes everything so far: quadratic, keep it short).
  const std::vector<int32_t> head(ids.begin(), ids.begin() + static_cast<std::ptrdiff_t>(std::min<size_t>(ids.size(), 48)));
  attend::IncrementalDecoder inc(tok, true);
  std::string streamed;
  for (int32_t id : head) streamed += inc.push(id);
  streamed += inc.finish();
  if (streamed != tok.decode(head, true)) std::abort();  // documented invariant of IncrementalDecoder
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  attend::ModelFileContents c = attend::read_model_file(ATTEND_FUZZ_MODEL);
  g_spm = attend::make_tokenizer(c.model["tokenizer"]["kind"].get<std::string>(), c.tokenizer_files);
  g_bpe = attend::make_tokenizer("bart", tiny_bpe_files());
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string rest(reinterpret_cast<const char*>(data + 1), size - 1);
  if ((data[0] & 1) == 0) {
    try {
      exercise(*g_spm, rest, data + 1, size - 1);
      exercise(*g_bpe, rest, data + 1, size - 1);
    } catch (const attend::Error&) {
    }
    return 0;
  }
  attend::TokenizerFiles files;
  const char* names[] = {"vocab.json", "merges.txt", "tokenizer_config.json"};
  size_t pos = 0;
  for (const char* name : names) {
    const size_t sep = rest.find("\n@@\n", pos);
    files[name] = rest.substr(pos, sep == std::string::npos ? std::string::npos : sep - pos);
    if (sep == std::string::npos) break;
    pos = sep + 4;
  }
  try {
    auto tok = attend::make_tokenizer("bart", files);
    (void)tok->encode("Hello world, the thing and <mask> ing.");
    (void)tok->decode({0, 1, 2, 3, 4, 5, 300, 70000}, false);
  } catch (const attend::Error&) {
  }
  return 0;
}
