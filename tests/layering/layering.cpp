// tests/layering/layering.cpp — implementation of the include-direction and folder-size check.
#include "tests/layering/layering.hpp"

#include <algorithm>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>
#include <stdexcept>

namespace fs = std::filesystem;

namespace attend::layering {
namespace {

struct Rules {
  std::map<std::string, int> rank;                    // layered folder -> rank (line order)
  std::map<std::string, std::string> layer_name;      // layered folder -> layer name
  std::map<std::string, int> frontend;                // front-end folder -> front end index
  std::vector<std::vector<std::string>> frontend_ok;  // per front end: folders it may include
  std::vector<std::string> unchecked;
  size_t max_files = 0;

  bool known(const std::string& f) const {
    return rank.count(f) || frontend.count(f) ||
           std::find(unchecked.begin(), unchecked.end(), f) != unchecked.end();
  }
};

std::vector<std::string> words(const std::string& s) {
  std::istringstream in(s);
  std::vector<std::string> w;
  for (std::string x; in >> x;) w.push_back(x);
  return w;
}

Rules read_rules(const fs::path& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error(path.string() + ": cannot read the layer rules");
  Rules r;
  int rank = 0, line_no = 0;
  for (std::string line; std::getline(in, line);) {
    ++line_no;
    if (auto h = line.find('#'); h != std::string::npos) line.resize(h);
    auto colon = line.find(':');
    if (words(line).empty()) continue;
    if (colon == std::string::npos)
      throw std::runtime_error(path.string() + ":" + std::to_string(line_no) + ": expected 'NAME: FOLDER...'");
    const std::string key = words(line.substr(0, colon)).at(0);
    const std::vector<std::string> rest = words(line.substr(colon + 1));
    if (key == "max-files") {
      r.max_files = std::stoul(rest.at(0));
    } else if (key == "unchecked") {
      r.unchecked.insert(r.unchecked.end(), rest.begin(), rest.end());
    } else if (key == "frontend") {
      const int idx = static_cast<int>(r.frontend_ok.size());
      std::vector<std::string> ok{"include/attend"};
      bool extra = false;
      for (const auto& w : rest) {
        if (w == "+") { extra = true; continue; }
        if (!extra) r.frontend[w] = idx;
        ok.push_back(w);
      }
      r.frontend_ok.push_back(ok);
    } else {
      for (const auto& f : rest) {
        r.rank[f] = rank;
        r.layer_name[f] = key;
      }
      ++rank;
    }
  }
  return r;
}

// The longest known folder that contains `rel` ("" if none).
std::string folder_of(const Rules& r, const std::string& rel) {
  std::string best;
  auto consider = [&](const std::string& f) {
    if (rel.size() > f.size() && rel.compare(0, f.size(), f) == 0 && rel[f.size()] == '/' && f.size() > best.size())
      best = f;
  };
  for (const auto& [f, _] : r.rank) consider(f);
  for (const auto& [f, _] : r.frontend) consider(f);
  for (const auto& f : r.unchecked) consider(f);
  return best;
}

bool is_source(const fs::path& p) {
  const std::string e = p.extension().string();
  return e == ".cpp" || e == ".hpp" || e == ".h" || e == ".c" || e == ".cc";
}

bool skipped_dir(const fs::path& p) {
  const std::string n = p.filename().string();
  return n.empty() || n[0] == '.' || n.rfind("build", 0) == 0 || n == "__pycache__" || n == "venv";
}

}  // namespace

std::vector<std::string> check_tree(const fs::path& root, const fs::path& rules_path) {
  const Rules rules = read_rules(rules_path);
  std::vector<std::string> errors;
  std::map<std::string, size_t> per_dir;
  static const std::regex include_re(R"(^\s*#\s*include\s*\"([^\"]+)\")");

  for (auto it = fs::recursive_directory_iterator(root); it != fs::recursive_directory_iterator(); ++it) {
    if (it->is_directory()) {
      if (skipped_dir(it->path())) it.disable_recursion_pending();
      continue;
    }
    if (!it->is_regular_file() || !is_source(it->path())) continue;
    const std::string rel = fs::relative(it->path(), root).generic_string();
    const std::string dir = fs::path(rel).parent_path().generic_string();
    ++per_dir[dir.empty() ? "." : dir];
    const std::string folder = folder_of(rules, rel);
    if (folder.empty() || (dir != folder && !rules.known(dir) &&
                           std::find(rules.unchecked.begin(), rules.unchecked.end(), folder) == rules.unchecked.end())) {
      errors.push_back(rel + ": folder '" + (dir.empty() ? "." : dir) + "' has no place in " +
                       rules_path.filename().string() + " (add it to a layer)");
      continue;
    }
    if (std::find(rules.unchecked.begin(), rules.unchecked.end(), folder) != rules.unchecked.end()) continue;

    std::ifstream in(it->path());
    int line_no = 0;
    for (std::string line; std::getline(in, line);) {
      ++line_no;
      std::smatch m;
      if (!std::regex_search(line, m, include_re)) continue;
      const std::string inc = m[1];
      const std::string where = rel + ":" + std::to_string(line_no) + ": #include \"" + inc + "\"";
      std::string target;
      if (inc.find('/') == std::string::npos) target = folder;  // beside the file
      else if (inc.rfind("attend/", 0) == 0) target = "include/attend";
      else target = folder_of(rules, inc);
      if (target.empty()) {
        errors.push_back(where + ": the included folder has no place in the layer rules");
        continue;
      }
      if (auto fe = rules.frontend.find(folder); fe != rules.frontend.end()) {
        const auto& ok = rules.frontend_ok[static_cast<size_t>(fe->second)];
        if (std::find(ok.begin(), ok.end(), target) == ok.end())
          errors.push_back(where + ": front end '" + folder + "' may include only the public API (include/attend), "
                           "its own folders and those named after '+' (not '" + target + "')");
        continue;
      }
      auto t = rules.rank.find(target);
      if (t == rules.rank.end()) {
        errors.push_back(where + ": layer '" + rules.layer_name.at(folder) + "' includes '" + target +
                         "', which is a front end or unchecked code");
      } else if (t->second > rules.rank.at(folder)) {
        errors.push_back(where + ": points up, from layer '" + rules.layer_name.at(folder) + "' (" + folder +
                         ") to the higher layer '" + rules.layer_name.at(target) + "' (" + target + ")");
      }
    }
  }
  if (rules.max_files > 0) {
    for (const auto& [dir, n] : per_dir) {
      if (n > rules.max_files)
        errors.push_back(dir + "/: " + std::to_string(n) + " source files directly in one folder (at most " +
                         std::to_string(rules.max_files) + ")");
    }
  }
  std::sort(errors.begin(), errors.end());
  return errors;
}

}  // namespace attend::layering
