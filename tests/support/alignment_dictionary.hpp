// tests/support/alignment_dictionary.hpp — a small English→German dictionary of words with an
// obvious one-to-one translation in Multi30k ("dog"→"Hund"), and the check of a word alignment
// against it: used by the alignment test (tests/unit/test_attention.cpp) and the alignment
// quality benchmark (tests/bench/bench_alignment.cpp).
#pragma once
#include <algorithm>
#include <cctype>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "attend/attend.hpp"

namespace attend_test {

inline const std::map<std::string, std::vector<std::string>>& en_de_dictionary() {
  static const std::map<std::string, std::vector<std::string>> d = {
      {"dog", {"hund"}}, {"dogs", {"hunde"}}, {"man", {"mann"}}, {"men", {"männer"}},
      {"woman", {"frau"}}, {"women", {"frauen"}}, {"boy", {"junge"}}, {"girl", {"mädchen"}},
      {"children", {"kinder"}}, {"child", {"kind"}}, {"street", {"straße"}}, {"water", {"wasser"}},
      {"ball", {"ball"}}, {"hat", {"hut", "mütze"}}, {"bike", {"fahrrad"}}, {"bicycle", {"fahrrad"}},
      {"car", {"auto"}}, {"beach", {"strand"}}, {"snow", {"schnee"}}, {"grass", {"gras"}},
      {"park", {"park"}}, {"table", {"tisch"}}, {"two", {"zwei"}}, {"three", {"drei"}},
      {"guitar", {"gitarre"}}, {"bench", {"bank"}}, {"tree", {"baum"}}, {"horse", {"pferd"}},
      {"jacket", {"jacke"}}, {"dress", {"kleid"}}, {"shirt", {"hemd", "t-shirt"}}, {"camera", {"kamera"}},
      {"building", {"gebäude"}}, {"city", {"stadt"}}, {"field", {"feld"}}, {"crowd", {"menschenmenge", "menge"}},
      {"red", {"rot", "rote", "roten", "roter", "rotes", "rotem"}},
      {"blue", {"blau", "blaue", "blauen", "blauer", "blaues", "blauem"}},
      {"black", {"schwarz", "schwarze", "schwarzen", "schwarzer", "schwarzes", "schwarzem"}},
      {"white", {"weiß", "weiße", "weißen", "weißer", "weißes", "weißem"}},
      {"green", {"grün", "grüne", "grünen", "grüner", "grünes", "grünem"}},
      {"small", {"klein", "kleine", "kleinen", "kleiner", "kleines", "kleinem"}},
      {"young", {"jung", "junge", "jungen", "junger", "junges", "jungem"}},
      {"and", {"und"}}, {"with", {"mit"}}, {"mountain", {"berg"}}, {"wall", {"wand", "mauer"}},
      {"hair", {"haaren", "haar", "haare"}}, {"sand", {"sand"}}, {"ocean", {"ozean", "meer"}},
  };
  return d;
}

// Whitespace words, lower-cased (ASCII) and stripped of surrounding punctuation.
inline std::vector<std::string> plain_words(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  std::string w;
  while (in >> w) {
    size_t a = 0, b = w.size();
    while (a < b && std::ispunct(static_cast<unsigned char>(w[a]))) ++a;
    while (b > a && std::ispunct(static_cast<unsigned char>(w[b - 1]))) --b;
    std::string x = w.substr(a, b - a);
    for (auto& c : x) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    out.push_back(x);
  }
  return out;
}

// The (source word, target word) index pairs the dictionary makes obvious in this sentence pair:
// an English word occurring once whose German translation occurs once.
inline std::vector<attend::WordLink> expected_links(const std::string& source, const std::string& target) {
  const auto sw = plain_words(source), tw = plain_words(target);
  std::vector<attend::WordLink> out;
  for (size_t i = 0; i < sw.size(); ++i) {
    auto it = en_de_dictionary().find(sw[i]);
    if (it == en_de_dictionary().end() || std::count(sw.begin(), sw.end(), sw[i]) != 1) continue;
    int found = -1, hits = 0;
    for (size_t j = 0; j < tw.size(); ++j) {
      std::string t = tw[j];
      for (auto& c : t) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      // German capitals outside ASCII (Ä, Ö, Ü) do not start these words
      if (std::find(it->second.begin(), it->second.end(), t) != it->second.end()) {
        found = static_cast<int>(j);
        ++hits;
      }
    }
    if (hits == 1) out.push_back(attend::WordLink{static_cast<int>(i), found});
  }
  return out;
}

}  // namespace attend_test
