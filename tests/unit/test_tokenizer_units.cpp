// tests/unit/test_tokenizer_units.cpp — self-contained unit tests of the tokenizer building blocks:
// UTF-8 helpers, Unicode classes, the GPT-2 pre-tokenizer, a tiny byte-level BPE tokenizer built in
// the test, special-token splitting, clean-up rules, Marian language codes, IncrementalDecoder and
// the factory's errors.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "attend/error.hpp"
#include "tokenizer/byte_bpe_tokenizer.hpp"
#include "tokenizer/text/cleanup.hpp"
#include "tokenizer/marian_tokenizer.hpp"
#include "tokenizer/special_tokens.hpp"
#include "tokenizer/tokenizer.hpp"
#include "tokenizer/text/unicode.hpp"

using namespace attend;

namespace {

const std::string kFFFD = "\xEF\xBF\xBD";

// A tiny RoBERTa-layout vocabulary: <s> <pad> </s> <unk>, the 256 byte symbols, a few merges,
// <mask> last.
struct TinyBpe {
  TokenizerFiles files;
  std::map<std::string, int32_t> vocab;

  explicit TinyBpe(bool trailing_newline = true, const std::string& extra_config = "") {
    int32_t next = 0;
    for (const char* s : {"<s>", "<pad>", "</s>", "<unk>"}) vocab[s] = next++;
    const std::vector<char32_t> b2u = gpt2_bytes_to_unicode();
    for (int b = 0; b < 256; ++b) vocab[utf8_encode(b2u[b])] = next++;
    // merges in priority order
    const std::vector<std::pair<std::string, std::string>> merges = {
        {"h", "e"}, {"l", "l"}, {"he", "ll"}, {"hell", "o"}, {"\xC4\xA0", "w"}, {"\xC4\xA0w", "o"}, {"r", "ld"},
        {"l", "d"}, {"\xC4\xA0wo", "rld"}};
    std::string merges_txt = "#version: 0.2\n";
    for (size_t i = 0; i < merges.size(); ++i) {
      vocab[merges[i].first + merges[i].second] = next++;
      merges_txt += merges[i].first + " " + merges[i].second;
      if (i + 1 < merges.size() || trailing_newline) merges_txt += "\n";
    }
    vocab["<mask>"] = next++;
    nlohmann::json v = nlohmann::json::object();
    for (const auto& kv : vocab) v[kv.first] = kv.second;
    files["vocab.json"] = v.dump();
    files["merges.txt"] = merges_txt;
    nlohmann::json cfg = extra_config.empty() ? nlohmann::json::object() : nlohmann::json::parse(extra_config);
    files["tokenizer_config.json"] = cfg.dump();
  }
  int32_t id(const std::string& token) const { return vocab.at(token); }
  int32_t byte(unsigned char b) const { return vocab.at(utf8_encode(gpt2_bytes_to_unicode()[b])); }
};

}  // namespace

TEST_CASE("utf8_decode_replace follows Python's errors='replace'", "[tokenizer][unicode]") {
  CHECK(utf8_decode_replace("plain ascii") == "plain ascii");
  CHECK(utf8_decode_replace("\xF0\x9F\x8D\x95") == "\xF0\x9F\x8D\x95");  // 🍕
  CHECK(utf8_decode_replace("\xF0\x9F") == kFFFD);                       // truncated: one U+FFFD
  CHECK(utf8_decode_replace("\xF0\x9F\x8D") == kFFFD);
  CHECK(utf8_decode_replace("a\xE6\x88" "b") == "a" + kFFFD + "b");
  CHECK(utf8_decode_replace("\xFF") == kFFFD);
  CHECK(utf8_decode_replace("\xC0\xAF") == kFFFD + kFFFD);              // overlong: two invalid bytes
  CHECK(utf8_decode_replace("\xED\xA0\x80") == kFFFD + kFFFD + kFFFD);  // surrogate
  CHECK(utf8_decode_replace("\xF4\x90\x80\x80") == kFFFD + kFFFD + kFFFD + kFFFD);
  CHECK(utf8_decode_replace("\xE6\x88\x91\xE7") == "\xE6\x88\x91" + kFFFD);  // 我 + cut
}

