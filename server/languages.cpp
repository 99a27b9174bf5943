// server/languages.cpp — model languages in LibreTranslate's spelling (see languages.hpp).
#include "server/languages.hpp"

#include <algorithm>
#include <cctype>
#include <map>

namespace attend_server {

std::string libre_code(const std::string& c) {
  if (c.size() > 4 && c.compare(0, 2, ">>") == 0 && c.compare(c.size() - 2, 2, "<<") == 0)
    return c.substr(2, c.size() - 4);  // Marian multilingual target token
  if (c.size() == 5 && c[2] == '_' && std::islower(static_cast<unsigned char>(c[0])) &&
      std::isupper(static_cast<unsigned char>(c[3])))
    return c.substr(0, 2);  // mBART-50 "en_XX"
  return c;
}

ModelLanguages languages_of(const attend::ModelInfo& info) {
  ModelLanguages l;
  auto add = [](std::vector<std::string>& v, const std::string& code) {
    if (!code.empty() && std::find(v.begin(), v.end(), code) == v.end()) v.push_back(code);
  };
  if (!info.languages.empty()) {
    l.multilingual = true;
    for (const auto& c : info.languages) add(l.targets, libre_code(c));
    if (info.family == "marian") add(l.sources, libre_code(info.source_language));  // one source, many targets
    else l.sources = l.targets;                                                     // mBART-50, M2M100, NLLB
    return l;
  }
  add(l.sources, libre_code(info.source_language));
  add(l.targets, libre_code(info.target_language));
  if (l.sources.empty() || l.targets.empty()) l.sources.clear(), l.targets.clear();
  return l;
}

std::string model_language_code(const attend::ModelInfo& info, const std::string& code) {
  if (info.languages.empty()) {
    if (code == libre_code(info.source_language) || code == libre_code(info.target_language)) return "";
    throw attend::Error("this model translates " + info.source_language + " to " + info.target_language +
                        ", not '" + code + "'");
  }
  if (info.family == "marian" && code == libre_code(info.source_language)) return "";
  for (const auto& c : info.languages)
    if (c == code || libre_code(c) == code) return c;
  throw attend::Error("this model has no language '" + code + "'");
}

std::string language_name(const std::string& code) {
  static const std::map<std::string, std::string> names = {
      {"ar", "Arabic"},     {"bg", "Bulgarian"}, {"cs", "Czech"},    {"da", "Danish"},     {"de", "German"},
      {"el", "Greek"},      {"en", "English"},   {"es", "Spanish"},  {"et", "Estonian"},   {"fi", "Finnish"},
      {"fr", "French"},     {"ga", "Irish"},     {"he", "Hebrew"},   {"hi", "Hindi"},      {"hu", "Hungarian"},
      {"id", "Indonesian"}, {"it", "Italian"},   {"ja", "Japanese"}, {"ko", "Korean"},     {"lt", "Lithuanian"},
      {"lv", "Latvian"},    {"nl", "Dutch"},     {"pl", "Polish"},   {"pt", "Portuguese"}, {"ro", "Romanian"},
      {"ru", "Russian"},    {"sk", "Slovak"},    {"sl", "Slovenian"}, {"sv", "Swedish"},   {"tr", "Turkish"},
      {"uk", "Ukrainian"},  {"vi", "Vietnamese"}, {"zh", "Chinese"},
  };
  const auto it = names.find(code);
  return it == names.end() ? code : it->second;
}

}  // namespace attend_server
