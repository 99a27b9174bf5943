// tests/layering/layering.hpp — the include-direction check behind the `layering` test: reads the
// layer order (tests/layering/layers.txt) and every source file's `#include "..."` lines.
#pragma once
#include <filesystem>
#include <string>
#include <vector>

namespace attend::layering {

// Checks the tree under `root` against the rules file `rules` (format: see layers.txt).
// Returns one message per violation (empty: the tree is layered as written).
std::vector<std::string> check_tree(const std::filesystem::path& root, const std::filesystem::path& rules);

}  // namespace attend::layering
