// engine/transformer.cpp — weight binding, encoder forward and the incremental decoder.
#include "engine/transformer.hpp"

#include <omp.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <exception>
#include <limits>
#include <type_traits>
#include <utility>

#include "attend/error.hpp"
#include "engine/kernels/attention.hpp"
#include "engine/kernels/profile.hpp"
#include "engine/mapped_file.hpp"
#include "engine/positions.hpp"
#include "engine/kernels/quantize.hpp"
#include "engine/kernels/simd.hpp"
#include "engine/kernels/window_attention.hpp"

namespace attend {
namespace {

// Looks tensors up by Attend name and checks their shapes before anything uses them.
class WeightBinder {
 public:
  WeightBinder(const TensorMap& m, const std::string& label) : m_(m), label_(label) {}

  bool has(const std::string& name) const { return m_.count(name) != 0; }

  std::vector<float> get(const std::string& name, const std::vector<int64_t>& shape) const {
    auto it = m_.find(name);
    if (it == m_.end()) throw Error(label_ + ": missing tensor '" + name + "'");
    const HostTensor& t = it->second;
    std::vector<int64_t> got = t.shape;
    // [1, N] and [N] are the same vector (final_logits_bias is stored either way)
    if (shape.size() == 1 && got.size() == 2 && got[0] == 1) got.erase(got.begin());
    if (got != shape) {
      HostTensor want;
      want.shape = shape;
      throw Error(label_ + ": tensor '" + name + "': expected shape " + want.shape_str() + ", found " +
                  t.shape_str());
    }
    if (t.dtype == DType::I8) {
      std::vector<float> out = get_int8(name, t);
      release_pages(t);
      return out;
    }
    if (t.dtype != DType::F32 && t.dtype != DType::F16 && t.dtype != DType::BF16) {
      throw Error(label_ + ": tensor '" + name + "': unsupported dtype " + dtype_name(t.dtype));
    }
    if (t.nbytes != static_cast<size_t>(t.numel()) * dtype_size(t.dtype)) {
      throw Error(label_ + ": tensor '" + name + "': byte size does not match its shape");
    }
    std::vector<float> out = t.to_f32();
    release_pages(t);  // copied: the mapped bytes need not stay resident
    return out;
  }

  // Calls fn(float32 data of `name`): the mapped bytes in place when the file holds float32
  // (no copy), else a converted copy; then drops the tensor's mapped pages (the caller has
  // reordered/copied what it needs by then).
  template <class Fn>
  void with_f32(const std::string& name, const std::vector<int64_t>& shape, Fn fn) const {
    if (const HostTensor* v = view_f32(name, shape)) {
      fn(reinterpret_cast<const float*>(v->data));
      release_pages(*v);
      return;
    }
    const std::vector<float> copy = get(name, shape);
    fn(copy.data());
  }

  // int8 weights (weights_format.md §8): I8 [out, in] plus F32 "<name>.scale" [out], every
  // scale finite and > 0. Dequantized here; an int8 compute type quantizes them again with
  // the same per-channel rule, which gives back exactly the stored integers.
  std::vector<float> get_int8(const std::string& name, const HostTensor& t) const {
    if (t.shape.size() != 2) throw Error(label_ + ": tensor '" + name + "': I8 tensors must be 2-D [out, in]");
    if (t.nbytes != static_cast<size_t>(t.numel())) {
      throw Error(label_ + ": tensor '" + name + "': byte size does not match its shape");
    }
    const std::string sname = name + ".scale";
    auto it = m_.find(sname);
    if (it == m_.end()) throw Error(label_ + ": int8 tensor '" + name + "' has no scale tensor '" + sname + "'");
    const HostTensor& sc = it->second;
    if (sc.dtype != DType::F32 || sc.shape != std::vector<int64_t>{t.shape[0]} ||
        sc.nbytes != static_cast<size_t>(t.shape[0]) * 4) {
      throw Error(label_ + ": tensor '" + sname + "': expected F32 [" + std::to_string(t.shape[0]) + "], found " +
                  dtype_name(sc.dtype) + " " + sc.shape_str());
    }
    std::vector<float> scale = sc.to_f32();
    for (size_t i = 0; i < scale.size(); ++i) {
      if (!std::isfinite(scale[i]) || !(scale[i] > 0.0f)) {
        throw Error(label_ + ": tensor '" + sname + "': scale " + std::to_string(i) + " is not a finite positive number");
      }
    }
    std::vector<float> out(static_cast<size_t>(t.numel()));
    dequantize_per_channel(reinterpret_cast<const int8_t*>(t.data), scale.data(), t.shape[0], t.shape[1], out.data());
    return out;
  }

  // A float32 tensor used in place (zero copy; the caller keeps `keepalive`), or null when it
  // must be converted (other dtypes, misaligned data) — then call get().
  const HostTensor* view_f32(const std::string& name, const std::vector<int64_t>& shape) const {
    auto it = m_.find(name);
    if (it == m_.end()) return nullptr;
    const HostTensor& t = it->second;
    if (t.dtype != DType::F32 || t.shape != shape || t.nbytes != static_cast<size_t>(t.numel()) * 4 ||
        reinterpret_cast<uintptr_t>(t.data) % alignof(float) != 0) {
      return nullptr;
    }
    return &t;
  }

  std::vector<float> get_optional(const std::string& name, const std::vector<int64_t>& shape) const {
    return has(name) ? get(name, shape) : std::vector<float>{};
  }

