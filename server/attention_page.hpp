// server/attention_page.hpp — the attention heatmap in HTML: the JSON form of a hypothesis's
// cross-attention (also /v1/translate's "attention"), a self-contained heatmap file (`attend
// attention -o FILE`, inline CSS/JS, no network) and the page `attend serve` serves at "/"
// (type a sentence, pick a model and languages, the translation streams in, then its heatmap).
#pragma once
#include <string>

#include <nlohmann/json.hpp>

#include "attend/attend.hpp"

namespace attend_server {

// {"layers", "heads" ("mean" or a count) / "head", "source_tokens", "target_tokens",
//  "weights": [layer][head][target][source]} of a hypothesis translated with return_attention.
nlohmann::json attention_json(const attend::Model& model, const attend::Hypothesis& h);

// One HTML file showing `data` (attention_json plus "source" and "translation" texts).
std::string heatmap_file(const nlohmann::json& data);

// The page at "/" of attend serve.
std::string serve_page();

}  // namespace attend_server
