// tasks/html_translation.cpp — translate_html_with (Model::translate_html's core): Gumbo parses the
// HTML; the tree is serialized back node by node, except that each run of text and inline
// elements (a block's text) is replaced by its translation, in which every target word is put
// inside the inline elements (b, i, a, span, ...) that held the source word it is aligned to.
// Tags are opened and closed as a stack, so the output is well-formed whatever the alignment.
#include "tasks/html_translation.hpp"

#include <gumbo.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <set>

#include "tokenizer/text/unicode.hpp"

namespace attend {
namespace {

using Path = std::vector<const GumboNode*>;  // inline elements around a word, outermost first

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f'; }

std::string lower(std::string s) {
  for (char& c : s)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return s;
}

// Names the parser accepted but a serializer must not write as they are ("a<b") get their
// other characters replaced by '-'.
bool name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
         c == ':' || c == '.' || (static_cast<unsigned char>(c) >= 0x80);
}

std::string tag_name(const GumboNode* n) {
  const GumboElement& e = n->v.element;
  if (e.tag != GUMBO_TAG_UNKNOWN) return gumbo_normalized_tagname(e.tag);
  GumboStringPiece piece = e.original_tag;
  gumbo_tag_from_original_text(&piece);
  std::string name = lower(std::string(piece.data ? piece.data : "", piece.length));
  for (char& c : name)
    if (!name_char(c)) c = '-';
  if (name.empty() || !((name[0] >= 'a' && name[0] <= 'z'))) name = "x-" + name;
  return name;
}

const char* attribute(const GumboNode* n, const char* name) {
  const GumboAttribute* a = gumbo_get_attribute(&n->v.element.attributes, name);
  return a ? a->value : nullptr;
}

bool in_set(const std::string& name, std::initializer_list<const char*> names) {
  for (const char* x : names)
    if (name == x) return true;
  return false;
}

bool is_void(const std::string& name) {
  return in_set(name, {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source",
                       "track", "wbr", "keygen"});
}
// Text children written as they are (not escaped).
bool is_raw_text(const std::string& name) {
  return in_set(name, {"script", "style", "xmp", "iframe", "noembed", "noframes", "plaintext"});
}
// Elements whose content is never translated.
bool is_untouched(const GumboNode* n) {
  const std::string name = tag_name(n);
  if (in_set(name, {"script", "style", "code", "pre", "textarea", "template", "svg", "math", "kbd", "samp", "var"}) ||
      is_raw_text(name))
    return true;
  const char* t = attribute(n, "translate");
  return t && lower(t) == "no";
}
// Inline elements that wrap words and are re-placed around their translation.
bool is_wrapper_name(const std::string& name) {
  return in_set(name, {"a", "abbr", "b", "bdi", "bdo", "big", "cite", "data", "del", "dfn", "em", "font", "i", "ins",
                       "label", "mark", "q", "s", "small", "span", "strike", "strong", "sub", "sup", "time", "tt", "u"});
}
// Inline elements kept whole at their place in the sentence (no words of theirs are translated).
bool is_atom_name(const std::string& name) {
  return in_set(name, {"br", "img", "wbr", "input", "button", "select", "textarea", "code", "kbd", "samp", "var",
                       "svg", "math", "script", "style", "iframe", "object", "embed", "audio", "video", "canvas",
                       "picture", "map", "meter", "progress", "output", "ruby"});
}

void escape_text(const char* s, std::string& out) {
  for (; *s; ++s) {
    switch (*s) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '\xC2':
        if (s[1] == '\xA0') {  // no-break space: keep it visible as the entity
          out += "&nbsp;";
          ++s;
          break;
        }
        out += *s;
        break;
      default: out += *s;
    }
  }
}

void escape_attribute(const char* s, std::string& out) {
  for (; *s; ++s) {
    switch (*s) {
      case '&': out += "&amp;"; break;
      case '"': out += "&quot;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      default: out += *s;
    }
  }
}