 private:
  const TensorMap& m_;
  std::string label_;
};

void init_norm(Norm& norm, const WeightBinder& w, const ArchSpec& s, const std::string& name) {
  const int64_t d = s.d_model;
  auto gamma = w.get(name + ".weight", {d});
  if (s.norm == NormKind::RMSNorm) {
    norm.init_rms_norm(gamma.data(), d, s.norm_eps);
  } else {
    auto beta = w.get(name + ".bias", {d});
    norm.init_layer_norm(gamma.data(), beta.data(), d, s.norm_eps);
  }
}

// per_batch: a layer run once per batch (encoder, cross-attention keys and values), whose int8
// channel scales go into the row epilogue (Linear::init's scales_in_epilogue).
void init_linear(Linear& lin, const WeightBinder& w, const ArchSpec& s, ComputeType ct, const std::string& name,
                 int64_t out, int64_t in, Epilogue ep, Activation act = Activation::Relu, bool per_batch = false) {
  std::vector<float> bias;
  if (s.projection_bias) bias = w.get(name + ".bias", {out});
  w.with_f32(name + ".weight", {out, in}, [&](const float* weight) {
    lin.init(weight, out, in, bias.empty() ? nullptr : bias.data(), ep, act, ct, nullptr, per_batch);
  });
}

// q|k|v (self-attention) or k|v (cross-attention) stacked into one [n*inner, d] matrix so a
// single matmul projects them all.
void init_fused(Linear& lin, const WeightBinder& w, const ArchSpec& s, ComputeType ct, const std::string& prefix,
                const std::vector<std::string>& parts, int64_t inner, bool per_batch = false) {
  const int64_t d = s.d_model;
  std::vector<float> weight, bias;
  for (const auto& p : parts) {
    auto wp = w.get(prefix + p + ".weight", {inner, d});
    weight.insert(weight.end(), wp.begin(), wp.end());
    if (s.projection_bias) {
      auto bp = w.get(prefix + p + ".bias", {inner});
      bias.insert(bias.end(), bp.begin(), bp.end());
    }
  }
  const int64_t out = inner * static_cast<int64_t>(parts.size());
  lin.init(weight.data(), out, d, bias.empty() ? nullptr : bias.data(), Epilogue::None, Activation::Relu, ct, nullptr,
           per_batch);
}

void init_ffn(FeedForward& f, const WeightBinder& w, const ArchSpec& s, ComputeType ct, const std::string& prefix,
              int64_t ffn, bool per_batch = false) {
  const int64_t d = s.d_model;
  init_norm(f.norm, w, s, prefix + "ffn_norm");
  if (s.gated_ffn) {
    init_linear(f.wi_lin, w, s, ct, prefix + "ffn.wi_lin", ffn, d, Epilogue::None, Activation::Relu, per_batch);
    init_linear(f.wi, w, s, ct, prefix + "ffn.wi", ffn, d, Epilogue::ActivateMul, s.activation, per_batch);
  } else {
    init_linear(f.wi, w, s, ct, prefix + "ffn.wi", ffn, d, Epilogue::Activation, s.activation, per_batch);
  }
  init_linear(f.wo, w, s, ct, prefix + "ffn.wo", d, ffn, Epilogue::Accumulate, Activation::Relu, per_batch);
}

int max_threads() { return std::max(1, omp_get_max_threads()); }

// fn(i) for i = 0 .. n-1: spread over the threads (a parallel region of its own), or all on the
// calling thread (the passes of a row-split step, already one thread's share of the rows).
template <class Fn>
void for_rows(int n, bool parallel, Fn&& fn) {
  if (parallel) {
#pragma omp parallel for schedule(static)
    for (int i = 0; i < n; ++i) fn(i);
  } else {
    for (int i = 0; i < n; ++i) fn(i);
  }
}

// Decoder layers' weights up to this many bytes in all stay in the last-level cache while every
// thread reads all of them (row-split steps): half the L3 the system reports, 8 MB if unknown.
int64_t row_split_weight_budget() {
  static const int64_t budget = [] {
    const long l3 = sysconf(_SC_LEVEL3_CACHE_SIZE);
    return l3 > 0 ? static_cast<int64_t>(l3) / 2 : int64_t{8} << 20;
  }();
  return budget;
}

}  // namespace

Transformer::Transformer(const ArchSpec& spec, const TensorMap& tensors, const std::string& label,
                         ComputeType ct)
    : spec_(spec), compute_(ct) {
  const ArchSpec& s = spec_;
  if (s.encoder_heads != s.decoder_heads) throw Error(label + ": encoder and decoder head counts differ");
  inner_ = s.encoder_heads * s.head_dim;
  const int64_t d = s.d_model;
  WeightBinder w(tensors, label);

  // Embedding tables: used in place when the file holds them as float32 (only the rows looked
  // up are ever paged in), and shared when encoder and decoder are tied (one tensor).
  auto bind_table = [&](const std::string& name, int64_t rows, std::vector<float>& own,
                        const MappedFile** file) -> const float* {
    if (const HostTensor* v = w.view_f32(name, {rows, d})) {
      keepalive_.push_back(v->keepalive);
      if (v->mapping) embed_views_.push_back(*v);
      *file = v->mapping;
      return reinterpret_cast<const float*>(v->data);
    }
    own = w.get(name, {rows, d});
    return own.data();
  };
  enc_embed_ptr_ = bind_table("encoder.embed_tokens.weight", s.src_vocab_size, enc_embed_, &enc_embed_file_);
  {
    auto e = tensors.find("encoder.embed_tokens.weight"), dd = tensors.find("decoder.embed_tokens.weight");
    if (e != tensors.end() && dd != tensors.end() && e->second.data == dd->second.data &&
        e->second.dtype == dd->second.dtype && e->second.shape == std::vector<int64_t>{s.vocab_size, d} &&
        e->second.nbytes == dd->second.nbytes) {
      dec_embed_ptr_ = enc_embed_ptr_;  // tied: same bytes, same table
      dec_embed_file_ = enc_embed_file_;
    } else {
      dec_embed_ptr_ = bind_table("decoder.embed_tokens.weight", s.vocab_size, dec_embed_, &dec_embed_file_);
    }
  }

  switch (s.positions) {
    case PositionKind::Learned:
      position_rows_ = s.max_positions + s.position_offset;
      enc_position_rows_ = (s.encoder_max_positions > 0 ? s.encoder_max_positions : s.max_positions) + s.position_offset;
      enc_positions_ = w.get("encoder.embed_positions.weight", {enc_position_rows_, d});
      dec_positions_ = w.get("decoder.embed_positions.weight", {position_rows_, d});
      break;
    case PositionKind::SinusoidalMarian:
      position_rows_ = s.max_positions;
      enc_positions_ = w.get_optional("encoder.embed_positions.weight", {position_rows_, d});
      dec_positions_ = w.get_optional("decoder.embed_positions.weight", {position_rows_, d});
      if (enc_positions_.empty()) enc_positions_ = marian_sinusoidal_table(position_rows_, s.d_model);
      if (dec_positions_.empty()) dec_positions_ = marian_sinusoidal_table(position_rows_, s.d_model);
      break;
    case PositionKind::SinusoidalFairseq:
      position_rows_ = s.max_positions + s.padding_idx + 1;
      enc_positions_ = w.get_optional("encoder.embed_positions.weight", {position_rows_, d});
      dec_positions_ = w.get_optional("decoder.embed_positions.weight", {position_rows_, d});
      if (enc_positions_.empty()) enc_positions_ = fairseq_sinusoidal_table(position_rows_, s.d_model, s.padding_idx);
      if (dec_positions_.empty()) dec_positions_ = fairseq_sinusoidal_table(position_rows_, s.d_model, s.padding_idx);
      break;
    case PositionKind::RelativeBuckets:
      enc_rel_bias_ = w.get("encoder.relative_attention_bias.weight", {s.relative_buckets, s.encoder_heads});
      dec_rel_bias_ = w.get("decoder.relative_attention_bias.weight", {s.relative_buckets, s.decoder_heads});
      break;  }
  if (enc_position_rows_ == 0) enc_position_rows_ = position_rows_;
  if (s.encoder_attention == EncoderAttention::LongT5TransientGlobal) {
    enc_global_rel_bias_ = w.get("encoder.global_relative_attention_bias.weight", {s.relative_buckets, s.encoder_heads});
  }
  if (s.layernorm_embedding) {
    init_norm(enc_emb_norm_, w, s, "encoder.layernorm_embedding");
    init_norm(dec_emb_norm_, w, s, "decoder.layernorm_embedding");
  }
  if (s.encoder_final_norm) init_norm(enc_final_norm_, w, s, "encoder.final_norm");
  if (s.decoder_final_norm) init_norm(dec_final_norm_, w, s, "decoder.final_norm");

  enc_layers_ = std::vector<EncoderLayer>(s.encoder_layers);
  for (int i = 0; i < s.encoder_layers; ++i) {
    const std::string p = "encoder.layers." + std::to_string(i) + ".";
    EncoderLayer& L = enc_layers_[i];
    init_norm(L.self_attn.norm, w, s, p + "self_attn_norm");
    init_fused(L.self_attn.q, w, s, ct, p + "self_attn.", std::vector<std::string>{"q", "k", "v"}, inner_, true);
    init_linear(L.self_attn.out, w, s, ct, p + "self_attn.o", d, inner_, Epilogue::Accumulate, Activation::Relu, true);
    init_ffn(L.ffn, w, s, ct, p, s.encoder_ffn_dim, true);
    if (s.encoder_attention == EncoderAttention::LedSliding) {
      const char* parts[3] = {"q_global", "k_global", "v_global"};
      for (int k = 0; k < 3; ++k) {
        L.global_w[k] = w.get(p + "self_attn." + parts[k] + ".weight", {inner_, d});
        L.global_b[k] = w.get(p + "self_attn." + parts[k] + ".bias", {inner_});
      }
    }
    if (s.encoder_attention == EncoderAttention::LongT5TransientGlobal) {
      init_norm(L.global_norm, w, s, p + "self_attn.global_norm");
    }
  }
  dec_layers_ = std::vector<DecoderLayer>(s.decoder_layers);
  for (int i = 0; i < s.decoder_layers; ++i) {
    const std::string p = "decoder.layers." + std::to_string(i) + ".";
    DecoderLayer& L = dec_layers_[i];
    init_norm(L.self_attn.norm, w, s, p + "self_attn_norm");
    init_fused(L.self_attn.q, w, s, ct, p + "self_attn.", std::vector<std::string>{"q", "k", "v"}, inner_);
    init_linear(L.self_attn.out, w, s, ct, p + "self_attn.o", d, inner_, Epilogue::Accumulate);
    init_norm(L.cross_attn.norm, w, s, p + "cross_attn_norm");
    init_linear(L.cross_attn.q, w, s, ct, p + "cross_attn.q", inner_, d, Epilogue::None);
    init_fused(L.cross_attn.kv, w, s, ct, p + "cross_attn.", std::vector<std::string>{std::string("k"), std::string("v")}, inner_,
               true);
    init_linear(L.cross_attn.out, w, s, ct, p + "cross_attn.o", d, inner_, Epilogue::Accumulate);
    init_ffn(L.ffn, w, s, ct, p, s.decoder_ffn_dim);
  }
  std::vector<float> flb;
  if (s.final_logits_bias) flb = w.get("final_logits_bias", {s.vocab_size});
  // The LM head (often 100+ MB, tied to the embeddings) is converted in blocks of rows, each
  // block's mapped pages dropped once converted: the float32 matrix is never resident whole
  // beside its converted copy.
  Linear::RowsDone drop_rows;
  if (const HostTensor* v = w.view_f32("lm_head.weight", {s.vocab_size, d})) {
    drop_rows = [v, d](int64_t r0, int64_t r1) {
      release_pages(*v, static_cast<size_t>(r0 * d) * 4, static_cast<size_t>(r1 * d) * 4);
    };
  }
  w.with_f32("lm_head.weight", {s.vocab_size, d}, [&](const float* lm) {
    lm_head_.init(lm, s.vocab_size, d, flb.empty() ? nullptr : flb.data(), ct, drop_rows);
    // the same bytes (one tensor in the file) are tied without reading them: a memcmp would
    // page the whole mapped table back in (+100 MB peak for opus-mt)
    lm_tied_ = dec_embed_ptr_ != nullptr &&
               (lm == dec_embed_ptr_ ||
                std::memcmp(lm, dec_embed_ptr_, static_cast<size_t>(s.vocab_size) * static_cast<size_t>(d) * sizeof(float)) == 0);
  });
  if (const HostTensor* v = w.view_f32("lm_head.weight", {s.vocab_size, d})) release_pages(*v);
  lm_bias_ = std::move(flb);
  int8_decoder_ = ct == ComputeType::I8;
  int64_t layer_weight_bytes = 0;
  for (const DecoderLayer& L : dec_layers_) {
    for (const Linear* lin : {&L.self_attn.q, &L.self_attn.out, &L.cross_attn.q, &L.cross_attn.out, &L.ffn.wi, &L.ffn.wo,
                              &L.ffn.wi_lin}) {
      if (lin->empty()) continue;
      int8_decoder_ = int8_decoder_ && lin->compute_type() == ComputeType::I8;
      const int64_t bytes = lin->compute_type() == ComputeType::F32 ? 4 : lin->compute_type() == ComputeType::BF16 ? 2 : 1;
      layer_weight_bytes += lin->in_features() * lin->out_features() * bytes;
    }
  }
  decoder_weight_bytes_ = layer_weight_bytes;
  if (ct != ComputeType::F32) {  // reduced precision: small batches normalise with a plain loop
    for (Norm* n : {&enc_emb_norm_, &dec_emb_norm_, &enc_final_norm_, &dec_final_norm_}) n->set_small_rows_loop(true);
    for (EncoderLayer& L : enc_layers_)
      for (Norm* n : {&L.self_attn.norm, &L.ffn.norm, &L.global_norm}) n->set_small_rows_loop(true);
    for (DecoderLayer& L : dec_layers_)
      for (Norm* n : {&L.self_attn.norm, &L.cross_attn.norm, &L.ffn.norm}) n->set_small_rows_loop(true);
  }
}

void Transformer::release_embedding_pages() const {
  for (const HostTensor& v : embed_views_) release_pages(v);
}

namespace {
// Resident bytes of per-layer key and value buffers of `floats` floats each (null: none).
size_t kv_resident_bytes(const std::vector<std::unique_ptr<float[]>>& k, const std::vector<std::unique_ptr<float[]>>& v,
                         size_t floats) {
  size_t n = 0;
  for (const auto* set : {&k, &v})
    for (const auto& buf : *set)
      if (buf) n += resident_bytes(buf.get(), floats * sizeof(float));
  return n;
}
}  // namespace

size_t Transformer::spare_resident_bytes() const {
  std::lock_guard<std::mutex> lock(spare_mu_);
  size_t n = kv_resident_bytes(spare_.k, spare_.v, spare_.floats);
  if (spare_.logits.capacity() > 0) n += resident_bytes(spare_.logits.data(), spare_.logits.capacity() * sizeof(float));
  return n;
}

void Transformer::release_spare() const {
  SpareCache old;  // freed when this returns, outside the lock
  std::lock_guard<std::mutex> lock(spare_mu_);
  std::swap(old, spare_);
}

void Transformer::embed(const int32_t* ids, int64_t n, const int32_t* positions, bool decoder, float* out) const {
  const int64_t d = spec_.d_model;
  const int vocab = decoder ? spec_.vocab_size : spec_.src_vocab_size;
  const float* table = decoder ? dec_embed_ptr_ : enc_embed_ptr_;
  const MappedFile* file = decoder ? dec_embed_file_ : enc_embed_file_;
  const std::vector<float>& pos = decoder ? dec_positions_ : enc_positions_;
  const int position_rows = decoder ? position_rows_ : enc_position_rows_;
  for (int64_t i = 0; i < n; ++i) {
    if (ids[i] < 0 || ids[i] >= vocab) {
      throw Error("token id " + std::to_string(ids[i]) + " is outside the " + (decoder ? "decoder" : "encoder") +
                  " vocabulary (size " + std::to_string(vocab) + ")");
    }
    if (!pos.empty() && (positions[i] < 0 || positions[i] >= position_rows)) {
      throw Error("input too long: position " + std::to_string(positions[i]) + " exceeds the model's " +
                  std::to_string(position_rows) + " position rows");
    }
  }
  const float scale = spec_.embed_scale;
  auto finish = [&](int64_t i, const float* e) {  // out row i = e * scale (+ its position row)
    float* o = out + i * d;
    if (pos.empty()) {
      for (int64_t j = 0; j < d; ++j) o[j] = e[j] * scale;
    } else {
      const float* p = pos.data() + static_cast<int64_t>(positions[i]) * d;
      for (int64_t j = 0; j < d; ++j) o[j] = e[j] * scale + p[j];
    }
  };
  if (!file) {
#pragma omp parallel for schedule(static)
    for (int64_t i = 0; i < n; ++i) finish(i, table + static_cast<int64_t>(ids[i]) * d);
    return;
  }
  // Rows copied by pread (the mapping's pages stay out of the resident set), one read per
  // distinct id: beams that agree ask for the same row. src[i]: the first row with row i's id.
  std::vector<int64_t> src(static_cast<size_t>(n));
  {
    std::vector<std::pair<int32_t, int64_t>> by_id(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) by_id[static_cast<size_t>(i)] = {ids[i], i};
    std::sort(by_id.begin(), by_id.end());
    for (size_t k = 0; k < by_id.size(); ++k)
      src[static_cast<size_t>(by_id[k].second)] =
          k > 0 && by_id[k].first == by_id[k - 1].first ? src[static_cast<size_t>(by_id[k - 1].second)] : by_id[k].second;
  }
  const size_t row_bytes = static_cast<size_t>(d) * sizeof(float);
#pragma omp parallel
  {
#pragma omp for schedule(static)
    for (int64_t i = 0; i < n; ++i)
      if (src[static_cast<size_t>(i)] == i)
        file->read_at(reinterpret_cast<const uint8_t*>(table + static_cast<int64_t>(ids[i]) * d), row_bytes, out + i * d);
#pragma omp for schedule(static)
    for (int64_t i = 0; i < n; ++i)
      if (src[static_cast<size_t>(i)] != i) std::memcpy(out + i * d, out + src[static_cast<size_t>(i)] * d, row_bytes);
#pragma omp for schedule(static)
    for (int64_t i = 0; i < n; ++i) finish(i, out + i * d);
  }
}

// Measured (attend bench, AMD EPYC, 2 threads): the bundled model (10 MB of fp32 decoder weights)
// gains from 16 rows on; opus-mt int8 (19 MB) gains at 64 and 128 rows and loses 1-6% at 32;
// t5-small int8 (22 MB) gains 4-5% at 128; opus-mt fp32 (75 MB) loses 18% at 16 rows, 5% at
// 32 and is even at 128. Weights that stay in the L3 cache, or at most kRowSplitBytesPerRow of
// them read per row of a thread's share, pay for the regions saved.
bool Transformer::row_split_pays(int rows, int threads) const {
  constexpr int64_t kRowSplitBytesPerRow = int64_t{1} << 20;
  return decoder_weight_bytes_ <= row_split_weight_budget() ||
         decoder_weight_bytes_ * threads <= static_cast<int64_t>(rows) * kRowSplitBytesPerRow;
}

void Transformer::feed_forward(const FeedForward& f, float* x, int64_t rows, float* norm_buf, float* h1,
                               float* h2) const {
  const float* src = x;
  if (spec_.pre_norm) {
    f.norm.forward(x, rows, norm_buf);
    src = norm_buf;
  }
  if (spec_.gated_ffn) {
    f.wi_lin.forward(src, rows, h2);
    f.wi.forward(src, rows, h1, h2);
  } else {
    f.wi.forward(src, rows, h1);
  }
  f.wo.forward(h1, rows, x);
  if (!spec_.pre_norm) f.norm.forward(x, rows, x);
}

// What every layer's attention of one encode call shares: masks, bias tables per key-query
// offset (never per pair), LED's global tokens, LongT5's global block ids and their bias.
struct Transformer::EncodeContext {
  int B = 0, S = 0;
  const int32_t* mask = nullptr;                  // [B*S]
  std::vector<int32_t> key_ok;                    // [B*S] window keys (LED: real and not global)
  std::vector<float> offset_bias;                 // [H][2R+1] (T5 full, LongT5 local part)
  int radius = 0;                                 // Full / LongT5; LED: per layer
  std::vector<std::vector<int32_t>> globals;      // LED: global positions per row
  std::vector<int> n_global_blocks;               // LongT5 tglobal: per row
  std::vector<int32_t> block_of;                  // [B*S] LongT5 tglobal: global block of each token
  std::vector<std::vector<float>> global_bias;    // per row [H][2G-1]
};

namespace {

// bias[h][o + R] = table[bucket(o)][h] for offsets o in [-R, R] (bidirectional T5 buckets).
std::vector<float> offset_bias_table(const std::vector<float>& table, int R, int H, int buckets, int max_distance) {
  std::vector<float> out(static_cast<size_t>(H) * (2 * R + 1));
  for (int o = -R; o <= R; ++o) {
    const int bucket = t5_relative_bucket(o, true, buckets, max_distance);
    for (int h = 0; h < H; ++h) out[static_cast<size_t>(h) * (2 * R + 1) + (o + R)] = table[static_cast<size_t>(bucket) * H + h];
  }
  return out;
}

// Feed-forward rows per pass over a long input: bounds the [rows, ffn] intermediates.
constexpr int64_t kFfnRowChunk = 1024;
// Decoder self-attention cache: positions made resident per prefault() call, ahead of use: at
// least this many, and at least kPrefaultBytes per slot and call (a 256-wide model's position is
// 1 KB: four positions per call made one madvise per 4 KB page, as dear as the fault it saves).
constexpr int kPrefaultPositions = 4;
constexpr size_t kPrefaultBytes = 16384;
// reserve_positions() bounds above this are not reserved (the cache grows instead).
constexpr int kMaxReservedPositions = 256;
// A cache buffer whose time capacity is at most this, or at most twice the positions in use and
// about to be, is made resident whole when it is made (populate_whole), not slot by slot.
constexpr int kWholePopulatePositions = 64;

// p[0, bytes) resident with MADV_POPULATE_WRITE: one call per thread's share of the range
// (`calls` counts them).
bool populate_spread(float* p, size_t bytes, int64_t& calls) {
  const int nt = bytes >= (size_t{1} << 20) ? max_threads() : 1;
  calls += nt;
  bool ok = true;
#pragma omp parallel for schedule(static) reduction(&& : ok) if (nt > 1)
  for (int i = 0; i < nt; ++i) {
    const size_t a = bytes * static_cast<size_t>(i) / static_cast<size_t>(nt);
    const size_t b = bytes * static_cast<size_t>(i + 1) / static_cast<size_t>(nt);
    ok = populate_pages(reinterpret_cast<char*>(p) + a, b - a) && ok;
  }
  return ok;
}


}  // namespace

// Sources of at least this many positions run blockwise (window_attention): decoder
// cross-attention per input, and full encoder self-attention; shorter ones row by row (attend_row).
int kBlockedCrossMinLength = 1024;

bool Transformer::int8_attention_kv() const {
  return compute_ == ComputeType::I8 && inner_ % 4 == 0 && inner_ == spec_.decoder_heads * spec_.head_dim;
}

void Transformer::encoder_attention(int layer, const EncodeContext& c, const float* src, float* qkv, float* ctx) const {
  const ArchSpec& s = spec_;
  const EncoderLayer& L = enc_layers_[static_cast<size_t>(layer)];
  const int S = c.S, H = s.encoder_heads, dh = s.head_dim, inner = inner_;
  const int64_t d = s.d_model;
  const float scale = s.attention_scaling ? 1.0f / std::sqrt(static_cast<float>(dh)) : 1.0f;
  if (s.encoder_attention == EncoderAttention::Full && S < kBlockedCrossMinLength) {
    // Short inputs: one query row at a time (attend_row, as the decoder does). A row's result
    // then does not depend on how far its batch is padded, so a sentence gets the same bits
    // alone or batched with longer ones; the blocked kernel's GEMM over a padded key range
    // rounds differently. Memory is O(S) per thread either way.
    const int R = c.radius;  // S - 1: offset_bias holds offsets -R..R
    const size_t scratch_len = attend_row_scratch(H, S);
    std::vector<float> scratch(static_cast<size_t>(max_threads()) * scratch_len);
    const int64_t N = static_cast<int64_t>(c.B) * S;
#pragma omp parallel for schedule(static)
    for (int64_t r = 0; r < N; ++r) {
      const int b = static_cast<int>(r / S), i = static_cast<int>(r % S);
      KeyValueView kv;
      kv.fast_scores = fast_scores();
      kv.k = qkv + static_cast<int64_t>(b) * S * 3 * inner + inner;
      kv.v = kv.k + inner;
      kv.stride = 3 * inner;
      kv.length = S;
      kv.mask = c.mask + static_cast<size_t>(b) * S;
      ScoreBias sb;
      if (!c.offset_bias.empty()) {
        sb.data = c.offset_bias.data() + (R - i);  // sb.data[h * (2R+1) + j] = bias of offset j - i
        sb.head_stride = 2 * R + 1;
      }
      attend_row(qkv + r * 3 * inner, kv, sb, H, dh, scale, ctx + r * inner,
                 scratch.data() + static_cast<size_t>(omp_get_thread_num()) * scratch_len);
    }
    return;
  }
  std::vector<float> extra_kv, gsum, gqkv;
  for (int b = 0; b < c.B; ++b) {
    const int64_t base = static_cast<int64_t>(b) * S;
    WindowAttention a;
    a.q = qkv + base * 3 * inner;
    a.k = a.q + inner;
    a.v = a.q + 2 * inner;
    a.q_stride = a.kv_stride = 3 * inner;
    a.length = S;
    a.heads = H;
    a.head_dim = dh;
    a.scale = scale;
    a.key_ok = c.key_ok.data() + base;
    a.ctx = ctx + base * inner;
    a.ctx_stride = inner;
    a.radius = c.radius;
    if (!c.offset_bias.empty()) a.offset_bias = c.offset_bias.data();
    switch (s.encoder_attention) {
      case EncoderAttention::Full:
      case EncoderAttention::LongT5Local: break;
      case EncoderAttention::LedSliding: {
        a.radius = s.attention_window[static_cast<size_t>(layer)] / 2;
        const auto& g = c.globals[static_cast<size_t>(b)];
        if (!g.empty()) {  // every query also sees the global tokens' (ordinary) keys and values
          extra_kv.resize(g.size() * 2 * inner);
          for (size_t k = 0; k < g.size(); ++k) {
            const float* row = qkv + (base + g[k]) * 3 * inner;
            std::copy(row + inner, row + 3 * inner, extra_kv.begin() + static_cast<std::ptrdiff_t>(k * 2 * inner));
          }
          a.extra = static_cast<int>(g.size());
          a.ek = extra_kv.data();
          a.ev = extra_kv.data() + inner;
          a.e_stride = 2 * inner;
        }
        break;
      }
      case EncoderAttention::LongT5TransientGlobal: {
        const int G = c.n_global_blocks[static_cast<size_t>(b)];
        if (G == 0) break;
        // global input of block k: RMS norm of the sum of its tokens' attention inputs, then k, v
        gsum.assign(static_cast<size_t>(G) * d, 0.0f);
        for (int i = 0; i < S; ++i) {
          const int k = c.block_of[static_cast<size_t>(base + i)];
          if (k < 0 || !c.mask[base + i]) continue;  // padded queries carry a block id, but are no block's member
          const float* x = src + (base + i) * d;
          float* acc = gsum.data() + static_cast<size_t>(k) * d;
          for (int64_t j = 0; j < d; ++j) acc[j] += x[j];
        }
        L.global_norm.forward(gsum.data(), G, gsum.data());
        gqkv.resize(static_cast<size_t>(G) * 3 * inner);
        L.self_attn.q.forward(gsum.data(), G, gqkv.data());
        a.extra = G;
        a.ek = gqkv.data() + inner;
        a.ev = gqkv.data() + 2 * inner;
        a.e_stride = 3 * inner;
        a.extra_bias = c.global_bias[static_cast<size_t>(b)].data();
        a.query_group = c.block_of.data() + base;
        break;
      }
    }
    window_attention(a);
    if (s.encoder_attention == EncoderAttention::LedSliding) {
      const auto& g = c.globals[static_cast<size_t>(b)];
      const GlobalRowsWeights gw{L.global_w[0].data(), L.global_b[0].data(), L.global_w[1].data(),
                                 L.global_b[1].data(), L.global_w[2].data(), L.global_b[2].data()};
      led_global_rows(src + base * d, d, S, c.mask + base, g.data(), static_cast<int>(g.size()), gw,
                      static_cast<int>(d), H, dh, scale, ctx + base * inner, inner);
    }
  }
}

std::shared_ptr<const EncoderOutput> Transformer::encode(const std::vector<std::vector<int32_t>>& ids,
                                                         const std::vector<std::vector<int32_t>>& mask,
                                                         bool record_layers,
                                                         const std::vector<std::vector<int32_t>>* global_mask) const {
  const ArchSpec& s = spec_;
  auto out = std::make_shared<EncoderOutput>();
  const int B = static_cast<int>(ids.size());
  if (B == 0) throw Error("encode: empty batch");
  const int S = static_cast<int>(ids[0].size());
  if (S == 0) throw Error("encode: empty input");
  if (mask.size() != ids.size()) throw Error("encode: attention mask batch size differs from input");
  if (global_mask && global_mask->size() != ids.size()) throw Error("encode: global attention mask batch size differs from input");
  out->batch = B;
  out->src_len = S;
  out->mask.resize(static_cast<size_t>(B) * S);
  std::vector<int32_t> flat(static_cast<size_t>(B) * S), positions(static_cast<size_t>(B) * S);
  for (int b = 0; b < B; ++b) {
    if (static_cast<int>(ids[b].size()) != S || static_cast<int>(mask[b].size()) != S ||
        (global_mask && static_cast<int>((*global_mask)[b].size()) != S)) {
      throw Error("encode: inputs must be padded to one length");
    }
    int nonpad = 0;
    for (int i = 0; i < S; ++i) {
      const size_t k = static_cast<size_t>(b) * S + i;
      flat[k] = ids[b][i];
      out->mask[k] = mask[b][i] != 0 ? 1 : 0;
      switch (s.positions) {
        case PositionKind::Learned: positions[k] = i + s.position_offset; break;
        case PositionKind::SinusoidalFairseq:
          if (ids[b][i] != s.pad_token_id) positions[k] = s.padding_idx + 1 + nonpad++;
          else positions[k] = s.padding_idx;
          break;
        default: positions[k] = i;
      }
    }
  }
  const int64_t d = s.d_model;
  const int64_t N = static_cast<int64_t>(B) * S;
  const int H = s.encoder_heads, inner = inner_;
  LargeFloats& x = out->hidden;
  x.resize(N * d);
  embed(flat.data(), N, positions.data(), false, x.data());
  if (s.layernorm_embedding) enc_emb_norm_.forward(x.data(), N, x.data());
  if (record_layers) out->layer_states.emplace_back(x.begin(), x.end());

  EncodeContext c;
  c.B = B;
  c.S = S;
  c.mask = out->mask.data();
  c.key_ok = out->mask;
  switch (s.encoder_attention) {
    case EncoderAttention::Full: c.radius = S - 1; break;
    case EncoderAttention::LedSliding: c.radius = 0; break;  // per layer
    default: c.radius = std::min(s.local_radius, S - 1);
  }
  if (s.positions == PositionKind::RelativeBuckets) {
    c.offset_bias = offset_bias_table(enc_rel_bias_, std::min(c.radius, S - 1), H, s.relative_buckets, s.relative_max_distance);
  }
  if (s.encoder_attention == EncoderAttention::LedSliding) {
    c.globals.resize(static_cast<size_t>(B));
    for (int b = 0; b < B; ++b) {
      for (int i = 0; i < S; ++i) {
        const size_t k = static_cast<size_t>(b) * S + i;
        const bool global = global_mask ? (*global_mask)[b][i] != 0 : i == 0;
        if (!global || !out->mask[k]) continue;
        c.globals[static_cast<size_t>(b)].push_back(i);
        c.key_ok[k] = 0;  // seen through the global part, once
      }
    }
  }
  if (s.encoder_attention == EncoderAttention::LongT5TransientGlobal) {
    const int g = s.global_block_size;
    c.n_global_blocks.resize(static_cast<size_t>(B));
    c.block_of.assign(static_cast<size_t>(N), -1);
    c.global_bias.resize(static_cast<size_t>(B));
    for (int b = 0; b < B; ++b) {
      int n = 0;
      while (n < S && out->mask[static_cast<size_t>(b) * S + n]) ++n;  // right padding: the real prefix
      const int G = n / g;
      c.n_global_blocks[static_cast<size_t>(b)] = G;
      // token t: block t / g, the tokens after the last full block join it; padding and rows
      // shorter than one block: none (transformers' _make_global_fixed_block_ids)
      for (int t = 0; t < S; ++t) c.block_of[static_cast<size_t>(b) * S + t] = G == 0 ? -1 : std::min(t / g, G - 1);
      for (int t = n; t < S; ++t) c.block_of[static_cast<size_t>(b) * S + t] = G == 0 ? -1 : G - 1;  // padded queries: any valid id
      if (G == 0) continue;
      std::vector<float>& gb = c.global_bias[static_cast<size_t>(b)];
      gb.resize(static_cast<size_t>(H) * (2 * G - 1));
      for (int rel = -(G - 1); rel <= G - 1; ++rel) {
        const int bucket = t5_relative_bucket(rel, true, s.relative_buckets, s.relative_max_distance);
        for (int h = 0; h < H; ++h) gb[static_cast<size_t>(h) * (2 * G - 1) + (rel + G - 1)] = enc_global_rel_bias_[static_cast<size_t>(bucket) * H + h];
      }
    }
  }
  {
    const int64_t ffn = s.encoder_ffn_dim;
    const int64_t chunk = std::min<int64_t>(N, kFfnRowChunk);
    LargeFloats norm_buf(N * d), qkv(N * 3 * inner), ctx(N * inner), h1(chunk * ffn), h2(s.gated_ffn ? chunk * ffn : 0);
    for (size_t l = 0; l < enc_layers_.size(); ++l) {
      const EncoderLayer& L = enc_layers_[l];
      const float* src = x.data();
      if (s.pre_norm) {
        L.self_attn.norm.forward(x.data(), N, norm_buf.data());
        src = norm_buf.data();
      }
      L.self_attn.q.forward(src, N, qkv.data());
      encoder_attention(static_cast<int>(l), c, src, qkv.data(), ctx.data());
      L.self_attn.out.forward(ctx.data(), N, x.data());
      if (!s.pre_norm) L.self_attn.norm.forward(x.data(), N, x.data());
      for (int64_t r0 = 0; r0 < N; r0 += chunk) {
        const int64_t rows = std::min(chunk, N - r0);
        feed_forward(L.ffn, x.data() + r0 * d, rows, norm_buf.data() + r0 * d, h1.data(), h2.data());
      }
      if (record_layers) out->layer_states.emplace_back(x.begin(), x.end());
    }
  }  // the layer buffers are freed before the cross-attention keys and values are made
  if (s.encoder_final_norm) {
    enc_final_norm_.forward(x.data(), N, x.data());
    if (record_layers) out->layer_states.back().assign(x.begin(), x.end());
  }
  out->cross_kv.resize(dec_layers_.size());
  // long sources: the float blocked kernel
  const bool half = half_attention_kv() && S < kBlockedCrossMinLength;
  const bool kv8 = int8_attention_kv() && S < kBlockedCrossMinLength;
  if (half) out->cross_kv16.resize(dec_layers_.size());
  if (kv8) out->cross_kv8.resize(dec_layers_.size());
  const int dec_heads = s.decoder_heads;
  const size_t entry = kv8_entry_bytes(dec_heads, s.head_dim);
  LargeFloats projected;  // half or int8: every layer's float projection in one buffer before conversion
  for (size_t l = 0; l < dec_layers_.size(); ++l) {
    LargeFloats& kv = half || kv8 ? projected : out->cross_kv[l];
    kv.resize(N * 2 * inner);
    dec_layers_[l].cross_attn.kv.forward(x.data(), N, kv.data());
    if (half) {
      auto& h = out->cross_kv16[l];
      h.resize(static_cast<size_t>(N * 2 * inner));
#pragma omp parallel for schedule(static) if (N >= 64)
      for (int64_t r = 0; r < N; ++r) simd::to_half(kv.data() + r * 2 * inner, 2 * inner, h.data() + r * 2 * inner);
    } else if (kv8) {
      auto& e = out->cross_kv8[l];
      e.resize(static_cast<size_t>(N) * 2 * entry);
#pragma omp parallel for schedule(static) if (N >= 64)
      for (int64_t r = 0; r < N; ++r) {
        kv8_store(kv.data() + r * 2 * inner, dec_heads, s.head_dim, e.data() + static_cast<size_t>(r) * 2 * entry);
        kv8_store(kv.data() + r * 2 * inner + inner, dec_heads, s.head_dim, e.data() + (static_cast<size_t>(r) * 2 + 1) * entry);
      }
    }
  }
  return out;
}

DecoderState::DecoderState(const Transformer& model, std::shared_ptr<const EncoderOutput> enc)
    : m_(model), enc_(std::move(enc)) {
  // bf16 runs keep the self-attention keys and values in bf16 (their matmuls round activations
  // to bf16 already): half the cache's memory and traffic. int8 runs keep them in 8 bits with a
  // scale per position and head (Transformer::int8_attention_kv), or as IEEE half where the
  // widths do not allow that (half_attention_kv; with bf16 instead the bundled model's int8 BLEU
  // moved +0.48 from fp32, outside the e2e test's +-0.3 band). fp32 runs keep float (token-exact
  // with transformers).
  if (m_.compute_type() == ComputeType::BF16 && m_.inner_ % 2 == 0) cache_type_ = CacheType::BF16;
  else if (m_.int8_attention_kv()) cache_type_ = CacheType::I8;
  else if (m_.half_attention_kv()) cache_type_ = CacheType::Half;
  rows_ = enc_->batch;
  row_input_.resize(rows_);
  for (int r = 0; r < rows_; ++r) row_input_[r] = r;
  k_cache_.resize(m_.dec_layers_.size());
  v_cache_.resize(m_.dec_layers_.size());
}

size_t DecoderState::cache_width() const {
  const size_t inner = static_cast<size_t>(m_.inner_);
  switch (cache_type_) {
    case CacheType::BF16:
    case CacheType::Half: return inner / 2;
    case CacheType::I8: return kv8_entry_bytes(m_.spec_.decoder_heads, m_.spec_.head_dim) / sizeof(float);
    default: return inner;
  }
}

DecoderState::~DecoderState() {
  give_spare();
  m_.release_embedding_pages();  // the rows this batch looked up (read back when needed again)
}

// The model keeps one set of K/V buffers between batches (Transformer::SpareCache).
void DecoderState::give_spare() {
  if (cap_rows_ == 0 || k_cache_.empty() || !k_cache_[0]) return;
  // Positions that only a minority of rows reached (after half the rows had finished) are given
  // back to the system: the spare stays resident only for what a typical batch touches. Not
  // from a spare that the batch taking it makes resident whole anyway (take_spare, no position
  // in use yet): dropping its pages slot by slot (a madvise per slot, layer and buffer: 768 for
  // the bundled model at batch 32) only for them to be made resident again cost ~18 ms per
  // batch, ~10% of a process that decodes batch after batch (a server, attend bench's later runs).
  const int keep_t = populate_whole_pays(alloc_t_, 0) ? cap_t_
                                                     : std::min(cap_t_, (half_t_ >= 0 ? half_t_ : t_) + prefault_ahead());
  discard(keep_t);
  Transformer::SpareCache old;  // the set it replaces, freed outside the lock
  {
    std::lock_guard<std::mutex> lock(m_.spare_mu_);
    std::swap(old, m_.spare_);
    m_.spare_.rows = cap_rows_;
    m_.spare_.t = cap_t_;
    m_.spare_.resident_t = prefault_ok_ ? std::min(full_t_, keep_t) : 0;
    m_.spare_.floats = alloc_floats_;
    m_.spare_.alloc_t = alloc_t_;
    m_.spare_.whole = alloc_resident_;
    m_.spare_.k.swap(k_cache_);
    m_.spare_.v.swap(v_cache_);
    m_.spare_.logits.swap(logits_);
  }
  k_cache_.resize(m_.dec_layers_.size());  // empty after the swap: one null buffer per layer again
  v_cache_.resize(m_.dec_layers_.size());
  cap_rows_ = cap_t_ = 0;
  alloc_floats_ = 0;
  alloc_t_ = want_t_ = 0;
  alloc_resident_ = false;
  prefaulted_t_ = full_t_ = 0;
  slots_.clear();
  slots_tmp_.clear();
}

// fn(start of slot r) for slots [0, rows) of every layer's keys and values: one madvise each,
// spread over the threads (a serial stretch of syscalls otherwise, the other threads waiting).
// True when every call returned true.
template <class Fn>
bool DecoderState::for_each_slot(int rows, Fn fn) {
  const int64_t calls = static_cast<int64_t>(k_cache_.size()) * 2 * rows;
  const size_t slot = static_cast<size_t>(cap_t_) * cache_width();
  bool ok = true;
#pragma omp parallel for schedule(static) reduction(&& : ok) if (calls >= 64)
  for (int64_t c = 0; c < calls; ++c) {
    const size_t l = static_cast<size_t>(c / (2 * rows));
    const int r = static_cast<int>(c % rows);
    float* base = (c / rows) % 2 == 0 ? k_cache_[l].get() : v_cache_[l].get();
    ok = fn(base + static_cast<size_t>(r) * slot) && ok;
  }
  return ok;
}

// Drops the pages of positions [from_t, cap_t) of every slot (MADV_DONTNEED: resident memory
// is returned, the addresses stay valid and read as zero when touched again).
void DecoderState::discard(int from_t) {
  if (from_t >= cap_t_) return;
  alloc_resident_ = false;
  const size_t inner = cache_width();
  for_each_slot(cap_rows_, [&](float* slot) {
    drop_pages(slot + static_cast<size_t>(from_t) * inner, static_cast<size_t>(cap_t_ - from_t) * inner * sizeof(float));
    return true;
  });
}

bool DecoderState::take_spare(int rows, int t) {
  if (cap_rows_ != 0 || t_ != 0) return false;  // only as the first buffers
  Transformer::SpareCache unfit;  // a spare too small for this batch: freed now, before the new buffers
  {
    std::lock_guard<std::mutex> lock(m_.spare_mu_);
    Transformer::SpareCache& sp = m_.spare_;
    // Its shape holds rows x t, or its allocation does (then laid out as rows slots of all the
    // positions it holds): a batch's beams after its first step, one row per input.
    const bool shaped = sp.rows >= rows && sp.t >= t;
    const size_t per_row = static_cast<size_t>(rows) * cache_width();
    if (sp.k.size() != k_cache_.size() || sp.k.empty() || (!shaped && sp.floats < per_row * static_cast<size_t>(t))) {
      std::swap(unfit, sp);
      return false;
    }
    k_cache_.swap(sp.k);
    v_cache_.swap(sp.v);
    if (logits_.capacity() < sp.logits.capacity()) logits_.swap(sp.logits);  // resident pages, resized later
    alloc_floats_ = sp.floats;
    alloc_t_ = sp.alloc_t;
    alloc_resident_ = sp.whole;
    cap_rows_ = shaped ? sp.rows : rows;
    cap_t_ = shaped ? sp.t : static_cast<int>(alloc_floats_ / per_row);
    want_t_ = t;
    full_t_ = shaped ? sp.resident_t : sp.whole ? cap_t_ : 0;
    sp = Transformer::SpareCache{};
  }
  slots_.assign(static_cast<size_t>(cap_rows_) * cap_t_, 0);
  slots_tmp_.assign(slots_.size(), 0);
  prefaulted_t_ = full_t_;  // resident in every slot already: no madvise walks over them again
  if (!alloc_resident_ && populate_whole_pays(alloc_t_, t_)) populate_whole();  // the positions discarded at its end
  return true;
}

int DecoderState::vocab_size() const { return m_.spec_.vocab_size; }

void DecoderState::set_vocab_subset(const std::vector<int32_t>& ids) {
  subset_.clear();
  subset_w_.clear();
  subset_b_.clear();
  if (ids.empty()) return;
  if (!m_.lm_tied_)
    throw Error("vocabulary shortlist: this model's output layer is not tied to its embeddings (not supported)");
  const int V = m_.spec_.vocab_size;
  const int64_t d = m_.spec_.d_model;
  for (size_t i = 0; i < ids.size(); ++i)
    if (ids[i] < 0 || ids[i] >= V || (i > 0 && ids[i] <= ids[i - 1]))
      throw Error("vocabulary shortlist: candidate ids must be sorted, unique and inside the vocabulary");
  const size_t C = ids.size();
  subset_w_.resize(C * static_cast<size_t>(d));
  for (size_t c = 0; c < C; ++c)
    std::memcpy(subset_w_.data() + c * static_cast<size_t>(d),
                m_.dec_embed_ptr_ + static_cast<size_t>(ids[c]) * static_cast<size_t>(d), static_cast<size_t>(d) * sizeof(float));
  if (!m_.lm_bias_.empty()) {
    subset_b_.resize(C);
    for (size_t c = 0; c < C; ++c) subset_b_[c] = m_.lm_bias_[static_cast<size_t>(ids[c])];
  }
  subset_ = ids;
}

// Cache layout per layer: [cap_rows][cap_t][inner] (slot-major): position j of row r lives in
// slot slots_[r * cap_t + j] at [slot][j]. The beams of an input share most of their ancestors,
// so a row's keys mostly come from a few slots, each contiguous along time (cache and TLB
// friendly). Growing either capacity copies the t_ used positions of every slot into an exactly
// sized new buffer (no vector growth doubling its capacity), or lays them out anew within the
// buffers where the new shape fits their allocation (relayout_in_place: fewer rows, longer
// slots; more rows into a spare made for them). The buffers are not zero-filled:
// positions are written by their step before any read. A buffer little larger than what the
// batch will use is made resident whole at once (populate_whole_pays); in a larger one the pages
// of positions not reached yet are not touched (prefault() makes them resident a few positions
// ahead of use).
void DecoderState::ensure_capacity(int rows, int t) {
  if (rows <= cap_rows_ && t <= cap_t_) return;
  const int new_rows = std::max(rows, cap_rows_);
  // more positions: grown from the capacity; more rows: the capacity asked for before (a layout
  // in place fills its allocation, so cap_t_ can hold more than was asked)
  int new_t = t > cap_t_ ? std::max(t, cap_t_ + std::max(16, cap_t_ / 2)) : std::max(t, want_t_);
  if (t > cap_t_ && t_ > 0 && rows <= rows_ && 2 * rows_ <= cap_rows_) {
    // At most half the row capacity is live (inputs left the batch, select_rows): the copy
    // growing the cache gathers the live rows, within the buffers or into buffers sized for them.
    if (!relayout_in_place(rows_, new_t, true)) relayout(rows_, new_t, true);
    return;
  }
  if (cap_t_ == 0 && reserve_t_ > new_t && reserve_t_ <= kMaxReservedPositions) {
    // The search's bound on positions: reserve it at once (address space only: pages are
    // made resident a few positions ahead of use, prefault()), so the cache is never grown
    // and copied. Bounded so that one layer's keys stay within 1 GB of address space. A
    // generous bound (a model's max_length of 512 for 20-token sentences) is not reserved:
    // rows spread that far apart keep more pages resident than the growth copies cost.
    const int64_t per_position = static_cast<int64_t>(new_rows) * static_cast<int64_t>(cache_width()) * static_cast<int64_t>(sizeof(float));
    const int64_t fit = per_position > 0 ? (int64_t{1} << 30) / per_position : 0;
    new_t = static_cast<int>(std::max<int64_t>(new_t, std::min<int64_t>(reserve_t_, fit)));
  }
  if (take_spare(new_rows, new_t)) return;  // the last batch's buffers: pages already resident
  if (relayout_in_place(new_rows, new_t, false)) return;
  relayout(new_rows, new_t, false);
}

void DecoderState::reserve_positions(int positions) { reserve_t_ = std::max(0, positions); }

// Makes positions [from_t, to_t) of slots [0, rows) resident in every layer's keys and values
// with one madvise(MADV_POPULATE_WRITE) per slot and buffer: on a virtualised machine a page
// fault per 4 KB page, taken inside the step as each position is first written, cost ~8% of a
// batch-32 decode. Advice only: where the kernel does not know it, pages fault in as before.
int DecoderState::prefault_ahead() const {
  const size_t per_position = cache_width() * sizeof(float);
  return std::max<int>(kPrefaultPositions, static_cast<int>((kPrefaultBytes + per_position - 1) / per_position));
}

// A buffer of `time_capacity` positions is made resident whole where that holds little more than
// the batch will use: at most kWholePopulatePositions positions, or at most twice the positions
// in use plus the positions prefault() would make resident ahead anyway. Its pages then come in with
// a few calls per buffer (populate_spread) instead of one per slot, layer and few positions: on
// this kind of virtualised machine those calls were ~7% of the main thread's time in a
// batch-32 decode of the bundled model. Larger capacities (a reserved bound of 256 positions
// for 20-token sentences) keep the slot by slot prefault.
bool DecoderState::populate_whole_pays(int time_capacity, int in_use) const {
  return prefault_ok_ && time_capacity <= std::max(kWholePopulatePositions, 2 * (in_use + prefault_ahead()));
}

// Every buffer resident whole (see populate_whole_pays); false (and prefault_ok_ off) when the
// kernel does not know the advice.
bool DecoderState::populate_whole() {
  const size_t bytes = alloc_floats_ * sizeof(float);
  bool ok = true;
  for (size_t l = 0; l < k_cache_.size() && ok; ++l)
    ok = populate_spread(k_cache_[l].get(), bytes, populate_calls_) &&
         populate_spread(v_cache_[l].get(), bytes, populate_calls_);
  if (!ok) {
    prefault_ok_ = false;
    return false;
  }
  prefaulted_t_ = full_t_ = cap_t_;  // prefault() has nothing left to do for these buffers
  alloc_resident_ = true;
  return true;
}

void DecoderState::prefault(int rows, int from_t, int to_t) {
  if (to_t <= from_t || rows <= 0) return;
  if (rows == cap_rows_ && from_t <= full_t_) full_t_ = std::max(full_t_, to_t);
  if (!prefault_ok_) return;
  const size_t inner = cache_width();
  prefault_ok_ = for_each_slot(rows, [&](float* slot) {
#pragma omp atomic
    ++populate_calls_;
    return populate_pages(slot + static_cast<size_t>(from_t) * inner, static_cast<size_t>(to_t - from_t) * inner * sizeof(float));
  });
}

// Moves the used positions into buffers of new_rows x new_t. gather: new row i takes position j
// from slot slots_[i][j] (rows left the batch: the live rows are packed); else slots stay.
void DecoderState::relayout(int new_rows, int new_t, bool gather) {
  const size_t inner = cache_width();  // floats of storage per position (bf16 cache: half of inner)
  const size_t new_slot = static_cast<size_t>(new_t) * inner;
  const size_t floats = static_cast<size_t>(new_rows) * new_slot;
  const int kept = std::min(cap_rows_, new_rows);
  // A buffer at a time (the old one is freed before the next is made: no more memory at once
  // than before), its rows copied in parallel.
  const int64_t copies = t_ > 0 ? static_cast<int64_t>(kept) : 0;
  const bool whole = populate_whole_pays(new_t, t_);  // each new buffer resident whole, before its copies
  bool ok = true;
  for (size_t l = 0; l < k_cache_.size(); ++l) {
    for (auto* cache : {&k_cache_[l], &v_cache_[l]}) {
      std::unique_ptr<float[]> fresh(floats ? new float[floats] : nullptr);  // uninitialized on purpose
      const float* from = cache->get();
      float* dst = fresh.get();
      if (whole && ok && floats) ok = populate_spread(dst, floats * sizeof(float), populate_calls_);
      const bool populate = prefault_ok_ && ok && !whole;  // else the copied positions' pages, per row
#pragma omp parallel for schedule(static) reduction(&& : ok) if (copies >= 16)
      for (int64_t c = 0; c < copies; ++c) {
        const int i = static_cast<int>(c);
        float* to = dst + i * new_slot;
        if (populate) {
          ok = populate_pages(to, static_cast<size_t>(t_) * inner * sizeof(float)) && ok;
#pragma omp atomic
          ++populate_calls_;
        }
        copy_row_positions(from, i, gather, to);
      }
      cache->swap(fresh);
    }
  }
  if ((copies > 0 || whole) && prefault_ok_) prefault_ok_ = ok;
  alloc_floats_ = floats;
  alloc_t_ = want_t_ = new_t;
  alloc_resident_ = whole && prefault_ok_;
  relayout_done(new_rows, new_t, kept, gather);
}

// Row `row`'s t_ positions in the current layout of buffer `buf`, contiguous from `to` (gather:
// each position from the slot the slot table names; else from the row's own slot).
void DecoderState::copy_row_positions(const float* buf, int row, bool gather, float* to) const {
  const size_t inner = cache_width(), old_slot = static_cast<size_t>(cap_t_) * inner;
  if (!gather) {
    std::memcpy(to, buf + static_cast<size_t>(row) * old_slot, sizeof(float) * static_cast<size_t>(t_) * inner);
    return;
  }
  for (int j = 0; j < t_; ++j) {
    const size_t slot = static_cast<size_t>(slots_[static_cast<size_t>(row) * cap_t_ + j]);
    std::memcpy(to + j * inner, buf + slot * old_slot + j * inner, sizeof(float) * inner);
  }
}

// After a relayout that kept rows [0, kept) into new_rows x new_t: the slot table (gather: each
// kept row's positions in its own slot now) and what is resident.
void DecoderState::relayout_done(int new_rows, int new_t, int kept, bool gather) {
  std::vector<int32_t> slots(static_cast<size_t>(new_rows) * new_t, 0);
  for (int r = 0; r < kept; ++r) {
    auto to = slots.begin() + static_cast<std::ptrdiff_t>(r) * new_t;
    if (gather) std::fill_n(to, t_, r);
    else std::copy_n(slots_.begin() + static_cast<std::ptrdiff_t>(r) * cap_t_, t_, to);
  }
  slots_.swap(slots);
  std::vector<int32_t>(slots_.size(), 0).swap(slots_tmp_);
  cap_rows_ = new_rows;
  cap_t_ = new_t;
  prefaulted_t_ = t_;  // the copied positions are resident, the rest of the new buffers is not
  full_t_ = kept == new_rows && prefault_ok_ ? t_ : 0;
  if (alloc_resident_) prefaulted_t_ = full_t_ = new_t;  // ... unless they are resident whole
}

// The relayout within the buffers' allocation, where new_rows slots of at least min_t positions
// fit it and the positions in use are at most half of it: they are copied out and back into
// the new layout, whose slots take every position the allocation holds. Two copies of what is
// in use instead of fresh buffers: a batch whose live rows are gathered keeps buffers the next
// batch can take (take_spare), and a batch's beams expand into a spare made for them, without
// new pages (relayouts were ~3% of a first pass over test2016 with the bundled model, most of it
// fresh buffers' pages, against ~1% in later passes that found a spare).
bool DecoderState::relayout_in_place(int new_rows, int min_t, bool gather) {
  if (cap_rows_ == 0 || new_rows <= 0 || k_cache_.empty() || !k_cache_[0]) return false;
  const size_t inner = cache_width();
  const size_t per_row = static_cast<size_t>(new_rows) * inner;
  if (per_row * static_cast<size_t>(min_t) > alloc_floats_) return false;
  const int kept = std::min(cap_rows_, new_rows);
  const size_t in_use = static_cast<size_t>(t_) * inner;  // floats of one row's positions
  const size_t moved_floats = static_cast<size_t>(kept) * in_use;
  if (2 * moved_floats > alloc_floats_) return false;  // mostly in use: one copy into fresh buffers
  const int new_t = static_cast<int>(alloc_floats_ / per_row);
  want_t_ = min_t;
  const size_t new_slot = static_cast<size_t>(new_t) * inner;
  const int64_t copies = t_ > 0 ? static_cast<int64_t>(kept) : 0;
  std::unique_ptr<float[]> moved(moved_floats ? new float[moved_floats] : nullptr);
  for (size_t l = 0; l < k_cache_.size(); ++l) {
    for (float* buf : {k_cache_[l].get(), v_cache_[l].get()}) {
      float* out = moved.get();
#pragma omp parallel for schedule(static) if (copies >= 16)
      for (int64_t c = 0; c < copies; ++c) {
        copy_row_positions(buf, static_cast<int>(c), gather, out + static_cast<size_t>(c) * in_use);
      }
#pragma omp parallel for schedule(static) if (copies >= 16)
      for (int64_t c = 0; c < copies; ++c)
        std::memcpy(buf + static_cast<size_t>(c) * new_slot, out + static_cast<size_t>(c) * in_use, sizeof(float) * in_use);
    }
  }
  relayout_done(new_rows, new_t, kept, gather);
  return true;
}

float* DecoderState::step(const std::vector<int32_t>& tokens) { return run_step(tokens, false); }

float* DecoderState::step_deferred(const std::vector<int32_t>& tokens) { return run_step(tokens, true); }

void DecoderState::finish_row(int row) {
  if (!deferred_ || row < 0 || row >= rows_) return;
  const size_t V = static_cast<size_t>(m_.spec_.vocab_size);
  m_.lm_head_.finish_row(logits_.data() + static_cast<size_t>(row) * V, lm_row_scale_[static_cast<size_t>(row)]);
}

bool DecoderState::step_top_k(const std::vector<int32_t>& tokens, RowTopK& io) {
  if (!has_step_top_k()) return false;
  if (io.banned && static_cast<int>(io.banned->size()) != rows_) throw Error("decoder step: one banned list per row");
  run_layers(tokens, true);
  deferred_ = false;
  if (lm_rows_ready_) m_.lm_head_.top_k_quantized(q_in_.data(), scale_in_.data(), rows_, io);
  else m_.lm_head_.top_k(x_.data(), rows_, io);
  t_ += 1;
  return true;
}

bool DecoderState::step_without_logits(const std::vector<int32_t>& tokens) {
  run_layers(tokens);
  deferred_ = false;
  t_ += 1;
  return true;
}

float* DecoderState::run_step(const std::vector<int32_t>& tokens, bool defer) {
  run_layers(tokens);
  const ArchSpec& s = m_.spec_;
  const int R = rows_;
  logits_.resize(static_cast<size_t>(R) * s.vocab_size);
  deferred_ = false;
  if (!subset_.empty()) {
    // x [R, d] . W_sub^T [d, C] with oneDNN's sgemm: no primitive to create for every new
    // candidate set and row count (a matmul primitive per batch and M would cost more than it saves).
    const size_t C = subset_.size();
    const int64_t d = s.d_model;
    subset_logits_.resize(static_cast<size_t>(R) * C);
    const dnnl::status st = dnnl::sgemm('N', 'T', R, static_cast<int64_t>(C), d, 1.0f, x_.data(), d, subset_w_.data(), d,
                                        0.0f, subset_logits_.data(), static_cast<int64_t>(C));
    if (st != dnnl::status::success) throw Error("vocabulary shortlist: sgemm failed");
    if (!subset_b_.empty())
      for (int r = 0; r < R; ++r)
        for (size_t c = 0; c < C; ++c) subset_logits_[static_cast<size_t>(r) * C + c] += subset_b_[c];
    std::fill(logits_.begin(), logits_.end(), -std::numeric_limits<float>::infinity());
    for (int r = 0; r < R; ++r) {
      float* out = logits_.data() + static_cast<size_t>(r) * s.vocab_size;
      const float* in = subset_logits_.data() + static_cast<size_t>(r) * C;
      for (size_t c = 0; c < C; ++c) out[subset_[c]] = in[c];
    }
  } else if (defer) {
    lm_row_scale_.resize(static_cast<size_t>(R));
    deferred_ = m_.lm_head_.forward_deferred(x_.data(), R, logits_.data(), lm_row_scale_.data());
  } else {
    m_.lm_head_.forward(x_.data(), R, logits_.data());
  }
  t_ += 1;
  return logits_.data();
}

// run_layers for a decoder whose linear layers all run in int8 (Transformer::int8_decoder_):
// the same layers in the same order, but row by row between the matmuls. Each matmul reads
// rows quantized by the pass before it and leaves its product without the row epilogue; one
// parallel pass per sublayer then finishes each row while it is in cache: the projection's
// epilogue and the row's attention (quantizing its context for the output projection), or
// the residual add, the post-norm and the next sublayer's (pre-)norm and quantization. That is
// 12 parallel regions per layer instead of 23, and no separate pass over the activations for
// norms and quantization.
template <class SelfRow, class CrossRow>
void DecoderState::run_layers_int8(SelfRow& self_row, CrossRow& cross_row, bool lm_rows, bool split) {
  const ArchSpec& s = m_.spec_;
  const int R = rows_;
  const int64_t d = s.d_model, inner = m_.inner_, ffn = s.decoder_ffn_dim;
  const size_t nl = m_.dec_layers_.size();
  const int64_t wide = std::max(inner, ffn);
  q_in_.resize(static_cast<size_t>(R * d));
  q_mid_.resize(static_cast<size_t>(R * wide));
  scale_in_.resize(static_cast<size_t>(R));
  scale_mid_.resize(static_cast<size_t>(R));
  product_.resize(static_cast<size_t>(R * d));
  norm_rows_.resize(static_cast<size_t>(max_threads()) * d);
  // Rows [r0, r0 + n): every pass over them spread over the threads (par: op by op, one
  // parallel region per pass, `big` ones only), or all on the calling thread (a row-split step:
  // each thread runs this for its own rows). A range's rows of the buffers used with two row
  // widths (q_mid_: context and FFN rows; qkv_: self q/k/v and cross q) start at r0 times the
  // wider one, so that ranges never overlap.
  // Stages are the sublayers (3 per layer: self-attention, cross-attention, feed-forward), each
  // starting with its matmul; a range starting at stage `first` > 0 has x and its quantized rows
  // from the stage before (a row-split thread taking rows over, RowHandoff). With `handoff`,
  // the range may shrink at each stage's start (its upper rows handed over). Returns the rows
  // times stages run.
  const int stages = 3 * static_cast<int>(nl);
  auto body = [&](int r0, int n, bool par, int first, RowHandoff* handoff) -> int64_t {
    int8_t* qi = q_in_.data() + r0 * d;
    int8_t* qm = q_mid_.data() + r0 * wide;
    float* si = scale_in_.data() + r0;
    float* sm = scale_mid_.data() + r0;
    float* x = x_.data() + r0 * d;
    float* prod = product_.data() + r0 * d;
    float* qkv = qkv_.data() + r0 * 3 * inner;
    float* ctx = ctx_.data() + r0 * inner;
    float* h1 = h1_.data() + r0 * ffn;
    float* h2 = h2_.empty() ? nullptr : h2_.data() + r0 * ffn;
    const bool big = par && n * d > 16384;  // below this, the passes over x stay on the calling thread
    auto rows = [&](bool parallel, auto&& fn) { for_rows(n, parallel, fn); };  // i: row r0 + i of the step
    // x row i quantized into qi, through `pre` (a pre-norm) and times `scale` (the logits
    // scale, for the LM head) first when given
    auto quantize_x = [&](int i, const Norm* pre, float scale) {
      const float* xr = x + i * d;
      float* tmp = norm_rows_.data() + static_cast<size_t>(omp_get_thread_num()) * d;
      if (pre) {
        pre->forward_row(xr, tmp);
        xr = tmp;
      }
      if (scale != 1.0f) {
        for (int64_t j = 0; j < d; ++j) tmp[j] = xr[j] * scale;
        xr = tmp;
      }
      quantize_row(xr, d, qi + i * d, &si[i]);
    };
    auto matmul = [&](const Linear& lin, const int8_t* q, float* y) {
      profile::Scope timed(profile::Part::Matmul);
      lin.forward_quantized(q, n, y);
    };
    // x += the product's rows (lin's epilogue), then the in-place norms `post` (post-norm) and
    // `final_norm` (the LM head's input: x keeps it, as run_layers leaves it), then unless this
    // is the last layer's output for no one (quantize false) the quantization of x for the next
    // matmul through its pre-norm `next_pre` and times `scale`
    auto residual = [&](const Linear& lin, const Norm* post, const Norm* final_norm, const Norm* next_pre, bool quantize,
                        float scale) {
      profile::Scope timed(profile::Part::LinearExtra);
      rows(big, [&](int i) {
        float* xr = x + i * d;
        lin.finish_row_into(prod + i * d, sm[i], xr);
        if (post) post->forward_row(xr, xr);
        if (final_norm) final_norm->forward_row(xr, xr);
        if (quantize) quantize_x(i, next_pre, scale);
      });
    };
    if (first == 0) {
      profile::Scope timed(profile::Part::LinearExtra);
      const Norm* pre = s.pre_norm ? &m_.dec_layers_[0].self_attn.norm : nullptr;
      rows(big, [&](int i) { quantize_x(i, pre, 1.0f); });
    }
    int64_t done = 0;
    for (int k = first; k < stages; ++k) {
      if (handoff) n -= handoff->offer(r0, n, k);
      done += n;
      const size_t l = static_cast<size_t>(k / 3);
      const DecoderLayer& L = m_.dec_layers_[l];
      const bool last = l + 1 == nl;
      if (k % 3 == 0) {
        matmul(L.self_attn.q, qi, qkv);
        {
          profile::Scope timed(profile::Part::Attention);
          rows(par, [&](int i) {
            L.self_attn.q.finish_row(qkv + i * 3 * inner, si[i]);
            self_row(l, r0 + i);  // reads qkv_ row r0 + i: qkv + i * 3 * inner
            quantize_row(ctx + i * inner, inner, qm + i * inner, &sm[i]);
          });
        }
        matmul(L.self_attn.out, qm, prod);
        residual(L.self_attn.out, s.pre_norm ? nullptr : &L.self_attn.norm, nullptr, s.pre_norm ? &L.cross_attn.norm : nullptr,
                 true, 1.0f);
      } else if (k % 3 == 1) {
        matmul(L.cross_attn.q, qi, qkv);
        {
          profile::Scope timed(profile::Part::Attention);
          rows(par, [&](int i) {
            L.cross_attn.q.finish_row(qkv + i * inner, si[i]);
            cross_row(l, r0 + i, qkv + i * inner);
            quantize_row(ctx + i * inner, inner, qm + i * inner, &sm[i]);
          });
        }
        matmul(L.cross_attn.out, qm, prod);
        residual(L.cross_attn.out, s.pre_norm ? nullptr : &L.cross_attn.norm, nullptr, s.pre_norm ? &L.ffn.norm : nullptr,
                 true, 1.0f);
      } else {
        const FeedForward& f = L.ffn;
        if (s.gated_ffn) matmul(f.wi_lin, qi, h2);
        matmul(f.wi, qi, h1);
        {
          profile::Scope timed(profile::Part::LinearExtra);
          rows(par && n * ffn > 16384, [&](int i) {
            float* h = h1 + i * ffn;
            if (s.gated_ffn) {
              float* g = h2 + i * ffn;
              f.wi_lin.finish_row(g, si[i]);
              f.wi.finish_row_into(h, si[i], h, g);
            } else {
              f.wi.finish_row(h, si[i]);
            }
            quantize_row(h, ffn, qm + i * ffn, &sm[i]);
          });
        }
        matmul(f.wo, qm, prod);
        if (last && lm_rows)  // final norm and logits scale here, and the LM head's rows quantized
          residual(f.wo, s.pre_norm ? nullptr : &f.norm, s.decoder_final_norm ? &m_.dec_final_norm_ : nullptr, nullptr, true,
                   s.logits_scale);
        else
          residual(f.wo, s.pre_norm ? nullptr : &f.norm, nullptr,
                   s.pre_norm && !last ? &m_.dec_layers_[l + 1].self_attn.norm : nullptr, !last, 1.0f);
        if (record_) record_->emplace_back(x_.begin(), x_.end());  // (never with split)
      }
    }
    return done;
  };
  if (split) {
    run_row_split(R, body, stages);
  } else {
    body(0, R, true, 0, nullptr);
  }
}

// fn on every thread for its share [r0, r0 + n) of R rows (balance_'s bounds, from the threads'
// measured speeds), in one parallel region, the others' profile sections muted (thread 0's times
// stand for the step's); an exception on any thread is rethrown here after the region.
// stages == 0: fn(r0, n, false). stages > 0: fn(r0, n, false, first_stage, handoff) returns the
// rows times stages it ran; a thread done with its rows takes over rows another hands it
// (RowHandoff), and the balance learns from each thread's rows times stages per busy second.
template <class Fn>
void DecoderState::run_row_split(int R, Fn& fn, int stages) {
  std::exception_ptr failed;
  const int planned = max_threads();
  std::vector<int> bounds = balance_.bounds(R, planned);
  std::vector<double> seconds(static_cast<size_t>(planned), 0.0), work(static_cast<size_t>(planned), 0.0);
  RowHandoff handoff(planned, handoff_mode_ == Handoff::Always);
  const bool handing = stages > 0 && handoff_mode_ != Handoff::Off;
  int team = planned;
#pragma omp parallel
  {
    const int tid = omp_get_thread_num(), nt = omp_get_num_threads();
    if (tid == 0) team = nt;
    // a smaller team than planned (nested or dynamic OpenMP): even ranges, no handoffs
    const bool as_planned = nt == planned;
    const std::vector<int> even = as_planned ? std::vector<int>() : RowBalance::even_bounds(R, nt);
    const std::vector<int>& b = as_planned ? bounds : even;
    const int r0 = b[static_cast<size_t>(tid)], r1 = b[static_cast<size_t>(tid) + 1];
    profile::Mute mute(tid != 0);
    double busy = 0.0, rows_done = 0.0;
    // rows [a, a + n) from stage `first` on
    auto run = [&](int a, int n, int first) {
      const auto start = std::chrono::steady_clock::now();
      if constexpr (std::is_invocable_v<Fn&, int, int, bool, int, RowHandoff*>) {
        if (n > 0) rows_done += static_cast<double>(fn(a, n, false, first, as_planned && handing ? &handoff : nullptr)) / stages;
      } else {
        (void)first;
        if (n > 0) fn(a, n, false);
        rows_done += n;
      }
      busy += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    };
    // the thread's own rows, then (handing) the rows others hand over until none can come
    RowHandoff::Task task{r0, r1 - r0, 0};
    for (bool more = true; more; more = handing && as_planned && handoff.next(task)) {
      try {
        run(task.r0, task.n, task.stage);
      } catch (...) {
        handoff.abort();
#pragma omp critical(attend_row_split_error)
        if (!failed) failed = std::current_exception();
      }
    }
    if (as_planned) {
      seconds[static_cast<size_t>(tid)] = busy;
      work[static_cast<size_t>(tid)] = rows_done;
    }
  }
  if (failed) std::rethrow_exception(failed);
  if (team == planned) balance_.record_work(work, seconds);
  last_bounds_ = team == planned ? std::move(bounds) : RowBalance::even_bounds(R, team);
  handoffs_ += handoff.handoffs();
  ++row_split_steps_;
}

// The decoder layers for one new position of every row (cache written, t_ not advanced yet):
// x_ holds the final hidden states [rows, d_model], logits scale applied (unless lm_rows_ready_:
// then the scale is in the quantized rows only, see the header).
void DecoderState::run_layers(const std::vector<int32_t>& tokens, bool lm_rows) {
  lm_rows_ready_ = false;
  const ArchSpec& s = m_.spec_;
  const int R = rows_;
  if (static_cast<int>(tokens.size()) != R) throw Error("decoder step: token count differs from row count");
  const int64_t d = s.d_model;
  const int H = s.decoder_heads, dh = s.head_dim;
  const int64_t inner = m_.inner_;
  const int t = t_;
  ensure_capacity(R, t + 1);
  if (t >= prefaulted_t_) {  // the next positions' pages, resident in one call per slot
    const int upto = std::min(cap_t_, t + prefault_ahead());
    prefault(R, t, upto);
    prefaulted_t_ = upto;
  }
  const int64_t ffn = s.decoder_ffn_dim;
  const int S = enc_->src_len;
  const int nthreads = max_threads();
  x_.resize(R * d);
  norm_.resize(R * d);
  qkv_.resize(R * 3 * inner);
  ctx_.resize(R * inner);
  h1_.resize(R * ffn);
  h2_.resize(s.gated_ffn ? R * ffn : 0);
  const size_t scratch_len = attend_row_scratch(H, std::max(S, t + 1));
  att_scratch_.resize(static_cast<size_t>(nthreads) * scratch_len);

  std::vector<int32_t>& positions = positions_;
  positions.resize(R);
  for (int r = 0; r < R; ++r) {
    switch (s.positions) {
      case PositionKind::Learned: positions[r] = t + s.position_offset; break;
      case PositionKind::SinusoidalFairseq:
        positions[r] = tokens[r] != s.pad_token_id ? t + 1 + s.padding_idx : s.padding_idx;
        break;
      default: positions[r] = t;
    }
  }
  if (att_width_) {
    att_.resize(static_cast<size_t>(R) * att_width_);
    if (att_mean_) att_heads_.resize(static_cast<size_t>(nthreads) * H * S);
  }
  m_.embed(tokens.data(), R, positions.data(), true, x_.data());
  if (s.layernorm_embedding) m_.dec_emb_norm_.forward(x_.data(), R, x_.data());
  if (record_) record_->emplace_back(x_.begin(), x_.end());

  // T5 causal bias for query position t: bias[h][j] = rel_bias[bucket(j - t)][h], j <= t.
  if (s.positions == PositionKind::RelativeBuckets) {
    rel_bias_.resize(static_cast<size_t>(H) * (t + 1));
    for (int j = 0; j <= t; ++j) {
      const int bucket = t5_relative_bucket(j - t, false, s.relative_buckets, s.relative_max_distance);
      for (int h = 0; h < H; ++h) {
        rel_bias_[static_cast<size_t>(h) * (t + 1) + j] = m_.dec_rel_bias_[static_cast<size_t>(bucket) * H + h];
      }
    }
  }
  const float scale = s.attention_scaling ? 1.0f / std::sqrt(static_cast<float>(dh)) : 1.0f;
  for (int r = 0; r < R; ++r) slots_[static_cast<size_t>(r) * cap_t_ + t] = r;  // position t: own slot
  // a cached position's storage, in the cache's elements (floats, 16-bit values or bytes)
  const int64_t elements_per_float = cache_type_ == CacheType::F32 ? 1 : cache_type_ == CacheType::I8 ? 4 : 2;
  const int64_t position_stride = static_cast<int64_t>(cache_width()) * elements_per_float;
  const int64_t slot_stride = static_cast<int64_t>(cap_t_) * position_stride;
  float* const scratch0 = att_scratch_.data();
  // Row r's keys and values in layer l's cache, positions 0..t (its slot table)
  auto self_view = [&](size_t l, int r) {
    KeyValueView kv;
    kv.fast_scores = m_.fast_scores();
    float* kc = k_cache_[l].get();
    float* vc = v_cache_[l].get();
    if (cache_type_ == CacheType::I8) {
      kv.k8 = reinterpret_cast<const int8_t*>(kc);
      kv.v8 = reinterpret_cast<const int8_t*>(vc);
    } else if (cache_type_ != CacheType::F32) {
      kv.k16 = reinterpret_cast<const uint16_t*>(kc);
      kv.v16 = reinterpret_cast<const uint16_t*>(vc);
      kv.fp16 = cache_type_ == CacheType::Half;
    } else {
      kv.k = kc;
      kv.v = vc;
    }
    kv.stride = position_stride;
    kv.slots = slots_.data() + static_cast<size_t>(r) * cap_t_;
    kv.slot_stride = slot_stride;
    kv.length = t + 1;
    return kv;
  };
  // Self-attention of row r in layer l: its new key and value (qkv_ row r, final) into its own
  // slot at position t, then its context (ctx_ row r) over positions 0..t.
  auto self_row = [&](size_t l, int r) {
    float* kc = k_cache_[l].get();
    float* vc = v_cache_[l].get();
    const float* row = qkv_.data() + static_cast<int64_t>(r) * 3 * inner;
    const size_t at = static_cast<size_t>(r) * slot_stride + static_cast<size_t>(t) * position_stride;  // own slot r
    if (cache_type_ == CacheType::I8) {
      kv8_store(row + inner, H, dh, reinterpret_cast<int8_t*>(kc) + at);
      kv8_store(row + 2 * inner, H, dh, reinterpret_cast<int8_t*>(vc) + at);
    } else if (cache_type_ == CacheType::Half) {
      simd::to_half(row + inner, inner, reinterpret_cast<uint16_t*>(kc) + at);
      simd::to_half(row + 2 * inner, inner, reinterpret_cast<uint16_t*>(vc) + at);
    } else if (cache_type_ == CacheType::BF16) {
      to_bf16(row + inner, static_cast<size_t>(inner), reinterpret_cast<uint16_t*>(kc) + at);
      to_bf16(row + 2 * inner, static_cast<size_t>(inner), reinterpret_cast<uint16_t*>(vc) + at);
    } else {
      std::memcpy(kc + at, row + inner, sizeof(float) * inner);
      std::memcpy(vc + at, row + 2 * inner, sizeof(float) * inner);
    }
    ScoreBias sb;
    if (!rel_bias_.empty() && s.positions == PositionKind::RelativeBuckets) {
      sb.data = rel_bias_.data();
      sb.head_stride = t + 1;
    }
    if (r + 1 < R) prefetch_kv(self_view(l, r + 1), H, dh, 1);  // the next row's, but its new position
    attend_row(row, self_view(l, r), sb, H, dh, scale, ctx_.data() + static_cast<int64_t>(r) * inner,
               scratch0 + static_cast<size_t>(omp_get_thread_num()) * scratch_len);
  };
  const bool long_source = enc_->cross_kv16.empty() && enc_->cross_kv8.empty() && S >= kBlockedCrossMinLength;
  const int64_t cross_entry = static_cast<int64_t>(kv8_entry_bytes(H, dh));  // int8 cross keys: bytes per key
  // Row r's input's encoder keys and values in layer l
  auto cross_view = [&](size_t l, int r) {
    const float* ckv = enc_->cross_kv[l].data();
    const uint16_t* ckv16 = enc_->cross_kv16.empty() ? nullptr : enc_->cross_kv16[l].data();  // or half
    const int8_t* ckv8 = enc_->cross_kv8.empty() ? nullptr : enc_->cross_kv8[l].data();     // or int8
    const int b = row_input_[r];
    KeyValueView kv;
    kv.fast_scores = m_.fast_scores();
    kv.stride = 2 * inner;
    if (ckv8) {
      kv.k8 = ckv8 + static_cast<int64_t>(b) * S * 2 * cross_entry;
      kv.v8 = kv.k8 + cross_entry;
      kv.stride = 2 * cross_entry;
    } else if (ckv16) {
      kv.k16 = ckv16 + static_cast<int64_t>(b) * S * 2 * inner;
      kv.v16 = kv.k16 + inner;
      kv.fp16 = true;
    } else {
      kv.k = ckv + static_cast<int64_t>(b) * S * 2 * inner;
      kv.v = kv.k + inner;
    }
    kv.length = S;
    kv.mask = enc_->mask.data() + static_cast<size_t>(b) * S;
    return kv;
  };
  // Cross-attention of row r in layer l over its input's encoder output (query: qkv_ row r
  // with stride inner), context into ctx_ row r; captured weights into att_.
  auto cross_row = [&](size_t l, int r, const float* q) {  // q: row r's query
    const int att_slot = att_width_ ? att_slot_[l] : -1;  // captured: where in the row (else -1)
    // the first row of an input asks for the next input's keys and values (its beams follow)
    if (r == 0 || row_input_[r - 1] != row_input_[r]) {
      for (int n = r + 1; n < R && n <= r + 16; ++n) {
        if (row_input_[n] == row_input_[r]) continue;
        prefetch_kv(cross_view(l, n), H, dh);
        break;
      }
    }
    float* probs = nullptr;
    if (att_slot >= 0) {
      probs = att_mean_ ? att_heads_.data() + static_cast<size_t>(omp_get_thread_num()) * H * S
                        : att_.data() + static_cast<size_t>(r) * att_width_ + static_cast<size_t>(att_slot) * H * S;
    }
    attend_row(q, cross_view(l, r), ScoreBias{}, H, dh, scale,
               ctx_.data() + static_cast<int64_t>(r) * inner,
               scratch0 + static_cast<size_t>(omp_get_thread_num()) * scratch_len, probs);
    if (att_slot >= 0 && att_mean_) {  // mean over heads, summed in head order
      float* out = att_.data() + static_cast<size_t>(r) * att_width_ + static_cast<size_t>(att_slot) * S;
      for (int j = 0; j < S; ++j) {
        float sum = 0.0f;
        for (int h = 0; h < H; ++h) sum += probs[static_cast<size_t>(h) * S + j];
        out[j] = sum / static_cast<float>(H);
      }
    }
  };
  // Rows are independent until the LM head: each thread can run the whole stack on its own rows
  // (oneDNN runs on the calling thread alone inside a parallel region), one parallel region per
  // step instead of about a dozen per layer, and each thread's matmul outputs stay in its own
  // cache for its row passes. Every thread then reads every weight (Transformer::row_split_pays).
  const bool split_rows = row_split_ != RowSplit::Off && nthreads > 1 && R >= kRowSplitMinRows && !long_source &&
                          !record_ && (row_split_ == RowSplit::Always || m_.row_split_pays(R, nthreads));
  // The final norm and the logits scale of rows [r0, r0 + n) (x_ as the LM head reads it)
  auto finish_rows = [&](int r0, int n) {
    float* x = x_.data() + r0 * d;
    if (s.decoder_final_norm) {
      m_.dec_final_norm_.forward(x, n, x);
      if (record_) record_->back().assign(x_.begin(), x_.end());
    }
    if (s.logits_scale != 1.0f) {
      for (int64_t i = 0; i < n * d; ++i) x[i] *= s.logits_scale;
    }
  };
  // Long source: the rows of one input (its beams) meet its keys together, blockwise (each key
  // and value read once per step and head, not once per row); queries in qkv_ rows of width inner.
  auto cross_long_source = [&](size_t l) {
    const float* ckv = enc_->cross_kv[l].data();
    cross_rows_.resize(static_cast<size_t>(R));
    cross_q_.resize(static_cast<size_t>(R) * inner);
    cross_ctx_.resize(static_cast<size_t>(R) * inner);
    for (int b = 0; b < enc_->batch; ++b) {
      int n = 0;
      for (int r = 0; r < R; ++r) {
        if (row_input_[r] != b) continue;
        cross_rows_[n] = r;
        std::copy_n(qkv_.data() + static_cast<int64_t>(r) * inner, inner, cross_q_.data() + static_cast<int64_t>(n) * inner);
        ++n;
      }
      if (n == 0) continue;
      WindowAttention a;
      a.q = cross_q_.data();
      a.q_stride = inner;
      a.k = ckv + static_cast<int64_t>(b) * S * 2 * inner;
      a.v = a.k + inner;
      a.kv_stride = 2 * inner;
      a.length = S;
      a.queries = n;
      a.heads = H;
      a.head_dim = dh;
      a.scale = scale;
      a.key_ok = enc_->mask.data() + static_cast<size_t>(b) * S;
      a.ctx = cross_ctx_.data();
      a.ctx_stride = inner;
      window_attention(a);
      for (int k = 0; k < n; ++k) {
        std::copy_n(cross_ctx_.data() + static_cast<int64_t>(k) * inner, inner,
                    ctx_.data() + static_cast<int64_t>(cross_rows_[k]) * inner);
      }
    }
  };
  if (m_.int8_decoder_ && row_fusion_ && !long_source) {
    run_layers_int8(self_row, cross_row, lm_rows, split_rows);
    lm_rows_ready_ = lm_rows;  // final norm and logits scale done by run_layers_int8's last pass
    if (!lm_rows_ready_) finish_rows(0, R);
    return;
  }
  // Rows [r0, r0 + n) through every layer, the final norm and the logits scale: all rows op by
  // op (par), or one thread's share in a row-split step. The cross queries go to the range's own
  // q/k/v rows (used up by then): qkv_ row r would lie in another thread's q/k/v rows.
  auto layer_rows = [&](int r0, int n, bool par) {
    float* x = x_.data() + r0 * d;
    float* nb = norm_.data() + r0 * d;
    float* qkv = qkv_.data() + r0 * 3 * inner;
    float* ctx = ctx_.data() + r0 * inner;
    for (size_t l = 0; l < m_.dec_layers_.size(); ++l) {
      const DecoderLayer& L = m_.dec_layers_[l];
      // self-attention over the cache
      const float* src = x;
      if (s.pre_norm) {
        L.self_attn.norm.forward(x, n, nb);
        src = nb;
      }
      L.self_attn.q.forward(src, n, qkv);
      {
        profile::Scope timed(profile::Part::Attention);
        for_rows(n, par, [&](int i) { self_row(l, r0 + i); });
      }
      L.self_attn.out.forward(ctx, n, x);
      if (!s.pre_norm) L.self_attn.norm.forward(x, n, x);

      // cross-attention over the encoder output of each row's input
      src = x;
      if (s.pre_norm) {
        L.cross_attn.norm.forward(x, n, nb);
        src = nb;
      }
      L.cross_attn.q.forward(src, n, qkv);
      {
        profile::Scope timed(profile::Part::Attention);
        if (long_source && !(att_width_ && att_slot_[l] >= 0)) {  // capturing weights: per row (attend_row)
          cross_long_source(l);  // all rows (never split)
        } else {
          for_rows(n, par, [&](int i) { cross_row(l, r0 + i, qkv + i * inner); });
        }
      }
      L.cross_attn.out.forward(ctx, n, x);
      if (!s.pre_norm) L.cross_attn.norm.forward(x, n, x);

      m_.feed_forward(L.ffn, x, n, nb, h1_.data() + r0 * ffn, h2_.empty() ? nullptr : h2_.data() + r0 * ffn);
      if (record_) record_->emplace_back(x_.begin(), x_.end());  // (never split)
    }
    finish_rows(r0, n);
  };
  if (split_rows) {
    run_row_split(R, layer_rows, 0);
  } else {
    layer_rows(0, R, true);
  }
}

void DecoderState::capture_attention(const std::vector<int>& layers, bool mean_heads) {
  const int n = static_cast<int>(m_.dec_layers_.size());
  att_slot_.assign(static_cast<size_t>(n), -1);
  for (size_t i = 0; i < layers.size(); ++i) {
    const int l = layers[i];
    if (l < 0 || l >= n)
      throw Error("attention layer " + std::to_string(l) + " is outside the decoder's layers 0.." + std::to_string(n - 1));
    if (att_slot_[static_cast<size_t>(l)] >= 0) throw Error("attention layer " + std::to_string(l) + " named twice");
    att_slot_[static_cast<size_t>(l)] = static_cast<int>(i);
  }
  att_mean_ = mean_heads;
  att_width_ = static_cast<int>(layers.size()) * (mean_heads ? 1 : m_.spec_.decoder_heads) * enc_->src_len;
}

void DecoderState::select_rows(const std::vector<int32_t>& src) {
  const int n = static_cast<int>(src.size());
  for (int32_t r : src) {
    if (r < 0 || r >= rows_) throw Error("select_rows: row index out of range");
  }
  bool identity = n == rows_;
  for (int i = 0; identity && i < n; ++i) identity = src[i] == i;
  if (identity) return;
  if (t_ > 0) {
    // Only the slot tables move: new row i reads the positions of old row src[i]. Keys and
    // values stay where they were written (each position is written once, by its own step).
    ensure_capacity(n, t_);
    for (int i = 0; i < n; ++i) {
      std::memcpy(slots_tmp_.data() + static_cast<size_t>(i) * cap_t_,
                  slots_.data() + static_cast<size_t>(src[i]) * cap_t_, sizeof(int32_t) * t_);
    }
    slots_.swap(slots_tmp_);
  }
  row_tmp_.resize(n);
  for (int i = 0; i < n; ++i) row_tmp_[i] = row_input_[src[i]];
  row_input_.swap(row_tmp_);
  rows_ = n;
  if (2 * n <= cap_rows_ && half_t_ < 0) half_t_ = t_;  // give_spare() keeps positions up to here
  // No row left: the buffers go to the model for the next batch (Transformer::SpareCache).
  // Finished inputs left the batch: their slots stay until the cache has to grow, when the live
  // rows move into buffers sized for them (ensure_capacity), so one long-running input does not
  // grow the cache of the whole batch. Not before: a copy into fresh pages at every halving
  // cost more than the growth copies (bundled model, batch 32, beam 4), and the batch's own
  // buffers can serve the next batch whole (take_spare).
  if (n == 0) give_spare();
}

size_t DecoderState::resident_cache_bytes() const { return kv_resident_bytes(k_cache_, v_cache_, alloc_floats_); }

size_t DecoderState::cache_floats() const {
  return 2 * k_cache_.size() * alloc_floats_;
}

}  // namespace attend
