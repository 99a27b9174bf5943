// tests/decoder/test_decoder_memory.cpp — memory bounds of the decoder and of model loading, without
// measuring RSS: embedding lookups keep the mapped model file out of the resident set (rows a
// shortlist reads through it are dropped when the batch ends), the self-attention cache shrinks
// to the live rows once finished inputs leave a batch (and keeps its rows' keys/values: the
// logits match a decoder that only ever ran those rows) when that frees enough memory, its
// capacity follows the live rows and positions by a fixed formula (or the search's reserved
// bound), a cache little larger than its use is made resident whole at once (a generous
// reserved bound only as positions come into use), and dropping a tensor's mapped pages keeps
// its bytes readable (heap tensors are never dropped).
#include <catch2/catch.hpp>

#include <omp.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cctype>
#include <cstring>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "engine/mapped_file.hpp"
#include "runtime/model_impl.hpp"
#include "engine/transformer.hpp"
#include "tests/support/test_support.hpp"

namespace {

// Deterministic token ids in [1, vocab - 2] (0 is EOS, the last id the pad/start token).
int32_t token_at(int row, int step, int vocab) {
  return static_cast<int32_t>(1 + (static_cast<int64_t>(row) * 7919 + static_cast<int64_t>(step) * 104729) % (vocab - 2));
}

// The capacity promise: rows at most twice the live rows (finished rows are compacted away
// when the cache grows: check it from then on); buffers either sized for them, positions at most
// the growth step beyond the positions used, or (in_place_floats > 0: the live rows were laid
// out within the buffers the wider batch had) no larger than those, every position of them in
// the layout.
void check_capacity(const attend::DecoderState& st, int layers, int inner, size_t in_place_floats = 0) {
  const int rows = st.num_rows(), t = st.position();
  CHECK(st.row_capacity() >= rows);
  CHECK(st.row_capacity() < 2 * std::max(rows, 1));
  CHECK(st.time_capacity() >= t);
  const size_t laid_out = 2u * layers * static_cast<size_t>(st.row_capacity()) * st.time_capacity() * inner;
  if (in_place_floats > 0 && st.cache_floats() == in_place_floats) {
    CHECK(laid_out <= in_place_floats);
    CHECK(laid_out + 2u * layers * static_cast<size_t>(st.row_capacity()) * inner > in_place_floats);
    return;
  }
  CHECK(st.time_capacity() <= t + std::max(16, t / 2));
  CHECK(st.cache_floats() == laid_out);
}

// The cache tests' batch (TEST_CASE_METHOD fixture): the bundled model in fp32 and the encoder
// output of two short inputs, the second padded.
struct TwoInputBatch {
  const std::unique_ptr<attend::Model::Impl> impl = attend::load_model_impl(ATTEND_DEFAULT_MODEL_PATH, 0, "fp32");
  const attend::Transformer& net = *impl->net;
  const int vocab = net.spec().vocab_size;
  const int32_t start = impl->defaults.decoder_start_token_id;
  const std::shared_ptr<const attend::EncoderOutput> enc =
      net.encode({{5, 6, 7, 0}, {8, 9, 0, net.spec().pad_token_id}}, {{1, 1, 1, 1}, {1, 1, 1, 0}});
};

// Resident kB of the mappings of `path` in this process (/proc/self/smaps).
long mapped_rss_kb(const std::string& path) {
  std::ifstream in("/proc/self/smaps");
  std::string line;
  bool ours = false;
  long kb = 0;
  while (std::getline(in, line)) {
    const std::string first = line.substr(0, line.find(' '));
    const bool header = first.find('-') != std::string::npos &&
                        std::all_of(first.begin(), first.end(), [](char c) { return c == '-' || std::isxdigit(static_cast<unsigned char>(c)); });
    if (header) {
      ours = line.size() >= path.size() && line.compare(line.size() - path.size(), path.size(), path) == 0;
    } else if (ours && line.rfind("Rss:", 0) == 0) {
      kb += std::stol(line.substr(4));
    }
  }
  return kb;
}

}  // namespace