void start_tag(const GumboNode* n, std::string& out) {
  out += '<';
  out += tag_name(n);
  const GumboVector& attrs = n->v.element.attributes;
  for (unsigned i = 0; i < attrs.length; ++i) {
    const auto* a = static_cast<const GumboAttribute*>(attrs.data[i]);
    bool ok = *a->name != '\0';
    for (const char* c = a->name; *c; ++c) ok = ok && name_char(*c);
    if (!ok) continue;  // a name no serializer can write back (documented: dropped)
    out += ' ';
    out += a->name;
    out += "=\"";
    escape_attribute(a->value, out);
    out += '"';
  }
  out += '>';
}

void end_tag(const GumboNode* n, std::string& out) {
  const std::string name = tag_name(n);
  if (!is_void(name)) out += "</" + name + ">";
}

// The text of every text node below n, in document order.
void text_content(const GumboNode* n, std::string& out) {
  if (n->type == GUMBO_NODE_TEXT || n->type == GUMBO_NODE_WHITESPACE || n->type == GUMBO_NODE_CDATA) {
    out += n->v.text.text;
    return;
  }
  if (n->type != GUMBO_NODE_ELEMENT && n->type != GUMBO_NODE_TEMPLATE) return;
  const GumboVector& c = n->v.element.children;
  for (unsigned i = 0; i < c.length; ++i) text_content(static_cast<const GumboNode*>(c.data[i]), out);
}

// The subtree as it is (nothing translated).
void serialize(const GumboNode* n, std::string& out) {
  switch (n->type) {
    case GUMBO_NODE_TEXT:
    case GUMBO_NODE_WHITESPACE:
      escape_text(n->v.text.text, out);
      return;
    case GUMBO_NODE_CDATA: out += "<![CDATA["; out += n->v.text.text; out += "]]>"; return;
    case GUMBO_NODE_COMMENT: {
      std::string c = n->v.text.text;  // "--" could end it early: spaced out
      for (size_t p = 0; (p = c.find("--", p)) != std::string::npos;) c.insert(++p, " ");
      if (!c.empty() && c.back() == '-') c += ' ';
      out += "<!--" + c + "-->";
      return;
    }
    case GUMBO_NODE_DOCUMENT:
      for (unsigned i = 0; i < n->v.document.children.length; ++i)
        serialize(static_cast<const GumboNode*>(n->v.document.children.data[i]), out);
      return;
    case GUMBO_NODE_ELEMENT:
    case GUMBO_NODE_TEMPLATE: {
      start_tag(n, out);
      const std::string name = tag_name(n);
      const GumboVector& c = n->v.element.children;
      // Only HTML elements hold raw text (an SVG <script> or <style> has ordinary, escaped
      // children). Raw text cannot hold elements: a parser's odd recovery can still nest some
      // (fuzz_html: a <script> inside a <script>), so the content written is the text of all
      // descendants — as it is, unless it holds the element's own end tag (<plaintext> can).
      if (n->type == GUMBO_NODE_ELEMENT && n->v.element.tag_namespace == GUMBO_NAMESPACE_HTML && is_raw_text(name)) {
        std::string text;
        text_content(n, text);
        if (lower(text).find("</" + name) == std::string::npos) out += text;
        else escape_text(text.c_str(), out);
        end_tag(n, out);
        return;
      }
      for (unsigned i = 0; i < c.length; ++i) serialize(static_cast<const GumboNode*>(c.data[i]), out);
      end_tag(n, out);
      return;
    }
  }
}

bool has_text(const GumboNode* n) {
  if (n->type == GUMBO_NODE_TEXT) {
    for (const char* s = n->v.text.text; *s; ++s)
      if (!is_space(*s)) return true;
    return false;
  }
  if (n->type != GUMBO_NODE_ELEMENT) return false;
  const GumboVector& c = n->v.element.children;
  for (unsigned i = 0; i < c.length; ++i)
    if (has_text(static_cast<const GumboNode*>(c.data[i]))) return true;
  return false;
}