TEST_CASE("utf8 helpers: next, encode, incomplete tail, validity", "[tokenizer][unicode]") {
  char32_t cp = 0;
  CHECK(utf8_next("\xC3\xBC", 0, &cp) == 2);
  CHECK(cp == 0xFC);
  CHECK(utf8_next("\xF0\x9F\x8D\x95", 0, &cp) == 4);
  CHECK(cp == 0x1F355);
  CHECK(utf8_next("\x80", 0, &cp) == 1);
  CHECK(cp == kReplacementChar);
  CHECK(utf8_encode(0x20AC) == "\xE2\x82\xAC");
  CHECK(utf8_encode(0xD800) == kFFFD);

  CHECK(utf8_incomplete_tail("") == 0);
  CHECK(utf8_incomplete_tail("abc") == 0);
  CHECK(utf8_incomplete_tail("a\xC3") == 1);
  CHECK(utf8_incomplete_tail("a\xE6\x88") == 2);
  CHECK(utf8_incomplete_tail("\xF0\x9F\x8D") == 3);
  CHECK(utf8_incomplete_tail("\xF0\x9F\x8D\x95") == 0);
  CHECK(utf8_incomplete_tail("\xFF") == 0);
  CHECK(utf8_incomplete_tail("\xE0\x80") == 0);  // E0 80 can never become valid

  CHECK(is_valid_utf8("Grüße 我 🍕"));
  CHECK_FALSE(is_valid_utf8("\xC3"));
  CHECK_FALSE(is_valid_utf8("\xED\xA0\x80"));
}

TEST_CASE("Python strip semantics", "[tokenizer][unicode]") {
  CHECK(py_strip(" \t\nabc \r\n") == "abc");
  CHECK(py_strip("\xC2\xA0x\xE3\x80\x80") == "x");  // NBSP, ideographic space
  CHECK(py_strip("\x1Cx\x1F") == "x");              // str.isspace() includes \x1c..\x1f
  CHECK(py_lstrip("  a  ") == "a  ");
  CHECK(py_rstrip("  a  ") == "  a");
  CHECK(py_strip("\xE2\x80\x8B" "a") == "\xE2\x80\x8B" "a");  // ZERO WIDTH SPACE is not whitespace
  CHECK(py_strip("   ") == "");
}

TEST_CASE("Unicode letter / number / space classes", "[tokenizer][unicode]") {
  for (char32_t c : {U'a', U'Z', U'é', U'ß', U'ẞ', U'我', U'안', U'Ω', U'ж', U'ع', U'ｈ', U'ﬁ', U'µ'})
    CHECK(is_letter(c));
  for (char32_t c : {U'0', U'9', U'٣', U'½', U'²', U'Ⅻ', U'１'}) CHECK(is_number(c));
  for (char32_t c : {U'_', U'-', U'!', U'€', U'😀', U'\u200D', U'\u0301', U' '}) {
    CHECK_FALSE(is_letter(c));
    CHECK_FALSE(is_number(c));
  }
  for (char32_t c : {U' ', U'\t', U'\n', U'\r', U'\u00A0', U'\u3000', U'\u2028', U'\u0085'}) CHECK(is_regex_space(c));
  for (char32_t c : {U'\u200B', U'a', U'_'}) CHECK_FALSE(is_regex_space(c));
}