TEST_CASE("embedding lookups leave the model file out of the resident set; shortlist rows are dropped at batch end",
          "[memory][decoder]") {
  const std::string path = ATTEND_DEFAULT_MODEL_PATH;
  const auto impl = attend::load_model_impl(path, 0, "fp32");
  const attend::Transformer& net = *impl->net;
  const int vocab = net.spec().vocab_size;
  REQUIRE(net.output_rows_available());  // the bundled model's output layer is its embedding table
  const long before = mapped_rss_kb(path);
  long during = 0, during_shortlist = 0;
  {
    const auto enc = net.encode({{5, 6, 7, 0}}, {{1, 1, 1, 1}});
    attend::DecoderState st(net, enc);
    st.step({impl->defaults.decoder_start_token_id});
    st.select_rows(std::vector<int32_t>(64, 0));
    for (int i = 1; i < 8; ++i) {  // 448 rows looked up, spread over the table: copied by pread
      std::vector<int32_t> tokens;
      for (int r = 0; r < 64; ++r) tokens.push_back(token_at(r, i, vocab));
      st.step(tokens);
    }
    during = mapped_rss_kb(path);
    {  // a shortlist reads its output rows through the mapping
      std::vector<int32_t> ids;
      for (int i = 0; i < 400; ++i) ids.push_back(token_at(i, 1, vocab));
      std::sort(ids.begin(), ids.end());
      ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
      st.set_vocab_subset(ids);
      during_shortlist = mapped_rss_kb(path);
    }
  }
  const long after = mapped_rss_kb(path);
  INFO("model file resident: before " << before << " kB, during " << during << " kB, with a shortlist "
                                      << during_shortlist << " kB, after " << after << " kB");
  CHECK(during <= before + 64);  // 448 lookups made (almost) nothing resident
  CHECK(during_shortlist > before + 400);  // hundreds of pages of rows ...
  CHECK(after <= before + 64);  // ... dropped again when the batch ended
}

TEST_CASE("embedding rows read once per distinct id are every row's own lookup", "[memory][decoder]") {
  const auto impl = attend::load_model_impl(ATTEND_DEFAULT_MODEL_PATH, 0, "fp32");
  const attend::Transformer& net = *impl->net;
  const int32_t pad = net.spec().pad_token_id;
  // ids repeated within and across inputs, at different positions (the position rows differ)
  const std::vector<std::vector<int32_t>> ids = {{5, 6, 5, 7, 0}, {6, 6, 5, 0, pad}};
  const std::vector<std::vector<int32_t>> mask = {{1, 1, 1, 1, 1}, {1, 1, 1, 1, 0}};
  const auto both = net.encode(ids, mask, true);
  REQUIRE(!both->layer_states.empty());
  const int64_t d = net.spec().d_model;
  for (size_t b = 0; b < ids.size(); ++b) {
    for (size_t i = 0; i < ids[b].size(); ++i) {
      INFO("input " << b << ", position " << i);
      // the same id at the same position among ids that all differ (100, 101, ...): a lookup
      // of its own, shared with no other row
      std::vector<int32_t> one;
      for (size_t j = 0; j < i; ++j) one.push_back(100 + static_cast<int32_t>(j));
      one.push_back(ids[b][i]);
      const auto alone = net.encode({one}, {std::vector<int32_t>(i + 1, 1)}, true);
      const float* want = alone->layer_states[0].data() + static_cast<int64_t>(i) * d;
      const float* got = both->layer_states[0].data() + static_cast<int64_t>(b * ids[b].size() + i) * d;
      CHECK(std::equal(got, got + d, want));
    }
  }
}

