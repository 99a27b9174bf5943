// tests/layering/main.cpp — `attend-layering [ROOT]`: checks that every #include of the tree points
// down or sideways in the layer order of tests/layering/layers.txt and that no folder is a flat room.
#include <exception>
#include <iostream>

#include "tests/layering/layering.hpp"

int main(int argc, char** argv) {
  const std::filesystem::path root = argc > 1 ? argv[1] : ".";
  try {
    const auto errors = attend::layering::check_tree(root, root / "tests/layering/layers.txt");
    for (const auto& e : errors) std::cerr << "layering: " << e << "\n";
    if (!errors.empty()) {
      std::cerr << "layering: " << errors.size() << " violation(s) of tests/layering/layers.txt\n";
      return 1;
    }
    std::cout << "layering: every include points down or sideways; no folder over the file limit\n";
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "layering: " << e.what() << "\n";
    return 2;
  }
}