TEST_CASE("GPT-2 pre-tokenizer regex", "[tokenizer][bpe]") {
  using V = std::vector<std::string>;
  CHECK(gpt2_pretokenize("Hello world") == V{"Hello", " world"});
  CHECK(gpt2_pretokenize("I can't, they've") == V{"I", " can", "'t", ",", " they", "'ve"});
  CHECK(gpt2_pretokenize("'single'") == V{"'s", "ingle", "'"});
  CHECK(gpt2_pretokenize("  a") == V{" ", " a"});
  CHECK(gpt2_pretokenize("a   ") == V{"a", "   "});
  CHECK(gpt2_pretokenize("x\n\ny") == V{"x", "\n", "\n", "y"});
  CHECK(gpt2_pretokenize("3.14 abc123") == V{"3", ".", "14", " abc", "123"});
  CHECK(gpt2_pretokenize(" \xF0\x9F\x8D\x95!") == V{" \xF0\x9F\x8D\x95!"});
  CHECK(gpt2_pretokenize("\xC3\xA9 \xE6\x88\x91") == V{"\xC3\xA9", " \xE6\x88\x91"});
  CHECK(gpt2_pretokenize("a\xC2\xA0" "b") == V{"a", "\xC2\xA0", "b"});  // NBSP is \s, not taken by " ?"
  CHECK(gpt2_pretokenize("").empty());
  // The pieces always cover the text.
  const std::string text = "Mixed: 1,234.5 -- ok?! \t\n end  ";
  std::string joined;
  for (const auto& p : gpt2_pretokenize(text)) joined += p;
  CHECK(joined == text);
}

TEST_CASE("bytes_to_unicode", "[tokenizer][bpe]") {
  const auto m = gpt2_bytes_to_unicode();
  REQUIRE(m.size() == 256);
  CHECK(m[' '] == 0x120);   // Ġ
  CHECK(m['\n'] == 0x10A);  // Ċ
  CHECK(m['\t'] == 0x109);  // ĉ
  CHECK(m['A'] == U'A');
  CHECK(m[0xE9] == 0xE9);
}

TEST_CASE("tiny byte-level BPE: encode, tokenize, decode", "[tokenizer][bpe]") {
  TinyBpe t;
  auto tok = make_tokenizer("bart", t.files);
  REQUIRE(tok->kind() == "bart");
  CHECK(tok->vocab_size() == static_cast<int32_t>(t.vocab.size()));
  CHECK(tok->pad_id() == 1);
  CHECK(tok->eos_id() == 2);
  CHECK(tok->unk_id() == 3);
  CHECK(tok->bos_id() == 0);

  using V = std::vector<std::string>;
  CHECK(tok->tokenize("hello world") == V{"hello", "\xC4\xA0world"});
  CHECK(tok->encode("hello world") == std::vector<int32_t>{0, t.id("hello"), t.id("\xC4\xA0world"), 2});
  CHECK(tok->encode_target("hello world") == tok->encode("hello world"));
  CHECK(tok->encode("") == std::vector<int32_t>{0, 2});
  // Without the space: "l d" (rank 7) merges first, then "r ld" (rank 6); "w o" is no merge.
  CHECK(tok->tokenize("world") == V{"w", "o", "rld"});

  CHECK(tok->decode(tok->encode("hello world")) == "hello world");
  CHECK(tok->decode(tok->encode("hello world"), false) == "<s>hello world</s>");
  const std::string text = "Grüße, 我 🍕!\n\ttabs";
  CHECK(tok->decode(tok->encode(text)) == text);

  CHECK(tok->id_to_token(t.id("hello")) == "hello");
  CHECK(tok->token_to_id("<mask>") == t.id("<mask>"));
  CHECK_FALSE(tok->token_to_id("not-a-token").has_value());
  CHECK(tok->is_special_id(0));
  CHECK(tok->is_special_id(t.id("<mask>")));
  CHECK_FALSE(tok->is_special_id(t.id("hello")));
  CHECK_THROWS_AS(tok->id_to_token(100000), Error);
  // Ids outside the vocabulary decode like <unk>: dropped with skip_special_tokens.
  CHECK(tok->decode({t.id("hello"), 99999}) == "hello");
  CHECK(tok->decode({t.id("hello"), 99999}, false) == "hello<unk>");
}

