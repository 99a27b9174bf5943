// engine/transformer.hpp — the one shared encoder-decoder Transformer. Every supported family
// is this network with different ArchSpec switches. Weights come from a TensorMap that uses
// Attend's tensor names (weights_format.md); the encoder runs once per batch and projects the
// cross-attention keys/values of every decoder layer once; DecoderState advances rows one
// token at a time with a growing self-attention KV cache (a StepModel for engine/decoding).
#pragma once
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "engine/arch_spec.hpp"
#include "engine/kernels/dnnl_ops.hpp"
#include "engine/kernels/large_buffer.hpp"
#include "engine/host_tensor.hpp"
#include "engine/lm_head.hpp"
#include "engine/rowsplit/row_balance.hpp"
#include "engine/rowsplit/row_handoff.hpp"
#include "engine/step_model.hpp"

namespace attend {

struct AttentionBlock {
  Norm norm;
  Linear q;        // self-attention: fused q|k|v projection; cross-attention: q only
  Linear kv;       // cross-attention only: fused k|v projection of the encoder output
  Linear out;      // accumulates into the residual stream
};

struct FeedForward {
  Norm norm;
  Linear wi;       // activated (and, when gated, multiplied by wi_lin's output)
  Linear wi_lin;   // gated FFN only
  Linear wo;       // accumulates into the residual stream
};

struct EncoderLayer {
  AttentionBlock self_attn;
  FeedForward ffn;
  // LED global attention: query_global/key_global/value_global as plain float32 [inner, d] and
  // bias (engine/kernels/window_attention.hpp, led_global_rows).
  std::vector<float> global_w[3], global_b[3];
  Norm global_norm;  // LongT5 transient-global: RMS norm of each global block's sum
};

struct DecoderLayer {
  AttentionBlock self_attn;
  AttentionBlock cross_attn;
  FeedForward ffn;
};

// Encoder result for a batch of B inputs padded to S positions.
struct EncoderOutput {
  int batch = 0, src_len = 0;
  std::vector<int32_t> mask;                   // [B, S], 1 = real token
  LargeFloats hidden;                          // [B*S, d] final encoder states
  std::vector<LargeFloats> cross_kv;           // per decoder layer: [B*S, 2*inner] (k | v)
  // int8 runs with sources shorter than kBlockedCrossMinLength: cross_kv as IEEE half
  // (Transformer::half_attention_kv) or as 8-bit entries (int8_attention_kv; per source
  // position its key's kv8_store entry, then its value's) instead; cross_kv is then empty.
  // Not zero-filled: every element is written.
  std::vector<std::vector<uint16_t, LargeAllocator<uint16_t>>> cross_kv16;
  std::vector<std::vector<int8_t, LargeAllocator<int8_t>>> cross_kv8;
  std::vector<std::vector<float>> layer_states;  // optional: embeddings + every layer output
};

class Transformer {
 public:
  // Binds and validates every tensor the spec needs (name, shape); throws attend::Error
  // naming `label` and the tensor. Weights are reordered into oneDNN layouts here, once.
  // `ct` is the arithmetic of every linear layer (lm_head included); a layer the CPU cannot
  // run in it falls back to fp32.
  Transformer(const ArchSpec& spec, const TensorMap& tensors, const std::string& label,
              ComputeType ct = ComputeType::F32);

