// tasks/translate_html.cpp — Model::translate_html: the HTML walk of tasks/html_translation.cpp with
// the model as its translator (each block translated with its cross-attention, aligned to words).
#include "attend/attend.hpp"
#include "runtime/model_impl.hpp"
#include "tasks/html_translation.hpp"
#include "tasks/word_alignment.hpp"

namespace attend {

std::vector<std::string> Model::translate_html(const std::vector<std::string>& html,
                                               const TranslateOptions& options) const {
  if (!impl_->tokenizer) throw Error(impl_->label + ": this model has no tokenizer; HTML translation needs one");
  TranslateOptions opt = options;
  opt.return_attention = true;
  return translate_html_with(html, [&](const std::vector<std::string>& sources) {
    const auto results = translate(sources, opt);
    std::vector<HtmlRunTranslation> out;
    out.reserve(results.size());
    for (const auto& r : results) {
      const Hypothesis& h = r.hypotheses.at(0);
      out.push_back(HtmlRunTranslation{h.text, align_hypothesis(*impl_->tokenizer, h)});
    }
    return out;
  });
}

}  // namespace attend