TEST_CASE("tiny byte-level BPE: special tokens in the text", "[tokenizer][bpe]") {
  TinyBpe t;
  auto tok = make_tokenizer("bart", t.files);
  using V = std::vector<std::string>;
  // AddedToken(lstrip=False, rstrip=False): the space before </s> stays a Ġ token.
  CHECK(tok->tokenize("hello </s>hello") == V{"hello", "\xC4\xA0", "</s>", "hello"});
  // <mask> lstrips: it swallows the space before it, not the one after it.
  CHECK(tok->tokenize("hello <mask> world") == V{"hello", "<mask>", "\xC4\xA0world"});
  CHECK(tok->encode("<s>hello</s>") == std::vector<int32_t>{0, 0, t.id("hello"), 2, 2});
  CHECK(tok->decode(tok->encode("<s>hello</s>"), true) == "hello");
}

TEST_CASE("tiny byte-level BPE: options and merges.txt quirks", "[tokenizer][bpe]") {
  TinyBpe spaced(true, R"({"add_prefix_space": true})");
  auto tok = make_tokenizer("bart", spaced.files);
  CHECK(tok->tokenize("world") == std::vector<std::string>{"\xC4\xA0world"});
  CHECK(tok->tokenize(" world") == std::vector<std::string>{"\xC4\xA0world"});

  // transformers drops the last line of merges.txt (split("\n")[1:-1]): without a trailing
  // newline the last merge is lost.
  TinyBpe cut(false);
  auto tok2 = make_tokenizer("bart", cut.files);
  CHECK(tok2->tokenize(" world") == std::vector<std::string>{"\xC4\xA0wo", "rld"});
}

TEST_CASE("tiny byte-level BPE: partial UTF-8 decodes to U+FFFD", "[tokenizer][bpe]") {
  TinyBpe t;
  auto tok = make_tokenizer("bart", t.files);
  const std::vector<int32_t> pizza = {t.byte(0xF0), t.byte(0x9F), t.byte(0x8D), t.byte(0x95)};
  CHECK(tok->encode("\xF0\x9F\x8D\x95") == std::vector<int32_t>{0, pizza[0], pizza[1], pizza[2], pizza[3], 2});
  CHECK(tok->decode({pizza[0]}) == kFFFD);
  CHECK(tok->decode({pizza[0], pizza[1], pizza[2]}) == kFFFD);
  CHECK(tok->decode(pizza) == "\xF0\x9F\x8D\x95");
}

TEST_CASE("IncrementalDecoder holds back incomplete UTF-8 and undecided spaces", "[tokenizer][stream]") {
  TinyBpe t;
  auto tok = make_tokenizer("bart", t.files);

  SECTION("emoji bytes") {
    IncrementalDecoder dec(*tok);
    CHECK(dec.push(t.id("hello")) == "hello");
    CHECK(dec.push(t.byte(' ')) == "");  // trailing space: undecided
    CHECK(dec.push(t.byte(0xF0)) == "");
    CHECK(dec.push(t.byte(0x9F)) == "");
    CHECK(dec.push(t.byte(0x8D)) == "");
    CHECK(dec.push(t.byte(0x95)) == " \xF0\x9F\x8D\x95");
    CHECK(dec.push(t.byte('!')) == "!");
    CHECK(dec.push(2) == "");  // </s> skipped
    CHECK(dec.finish() == "");
    CHECK(dec.emitted() == "hello \xF0\x9F\x8D\x95!");
  }
  SECTION("clean-up can remove a space that was not emitted yet") {
    IncrementalDecoder dec(*tok);
    std::string out = dec.push(t.byte('a'));
    out += dec.push(t.byte(' '));
    CHECK(out == "a");
    out += dec.push(t.byte('.'));
    CHECK(out == "a.");  // " ." -> "."
    out += dec.push(t.byte(' '));
    out += dec.push(t.byte('n'));
    CHECK(out == "a.");  // " n" may become " n't" -> "n't"
    out += dec.push(t.byte('x'));
    CHECK(out == "a. nx");
    out += dec.finish();
    CHECK(out == tok->decode(dec.ids()));
  }
  SECTION("a trailing \"'\" made by \" ' \" -> \"'\" is held: \" .\" comes first in the rules (found by fuzzing)") {
    IncrementalDecoder dec(*tok);
    std::string out;
    for (char c : std::string("h ' .")) out += dec.push(t.byte(static_cast<uint8_t>(c)));
    CHECK(out == "h '.");  // decode("h ' .") applies " ." before " ' "
    out += dec.finish();
    CHECK(out == tok->decode(dec.ids()));
    IncrementalDecoder dec2(*tok);
    out.clear();
    for (char c : std::string("h ' x")) out += dec2.push(t.byte(static_cast<uint8_t>(c)));
    out += dec2.finish();
    CHECK(out == "h'x");
    CHECK(out == tok->decode(dec2.ids()));
  }
  SECTION("finish flushes an invalid tail and trailing spaces") {
    IncrementalDecoder dec(*tok);
    std::string out = dec.push(t.id("hello"));
    out += dec.push(t.byte(0xE6));
    out += dec.push(t.byte(' '));
    CHECK(out == "hello" + kFFFD);  // E6 followed by a space can no longer complete
    out += dec.finish();
    CHECK(out == "hello" + kFFFD + " ");
    dec.reset();
    CHECK(dec.ids().empty());
    CHECK(dec.emitted().empty());
  }
}