TEST_CASE("decoder cache shrinks to the live rows when it grows after a wide beam batch, keeping their history",
          "[memory][decoder]") {
  const auto impl = attend::load_model_impl(ATTEND_DEFAULT_MODEL_PATH, 0, "fp32");
  const attend::Transformer& net = *impl->net;
  const attend::ArchSpec& s = net.spec();
  const int vocab = s.vocab_size, inner = s.decoder_heads * s.head_dim, layers = s.decoder_layers;
  const int32_t start = impl->defaults.decoder_start_token_id;

  // 8 inputs of different lengths, right-padded.
  const int B = 8, beams = 4;
  std::vector<std::vector<int32_t>> ids(B), mask(B);
  const int S = 20;
  for (int b = 0; b < B; ++b) {
    const int len = 6 + 2 * b;
    for (int i = 0; i < S; ++i) {
      ids[b].push_back(i < len - 1 ? token_at(b, 1000 + i, vocab) : i == len - 1 ? 0 : s.pad_token_id);
      mask[b].push_back(i < len ? 1 : 0);
    }
  }
  const auto enc = net.encode(ids, mask);

  // Beam-search-like use: one row per input, expanded to 4 beams, reordered every step.
  attend::DecoderState st(net, enc);
  std::vector<std::vector<int32_t>> history(B, std::vector<int32_t>{start});  // per row
  std::vector<int32_t> row_input(B);
  for (int b = 0; b < B; ++b) row_input[b] = b;
  st.step(std::vector<int32_t>(B, start));
  std::vector<int32_t> src;
  for (int b = 0; b < B; ++b)
    for (int k = 0; k < beams; ++k) src.push_back(b);
  auto reselect = [&](const std::vector<int32_t>& from) {
    st.select_rows(from);
    std::vector<std::vector<int32_t>> h;
    std::vector<int32_t> ri;
    for (int32_t r : from) h.push_back(history[r]), ri.push_back(row_input[r]);
    history.swap(h);
    row_input.swap(ri);
  };
  reselect(src);
  REQUIRE(st.num_rows() == B * beams);
  for (int step = 1; step < 12; ++step) {
    std::vector<int32_t> tokens;
    for (int r = 0; r < st.num_rows(); ++r) {
      tokens.push_back(token_at(r, step, vocab));
      history[r].push_back(tokens.back());
    }
    st.step(tokens);
    check_capacity(st, layers, inner);
    // reorder within each input's beams (parents shift by one), as beam search does
    std::vector<int32_t> order;
    for (int r = 0; r < st.num_rows(); ++r) order.push_back((r / beams) * beams + (r % beams + step) % beams);
    reselect(order);
  }
  REQUIRE(st.row_capacity() == B * beams);

  // All inputs but two finish: rows of inputs 2 and 5 (beams in reverse order) continue.
  std::vector<int32_t> keep;
  for (int b : {2, 5})
    for (int k = beams - 1; k >= 0; --k) keep.push_back(b * beams + k);
  reselect(keep);
  CHECK(st.num_rows() == 8);
  CHECK(st.row_capacity() == B * beams);  // kept (no copy into fresh pages) until the cache grows
  const int first_capacity = st.time_capacity();
  CHECK(first_capacity > st.position());
  const size_t wide_floats = st.cache_floats();

  // A long tail on the survivors: once the cache grows, its capacity follows the live rows (laid
  // out within the 32 rows' buffers while they fit, then in buffers of their own) and positions,
  // and the logits equal those of a decoder that only ever ran these rows' histories.
  bool laid_out_in_place = false, grown_past = false;
  const int tail = 100;
  const float* logits = nullptr;
  for (int step = 0; step < tail; ++step) {
    std::vector<int32_t> tokens;
    for (int r = 0; r < st.num_rows(); ++r) {
      tokens.push_back(token_at(r + 50, step, vocab));
      history[r].push_back(tokens.back());
    }
    logits = st.step(tokens);
    if (st.time_capacity() == first_capacity) {
      CHECK(st.row_capacity() == B * beams);
      continue;
    }
    CHECK(st.row_capacity() == 8);  // grown: the 8 live rows gathered
    check_capacity(st, layers, inner, wide_floats);
    if (st.cache_floats() == wide_floats) {
      laid_out_in_place = true;
    } else {  // grown past them: 32 rows' buffers no longer held
      grown_past = true;
      CHECK(laid_out_in_place);
    }
    if (step == 40) {  // two more rows finish mid-tail
      reselect({0, 1, 2, 4, 5, 6});
      CHECK(st.row_capacity() == 8);  // 6 of 8 live: not worth a copy
    }
  }
  CHECK(laid_out_in_place);
  CHECK(grown_past);
  const int rows = st.num_rows();
  std::vector<float> got(logits, logits + static_cast<size_t>(rows) * vocab);

  attend::DecoderState ref(net, enc);
  ref.select_rows(row_input);  // before the first step: only maps rows to inputs
  const float* want = nullptr;
  const size_t len = history[0].size();
  for (size_t j = 0; j < len; ++j) {
    std::vector<int32_t> tokens;
    for (int r = 0; r < rows; ++r) tokens.push_back(history[r][j]);
    want = ref.step(tokens);
  }
  size_t mismatches = 0;
  for (size_t i = 0; i < got.size(); ++i) {
    if (std::abs(got[i] - want[i]) > 1e-3f * (1.0f + std::abs(want[i]))) ++mismatches;
  }
  CHECK(mismatches == 0);
}