bool is_inline(const GumboNode* n);
// A wrapper whose whole content is inline.
bool is_inline_wrapper(const GumboNode* n) {
  if (n->type != GUMBO_NODE_ELEMENT || !is_wrapper_name(tag_name(n)) || is_untouched(n)) return false;
  const GumboVector& c = n->v.element.children;
  for (unsigned i = 0; i < c.length; ++i)
    if (!is_inline(static_cast<const GumboNode*>(c.data[i]))) return false;
  return true;
}
// Part of a run: text, comments, inline wrappers and atoms.
bool is_inline(const GumboNode* n) {
  switch (n->type) {
    case GUMBO_NODE_TEXT:
    case GUMBO_NODE_WHITESPACE:
    case GUMBO_NODE_COMMENT:
    case GUMBO_NODE_CDATA: return true;
    case GUMBO_NODE_ELEMENT: {
      if (is_inline_wrapper(n)) return true;
      const std::string name = tag_name(n);
      if (is_atom_name(name)) return true;
      // an untouched element that is inline by name (e.g. <span translate="no">)
      return is_wrapper_name(name) && is_untouched(n);
    }
    default: return false;
  }
}

// A run flattened: its words (with the wrappers around each) and its atoms (kept whole).
struct Item {
  bool atom = false;
  std::string word;            // words: the decoded text
  // words: the pieces of the word under different wrappers ("park</a>." gives "park", ".")
  std::vector<std::pair<std::string, Path>> segments;
  const GumboNode* node = nullptr;  // atoms
  Path path;                   // words: the first segment's
  int after_word = -1;         // atoms: index of the last source word before it (-1: none)
  bool space_before = false;   // atoms: whitespace before it in the source
  bool space_after = false;
};

struct Run {
  std::vector<Item> items;
  std::vector<int> word_item;  // source word -> its item
  std::string leading, trailing;  // whitespace around the run's content, kept
  std::vector<const GumboNode*> wrappers;  // every wrapper holding words, in document order
  std::string source() const {
    std::string s;
    for (const Item& it : items)
      if (!it.atom) s += (s.empty() ? "" : " ") + it.word;
    return s;
  }
};

class RunBuilder {
 public:
  explicit RunBuilder(Run& r) : r_(r) {}

  void add(const GumboNode* n) {
    if (n->type == GUMBO_NODE_TEXT || n->type == GUMBO_NODE_WHITESPACE) return text(n->v.text.text);
    if (n->type == GUMBO_NODE_ELEMENT && is_inline_wrapper(n) && has_text(n)) {
      r_.wrappers.push_back(n);
      path_.push_back(n);
      const GumboVector& c = n->v.element.children;
      for (unsigned i = 0; i < c.length; ++i) add(static_cast<const GumboNode*>(c.data[i]));
      path_.pop_back();
      return;
    }
    // an atom: a void or untouched element, a wrapper without text, a comment
    Item it;
    it.atom = true;
    it.node = n;
    it.path = path_;
    it.after_word = static_cast<int>(r_.word_item.size()) - 1;
    it.space_before = pending_space_ && !r_.items.empty();
    r_.items.push_back(it);
    pending_space_ = false;
    pending_ws_.clear();
    in_word_ = false;
  }

  void finish() { r_.trailing = pending_ws_; }