TEST_CASE("special-token splitting strips like transformers", "[tokenizer][special]") {
  SpecialTokenSplitter plain({{"</s>", true, true}, {"<pad>", true, true}, {"<mask>", true, false},
                              {"<a>", false, false}, {"<ab>", false, false}});
  auto texts = [](const std::vector<TextSegment>& segs) {
    std::vector<std::string> out;
    for (const auto& s : segs) out.push_back((s.special ? "S:" : "T:") + s.text);
    return out;
  };
  using V = std::vector<std::string>;
  CHECK(texts(plain.split("x </s> y")) == V{"T:x", "S:</s>", "T:y"});
  CHECK(texts(plain.split("end</s>start<pad>x")) == V{"T:end", "S:</s>", "T:start", "S:<pad>", "T:x"});
  CHECK(texts(plain.split(" </s> ")) == V{"S:</s>"});
  CHECK(texts(plain.split("a <mask> b")) == V{"T:a", "S:<mask>", "T: b"});
  CHECK(texts(plain.split("a <a> b")) == V{"T:a ", "S:<a>", "T: b"});
  CHECK(texts(plain.split("<ab><a>")) == V{"S:<ab>", "S:<a>"});  // longest match at a position
  CHECK(texts(plain.split("</s></s>")) == V{"S:</s>", "S:</s>"});
  CHECK(texts(plain.split("a \xC2\xA0</s>")) == V{"T:a", "S:</s>"});  // Python strip: NBSP too
  CHECK(texts(plain.split("</ s>")) == V{"T:</ s>"});
  CHECK(plain.split("").empty());
  CHECK(SpecialTokenSplitter().split("abc").size() == 1);
}

TEST_CASE("clean_up_tokenization_spaces rules", "[tokenizer][cleanup]") {
  CHECK(clean_up_tokenization("Hello , world . Yes ! No ?") == "Hello, world. Yes! No?");
  CHECK(clean_up_tokenization("do n't I 'm it 's we 've they 're") == "don't I'm it's we've they're");
  CHECK(clean_up_tokenization("a ' b") == "a'b");
  CHECK(clean_up_tokenization("\"quoted\", 'single'") == "\"quoted\",'single'");  // " 's" applies inside words
  CHECK(clean_up_tokenization("no change") == "no change");

  CHECK(cleanup_pending_suffix("a ") == 1);
  CHECK(cleanup_pending_suffix("a n") == 2);
  CHECK(cleanup_pending_suffix("a n'") == 3);
  CHECK(cleanup_pending_suffix("a 'v") == 3);
  CHECK(cleanup_pending_suffix("a x") == 0);
  CHECK(cleanup_pending_suffix("ab") == 0);
  CHECK(replace_all("aaa", "a", "bb") == "bbbbbb");
}

