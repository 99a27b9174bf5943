// examples/cpp/minimal.cpp — the smallest C++ program using an installed Attend: loads a model,
// translates the sentences given on the command line (beam search, 2-best with scores) and
// then shares the model between threads through a batching attend::Translator.
// Usage: minimal MODEL SENTENCE...
#include <attend/attend.hpp>

#include <iostream>
#include <string>
#include <thread>
#include <vector>

int main(int argc, char** argv) {
  if (argc < 3) {
    std::cerr << "usage: " << argv[0] << " MODEL SENTENCE...\n";
    return 2;
  }
  try {
    auto model = attend::Model::load(argv[1]);
    std::vector<std::string> inputs(argv + 2, argv + argc);

    attend::TranslateOptions opt;
    opt.generation.num_beams = 4;
    opt.generation.num_return_sequences = 2;
    for (const auto& result : model->translate(inputs, opt))
      for (const auto& hyp : result.hypotheses) std::cout << hyp.score << "\t" << hyp.text << "\n";

    // Many threads, one model: their requests are batched together.
    attend::Translator translator(model);
    std::vector<std::string> out(inputs.size());
    std::vector<std::thread> threads;
    for (size_t i = 0; i < inputs.size(); ++i)
      threads.emplace_back([&, i] { out[i] = translator.translate({inputs[i]})[0].hypotheses[0].text; });
    for (auto& t : threads) t.join();
    for (const auto& text : out) std::cout << text << "\n";
  } catch (const attend::Error& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