 private:
  void text(const char* s) {
    for (; *s; ++s) {
      if (is_space(*s)) {
        if (r_.items.empty()) r_.leading += *s;
        else pending_ws_ += *s;
        pending_space_ = true;
        in_word_ = false;
        continue;
      }
      if (!r_.items.empty() && r_.items.back().atom) r_.items.back().space_after = pending_space_;
      pending_ws_.clear();
      if (!in_word_) {
        Item it;
        it.path = path_;
        r_.items.push_back(it);
        r_.word_item.push_back(static_cast<int>(r_.items.size()) - 1);
        in_word_ = true;
      }
      pending_space_ = false;
      Item& w = r_.items[static_cast<size_t>(r_.word_item.back())];
      w.word += *s;
      if (w.segments.empty() || w.segments.back().second != path_) w.segments.emplace_back("", path_);
      w.segments.back().first += *s;
    }
  }

  Run& r_;
  Path path_;
  std::string pending_ws_;
  bool pending_space_ = false, in_word_ = false;
};

// Walks the tree; `runs` collects runs on the first pass and gives their translations on the
// second.
class Walker {
 public:
  std::vector<Run> runs;
  const std::vector<HtmlRunTranslation>* translations = nullptr;

  void children(const GumboVector& c, std::string& out) {
    std::vector<const GumboNode*> run;
    auto flush = [&] {
      if (run.empty()) return;
      bool text = false;
      for (const GumboNode* n : run) text = text || (is_inline(n) && n->type != GUMBO_NODE_COMMENT && has_text(n) &&
                                                     !(n->type == GUMBO_NODE_ELEMENT && !is_inline_wrapper(n)));
      if (!text) {
        for (const GumboNode* n : run) serialize(n, out);
      } else {
        translate_run(run, out);
      }
      run.clear();
    };
    for (unsigned i = 0; i < c.length; ++i) {
      const auto* n = static_cast<const GumboNode*>(c.data[i]);
      if (is_inline(n)) {
        run.push_back(n);
        continue;
      }
      flush();
      node(n, out);
    }
    flush();
  }

  void node(const GumboNode* n, std::string& out) {
    if (n->type == GUMBO_NODE_DOCUMENT) return children(n->v.document.children, out);
    if (n->type != GUMBO_NODE_ELEMENT || is_untouched(n) || tag_name(n) == "head") return serialize(n, out);
    start_tag(n, out);
    children(n->v.element.children, out);
    end_tag(n, out);
  }

 private:
  void translate_run(const std::vector<const GumboNode*>& nodes, std::string& out) {
    if (!translations) {  // first pass: collect
      Run r;
      RunBuilder b(r);
      for (const GumboNode* n : nodes) b.add(n);
      b.finish();
      runs.push_back(std::move(r));
      return;
    }
    const Run& r = runs.at(next_);
    const HtmlRunTranslation& t = translations->at(next_);
    ++next_;
    emit(r, t, out);
  }