TEST_CASE_METHOD(TwoInputBatch,
                 "reserved positions: the cache is sized once, never grown, and gives the same logits",
                 "[memory][decoder]") {
  const int steps = 40;  // past the unreserved cache's first growth steps (16, 24, 36)
  attend::DecoderState grown(net, enc), reserved(net, enc);
  reserved.reserve_positions(steps);
  for (int i = 0; i < steps; ++i) {
    std::vector<int32_t> tokens;
    for (int r = 0; r < 2; ++r) tokens.push_back(i == 0 ? start : token_at(r, i, vocab));
    const float* a = grown.step(tokens);
    const std::vector<float> want(a, a + 2 * static_cast<size_t>(vocab));
    const float* b = reserved.step(tokens);
    CHECK(reserved.time_capacity() == steps);  // from the first step on: no growth, no copies
    CHECK(std::memcmp(want.data(), b, want.size() * sizeof(float)) == 0);
    if (i == 10) {  // reorder rows (beam search): slot tables only, in both
      grown.select_rows({1, 0});
      reserved.select_rows({1, 0});
    }
  }
  CHECK(grown.time_capacity() > 16);  // the unreserved one did grow
  CHECK(grown.time_capacity() != steps);
  // A bound far beyond typical outputs (a model's max_length) is not reserved: the cache grows.
  attend::DecoderState wide(net, enc);
  wide.reserve_positions(512);
  wide.step({start, start});
  CHECK(wide.time_capacity() == 16);
}

TEST_CASE_METHOD(TwoInputBatch,
                 "a cache little larger than its use is made resident whole; a generous reserved bound is not",
                 "[memory][decoder]") {
  const int layers = net.spec().decoder_layers;
  struct Seen {
    int time_capacity;
    double resident;  // share of the cache's bytes
    int64_t calls;    // madvise calls that made them resident
  };
  auto after_steps = [&](int reserve) {
    attend::DecoderState st(net, enc);
    if (reserve) st.reserve_positions(reserve);
    st.step({start, start});
    st.select_rows({0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1});  // beams: 16 rows, a new buffer
    for (int t = 1; t < 20; ++t) {  // past the first growth (16 -> 32 positions)
      std::vector<int32_t> tokens;
      for (int r = 0; r < 16; ++r) tokens.push_back(static_cast<int32_t>(9 + r + t));
      st.step(tokens);
    }
    const double bytes = static_cast<double>(st.cache_floats()) * sizeof(float);
    INFO("reserve " << reserve << ": capacity " << st.row_capacity() << " x " << st.time_capacity() << ", resident "
                    << st.resident_cache_bytes() << " of " << bytes << " bytes, " << st.populate_calls()
                    << " madvise calls");
    REQUIRE(bytes > 0);
    return Seen{st.time_capacity(), st.resident_cache_bytes() / bytes, st.populate_calls()};
  };
  // 16, then 32 positions: every page of every buffer, with a few calls per buffer (one per
  // thread's share; three buffers made: 2 rows, 16 rows, grown) instead of one per slot
  const Seen small = after_steps(0);
  CHECK(small.time_capacity == 32);
  CHECK(small.resident > 0.99);
  CHECK(small.calls <= 3 * 2 * layers * std::max(2, omp_get_max_threads()));
  // 200 reserved positions (within the reserved bound, beyond the whole-buffer one): only the
  // positions in use and a few ahead are made resident, slot by slot (prefault: a call per slot,
  // layer and buffer). Its resident share is not checked: the allocator may hand back pages an
  // earlier test left resident.
  const Seen reserved = after_steps(200);
  CHECK(reserved.time_capacity == 200);
  CHECK(reserved.calls >= 16 * 2 * layers);
}

