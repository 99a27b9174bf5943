// tests/decoder/test_row_split.cpp — a decoder step with each thread running every layer on its own
// rows (DecoderState's row split, one parallel region per step; fp32, and int8 through the
// row-fused passes) against the op-by-op step (every op spread over the threads): the same
// logits bit for bit, step after step (the last one through step_top_k where the model has the
// int8 LM head's fused top-k), with the rows reordered and dropped between steps as a beam search
// does, on 2 and 3 threads: the threads' shares as the step's RowBalance learns them, and fixed
// uneven shares (the bounds a slower core gets); int8 steps also with rows handed between the
// threads at every stage (RowHandoff's Always mode) and with no hand-overs.
// The bundled model (post-norm LayerNorm), a t5-small-shaped model (pre-norm RMS norm, relative
// position bias) and, when the fixtures are there, every fixture model. And when the split is
// chosen by default: from 16 rows, small decoders (weights within half the L3 cache) or many
// rows for the weights' size.
#include <catch2/catch.hpp>

#include <omp.h>

#include <filesystem>
#include <numeric>
#include <string>
#include <utility>
#include <vector>

#include "attend/random_model.hpp"
#include "engine/transformer.hpp"
#include "runtime/model_impl.hpp"
#include "tests/support/test_support.hpp"

namespace {

using attend_test::TempDir;

// Every step's logits [rows x vocab] of a short decode over `rows` rows of two inputs (the
// second one padded): after the first step the rows take the inputs alternately, after the
// third they are reordered and four are dropped (the cache's slot tables then differ per row).
// `shares`: fixed row shares of the threads (empty: learned from the steps' times).
std::vector<std::vector<float>> step_logits(const attend::Transformer& net, int32_t start, bool split, int rows,
                                            const std::vector<double>& shares = {},
                                            attend::DecoderState::Handoff handoff = attend::DecoderState::Handoff::WhenIdle) {
  INFO((split ? "row split" : "op by op"));
  using Mode = attend::DecoderState::RowSplit;
  const int vocab = net.spec().vocab_size, src_vocab = net.spec().src_vocab_size;
  const attend_test::TwoInputs in = attend_test::two_inputs(src_vocab, 9, 6);
  const auto enc = net.encode(in.ids, in.mask);
  attend::DecoderState st(net, enc);
  st.set_row_split(split ? Mode::Always : Mode::Off);
  if (!shares.empty()) st.row_balance().fix_shares(shares);
  st.set_row_handoff(handoff);
  std::vector<std::vector<float>> out;
  auto keep = [&](const float* logits) {
    out.emplace_back(logits, logits + static_cast<size_t>(st.num_rows()) * vocab);
  };
  keep(st.step({start, start}));
  std::vector<int32_t> from;
  for (int r = 0; r < rows; ++r) from.push_back(r % 2);
  st.select_rows(from);
  for (int t = 1; t < 6; ++t) {
    if (t == 3) {  // beams swap parents and four rows finish
      std::vector<int32_t> reorder;
      for (int r = 0; r < st.num_rows() - 4; ++r) reorder.push_back((r * 7 + 3) % st.num_rows());
      st.select_rows(reorder);
    }
    std::vector<int32_t> tokens;
    for (int r = 0; r < st.num_rows(); ++r) tokens.push_back(static_cast<int32_t>(3 + (r * 7919 + t * 104729) % (vocab - 4)));
    if (t == 5 && st.has_step_top_k()) {  // final norm and logits scale in the last row pass
      attend::RowTopK io;
      io.k = 8;
      REQUIRE(st.step_top_k(tokens, io));
      out.emplace_back(io.logits.begin(), io.logits.end());
      out.emplace_back(io.lse.begin(), io.lse.end());
      out.emplace_back(io.max.begin(), io.max.end());
      out.emplace_back(io.ids.begin(), io.ids.end());
      continue;
    }
    keep(st.step(tokens));
  }
  // all five steps after the first have at least kRowSplitMinRows rows
  CHECK(st.row_split_steps() == (split ? 5 : 0));
  // int8 row-fused steps hand rows over at every stage in Always mode (fp32 steps never do)
  if (handoff == attend::DecoderState::Handoff::Always && split && net.int8_row_fused_decoder()) CHECK(st.row_handoffs() > 0);
  if (handoff == attend::DecoderState::Handoff::Off || !split) CHECK(st.row_handoffs() == 0);
  if (!shares.empty()) {  // the steps ran on the fixed shares: uneven bounds
    const int threads = omp_get_max_threads();
    CHECK(st.row_balance().share(0, threads) == Approx(shares[0] / std::accumulate(shares.begin(), shares.end(), 0.0)));
    const std::vector<int> b = st.last_row_bounds();
    REQUIRE(b.size() == static_cast<size_t>(threads) + 1);
    CHECK(b == st.row_balance().bounds(st.num_rows(), threads));
    CHECK(b[1] != st.num_rows() / threads);
  }
  return out;
}

void check_split_against_op_by_op(const std::string& path, const char* compute_type) {
  INFO(path << " " << compute_type);
  const auto impl = attend::load_model_impl(path, 0, compute_type);
  const attend::Transformer& net = *impl->net;
  const int32_t start = impl->defaults.decoder_start_token_id;
  const int saved = omp_get_max_threads();
  const std::vector<std::vector<double>> uneven2 = {{}, {0.3, 0.7}, {0.7, 0.3}}, uneven3 = {{}, {0.2, 0.5, 0.3}};
  for (int threads : {2, 3}) {
    omp_set_num_threads(threads);
    // enough rows for the bounds to leave the even split (RowBalance::kMinRows), 4 of them dropped
    const int rows = attend::RowBalance::kMinRows + 8;
    const auto ops = step_logits(net, start, false, rows);
    using Handoff = attend::DecoderState::Handoff;
    for (const auto& shares : threads == 2 ? uneven2 : uneven3) {
      for (Handoff handoff : {Handoff::WhenIdle, Handoff::Always, Handoff::Off}) {
        INFO(threads << " threads, shares " << (shares.empty() ? std::string("learned") : std::to_string(shares[0]) + "...")
                     << ", handoff " << static_cast<int>(handoff));
        const auto split = step_logits(net, start, true, rows, shares, handoff);
        REQUIRE(split.size() == ops.size());
        for (size_t i = 0; i < split.size(); ++i) {
          INFO("step " << i);
          REQUIRE(split[i].size() == ops[i].size());
          size_t differ = 0, first = 0;
          for (size_t j = 0; j < split[i].size(); ++j) {
            if (split[i][j] == ops[i][j] || (split[i][j] != split[i][j] && ops[i][j] != ops[i][j])) continue;
            if (differ++ == 0) first = j;
          }
          INFO("first difference at " << first << ": " << split[i][first] << " vs " << ops[i][first]);
          CHECK(differ == 0);
        }
      }
    }
  }
  omp_set_num_threads(saved);
}

}  // namespace

