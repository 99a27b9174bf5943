// engine/lm_head.hpp — the output projection (LM head). bf16, and small vocabularies: one Linear
// over the whole vocabulary. int8 and fp32: the vocabulary in column blocks, each its own
// Linear, run one block per thread at a time, so a block's logits are finished (int8: channel
// and row scales, bias) — or, for beam search, reduced to each row's softmax terms and best
// candidates (top_k) — while they are in that core's cache. The [rows x vocab] logits of a large
// vocabulary (28 MB for opus-mt at 128 rows) then never go to memory and back.
#pragma once
#include <cstdint>
#include <memory>
#include <vector>

#include "engine/kernels/dnnl_ops.hpp"
#include "engine/step_model.hpp"

namespace attend {

class LmHead {
 public:
  // Columns per block: a block's float output at 128 rows is 512 KB, its int8 weights
  // d_model x 1024 bytes (512 KB for d_model 512): both stay in a core's L2 cache.
  static constexpr int64_t kBlockColumns = 1024;
  // fp32 heads are blocked from this many blocks up. Below it the whole head's logits stay in
  // the shared cache anyway and one matmul over two threads beats blocks handed out one at a
  // time (measured, 2 threads, beam 4, batch 32: bundled model, vocab 15,329, 2-5% slower
  // blocked; t5-small, 32,128, 3.5% faster; opus-mt, 54,688, 3-5% faster).
  static constexpr int64_t kF32MinBlocks = 24;

  // weight [vocab, d] row-major float32, bias [vocab] or null. int8 with a vocabulary of at
  // least two blocks, fp32 with at least kF32MinBlocks, is blocked (block_columns > 0: blocks of
  // that width instead, from two blocks up, for tests).
  void init(const float* weight, int64_t vocab, int64_t d, const float* bias, ComputeType ct,
            const Linear::RowsDone& rows_done, int64_t block_columns = 0);
  bool blocked() const { return !blocks_.empty(); }

  // y[M, vocab] = x·Wᵀ + b, final.
  void forward(const float* x, int64_t M, float* y) const;
  // Linear::forward_deferred of the whole layer; a blocked head finishes every row itself
  // (in cache) and returns false.
  bool forward_deferred(const float* x, int64_t M, float* y, float* row_scale) const;
  void finish_row(float* y_row, float row_scale) const;
  // Blocked heads: fills io's outputs (RowTopK) for the M rows of x; io.banned, when set, has
  // M entries.
  void top_k(const float* x, int64_t M, RowTopK& io) const;
  // The same from rows the caller already quantized (quantize_row: q [M, d], one scale per row).
  void top_k_quantized(const int8_t* q, const float* row_scale, int64_t M, RowTopK& io) const;

 private:
  // Runs every block's product (one block per thread at a time) and calls
  // fn(block, first column, columns, product rows [M, columns] with the channel scales, row
  // scales) on the thread that computed it (fp32: the final product, row scales 1). Times the
  // matmuls and the rest into the profile.
  template <class Fn>
  void run_blocks(const float* x, int64_t M, Fn fn) const;
  // The same with product(block's Linear, out [M, columns]) computing a block's product.
  template <class Product, class Fn>
  void run_blocks_with(int64_t M, const float* rs, Product product, Fn fn) const;
  void top_k_impl(const float* x, const int8_t* q, const float* row_scale, int64_t M, RowTopK& io) const;
  template <class Fn>
  void run_blocks_quantized(const int8_t* q, const float* rs, int64_t M, Fn fn) const;

  Linear whole_;
  std::vector<std::unique_ptr<Linear>> blocks_;
  int64_t vocab_ = 0, d_ = 0, block_ = 0;
};

}  // namespace attend
