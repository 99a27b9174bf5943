// fuzz/make_seeds.cpp — writes the seed corpora of the fuzz targets (run by fuzz/run.sh):
// small valid model files, safetensors files and pytorch_model.bin images made with the
// project's own writers, plus texts in several languages and scripts.
// Usage: fuzz_make_seeds DIR  (creates DIR/<target>/seed-*)
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "attend/error.hpp"
#include "engine/model_file.hpp"
#include "engine/safetensors.hpp"
#include "tests/unit/torch_checkpoint_builder.hpp"

namespace fs = std::filesystem;
using attend::DType;
using attend::HostTensor;

namespace {

HostTensor tensor(DType dt, std::vector<int64_t> shape, uint8_t seed) {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  std::vector<uint8_t> bytes(static_cast<size_t>(n) * attend::dtype_size(dt));
  for (size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<uint8_t>(seed + i * 7);
  return attend::make_host_tensor(dt, std::move(shape), std::move(bytes));
}

void write(const fs::path& p, const std::string& bytes) {
  fs::create_directories(p.parent_path());
  std::ofstream out(p, std::ios::binary);
  out << bytes;
  if (!out) throw attend::Error(p.string() + ": cannot write seed");
}

const std::vector<std::string> kTexts = {
    "A man in an orange hat starring at something. Two dogs play.",
    "Dr. Smith met Mr. Jones at 5 p.m. on Main St. yesterday. It rained!",
    "Das ist z. B. ein Test. Er kam am 3. Oktober. \u201EJa.\u201C Nein?!",
    "Il a dit : \u00AB Je viens. \u00BB Puis il est parti\u00A0!",
    "\u00BFC\u00F3mo est\u00E1s? \u00A1Muy bien! El Sr. Garc\u00EDa lleg\u00F3.",
    "\u4ECA\u5929\u5929\u6C14\u5F88\u597D\u3002\u6211\u4EEC\u53BB\u516C\u56ED\u5427\uFF01\u300C\u597D\u3002\u300D",
    "Wait... what?! (Yes.) 3.5 percent, e.g. apples, i.e. fruit, etc. and more.",
    "Bad \xff\xfe bytes \xe3\x80 here. \xc3",
    "  \n\n  Leading and trailing.  \n",
};

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: fuzz_make_seeds DIR\n";
    return 2;
  }
  const fs::path dir = argv[1];
  try {
    // Model files: a small complete one (dtypes, aliases, tokenizer files) and a bare one.
    const nlohmann::json model = {
        {"architecture", {{"family", "marian"}, {"d_model", 4}, {"encoder_layers", 1}}},
        {"generation", {{"num_beams", 2}, {"max_length", 16}}},
        {"tokenizer", {{"kind", "marian"}}},
        {"source", {{"model_type", "marian"}}},
        {"quantization", {{"kind", "none"}}}};
    const attend::TensorMap tensors = {{"shared.weight", tensor(DType::F32, {5, 4}, 1)},
                                       {"enc.q.weight", tensor(DType::F16, {4, 4}, 2)},
                                       {"enc.q.bias", tensor(DType::BF16, {4}, 3)},
                                       {"enc.fc1.weight", tensor(DType::I8, {2, 4}, 4)},
                                       {"bias", tensor(DType::U8, {3}, 5)}};
    fs::create_directories(dir / "model_file");
    attend::write_model_file((dir / "model_file/seed-full.attend").string(), model, tensors,
                             {{"lm_head.weight", "shared.weight"}},
                             {{"vocab.json", "{\"<pad>\": 0, \"</s>\": 1}"}, {"source.spm", std::string("\0spm", 4)}});
    attend::write_model_file((dir / "model_file/seed-bare.attend").string(), model,
                             {{"w", tensor(DType::F32, {2}, 9)}}, {}, {});
    // Safetensors: the model files are safetensors too; plus one of every dtype, small alignment.
    fs::create_directories(dir / "safetensors");
    std::vector<std::pair<std::string, HostTensor>> all;
    const DType dtypes[] = {DType::F32, DType::F16, DType::BF16, DType::I8, DType::U8,
                            DType::I32, DType::I64, DType::BOOL, DType::F64, DType::I16};
    for (size_t i = 0; i < std::size(dtypes); ++i)
      all.push_back({std::string("t") + attend::dtype_name(dtypes[i]), tensor(dtypes[i], {2, 1}, static_cast<uint8_t>(i))});
    attend::write_safetensors((dir / "safetensors/seed-dtypes.safetensors").string(), all, {{"format", "pt"}}, 8);
    attend::write_safetensors((dir / "safetensors/seed-scalar.safetensors").string(),
                              {{"s", tensor(DType::F32, {}, 1)}, {"e", tensor(DType::F32, {0, 3}, 1)}}, {}, 64);
    fs::copy_file(dir / "model_file/seed-bare.attend", dir / "safetensors/seed-model.safetensors",
                  fs::copy_options::overwrite_existing);
    // pytorch_model.bin: fp32, fp16 and a tied (shared storage with offset) pair.
    using attend_test::TensorDesc;
    write(dir / "torch_checkpoint/seed-f32.bin",
          attend_test::make_checkpoint(attend_test::state_dict_pickle({{"w", "FloatStorage", "0", 6, 0, {2, 3}, {3, 1}}}),
                                       {{"0", attend_test::bytes_of(attend_test::iota_f32(6))}}));
    write(dir / "torch_checkpoint/seed-tied.bin",
          attend_test::make_checkpoint(
              attend_test::state_dict_pickle({{"a", "FloatStorage", "0", 8, 0, {2, 2}, {2, 1}},
                                              {"b", "FloatStorage", "0", 8, 4, {2, 2}, {1, 2}},
                                              {"h", "HalfStorage", "1", 2, 0, {2}, {1}}}),
              {{"0", attend_test::bytes_of(attend_test::iota_f32(8))}, {"1", std::string("\x00\x3c\x00\x40", 4)}}));
    // Texts: splitter as is; tokenizers with a leading mode byte (even = text, odd = files).
    for (size_t i = 0; i < kTexts.size(); ++i) {
      write(dir / "sentence_splitter" / ("seed-" + std::to_string(i)), kTexts[i]);
      write(dir / "tokenizers" / ("seed-text-" + std::to_string(i)), std::string(1, '\0') + kTexts[i]);
    }
    // Server requests: a leading byte picks the parser (mod 4: 0 translate, 1 summarize, 2/3 LibreTranslate
    // JSON/form), then the body.
    const char* const requests[] = {
        "\x04{\"text\": [\"A dog.\", \"Zwei\"], \"beam_size\": 4, \"num_hypotheses\": 2, \"return_scores\": true}",
        "\x04{\"text\": \"A dog.\", \"stream\": true, \"length_penalty\": 1.5, \"min_length\": 2, \"max_length\": 9}",
        "\x05{\"text\": \"A long text.\", \"prefix\": \"summarize: \", \"max_length\": 30}",
        "\x02{\"q\": [\"Hello\", \"world\"], \"source\": \"auto\", \"target\": \"de\", \"format\": \"text\"}",
        "\x03q=Hello&q=world&source=en&target=de&api_key=k",
    };
    for (size_t i = 0; i < sizeof requests / sizeof *requests; ++i)
      write(dir / "server_request" / ("seed-" + std::to_string(i)), requests[i]);
    // HTML translation: a leading byte picks the synthetic translator's word order, then the HTML.
    const char* const pages[] = {
        "\x10<p>A <b>black dog</b> runs in the <a href=\"/p?a=1&amp;b=2\">park</a>.</p>",
        ("\x01<!DOCTYPE html><html><head><title>t</title></head><body><ul><li>one <i>two <b>three</b></i></li></ul>"
         "<pre>x  y</pre><script>if (a<b) f();</script></body></html>"),
        "\x07<div>caf&eacute; &lt;3 <span translate=\"no\">keep</span> x<br>y <img alt=\"a b\"> <code>c</code>.</div>",
        "\x0e<p>one <b>two <i>three</b> four</i><p>five <span>six<!-- c --> <svg><text>t</text></svg>",
    };
    for (size_t i = 0; i < sizeof pages / sizeof *pages; ++i)
      write(dir / "html" / ("seed-" + std::to_string(i)), pages[i]);
    write(dir / "tokenizers/seed-files",
          "\x01{\"<s>\": 0, \"<pad>\": 1, \"</s>\": 2, \"<unk>\": 3, \"H\": 4, \"e\": 5, \"l\": 6, \"o\": 7, "
          "\"ll\": 8, \"\\u0120w\": 9, \"<mask>\": 10}\n@@\n#version: 0.2\nl l\n\n@@\n{\"add_prefix_space\": true}");
  } catch (const std::exception& e) {
    std::cerr << "fuzz_make_seeds: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