TEST_CASE("row-split decoder steps give the op-by-op logits (bundled model, fp32)", "[decoder][threads]") {
  check_split_against_op_by_op(ATTEND_DEFAULT_MODEL_PATH, "fp32");
}

TEST_CASE("row-split decoder steps give the op-by-op logits (bundled model, int8 row-fused)", "[decoder][threads][int8]") {
  check_split_against_op_by_op(ATTEND_DEFAULT_MODEL_PATH, "int8");
}

TEST_CASE("row split by default: the bundled decoder from 16 rows on, not below; large decoders only with many rows",
          "[decoder][threads]") {
  const int saved = omp_get_max_threads();
  omp_set_num_threads(2);
  auto split_steps = [](const char* compute_type, int rows, bool off) {
    const auto impl = attend::load_model_impl(ATTEND_DEFAULT_MODEL_PATH, 0, compute_type);
    const attend::Transformer& net = *impl->net;
    const auto enc = net.encode({{5, 6, 7}}, {{1, 1, 1}});
    attend::DecoderState st(net, enc);
    if (off) st.set_row_split(attend::DecoderState::RowSplit::Off);
    const int32_t start = impl->defaults.decoder_start_token_id;
    st.step({start});
    st.select_rows(std::vector<int32_t>(static_cast<size_t>(rows), 0));
    for (int t = 0; t < 3; ++t) st.step(std::vector<int32_t>(static_cast<size_t>(rows), 9 + t));
    return std::make_pair(st.row_split_pays(rows, 2), st.row_split_steps());
  };
  const int min_rows = attend::DecoderState::kRowSplitMinRows;
  for (const char* ct : {"fp32", "int8"}) {
    INFO(ct);
    // 10 MB of fp32 decoder weights: within half of the L3 of the machines measured
    const auto at_min = split_steps(ct, min_rows, false);
    if (at_min.first) CHECK(at_min.second == 3);
    else WARN("this machine reports less than 20 MB of L3 cache: row split not chosen at " << min_rows << " rows");
    CHECK(split_steps(ct, min_rows - 1, false).second == 0);
    CHECK(split_steps(ct, 40, true).second == 0);
  }
  // a t5-small shape in int8 (22 MB of decoder weights): 128 rows read at most 1 MB of them per
  // row of a thread's share (batch 32, beam 4)
  TempDir tmp;
  const std::string path = tmp.file("t5.attend");
  attend::RandomModelOptions o;
  o.seed = 7;
  attend::write_random_model("t5-small", path, o);
  const auto t5 = attend::load_model_impl(path, 0, "int8");
  CHECK(t5->net->row_split_pays(128, 2));
  omp_set_num_threads(saved);
}

TEST_CASE("row-split decoder steps give the op-by-op logits (t5-small shape: RMS norm, relative bias)",
          "[decoder][threads]") {
  TempDir tmp;
  const std::string path = tmp.file("t5.attend");
  attend::RandomModelOptions o;
  o.seed = 5;
  attend::write_random_model("t5-small", path, o);
  check_split_against_op_by_op(path, "fp32");
  check_split_against_op_by_op(path, "int8");
}

TEST_CASE("row-split decoder steps give the op-by-op logits (every fixture model)", "[decoder][threads][fixtures]") {
  const std::string root = attend_test::fixtures_root() + "/models";
  if (!attend_test::fixtures_available(root)) return;
  int models = 0;
  for (const auto& e : std::filesystem::directory_iterator(root)) {
    if (!e.is_directory() || !std::filesystem::exists(e.path() / "config.json")) continue;
    check_split_against_op_by_op(e.path().string(), "fp32");
    check_split_against_op_by_op(e.path().string(), "int8");
    ++models;
  }
  CHECK(models > 0);
}
