// tests/conformance/decoding_conformance.cpp — the issue-17 cases of a fixture folder's
// decoding_cases.json (fixtures README section 5): `sample_*` teacher-forced along the stored
// sampled sequence (exact allowed token sets and log-probabilities after processors + warpers)
// and `prefix_*` (greedy/beam search continuing decoder_input_ids: exact sequences and scores).
#include "tests/conformance/decoding_conformance.hpp"

#include <sys/stat.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <sstream>

#include <nlohmann/json.hpp>

#include "engine/decoding/logits_processors.hpp"
#include "engine/decoding/sampling.hpp"
#include "engine/decoding/search.hpp"
#include "engine/mapped_file.hpp"
#include "engine/safetensors.hpp"
#include "runtime/model_impl.hpp"

namespace attend::conformance {
namespace {

bool within(double got, double want, const nlohmann::json& tol) {
  const double atol = tol.value("atol", 1e-4), rtol = tol.value("rtol", 1e-4);
  return std::fabs(got - want) <= atol + rtol * std::fabs(want);
}

template <typename T>
std::vector<T> ints_of(const SafetensorsFile& f, const std::string& name) {
  auto it = f.tensors.find(name);
  if (it == f.tensors.end()) throw Error("tensor " + name + " missing");
  const HostTensor& t = it->second;
  std::vector<T> out(static_cast<size_t>(t.numel()));
  for (size_t i = 0; i < out.size(); ++i) {
    if (t.dtype == DType::I64) {
      int64_t v;
      std::memcpy(&v, t.data + i * 8, 8);
      out[i] = static_cast<T>(v);
    } else if (t.dtype == DType::I32) {
      int32_t v;
      std::memcpy(&v, t.data + i * 4, 4);
      out[i] = static_cast<T>(v);
    } else {
      throw Error("tensor " + name + ": expected I32/I64");
    }
  }
  return out;
}

GenerationConfig config_of(const Model::Impl& m, const nlohmann::json& c) {
  GenerationConfig g;
  g.apply_json(c["effective_generation_config"]);
  g.beam_suppress_pad_before_log_softmax = m.spec.beam_suppress_pad_before_log_softmax;
  g.validate();
  return g;
}

std::shared_ptr<const EncoderOutput> encode_case(const Model::Impl& m, const nlohmann::json& c) {
  const std::vector<std::vector<int32_t>> ids = c["input_ids"], mask = c["attention_mask"];
  return m.net->encode(ids, mask);
}

std::string check_sample_case(const Model::Impl& m, const nlohmann::json& c, const SafetensorsFile& ref,
                              const nlohmann::json& tol) {
  const std::string name = c["name"];
  const GenerationConfig g = config_of(m, c);
  if (!g.do_sample) return name + ": effective_generation_config has no do_sample\n";
  const std::vector<std::vector<int32_t>> seqs = c["expected"]["sequences"];
  const std::vector<int> valid = c["expected"]["num_valid_steps"];
  const auto allowed = ints_of<int32_t>(ref, name + ".allowed_token_ids");
  const auto offsets = ints_of<int64_t>(ref, name + ".allowed_offsets");
  const std::vector<float> logprobs = ref.tensors.at(name + ".allowed_logprobs").to_f32();
  const int R = static_cast<int>(seqs.size()), L = static_cast<int>(seqs[0].size());
  const int V = m.spec.vocab_size;
  DecoderState state(*m.net, encode_case(m, c));
  LogitsProcessorList processors(g, V);
  LogitsWarperList warpers(g, V);
  std::ostringstream err;
  std::vector<float> row(static_cast<size_t>(V));
  for (int t = 0; t + 1 < L; ++t) {
    std::vector<int32_t> tokens(static_cast<size_t>(R));
    for (int r = 0; r < R; ++r) tokens[static_cast<size_t>(r)] = seqs[static_cast<size_t>(r)][static_cast<size_t>(t)];
    const float* logits = state.step(tokens);
    for (int r = 0; r < R; ++r) {
      if (t >= valid[static_cast<size_t>(r)]) continue;
      std::copy(logits + static_cast<size_t>(r) * V, logits + static_cast<size_t>(r + 1) * V, row.begin());
      processors.apply(seqs[static_cast<size_t>(r)].data(), t + 1, row.data());
      warpers.apply(row.data());
      std::vector<int32_t> got;
      for (int v = 0; v < V; ++v)
        if (row[static_cast<size_t>(v)] != -std::numeric_limits<float>::infinity()) got.push_back(v);
      const size_t k = static_cast<size_t>(r) * static_cast<size_t>(L - 1) + static_cast<size_t>(t);
      const std::vector<int32_t> want(allowed.begin() + offsets[k], allowed.begin() + offsets[k + 1]);
      if (got != want) {
        err << name << " row " << r << " step " << t << ": allowed set has " << got.size() << " tokens, expected "
            << want.size() << "\n";
        continue;
      }
      logits::log_softmax(row.data(), V);
      for (size_t i = 0; i < want.size(); ++i) {
        const float w = logprobs[static_cast<size_t>(offsets[k]) + i];
        if (!within(row[static_cast<size_t>(want[i])], w, tol)) {
          err << name << " row " << r << " step " << t << " token " << want[i] << ": log-prob " << row[static_cast<size_t>(want[i])]
              << ", expected " << w << "\n";
          break;
        }
      }
      // The stored sampled token is in the set (a sanity check of the data).
      const int32_t sampled = seqs[static_cast<size_t>(r)][static_cast<size_t>(t + 1)];
      if (!std::binary_search(got.begin(), got.end(), sampled))
        err << name << " row " << r << " step " << t << ": sampled token " << sampled << " not allowed\n";
    }
  }
  return err.str();
}

std::string check_prefix_case(const Model::Impl& m, const nlohmann::json& c, const nlohmann::json& tols) {
  const std::string name = c["name"];
  const GenerationConfig g = config_of(m, c);
  SearchInputs inputs;
  inputs.prefixes = c["decoder_input_ids"].get<std::vector<std::vector<int32_t>>>();
  const int P = inputs.prefix_length();
  const int want_max = c["effective_generation_config"].value("resolved_max_length", -1);
  if (g.resolved_max_length(P) != want_max)
    return name + ": resolved max length " + std::to_string(g.resolved_max_length(P)) + ", expected " +
           std::to_string(want_max) + "\n";
  // unpad the inputs as the API would give them
  const std::vector<std::vector<int32_t>> ids = c["input_ids"], mask = c["attention_mask"];
  std::vector<std::vector<int32_t>> rows;
  for (size_t b = 0; b < ids.size(); ++b) {
    rows.emplace_back();
    for (size_t i = 0; i < ids[b].size(); ++i)
      if (mask[b][i]) rows.back().push_back(ids[b][i]);
  }
  const auto hyps = m.generate_batch(rows, g, nullptr, inputs);
  const auto seqs = to_hf_sequences(hyps, g, P);
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
  if (exp.contains("sequences_scores")) {
    const std::vector<float> ws = exp["sequences_scores"];
    for (size_t i = 0; i < ws.size(); ++i)
      if (!within(hyps[i][0].score, ws[i], tols["sequences_scores"]))
        err << name << ": sequences_scores[" << i << "] " << hyps[i][0].score << ", expected " << ws[i] << "\n";
  }
  if (exp.contains("chosen_token_scores")) {
    const std::vector<std::vector<float>> ws = exp["chosen_token_scores"];
    for (size_t i = 0; i < ws.size(); ++i) {
      const auto& gs = hyps[i][0].token_scores;
      if (gs.size() != ws[i].size()) {
        err << name << ": row " << i << " has " << gs.size() << " token scores, expected " << ws[i].size() << "\n";
        continue;
      }
      for (size_t t = 0; t < gs.size(); ++t)
        if (!within(gs[t], ws[i][t], tols["chosen_token_scores"])) {
          err << name << ": chosen_token_scores[" << i << "][" << t << "] " << gs[t] << ", expected " << ws[i][t] << "\n";
          break;
        }
    }
  }
  return err.str();
}

}  // namespace

std::vector<GroupResult> check_decoding_cases(const Model::Impl& m, const std::string& folder, const std::string& label) {
  std::vector<GroupResult> out;
  struct stat st {};
  if (::stat((folder + "/decoding_cases.json").c_str(), &st) != 0) return out;  // older fixture sets
  nlohmann::json doc;
  SafetensorsFile ref;
  try {
    doc = nlohmann::json::parse(read_text_file(folder + "/decoding_cases.json"));
    ref = read_safetensors(folder + "/decoding_tensors.safetensors");
  } catch (const std::exception& e) {
    out.push_back({label + ": decoding fixtures", GroupResult::Failed, e.what(), 0});
    return out;
  }
  const nlohmann::json& tol = doc["tolerances"];
  GroupResult sampling{label + ": sampling", GroupResult::Passed, "", 0};
  for (const auto& c : doc["sample_cases"]) {
    ++sampling.cases;
    try {
      sampling.message += check_sample_case(m, c, ref, tol["sample_logprobs"]);
    } catch (const std::exception& e) {
      sampling.message += c.value("name", "?") + ": exception: " + e.what() + "\n";
    }
  }
  if (sampling.cases == 0) sampling.message = "no sample cases\n";
  if (!sampling.message.empty()) sampling.status = GroupResult::Failed;
  out.push_back(sampling);
  GroupResult prefix{label + ": prefix", GroupResult::Passed, "", 0};
  for (const auto& c : doc["prefix_cases"]) {
    ++prefix.cases;
    try {
      prefix.message += check_prefix_case(m, c, tol);
    } catch (const std::exception& e) {
      prefix.message += c.value("name", "?") + ": exception: " + e.what() + "\n";
    }
  }
  if (prefix.cases == 0) prefix.message = "no prefix cases\n";
  if (!prefix.message.empty()) prefix.status = GroupResult::Failed;
  out.push_back(prefix);
  return out;
}

}  // namespace attend::conformance