TEST_CASE("Marian language-code regex >>.+<<", "[tokenizer][marian]") {
  using M = std::vector<std::pair<size_t, size_t>>;
  CHECK(find_marian_language_codes(">>fra<< Bonjour") == M{{0, 7}});
  CHECK(find_marian_language_codes("x >>de<< y") == M{{2, 8}});
  CHECK(find_marian_language_codes(">>a<< b >>c<<") == M{{0, 13}});  // greedy
  CHECK(find_marian_language_codes(">>a<<\n>>b<< x") == M{{0, 5}, {6, 11}});  // '.' stops at newline
  CHECK(find_marian_language_codes(">><<").empty());  // ".+" needs one character
  CHECK(find_marian_language_codes(">><<<") == M{{0, 5}});
  CHECK(find_marian_language_codes("no code").empty());
}

TEST_CASE("tokenizer factory, file lists and kind detection", "[tokenizer][factory]") {
  CHECK_THROWS_WITH(make_tokenizer("gpt9", {}), Catch::Contains("gpt9"));
  CHECK_THROWS_WITH(make_tokenizer("marian", {}), Catch::Contains("source.spm"));
  CHECK_THROWS_WITH(make_tokenizer("bart", {{"vocab.json", "{}"}}), Catch::Contains("merges.txt"));
  CHECK_THROWS_WITH(make_tokenizer("bart", {{"vocab.json", "not json"}, {"merges.txt", "#version: 0.2\n"}}),
                    Catch::Contains("vocab.json"));
  CHECK_THROWS_WITH(make_tokenizer("t5", {{"spiece.model", "garbage"}}), Catch::Contains("spiece.model"));
  CHECK_THROWS_WITH(make_tokenizer("bart", {{"vocab.json", R"({"a": 0})"}, {"merges.txt", "#version: 0.2\n"}}),
                    Catch::Contains("<unk>"));

  for (const std::string& kind : tokenizer_kinds()) {
    const auto all = tokenizer_file_names(kind);
    for (const std::string& req : required_tokenizer_file_names(kind))
      CHECK(std::find(all.begin(), all.end(), req) != all.end());
    CHECK(std::find(all.begin(), all.end(), "tokenizer_config.json") != all.end());
  }
  CHECK(required_tokenizer_file_names("m2m100") == std::vector<std::string>{"sentencepiece.bpe.model", "vocab.json"});

  CHECK(detect_tokenizer_kind("marian", {"source.spm", "target.spm", "vocab.json", "config.json"}) == "marian");
  CHECK(detect_tokenizer_kind("marian", {"vocab.json"}) == "");
  CHECK(detect_tokenizer_kind("t5", {"spiece.model"}) == "t5");
  CHECK(detect_tokenizer_kind("pegasus", {"spiece.model"}) == "pegasus");
  CHECK(detect_tokenizer_kind("mbart", {"sentencepiece.bpe.model"}) == "mbart50");
  CHECK(detect_tokenizer_kind("m2m_100", {"sentencepiece.bpe.model", "vocab.json"}) == "m2m100");
  CHECK(detect_tokenizer_kind("m2m_100", {"sentencepiece.bpe.model"}) == "nllb");
  CHECK(detect_tokenizer_kind("bart", {"vocab.json", "merges.txt"}) == "bart");
  CHECK(detect_tokenizer_kind("bert", {"vocab.txt"}) == "");

  CHECK(tokenizer_kind_for_class("MarianTokenizer") == "marian");
  CHECK(tokenizer_kind_for_class("T5TokenizerFast") == "t5");
  CHECK(tokenizer_kind_for_class("NllbTokenizer") == "nllb");
  CHECK(tokenizer_kind_for_class("BertTokenizer") == "");
}

TEST_CASE("monolingual tokenizers reject language codes", "[tokenizer][languages]") {
  TinyBpe t;
  auto tok = make_tokenizer("bart", t.files);
  CHECK(tok->language_codes().empty());
  CHECK_NOTHROW(tok->set_languages("", ""));
  CHECK_THROWS_AS(tok->set_languages("en_XX", "de_DE"), Error);
  CHECK_FALSE(tok->target_language_id().has_value());
}