  const ArchSpec& spec() const { return spec_; }
  // Drops the resident pages of the mapped embedding tables (see embed_views_); thread-safe.
  void release_embedding_pages() const;
  // The buffers kept between batches (spare_ below): their resident bytes, and freeing them
  // (Model::release_caches: an idle server). Thread-safe; a batch running keeps its own buffers.
  size_t spare_resident_bytes() const;
  void release_spare() const;
  ComputeType compute_type() const { return compute_; }
  // Attention scores summed by a tree in registers (KeyValueView::fast_scores): fp32 (its
  // results verified token-exact with it: conformance, e2e 1000/1000) and int8. bf16 keeps the
  // per-element loop (16-lane sums, lane_sum16): with the tree its e2e BLEU moved +0.33 from
  // fp32, outside its test's ±0.3.
  bool fast_scores() const { return compute_ != ComputeType::BF16; }
  // int8 runs keep the decoder's attention keys and values (self-attention cache and
  // cross-attention) in 8 bits with one scale per position and head (kv8_store): a quarter of
  // float's memory and traffic and half of IEEE half's, and the scores as exact integer dot
  // products with the query in int16. The bundled model's int8 e2e run: 927/1000 lines as fp32
  // (915 with half keys and values), BLEU +0.11 from fp32 (+0.25). Models whose widths do
  // not allow the 4-byte entries keep IEEE half (half_attention_kv). fp32 stays exact; bf16
  // keeps bf16.
  bool int8_attention_kv() const;
  bool half_attention_kv() const { return compute_ == ComputeType::I8 && inner_ % 2 == 0 && !int8_attention_kv(); }
  // Every decoder linear layer runs in int8 (none fell back): its steps go row by row between
  // the matmuls (DecoderState::run_layers_int8).
  bool int8_row_fused_decoder() const { return int8_decoder_; }
  // Whether a decoder step of `rows` rows on `threads` threads runs row-split (DecoderState):
  // when every thread reading every decoder weight costs less than the parallel regions saved.
  bool row_split_pays(int rows, int threads) const;
  // Vocabulary shortlist (issue 17): true when the output layer's weights are the decoder
  // embedding table (tied), so a restricted output layer can be built from its rows.
  bool output_rows_available() const { return lm_tied_; }

  // ids/mask: [B][S] rectangular (right-padded). record_layers keeps every layer's output.
  // global_mask ([B][S], 1 = global attention) is read by LED only; null = the model's
  // default, which for LED is global attention on the first token of every input (what
  // transformers' LED summarization examples pass); pass all zeros for none.
  std::shared_ptr<const EncoderOutput> encode(const std::vector<std::vector<int32_t>>& ids,
                                              const std::vector<std::vector<int32_t>>& mask,
                                              bool record_layers = false,
                                              const std::vector<std::vector<int32_t>>* global_mask = nullptr) const;

 private:
  friend class DecoderState;
  void embed(const int32_t* ids, int64_t n, const int32_t* positions, bool decoder, float* out) const;
  void feed_forward(const FeedForward& f, float* x, int64_t rows, float* norm_buf, float* h1,
                    float* h2) const;
  // Encoder self-attention of layer `layer` for one batch (src: the layer's attention input,
  // qkv: its q|k|v projection); writes ctx [B*S, inner]. Blocked: memory linear in S.
  struct EncodeContext;
  void encoder_attention(int layer, const EncodeContext& c, const float* src, float* qkv, float* ctx) const;

  ArchSpec spec_;
  ComputeType compute_ = ComputeType::F32;
  int inner_ = 0;  // heads * head_dim
  std::vector<float> enc_embed_, dec_embed_;  // [V, d] float32 copies, when not used in place
  std::vector<std::shared_ptr<const void>> keepalive_;  // mappings the in-place tables point into
  const float* enc_embed_ptr_ = nullptr;
  const float* dec_embed_ptr_ = nullptr;
  // When a table lies in the mapped model file: embed() copies its rows by pread
  // (MappedFile::read_at), so looking them up makes none of the mapping resident.
  const MappedFile* enc_embed_file_ = nullptr;
  const MappedFile* dec_embed_file_ = nullptr;
  // The embedding tables used in place from the mapped file (file-backed pages). Lookups copy
  // rows by pread (above); what else reads the mapping (the vocabulary shortlist's output rows)
  // pages rows in, and release_embedding_pages() drops those from the resident set after each
  // batch.
  std::vector<HostTensor> embed_views_;
  std::vector<float> enc_positions_, dec_positions_;  // absolute position tables [P, d]
  int position_rows_ = 0;      // decoder (and, unless enc_position_rows_ differs, encoder) rows
  int enc_position_rows_ = 0;
  std::vector<float> enc_rel_bias_, dec_rel_bias_;    // [buckets, heads]
  std::vector<float> enc_global_rel_bias_;            // LongT5 transient-global [buckets, heads]
  Norm enc_emb_norm_, dec_emb_norm_;
  Norm enc_final_norm_, dec_final_norm_;
  std::vector<EncoderLayer> enc_layers_;
  std::vector<DecoderLayer> dec_layers_;
  LmHead lm_head_;
  // Every decoder linear layer runs in int8: a decoder step then goes row by row between its
  // matmuls (DecoderState::run_layers_int8: epilogue, attention, residual, norm and the next
  // layer's quantization in one parallel pass per sublayer).
  bool int8_decoder_ = false;
  int64_t decoder_weight_bytes_ = 0;  // the decoder layers' matmul weights as computed (row split)
  bool lm_tied_ = false;           // lm_head.weight == the decoder embedding table
  std::vector<float> lm_bias_;     // final_logits_bias (empty: none), for restricted output layers

