// tests/embed/embed_fixture.hpp — what the embedding tests share: the bundled model (loaded once;
// path from CMake) and English input sentences in the model's domain (image captions).
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "attend/attend.hpp"

namespace embed_test {

inline std::shared_ptr<const attend::Model> model() {
  static std::shared_ptr<const attend::Model> m = attend::Model::load(ATTEND_TEST_MODEL);
  return m;
}

inline const std::vector<std::string>& sentences() {
  static const std::vector<std::string> s = {
      "A man in an orange hat starring at something.",
      "A Boston Terrier is running on lush green grass in front of a white fence.",
      "People are fixing the roof of a house.",
      "Two young girls are playing in the snow.",
      "A dog runs across the grass with a ball in its mouth.",
      "People are sitting at tables in a busy restaurant.",
      "A woman is riding a bicycle down the street.",
      "A little boy is eating an ice cream cone.",
      "Several men are working on a construction site.",
      "A black dog is swimming in a lake.",
      "A group of children are standing in front of a school.",
      "An old man is reading a newspaper on a bench.",
      "Two men are playing soccer on a field.",
      "A woman in a red dress is dancing on a stage.",
      "A girl is jumping into a swimming pool.",
      "A man is cooking food in a kitchen.",
      "The crowd is watching a concert.",
      "A cat sleeps on the couch.",
  };
  return s;
}

}  // namespace embed_test