TEST_CASE_METHOD(TwoInputBatch,
                 "a finished batch's cache serves the next batch of the same shape", "[memory][decoder]") {
  auto run = [&](attend::DecoderState& st, int steps) {
    std::vector<float> last;
    for (int i = 0; i < steps; ++i) {
      std::vector<int32_t> tokens;
      for (int r = 0; r < st.num_rows(); ++r) tokens.push_back(i == 0 ? start : token_at(r, i, vocab));
      const float* l = st.step(tokens);
      last.assign(l, l + static_cast<size_t>(st.num_rows()) * vocab);
      if (i == 0) st.select_rows({0, 0, 1, 1});  // two beams per input
    }
    return last;
  };
  std::vector<float> first;
  {
    attend::DecoderState a(net, enc);
    a.reserve_positions(30);
    first = run(a, 20);
    CHECK(a.time_capacity() == 30);
    a.select_rows({});  // every row finished: the buffers go to the model
    CHECK(a.cache_floats() == 0);
  }
  // The next batch (2 inputs, expanded to 4 rows) adopts them: capacity 4 rows x 30 positions
  // from its first step although it starts with 2 rows and asks for 20 positions only; the old
  // keys and values in them do not leak into its results.
  attend::DecoderState b(net, enc);
  b.reserve_positions(20);
  std::vector<int32_t> tokens{start, start};
  b.step(tokens);
  CHECK(b.row_capacity() == 4);
  CHECK(b.time_capacity() == 30);
  attend::DecoderState c(net, enc);  // the spare is taken: a fresh cache of its own size
  c.reserve_positions(20);
  c.step(tokens);
  CHECK(c.row_capacity() == 2);
  CHECK(c.time_capacity() == 20);
  // b continues from its first step like a fresh decoder: same logits bit for bit as `first`
  std::vector<float> got;
  for (int i = 1; i < 20; ++i) {
    if (i == 1) b.select_rows({0, 0, 1, 1});
    std::vector<int32_t> t;
    for (int r = 0; r < b.num_rows(); ++r) t.push_back(token_at(r, i, vocab));
    const float* l = b.step(t);
    got.assign(l, l + static_cast<size_t>(b.num_rows()) * vocab);
  }
  REQUIRE(got.size() == first.size());
  CHECK(std::memcmp(got.data(), first.data(), got.size() * sizeof(float)) == 0);
}

TEST_CASE_METHOD(TwoInputBatch, "a spare the next batch makes resident whole keeps its pages", "[memory][decoder]") {
  // A batch whose rows finished unevenly gives the positions only a minority reached back to the
  // system before its buffers become the spare, except where the batch taking the spare would
  // make them resident whole at once anyway (at most 64 positions here): dropping them only for
  // them to be made resident again cost a madvise per slot, layer and buffer twice per batch.
  for (int reserve : {60, 200}) {
    {
      attend::DecoderState a(net, enc);
      a.reserve_positions(reserve);
      a.step({start, start});
      a.select_rows({0, 0, 1, 1});  // two beams per input
      for (int i = 1; i < 12; ++i) {
        std::vector<int32_t> tokens;
        for (int r = 0; r < a.num_rows(); ++r) tokens.push_back(token_at(r, i, vocab));
        a.step(tokens);
        if (i == 3) a.select_rows({0, 1});  // the second input finished: half the rows left
      }
      REQUIRE(a.time_capacity() == reserve);
      a.select_rows({});  // the buffers go to the model
    }
    attend::DecoderState b(net, enc);
    b.reserve_positions(reserve);
    b.step({start, start});
    INFO("reserved " << reserve << ": capacity " << b.row_capacity() << " x " << b.time_capacity() << ", "
                     << b.populate_calls() << " madvise calls, resident " << b.resident_cache_bytes() << " of "
                     << b.cache_floats() * sizeof(float) << " bytes");
    REQUIRE(b.row_capacity() == 4);  // the spare was taken
    REQUIRE(b.time_capacity() == reserve);
    if (reserve == 60) {
      CHECK(b.populate_calls() == 0);  // resident whole as it was left: nothing to make resident
      CHECK(b.resident_cache_bytes() >= b.cache_floats() * sizeof(float));  // whole pages
    } else {
      CHECK(b.populate_calls() > 0);  // beyond the whole-buffer bound: positions ahead, slot by slot
    }
  }
}