  // The self-attention K/V buffers and the logits buffer of the last decoder batch that ended,
  // kept for the next one: the same batch and beam shape needs the same buffers, and taking them
  // avoids faulting in fresh pages on every batch (tens of MB at batch 32). One set, replaced by
  // the newest.
  struct SpareCache {
    int rows = 0, t = 0;  // the buffers' row and time capacity
    int resident_t = 0;   // positions below this are resident in every slot
    size_t floats = 0;    // each buffer's allocation (rows x t x width or more)
    int alloc_t = 0;      // the time capacity it was made with
    bool whole = false;   // every page of the allocations resident
    std::vector<std::unique_ptr<float[]>> k, v;
    LargeFloats logits;   // the step's logits buffer (rows x vocabulary: 28 MB for opus-mt at 128 rows)
  };
  mutable std::mutex spare_mu_;
  mutable SpareCache spare_;
};

// Sources of at least this many positions: full encoder self-attention and decoder
// cross-attention run blockwise (a variable so tests can lower it and run the blocked path on
// short fixtures). Shorter ones go row by row, which keeps a row's result independent of padding.
extern int kBlockedCrossMinLength;

// Decoder rows advancing one token per step over a shared encoder output.
class DecoderState : public StepModel {
 public:
  DecoderState(const Transformer& model, std::shared_ptr<const EncoderOutput> enc);
  ~DecoderState() override;
  DecoderState(const DecoderState&) = delete;
  DecoderState& operator=(const DecoderState&) = delete;
  int vocab_size() const override;
  int num_rows() const override { return rows_; }
  float* step(const std::vector<int32_t>& tokens) override;
  float* step_deferred(const std::vector<int32_t>& tokens) override;
  void finish_row(int row) override;
  bool step_top_k(const std::vector<int32_t>& tokens, RowTopK& io) override;
  bool has_step_top_k() const override { return m_.lm_head_.blocked() && subset_.empty() && att_width_ == 0; }
  bool step_without_logits(const std::vector<int32_t>& tokens) override;
  void select_rows(const std::vector<int32_t>& src) override;
  void reserve_positions(int positions) override;
  // Float sums for every compute type. fp32 too: torch's log_softmax sums in float; the
  // fixtures are built so that a float32 implementation with any summation order gives their
  // ids exactly (fixtures README section 3); conformance and e2e 1000/1000 pass with it, and the
  // double sums cost ~3% of a bundled-model decode.
  bool exact_scores() const override { return false; }
  // Optional: after each step, append the embedding output and every layer's output
  // ([rows, d] each, decoder_layers + 1 entries) to `sink` (teacher-forced tensor checks).
  void record_layers(std::vector<std::vector<float>>* sink) { record_ = sink; }
  // int8 decoders step row by row between the matmuls (run_layers_int8) unless this is off:
  // then op by op, as every other compute type (the reference the row-fused step is tested
  // against; the same arithmetic except for LayerNorm's rounding above 16 rows).
  void set_row_fusion(bool on) { row_fusion_ = on; }
  // Steps of at least kRowSplitMinRows rows run the layers with each thread on its own rows (one
  // parallel region per step; the int8 row-fused passes too; the rows divided by row_balance(),
  // after the threads' measured speeds) where Transformer::row_split_pays:
  // the decoder's weights fit half the L3 cache (the bundled model), or the rows are many for
  // their size (opus-mt and t5-small int8 at batch 16 and 32, beam 4). Off: op by op, every op
  // spread over the threads (the same arithmetic per row; tests compare the two). Always:
  // whatever the weights' size (tests).
  enum class RowSplit { Off, Auto, Always };
  void set_row_split(RowSplit mode) { row_split_ = mode; }
  static constexpr int kRowSplitMinRows = 16;
  bool row_split_pays(int rows, int threads) const { return m_.row_split_pays(rows, threads); }
  int row_split_steps() const { return row_split_steps_; }  // steps that ran row-split so far
  int row_handoffs() const { return handoffs_; }  // ranges handed over within them (RowHandoff)
  // Whether a row-split int8 step's threads hand rows to a thread that has finished its own
  // (WhenIdle, the default), never (Off), or at every stage whether or not one waits (Always:
  // tests, so that rows change threads in every step).
  enum class Handoff { Off, WhenIdle, Always };
  void set_row_handoff(Handoff h) { handoff_mode_ = h; }
  RowBalance& row_balance() { return balance_; }  // how row-split steps divide the rows
  const std::vector<int>& last_row_bounds() const { return last_bounds_; }  // the last row-split step's
  int position() const { return t_; }
  // Cross-attention capture: after each step, row r's weights of the decoder layers `layers`
  // (in that order), per head or averaged over heads, over the S padded source positions:
  // [layers.size()][mean_heads ? 1 : heads][S] floats per row (attention()). Off by default; an
  // empty `layers` turns it off. Throws for a layer outside [0, decoder_layers).
  void capture_attention(const std::vector<int>& layers, bool mean_heads);
  int attention_width() const override { return att_width_; }
  const float* attention() const override { return att_width_ ? att_.data() : nullptr; }
  // Self-attention cache capacity: rows and positions allocated, and the floats all layers'
  // keys and values hold (2 * layers * row_capacity * time_capacity * cache_width(), or more when the
  // rows are laid out within a larger allocation: relayout_in_place). Kept within
  // a factor of the live rows (from the cache's next growth after rows left) and positions (see
  // ensure_capacity), or, after reserve_positions(n), n positions of address space from the first
  // step (pages resident only a few positions ahead of use, prefault()).
  // Vocabulary shortlist (issue 17): from now on step() computes the output layer only for
  // `ids` (sorted, unique, in the vocabulary) and returns rows with -inf everywhere else, so
  // softmax is taken over the shortlist. Empty: the whole vocabulary again. Throws when the
  // model's output layer is not tied to its embeddings.
  void set_vocab_subset(const std::vector<int32_t>& ids);
  int row_capacity() const { return cap_rows_; }
  int time_capacity() const { return cap_t_; }
  size_t cache_floats() const;
  size_t resident_cache_bytes() const;  // of the cache's buffers, resident now (mincore; tests)
  int64_t populate_calls() const { return populate_calls_; }  // madvise calls made to populate the cache