  static void emit(const Run& r, const HtmlRunTranslation& t, std::string& out) {
    // target words, each with the path of its aligned source word
    std::vector<std::string> words;
    {
      std::string w;
      for (char c : t.text + " ") {
        if (is_space(c)) {
          if (!w.empty()) words.push_back(w);
          w.clear();
        } else {
          w += c;
        }
      }
    }
    const int nsrc = static_cast<int>(r.word_item.size());
    std::vector<int> src_of(words.size(), -1);
    for (const WordLink& l : t.links)
      if (l.target >= 0 && l.target < static_cast<int>(words.size()) && l.source >= 0 && l.source < nsrc)
        src_of[static_cast<size_t>(l.target)] = l.source;
    for (size_t i = 0; i < src_of.size(); ++i)  // unaligned: as the word before (or the first source word)
      if (src_of[i] < 0) src_of[i] = i > 0 ? src_of[i - 1] : 0;
    struct Out {
      bool atom;
      std::string word;
      const Item* item;
      Path path;
      bool space_before;
      int src;  // words: the aligned source word
    };
    std::vector<Out> seq;
    auto punct = [](const std::string& x) {
      return !x.empty() && x.find_first_not_of(".,;:!?()[]\"'-") == std::string::npos;
    };
    if (nsrc > 0)
      for (size_t i = 0; i < words.size(); ++i) {
        const Item& it = r.items[static_cast<size_t>(r.word_item[static_cast<size_t>(src_of[i])])];
        const auto& segs = it.segments;
        std::string w = words[i];
        // punctuation the source word had outside its wrapper stays outside in the target
        std::string lead, trail;
        Path lead_path, trail_path, mid_path = it.path;
        size_t first = 0, last = segs.size();
        if (segs.size() > 1 && punct(segs.front().first) && w.size() > segs.front().first.size() &&
            w.compare(0, segs.front().first.size(), segs.front().first) == 0) {
          lead = segs.front().first;
          lead_path = segs.front().second;
          w.erase(0, lead.size());
          first = 1;
        }
        if (last - first > 1 && punct(segs.back().first) && w.size() > segs.back().first.size() &&
            w.compare(w.size() - segs.back().first.size(), std::string::npos, segs.back().first) == 0) {
          trail = segs.back().first;
          trail_path = segs.back().second;
          w.erase(w.size() - trail.size());
          --last;
        }
        if (first < last) mid_path = segs[first].second;
        if (!lead.empty()) seq.push_back(Out{false, lead, nullptr, lead_path, !seq.empty(), src_of[i]});
        seq.push_back(Out{false, w, nullptr, mid_path, !seq.empty() && lead.empty(), src_of[i]});
        if (!trail.empty()) seq.push_back(Out{false, trail, nullptr, trail_path, false, src_of[i]});
      }
    // wrappers none of whose words got a target word: kept, empty, where their first word was
    std::set<const GumboNode*> used;
    for (const Out& o : seq) used.insert(o.path.begin(), o.path.end());
    std::vector<Item> shells;
    shells.reserve(r.wrappers.size());
    for (const GumboNode* w : r.wrappers) {
      if (used.count(w)) continue;
      for (int s = 0; s < nsrc; ++s) {
        const Item& it = r.items[static_cast<size_t>(r.word_item[static_cast<size_t>(s)])];
        const auto at = std::find(it.path.begin(), it.path.end(), w);
        if (at == it.path.end()) continue;
        Item shell;
        shell.atom = true;
        shell.node = nullptr;
        shell.path.assign(it.path.begin(), at + 1);
        shell.after_word = s - 1;
        shell.space_before = true;
        shells.push_back(shell);
        used.insert(shell.path.begin(), shell.path.end());
        break;
      }
    }
    // atoms (and shells) after the last target word aligned to a source word at or before theirs
    auto insert_atom = [&](const Item& a) {
      size_t pos = 0;  // insert before seq[pos]
      bool found = false;
      for (int k = a.after_word; k >= 0 && !found; --k)
        for (size_t i = seq.size(); i-- > 0;)
          if (!seq[i].atom && seq[i].src == k) {
            pos = i + 1;
            found = true;
            break;
          }
      while (pos < seq.size() && seq[pos].atom) ++pos;  // after atoms already placed there
      const bool first = pos == 0;
      Out o{true, std::string(), &a, a.path, a.space_before && !first, -1};
      if (pos < seq.size() && !seq[pos].atom) seq[pos].space_before = a.space_after || a.node == nullptr;
      seq.insert(seq.begin() + static_cast<std::ptrdiff_t>(pos), o);
    };
    for (const Item& it : r.items)
      if (it.atom) insert_atom(it);
    for (const Item& s : shells) insert_atom(s);

    out += r.leading;
    Path cur;
    for (const Out& o : seq) {
      size_t p = 0;
      while (p < cur.size() && p < o.path.size() && cur[p] == o.path[p]) ++p;
      while (cur.size() > p) {
        end_tag(cur.back(), out);
        cur.pop_back();
      }
      if (o.space_before) out += ' ';
      while (cur.size() < o.path.size()) {
        start_tag(o.path[cur.size()], out);
        cur.push_back(o.path[cur.size()]);
      }
      if (!o.atom) escape_text(o.word.c_str(), out);
      else if (o.item->node) serialize(o.item->node, out);
    }
    while (!cur.empty()) {
      end_tag(cur.back(), out);
      cur.pop_back();
    }
    out += r.trailing;
  }