TEST_CASE("encode_batch pads on the right", "[tokenizer][batch]") {
  TinyBpe t;
  auto tok = make_tokenizer("bart", t.files);
  const EncodedBatch b = encode_batch(*tok, {"hello", "hello world"});
  REQUIRE(b.input_ids.size() == 2);
  CHECK(b.input_ids[0] == std::vector<int32_t>{0, t.id("hello"), 2, 1});
  CHECK(b.attention_mask[0] == std::vector<int32_t>{1, 1, 1, 0});
  CHECK(b.attention_mask[1] == std::vector<int32_t>{1, 1, 1, 1});
}

namespace {

// Passes every call to a real tokenizer and counts the ids that decode() was given.
class CountingTokenizer : public attend::Tokenizer {
 public:
  explicit CountingTokenizer(const attend::Tokenizer& t) : t_(t) {}
  mutable size_t decoded_ids = 0, decode_calls = 0;
  std::string kind() const override { return t_.kind(); }
  std::vector<int32_t> encode(const std::string& s) const override { return t_.encode(s); }
  std::vector<int32_t> encode_target(const std::string& s) const override { return t_.encode_target(s); }
  std::vector<std::string> tokenize(const std::string& s) const override { return t_.tokenize(s); }
  std::string decode(const std::vector<int32_t>& ids, bool skip) const override {
    decoded_ids += ids.size();
    ++decode_calls;
    return t_.decode(ids, skip);
  }
  std::string id_to_token(int32_t id) const override { return t_.id_to_token(id); }
  std::optional<int32_t> token_to_id(const std::string& s) const override { return t_.token_to_id(s); }
  int32_t vocab_size() const override { return t_.vocab_size(); }
  bool is_special_id(int32_t id) const override { return t_.is_special_id(id); }
  int32_t pad_id() const override { return t_.pad_id(); }
  int32_t eos_id() const override { return t_.eos_id(); }
  int32_t unk_id() const override { return t_.unk_id(); }

 private:
  const attend::Tokenizer& t_;
};

}  // namespace

TEST_CASE("IncrementalDecoder: streaming 2,000 tokens decodes a number of ids linear in the length", "[tokenizer][stream]") {
  TinyBpe t;
  auto real = make_tokenizer("bart", t.files);
  CountingTokenizer tok(*real);
  // Words, spaces, punctuation that clean-up rules touch (" ." " '") and a split 4-byte emoji.
  const std::vector<int32_t> pattern = {t.id("hello"), t.byte(' '), t.byte('a'), t.byte(' '), t.byte('.'),
                                        t.byte(' '), t.byte('\''), t.byte(' '), t.byte('x'), t.byte(' '),
                                        t.byte(0xF0), t.byte(0x9F), t.byte(0x8D), t.byte(0x95), t.byte('!')};
  auto stream = [&](size_t n) {
    tok.decoded_ids = tok.decode_calls = 0;
    IncrementalDecoder dec(tok);
    std::string out;
    std::vector<int32_t> ids;
    for (size_t i = 0; i < n; ++i) {
      ids.push_back(pattern[i % pattern.size()]);
      out += dec.push(ids.back());
    }
    out += dec.finish();
    CHECK(out == real->decode(ids));  // still exactly the full decoding
    return tok.decoded_ids;
  };
  const size_t work_1000 = stream(1000), work_2000 = stream(2000);
  INFO("ids decoded: " << work_1000 << " for 1,000 tokens, " << work_2000 << " for 2,000");
  // Re-decoding everything at each token would decode n(n+1)/2 ids: 2,001,000 for 2,000 tokens.
  CHECK(work_2000 <= 40 * 2000);
  // Doubling the length doubles the work (quadratic would quadruple it).
  CHECK(static_cast<double>(work_2000) / static_cast<double>(work_1000) < 2.2);
}