 private:
  void ensure_capacity(int rows, int t);
  void relayout(int new_rows, int new_t, bool gather);
  bool relayout_in_place(int new_rows, int min_t, bool gather);  // relayout within the allocation, if it fits
  void relayout_done(int new_rows, int new_t, int kept, bool gather);  // slot table, cap_*, resident positions
  void copy_row_positions(const float* buf, int row, bool gather, float* to) const;  // a row's t_ positions
  void prefault(int rows, int from_t, int to_t);
  // make a buffer of this capacity, `in_use` positions of it in use, resident whole?
  bool populate_whole_pays(int time_capacity, int in_use) const;
  bool populate_whole();                              // every buffer resident now (prefault() then idle)
  bool take_spare(int rows, int t);  // adopt the model's spare buffers if they are large enough
  void give_spare();                 // hand this state's buffers to the model (cache now empty)
  void discard(int from_t);          // release the pages of positions >= from_t of every slot
  template <class Fn>
  bool for_each_slot(int rows, Fn fn);  // fn(slot start) per layer, keys/values and slot < rows
  // floats of storage per cached position: inner, inner / 2 when the cache holds bf16 or half,
  // a kv8_store entry's (inner + 4 * heads bytes) when it holds int8
  size_t cache_width() const;
  int prefault_ahead() const;        // positions made resident per prefault() call
  float* run_step(const std::vector<int32_t>& tokens, bool defer);
  // lm_rows: the caller wants the int8 LM head's input rows quantized (lm_rows_ready_ says
  // whether they were: q_in_ / scale_in_ then hold the final rows, logits scale applied, and x_
  // is left without the logits scale)
  void run_layers(const std::vector<int32_t>& tokens, bool lm_rows = false);
  template <class SelfRow, class CrossRow>
  void run_layers_int8(SelfRow& self_row, CrossRow& cross_row, bool lm_rows, bool split);
  template <class Fn>
  void run_row_split(int rows, Fn& fn, int stages);  // fn per thread on its rows, one region