  size_t next_ = 0;
};

bool starts_document(const std::string& html) {
  size_t i = 0;
  while (i < html.size() && is_space(html[i])) ++i;
  if (html.compare(i, 3, "\xEF\xBB\xBF") == 0) i += 3;
  const std::string head = lower(html.substr(i, 9));
  return head.rfind("<!doctype", 0) == 0 || head.rfind("<html", 0) == 0;
}

struct GumboDeleter {
  const GumboOptions* options;
  void operator()(GumboOutput* o) const { gumbo_destroy_output(options, o); }
};

void doctype(const GumboDocument& d, std::string& out) {
  if (!d.has_doctype) return;
  out += "<!DOCTYPE ";
  out += d.name;
  if (*d.public_identifier) out += std::string(" PUBLIC \"") + d.public_identifier + "\"";
  if (*d.system_identifier) out += std::string(*d.public_identifier ? "" : " SYSTEM") + " \"" + d.system_identifier + "\"";
  out += ">";
}

// One walk of a parsed input, the same in both passes (collecting runs, then writing) so they
// meet the same runs. A fragment is parsed inside <html><body> made up by the parser: only its
// children are the input (an <html translate="no"> tag in a fragment lands on that made-up
// root; it is not the fragment's own markup and does not make the whole input untouched).
void walk(Walker& w, const GumboOutput* o, bool whole, std::string& out) {
  if (whole) w.node(o->document, out);
  else w.children(o->root->v.element.children, out);
}

}  // namespace

std::vector<std::string> translate_html_with(const std::vector<std::string>& html, const HtmlRunTranslator& translate) {
  std::vector<GumboOptions> options(html.size(), kGumboDefaultOptions);  // outlives `parsed`
  std::vector<std::unique_ptr<GumboOutput, GumboDeleter>> parsed;
  std::vector<bool> whole(html.size());
  Walker walker;
  std::vector<std::pair<size_t, size_t>> run_range;  // per document: its runs
  std::vector<std::string> ignore;
  for (size_t d = 0; d < html.size(); ++d) {
    const std::string& h = html[d];
    if (!is_valid_utf8(h)) throw Error("html input " + std::to_string(d) + ": not valid UTF-8");
    if (h.find('\0') != std::string::npos) throw Error("html input " + std::to_string(d) + ": contains a NUL byte");
    whole[d] = starts_document(h);
    if (!whole[d]) options[d].fragment_context = GUMBO_TAG_BODY;
    GumboOutput* o = gumbo_parse_with_options(&options[d], h.data(), h.size());
    if (!o) throw Error("html input " + std::to_string(d) + ": the HTML parser failed");
    parsed.emplace_back(o, GumboDeleter{&options[d]});
    const size_t first = walker.runs.size();
    std::string scratch;
    walk(walker, o, whole[d], scratch);
    run_range.emplace_back(first, walker.runs.size());
  }
  std::vector<std::string> sources;
  for (const Run& r : walker.runs) sources.push_back(r.source());
  std::vector<HtmlRunTranslation> translations;
  if (!sources.empty()) translations = translate(sources);
  if (translations.size() != sources.size()) throw Error("html: the translator returned the wrong number of results");
  walker.translations = &translations;
  std::vector<std::string> out(html.size());
  // second pass: the same walk, now writing (runs are met in the same order)
  Walker writer;
  writer.runs = std::move(walker.runs);
  writer.translations = &translations;
  for (size_t d = 0; d < html.size(); ++d) {
    GumboOutput* o = parsed[d].get();
    if (whole[d]) doctype(o->document->v.document, out[d]);
    walk(writer, o, whole[d], out[d]);
  }
  return out;
}

}  // namespace attend