TEST_CASE_METHOD(TwoInputBatch,
                 "live rows are laid out within the buffers, and the next batch's beams expand into them",
                 "[memory][decoder]") {
  // Batch a: 2 inputs x 4 beams; one input finishes, and when the cache grows the 4 live rows are
  // gathered within its buffers (no new ones). Batch b takes those buffers as its spare: its
  // first step's 2 rows and then its 8 beams are laid out within them too. Both batches' logits
  // equal, bit for bit, those of decoders that only ever had fresh buffers of their own.
  const std::vector<int32_t> beams{0, 0, 0, 0, 1, 1, 1, 1};
  // steps of one batch: the first step, the beams, then `steps` more (input 1 finishing at step
  // 5 when `finish`); returns the last logits
  auto run = [&](attend::DecoderState& st, int steps, bool finish) {
    st.step({start, start});
    st.select_rows(beams);
    std::vector<float> last;
    for (int i = 1; i <= steps; ++i) {
      if (finish && i == 5) st.select_rows({3, 2, 1, 0});  // input 0's beams, reversed
      std::vector<int32_t> tokens;
      for (int r = 0; r < st.num_rows(); ++r) tokens.push_back(token_at(r, i, vocab));
      const float* l = st.step(tokens);
      last.assign(l, l + static_cast<size_t>(st.num_rows()) * vocab);
    }
    return last;
  };
  auto same_bits = [](const std::vector<float>& x, const std::vector<float>& y) {
    return x.size() == y.size() && std::memcmp(x.data(), y.data(), x.size() * sizeof(float)) == 0;
  };
  std::vector<float> want_a, want_b;
  {  // references: each decoder on buffers of its own (the spare is taken by the first step)
    attend::DecoderState taken(net, enc);
    taken.step({start, start});
    attend::DecoderState ra(net, enc);
    want_a = run(ra, 24, true);
    attend::DecoderState rb(net, enc);
    rb.reserve_positions(12);
    want_b = run(rb, 10, false);
  }
  {
    attend::DecoderState drop(net, enc);  // takes whatever spare there is
    drop.step({start, start});
  }
  size_t allocation = 0;
  {
    attend::DecoderState a(net, enc);
    const std::vector<float> got = run(a, 24, true);  // past the first growth (16 positions)
    CHECK(same_bits(got, want_a));
    allocation = a.cache_floats();
    CHECK(allocation == 2u * net.spec().decoder_layers * 8 * 16 * (net.spec().decoder_heads * net.spec().head_dim));
    CHECK(a.row_capacity() == 4);
    CHECK(a.time_capacity() == 32);  // 8 x 16 positions laid out as 4 x 32
    a.select_rows({});
  }
  attend::DecoderState b(net, enc);
  b.reserve_positions(12);
  const std::vector<float> got = run(b, 10, false);
  CHECK(same_bits(got, want_b));
  CHECK(b.cache_floats() == allocation);  // no new buffers: the beams were laid out within them
  CHECK(b.row_capacity() == 8);
  CHECK(b.time_capacity() == 16);
  CHECK(b.populate_calls() == 0);  // resident already
}

