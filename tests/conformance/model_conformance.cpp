// tests/conformance/model_conformance.cpp — fixture model checks: tensors within the stated
// tolerance, generated ids exactly equal, scores within tolerance, for both weight files.
#include "tests/conformance/model_conformance.hpp"
#include "tests/conformance/decoding_conformance.hpp"

#include <cmath>
#include <fstream>
#include <memory>
#include <sstream>

#include <nlohmann/json.hpp>

#include "attend/error.hpp"
#include "engine/mapped_file.hpp"
#include "runtime/model_impl.hpp"
#include "models/converter.hpp"
#include "models/family.hpp"
#include "engine/safetensors.hpp"

namespace attend::conformance {
namespace {

struct Tol {
  double atol = 1e-4, rtol = 1e-4;
};

Tol tol_of(const nlohmann::json& j) {
  Tol t;
  if (j.is_object()) {
    t.atol = j.value("atol", t.atol);
    t.rtol = j.value("rtol", t.rtol);
  }
  return t;
}

// Compares `got` with `want` (same length); returns "" or a description of the worst miss.
std::string compare(const float* got, const float* want, size_t n, Tol tol, const std::string& what) {
  double worst = 0;
  size_t at = 0;
  bool bad = false;
  for (size_t i = 0; i < n; ++i) {
    const double diff = std::fabs(static_cast<double>(got[i]) - want[i]);
    const double allowed = tol.atol + tol.rtol * std::fabs(static_cast<double>(want[i]));
    if (!(diff <= allowed)) {
      if (!bad || diff > worst) { worst = diff; at = i; }
      bad = true;
    }
  }
  if (!bad) return "";
  std::ostringstream ss;
  ss << what << ": max error " << worst << " at element " << at << " (got " << got[at] << ", expected " << want[at]
     << ")";
  return ss.str();
}

std::vector<std::vector<int32_t>> unpad(const nlohmann::json& ids, const nlohmann::json& mask) {
  std::vector<std::vector<int32_t>> out;
  for (size_t b = 0; b < ids.size(); ++b) {
    std::vector<int32_t> row;
    for (size_t i = 0; i < ids[b].size(); ++i) {
      if (mask[b][i].get<int>() != 0) row.push_back(ids[b][i].get<int32_t>());
    }
    out.push_back(row);
  }
  return out;
}

// LED cases carry "global_attention_mask": null = none passed (all zeros), else [B][S] 0/1.
// Other families: null (the encoder ignores it).
std::unique_ptr<std::vector<std::vector<int32_t>>> global_mask_of(const nlohmann::json& c, const nlohmann::json& ids) {
  auto it = c.find("global_attention_mask");
  if (it == c.end()) return nullptr;
  auto g = std::make_unique<std::vector<std::vector<int32_t>>>();
  if (it->is_null()) {
    for (const auto& row : ids) g->push_back(std::vector<int32_t>(row.size(), 0));
  } else {
    *g = it->get<std::vector<std::vector<int32_t>>>();
  }
  return g;
}

std::string check_tensor_case(const Model::Impl& m, const nlohmann::json& tc, const SafetensorsFile& ref,
                              const nlohmann::json& tolerances) {
  const std::string name = tc["name"];
  std::vector<std::vector<int32_t>> ids = tc["input_ids"], mask = tc["attention_mask"];
  const std::vector<std::vector<int32_t>> dec_ids = tc["decoder_input_ids"];
  const int B = static_cast<int>(ids.size()), S = static_cast<int>(ids[0].size());
  const int d = m.spec.d_model;
  const auto global = global_mask_of(tc, tc["input_ids"]);
  auto enc = m.net->encode(ids, mask, true, global.get());
  std::string errors;
  auto get_ref = [&](const std::string& key) -> const HostTensor* {
    auto it = ref.tensors.find(name + "." + key);
    return it == ref.tensors.end() ? nullptr : &it->second;
  };
  const Tol enc_tol = tol_of(tolerances["tensors"]["encoder"]);
  for (size_t l = 0; l < enc->layer_states.size(); ++l) {
    const HostTensor* want = get_ref("encoder_hidden_states." + std::to_string(l));
    if (!want) continue;
    const std::vector<float> w = want->to_f32();
    for (int b = 0; b < B; ++b) {
      for (int i = 0; i < S; ++i) {
        if (mask[b][i] == 0) continue;
        const size_t off = (static_cast<size_t>(b) * S + i) * d;
        auto e = compare(enc->layer_states[l].data() + off, w.data() + off, d, enc_tol,
                         name + " encoder_hidden_states." + std::to_string(l));
        if (!e.empty()) { errors += e + "\n"; b = B; break; }
      }
    }
  }
  // decoder: teacher-forced, one step per position through the KV cache
  DecoderState state(*m.net, enc);
  std::vector<std::vector<float>> rec;
  state.record_layers(&rec);
  const int T = static_cast<int>(dec_ids[0].size());
  const int V = m.spec.vocab_size;
  const int L = m.spec.decoder_layers + 1;
  std::vector<float> logits(static_cast<size_t>(B) * T * V);
  for (int t = 0; t < T; ++t) {
    std::vector<int32_t> tokens(B);
    for (int b = 0; b < B; ++b) tokens[b] = dec_ids[b][t];
    const float* lg = state.step(tokens);
    for (int b = 0; b < B; ++b) {
      std::copy(lg + static_cast<size_t>(b) * V, lg + static_cast<size_t>(b + 1) * V,
                logits.begin() + (static_cast<size_t>(b) * T + t) * V);
    }
  }
  const Tol dec_tol = tol_of(tolerances["tensors"]["decoder"]);
  for (int l = 0; l < L; ++l) {
    const HostTensor* want = get_ref("decoder_hidden_states." + std::to_string(l));
    if (!want) continue;
    const std::vector<float> w = want->to_f32();
    std::vector<float> got(static_cast<size_t>(B) * T * d);
    for (int t = 0; t < T; ++t) {
      const auto& step_rec = rec[static_cast<size_t>(t) * L + l];
      for (int b = 0; b < B; ++b) {
        std::copy(step_rec.begin() + static_cast<size_t>(b) * d, step_rec.begin() + static_cast<size_t>(b + 1) * d,
                  got.begin() + (static_cast<size_t>(b) * T + t) * d);
      }
    }
    auto e = compare(got.data(), w.data(), got.size(), dec_tol, name + " decoder_hidden_states." + std::to_string(l));
    if (!e.empty()) errors += e + "\n";
  }
  if (const HostTensor* want = get_ref("logits")) {
    const std::vector<float> w = want->to_f32();
    auto e = compare(logits.data(), w.data(), logits.size(), tol_of(tolerances["tensors"]["logits"]), name + " logits");
    if (!e.empty()) errors += e + "\n";
  } else {
    errors += name + ": reference logits missing\n";
  }
  return errors;
}

std::string check_generation_case(const Model::Impl& m, const nlohmann::json& c, const nlohmann::json& tolerances) {
  const std::string name = c["name"];
  GenerationConfig g;
  g.apply_json(c["effective_generation_config"]);
  g.beam_suppress_pad_before_log_softmax = m.spec.beam_suppress_pad_before_log_softmax;
  g.validate();
  auto ids = unpad(c["input_ids"], c["attention_mask"]);
  const auto global = global_mask_of(c, c["input_ids"]);
  auto hyps = m.generate_batch(ids, g, nullptr, {}, nullptr, global.get());
  auto seqs = to_hf_sequences(hyps, g);
  const auto& exp = c["expected"];
  const std::vector<std::vector<int32_t>> want = exp["sequences"];
  std::ostringstream err;
  if (seqs != want) {
    err << name << ": sequences differ\n";
    for (size_t i = 0; i < std::max(seqs.size(), want.size()); ++i) {
      err << "  got  ";
      if (i < seqs.size()) for (int v : seqs[i]) err << v << ' ';
      err << "\n  want ";
      if (i < want.size()) for (int v : want[i]) err << v << ' ';
      err << "\n";
    }
    return err.str();
  }
  std::vector<const Hypothesis*> flat;
  for (const auto& per_input : hyps) for (const auto& h : per_input) flat.push_back(&h);
  if (exp.contains("sequences_scores")) {
    const std::vector<float> ws = exp["sequences_scores"];
    std::vector<float> gs;
    for (auto* h : flat) gs.push_back(h->score);
    if (gs.size() != ws.size()) return name + ": wrong number of scores\n";
    auto e = compare(gs.data(), ws.data(), gs.size(), tol_of(tolerances["sequences_scores"]), name + " sequences_scores");
    if (!e.empty()) return e + "\n";
  }
  if (exp.contains("chosen_token_scores")) {
    const std::vector<std::vector<float>> ws = exp["chosen_token_scores"];
    if (ws.size() != flat.size()) return name + ": wrong number of score rows\n";
    for (size_t i = 0; i < ws.size(); ++i) {
      const auto& gs = flat[i]->token_scores;
      if (gs.size() != ws[i].size()) {
        return name + ": row " + std::to_string(i) + " has " + std::to_string(gs.size()) + " token scores, expected " +
               std::to_string(ws[i].size()) + "\n";
      }
      auto e = compare(gs.data(), ws[i].data(), gs.size(), tol_of(tolerances["chosen_token_scores"]),
                       name + " chosen_token_scores row " + std::to_string(i));
      if (!e.empty()) return e + "\n";
    }
  }
  if (exp.contains("decoded_text") && m.tokenizer) {
    const std::vector<std::string> wt = exp["decoded_text"];
    for (size_t i = 0; i < wt.size() && i < seqs.size(); ++i) {
      const std::string got = m.tokenizer->decode(seqs[i], true);
      if (got != wt[i]) return name + ": decoded text row " + std::to_string(i) + ": got '" + got + "', expected '" + wt[i] + "'\n";
    }
  }
  return "";
}

// decoding_cases.json's attention_cases (fixtures README 5.1): generate the source case's output
// with every layer's per-head cross-attention captured (the engine's own generation path, beam
// parents included) and compare it with transformers' tensors at the real query and source
// positions.
std::string check_attention_case(const Model::Impl& m, const nlohmann::json& ac, const nlohmann::json& source_case,
                                 const SafetensorsFile& ref, const nlohmann::json& tolerances) {
  const std::string name = ac["name"];
  GenerationConfig g;
  g.apply_json(source_case["effective_generation_config"]);
  g.beam_suppress_pad_before_log_softmax = m.spec.beam_suppress_pad_before_log_softmax;
  g.validate();
  AttentionRequest req;
  const int L = ac["num_layers"], H = ac["num_heads"];
  if (L != m.spec.decoder_layers || H != m.spec.decoder_heads)
    return name + ": fixture has " + std::to_string(L) + " layers x " + std::to_string(H) + " heads, model " +
           std::to_string(m.spec.decoder_layers) + " x " + std::to_string(m.spec.decoder_heads) + "\n";
  for (int l = 0; l < L; ++l) req.layers.push_back(l);
  req.mean_heads = false;
  const auto global = global_mask_of(ac, ac["input_ids"]);  // LED: the case's global attention mask
  auto hyps = m.generate_batch(unpad(ac["input_ids"], ac["attention_mask"]), g, nullptr, {}, nullptr, global.get(), req);
  const std::vector<std::vector<int32_t>> want_seq = ac["sequences"];
  if (to_hf_sequences(hyps, g) != want_seq) return name + ": generated sequences differ from the source case's\n";
  const std::vector<int> shape = ac["shape"];  // [R, H, T, S]
  const int R = shape[0], T = shape[2], S = shape[3];
  const std::vector<int> tlen = ac["target_lengths"], slen = ac["source_lengths"];
  const Tol tol = tol_of(tolerances["cross_attention"]);
  std::vector<const Hypothesis*> rows;
  for (const auto& per_input : hyps) for (const auto& h : per_input) rows.push_back(&h);
  if (static_cast<int>(rows.size()) != R) return name + ": wrong number of output rows\n";
  std::string errors;
  for (int l = 0; l < L; ++l) {
    auto it = ref.tensors.find(name + ".cross_attention." + std::to_string(l));
    if (it == ref.tensors.end()) return name + ": tensor cross_attention." + std::to_string(l) + " missing\n";
    const std::vector<float> w = it->second.to_f32();
    if (w.size() != static_cast<size_t>(R) * H * T * S) return name + ": reference tensor has the wrong size\n";
    for (int r = 0; r < R; ++r) {
      const AttentionWeights& a = rows[static_cast<size_t>(r)]->attention;
      if (a.target < tlen[r] || a.source != slen[r] || a.heads != H || static_cast<int>(a.layers.size()) != L)
        return name + ": row " + std::to_string(r) + ": attention is " + std::to_string(a.target) + " x " +
               std::to_string(a.source) + ", expected " + std::to_string(tlen[r]) + " x " + std::to_string(slen[r]) + "\n";
      std::vector<float> got, exp;
      for (int h = 0; h < H; ++h)
        for (int t = 0; t < tlen[r]; ++t)
          for (int s2 = 0; s2 < slen[r]; ++s2) {
            got.push_back(a.at(l, h, t, s2));
            exp.push_back(w[((static_cast<size_t>(r) * H + h) * T + t) * S + s2]);
          }
      auto e = compare(got.data(), exp.data(), got.size(), tol,
                       name + " layer " + std::to_string(l) + " row " + std::to_string(r));
      if (!e.empty()) errors += e + "\n";
    }
  }
  return errors;
}

}  // namespace

std::vector<GroupResult> check_model_folder(const std::string& folder) {
  std::vector<GroupResult> results;
  nlohmann::json cases, config;
  try {
    cases = nlohmann::json::parse(read_text_file(folder + "/cases.json"));
    config = nlohmann::json::parse(read_text_file(folder + "/config.json"));
  } catch (const std::exception& e) {
    results.push_back({"load", GroupResult::Failed, e.what(), 0});
    return results;
  }
  const std::string model_type = config.value("model_type", "");
  if (!find_family(model_type)) {
    results.push_back({"all", GroupResult::Failed, "model_type '" + model_type + "' is not supported", 0});
    return results;
  }
  const nlohmann::json& tol = cases["tolerances"];
  const std::pair<const char*, WeightsSource> sources[] = {{"safetensors", WeightsSource::Safetensors},
                                                            {"pytorch_model.bin", WeightsSource::PytorchBin}};
  for (const auto& [label, src] : sources) {
    std::unique_ptr<Model::Impl> m;
    try {
      m = load_model_impl(folder, static_cast<int>(src));
    } catch (const std::exception& e) {
      results.push_back({std::string(label) + ": load", GroupResult::Failed, e.what(), 0});
      continue;
    }
    GroupResult tensors{std::string(label) + ": tensors", GroupResult::Passed, "", 0};
    try {
      const SafetensorsFile ref = read_safetensors(folder + "/tensors.safetensors");
      for (const auto& tc : cases["tensor_cases"]) {
        ++tensors.cases;
        tensors.message += check_tensor_case(*m, tc, ref, tol);
      }
    } catch (const std::exception& e) {
      tensors.message += std::string("exception: ") + e.what() + "\n";
    }
    if (!tensors.message.empty()) tensors.status = GroupResult::Failed;
    results.push_back(tensors);

    GroupResult gen{std::string(label) + ": generation", GroupResult::Passed, "", 0};
    for (const auto& c : cases["cases"]) {
      ++gen.cases;
      try {
        gen.message += check_generation_case(*m, c, tol);
      } catch (const std::exception& e) {
        gen.message += c.value("name", "?") + ": exception: " + e.what() + "\n";
      }
    }
    if (!gen.message.empty()) gen.status = GroupResult::Failed;
    results.push_back(gen);

    // cross-attention weights (decoding_cases.json, README section 5.1)
    GroupResult att{std::string(label) + ": attention", GroupResult::Passed, "", 0};
    try {
      const nlohmann::json dc = nlohmann::json::parse(read_text_file(folder + "/decoding_cases.json"));
      const SafetensorsFile ref = read_safetensors(folder + "/decoding_tensors.safetensors");
      for (const auto& ac : dc.at("attention_cases")) {
        ++att.cases;
        const nlohmann::json* source = nullptr;
        for (const auto& c : cases["cases"])
          if (c.value("name", "") == ac.value("source_case", "")) source = &c;
        if (!source) {
          att.message += ac.value("name", "?") + ": source case '" + ac.value("source_case", "") + "' not in cases.json\n";
          continue;
        }
        try {
          att.message += check_attention_case(*m, ac, *source, ref, dc["tolerances"]);
        } catch (const std::exception& e) {
          att.message += ac.value("name", "?") + ": exception: " + e.what() + "\n";
        }
      }
      if (att.cases == 0) att.message += "no attention_cases\n";
    } catch (const std::exception& e) {
      att.message += std::string("decoding_cases.json / decoding_tensors.safetensors: ") + e.what() + "\n";
    }
    if (!att.message.empty()) att.status = GroupResult::Failed;
    results.push_back(att);
    // Issue 17: sampling warpers and target prefixes (decoding_cases.json).
    for (auto& r : check_decoding_cases(*m, folder, label)) results.push_back(std::move(r));
  }
  return results;
}

}  // namespace attend::conformance