  const Transformer& m_;
  std::shared_ptr<const EncoderOutput> enc_;
  int rows_ = 0;
  int t_ = 0;                       // number of positions already in the cache
  int cap_rows_ = 0, cap_t_ = 0;
  // The buffers as allocated: floats each (cap_rows_ x cap_t_ x cache_width() or more, after a
  // relayout in place), their time capacity when made (whether they are made resident whole:
  // populate_whole_pays) and whether every page of them is resident.
  size_t alloc_floats_ = 0;
  int alloc_t_ = 0;
  int want_t_ = 0;  // the time capacity last asked for (cap_t_ can be more: a layout in place)
  bool alloc_resident_ = false;
  int reserve_t_ = 0;               // reserve_positions(): time capacity of the first allocation
  int prefaulted_t_ = 0;            // positions below this are resident in slots [0, rows_)
  int full_t_ = 0;                  // positions below this are resident in all cap_rows_ slots
  int half_t_ = -1;                 // position when half the rows had finished (-1: not yet)
  bool prefault_ok_ = true;         // MADV_POPULATE_WRITE works on this kernel
  int64_t populate_calls_ = 0;      // populate_calls()
  // how keys and values are stored (cache_width()): float, bf16 in bf16 runs, IEEE half or 8-bit
  // entries in int8 runs
  enum class CacheType { F32, BF16, Half, I8 };
  CacheType cache_type_ = CacheType::F32;
  std::vector<int32_t> row_input_;  // row -> encoder batch index
  std::vector<int32_t> row_nonpad_; // fairseq positions: count of non-pad tokens fed so far
  std::vector<std::unique_ptr<float[]>> k_cache_, v_cache_;  // per layer [cap_rows][cap_t][cache_width()]
  std::vector<int32_t> slots_, slots_tmp_;  // [cap_rows][cap_t]: slot holding row r's position j
  std::vector<int32_t> row_tmp_, positions_;
  // per-step buffers (LargeFloats: not zero-filled; logits of a batch are tens of MB, on huge pages)
  LargeFloats x_, norm_, qkv_, ctx_, h1_, h2_, logits_;
  // run_layers_int8: rows quantized for the next matmul (its input; the output projections'
  // and second FFN layer's), their row scales, a product before its residual add, and one
  // pre-normed row per thread
  std::vector<int8_t> q_in_, q_mid_;
  std::vector<float> scale_in_, scale_mid_, norm_rows_;
  LargeFloats product_;
  std::vector<float> att_scratch_, rel_bias_;
  std::vector<int32_t> cross_rows_;          // long sources: the rows of one input
  std::vector<float> cross_q_, cross_ctx_;   //   their queries and contexts, gathered
  std::vector<std::vector<float>>* record_ = nullptr;
  std::vector<float> lm_row_scale_;  // step_deferred: per row, the int8 LM head's row scale
  bool deferred_ = false;            // the last step left finish_row() to the caller
  bool row_fusion_ = true;           // set_row_fusion
  RowSplit row_split_ = RowSplit::Auto;  // set_row_split
  int row_split_steps_ = 0;
  int handoffs_ = 0;                 // rows handed over within row-split steps (RowHandoff)
  Handoff handoff_mode_ = Handoff::WhenIdle;  // set_row_handoff
  RowBalance balance_;               // row-split steps: each thread's share of the rows
  std::vector<int> last_bounds_;     //   and the last one's row ranges (RowBalance::bounds)
  bool lm_rows_ready_ = false;       // run_layers(tokens, true) left the LM head's rows quantized
  std::vector<int32_t> subset_;              // shortlist: the computed output columns
  std::vector<float> subset_w_, subset_b_;   // their output weights [C, d] and bias [C] (or empty)
  std::vector<float> subset_logits_;
  // cross-attention capture (capture_attention): slot of each decoder layer in a row (-1: none)
  std::vector<int> att_slot_;
  bool att_mean_ = false;
  int att_width_ = 0;
  std::vector<float> att_, att_heads_;  // [rows][width]; per thread [heads][S] when averaging
};

}  // namespace attend