TEST_CASE("decoder cache of a batch whose rows all finish is released", "[memory][decoder]") {
  const auto impl = attend::load_model_impl(ATTEND_DEFAULT_MODEL_PATH, 0, "fp32");
  const attend::Transformer& net = *impl->net;
  const auto enc = net.encode({{5, 6, 0}, {7, 0, impl->spec.pad_token_id}}, {{1, 1, 1}, {1, 1, 0}});
  attend::DecoderState st(net, enc);
  const int32_t start = impl->defaults.decoder_start_token_id;
  for (int i = 0; i < 20; ++i) st.step({i == 0 ? start : 9, i == 0 ? start : 10});
  CHECK(st.cache_floats() > 0);
  st.select_rows({});
  CHECK(st.num_rows() == 0);
  CHECK(st.cache_floats() == 0);
}

// The buffers a model keeps between calls (the last batch's caches and logits) are freed on
// request, and the next call gives the same results; a release while calls run leaves them alone.
TEST_CASE("release_caches frees the buffers kept between calls; results and concurrent calls unchanged", "[memory][decoder]") {
  attend::LoadOptions lo;
  lo.compute_type = "fp32";
  const auto model = attend::Model::load(ATTEND_DEFAULT_MODEL_PATH, lo);
  const std::vector<std::string> in = {"Two young girls are playing in the snow.", "A man is riding a bike.",
                                       "A dog runs across the green grass with a ball in its mouth."};
  attend::TranslateOptions o;
  o.generation.num_beams = 4;
  auto ids_of = [](const std::vector<attend::TranslationResult>& r) {
    std::vector<std::vector<int32_t>> ids;
    for (const auto& t : r) ids.push_back(t.hypotheses.at(0).ids);
    return ids;
  };
  CHECK(model->cached_bytes() == 0);  // nothing decoded yet
  const auto first = ids_of(model->translate(in, o));
  // 12 rows x the positions used x 6 layers x keys and values, plus the logits: far above a page
  const size_t kept = model->cached_bytes();
  CHECK(kept >= size_t{1} << 20);
  model->release_caches();
  CHECK(model->cached_bytes() == 0);
  CHECK(ids_of(model->translate(in, o)) == first);
  CHECK(model->cached_bytes() >= size_t{1} << 20);  // kept again for the next call
  // Releases racing with running calls: every call's results unchanged.
  std::atomic<bool> done{false};
  std::thread releaser([&] {
    while (!done.load()) {
      model->release_caches();
      std::this_thread::yield();
    }
  });
  for (int i = 0; i < 4; ++i) CHECK(ids_of(model->translate(in, o)) == first);
  done = true;
  releaser.join();
  model->release_caches();
  CHECK(model->cached_bytes() == 0);
}

TEST_CASE("dropping a tensor's mapped pages keeps its bytes; heap tensors are left alone", "[memory][load]") {
  attend_test::TempDir dir;
  const size_t n = 5 * 4096 + 123;
  std::string bytes(n, '\0');
  for (size_t i = 0; i < n; ++i) bytes[i] = static_cast<char>((i * 31 + 7) & 0xff);
  attend_test::write_file(dir.file("blob"), bytes);
  auto file = attend::MappedFile::open(dir.file("blob"));
  REQUIRE(file->size() == n);

  attend::HostTensor t;
  t.dtype = attend::DType::U8;
  t.shape = {static_cast<int64_t>(n - 100)};
  t.data = file->data() + 100;  // not page-aligned: only the whole pages inside are dropped
  t.nbytes = n - 100;
  t.keepalive = file;
  t.mapping = file.get();
  CHECK(std::memcmp(t.data, bytes.data() + 100, t.nbytes) == 0);  // touch every page
  attend::release_pages(t);
  CHECK(std::memcmp(file->data(), bytes.data(), n) == 0);  // read back from the file

  // A heap tensor (no mapping) must not be dropped: MADV_DONTNEED would zero it.
  std::vector<uint8_t> heap(bytes.begin(), bytes.end());
  attend::HostTensor h = attend::make_host_tensor(attend::DType::U8, {static_cast<int64_t>(n)}, heap);
  REQUIRE(h.mapping == nullptr);
  attend::release_pages(h);
  CHECK(std::memcmp(h.data, bytes.data(), n) == 0);
}
