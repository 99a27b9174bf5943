// engine/kernels/window_attention.cpp — blocked encoder attention with an online softmax
// (see window_attention.hpp) and LED's global rows.
#include "engine/kernels/window_attention.hpp"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include <dnnl.h>
#include <immintrin.h>

#include "attend/error.hpp"
#include "engine/kernels/simd.hpp"

namespace attend {
namespace {

constexpr float kNegInf = -std::numeric_limits<float>::infinity();

void sgemm(char ta, char tb, int64_t M, int64_t N, int64_t K, float alpha, const float* A, int64_t lda,
           const float* B, int64_t ldb, float beta, float* C, int64_t ldc) {
  if (M == 0 || N == 0) return;
  if (dnnl_sgemm(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc) != dnnl_success)
    throw Error("attention: oneDNN sgemm failed");
}

// Per-thread state of one (head, query block) task.
struct Block {
  std::vector<float> s, o, m, l;
  explicit Block(int head_dim)
      : s(static_cast<size_t>(kQueryBlock) * kKeyChunk), o(static_cast<size_t>(kQueryBlock) * head_dim),
        m(kQueryBlock), l(kQueryBlock) {}
};

__attribute__((target("avx512f"))) float row_max_avx512(const float* row, int n) {
  __m512 acc = _mm512_set1_ps(kNegInf);
  int c = 0;
  for (; c + 16 <= n; c += 16) acc = _mm512_mask_max_ps(acc, 0xFFFF, acc, _mm512_loadu_ps(row + c));  // (the unmasked form warns in GCC 12)
  alignas(64) float lanes[16];
  _mm512_store_ps(lanes, acc);
  float mx = kNegInf;
  for (float v : lanes) mx = v > mx ? v : mx;
  for (; c < n; ++c) mx = row[c] > mx ? row[c] : mx;
  return mx;
}

float row_max(const float* row, int n) {
  if (simd::has_avx512()) return row_max_avx512(row, n);
  float mx = kNegInf;
  for (int c = 0; c < n; ++c) mx = row[c] > mx ? row[c] : mx;
  return mx;
}

// row[c] += b[c] (window keys that are all usable), or the masked form.
ATTEND_MULTIVERSION
void add_bias(float* row, const float* b, int lo, int hi) {
#pragma omp simd
  for (int c = lo; c < hi; ++c) row[c] += b[c];
}
ATTEND_MULTIVERSION
void add_bias_masked(float* row, const float* b, const int32_t* ok, int lo, int hi) {
#pragma omp simd
  for (int c = lo; c < hi; ++c) row[c] = ok[c] ? row[c] + b[c] : kNegInf;
}
ATTEND_MULTIVERSION
void mask_keys(float* row, const int32_t* ok, int lo, int hi) {
#pragma omp simd
  for (int c = lo; c < hi; ++c) row[c] = ok[c] ? row[c] : kNegInf;
}

// Online-softmax update of query row r with the nc scores in `row` (masked = -inf): the row
// becomes its weights exp(s - m_new); returns the factor the row's earlier output is scaled by.
inline float absorb(float* row, int nc, float& m, float& l) {
  const float mx = row_max(row, nc);
  if (mx == kNegInf) {
    std::fill(row, row + nc, 0.0f);
    return 1.0f;
  }
  const float m_new = std::max(m, mx);
  const float alpha = m == kNegInf ? 0.0f : std::exp(m - m_new);
  const float sum = simd::exp_shifted_sum(row, nc, m_new);
  l = l * alpha + sum;
  m = m_new;
  return alpha;
}

ATTEND_MULTIVERSION
void scale_rows(float* o, int rows, int head_dim, const float* alpha) {
  for (int r = 0; r < rows; ++r) {
    const float a = alpha[r];
    if (a == 1.0f) continue;
    float* orow = o + static_cast<size_t>(r) * head_dim;
#pragma omp simd
    for (int d = 0; d < head_dim; ++d) orow[d] *= a;
  }
}

void run_block(const WindowAttention& a, int h, int i0, int i1, Block& B) {
  const int nq = i1 - i0, dh = a.head_dim, L = a.length;
  const bool cross = a.queries > 0;
  const int R = cross ? L : window_radius(a);
  std::fill(B.m.begin(), B.m.begin() + nq, kNegInf);
  std::fill(B.l.begin(), B.l.begin() + nq, 0.0f);
  std::fill(B.o.begin(), B.o.begin() + static_cast<size_t>(nq) * dh, 0.0f);
  float alpha[kQueryBlock];
  const float* qh = a.q + static_cast<int64_t>(i0) * a.q_stride + static_cast<int64_t>(h) * dh;
  const int jlo = cross ? 0 : std::max(0, i0 - R), jhi = cross ? L : std::min(L, i1 - 1 + R + 1);
  const float* bias_h = a.offset_bias && !cross ? a.offset_bias + static_cast<size_t>(h) * (2 * R + 1) : nullptr;
  for (int j0 = jlo; j0 < jhi; j0 += kKeyChunk) {
    const int nc = std::min(kKeyChunk, jhi - j0);
    sgemm('N', 'T', nq, nc, dh, a.scale, qh, a.q_stride, a.k + static_cast<int64_t>(j0) * a.kv_stride + h * dh,
          a.kv_stride, 0.0f, B.s.data(), kKeyChunk);
    const int32_t* ok = a.key_ok + j0;
    bool all_ok = true;
    for (int c = 0; c < nc && all_ok; ++c) all_ok = ok[c] != 0;
    for (int r = 0; r < nq; ++r) {
      const int i = i0 + r;
      float* row = B.s.data() + static_cast<size_t>(r) * kKeyChunk;
      // keys of this chunk inside the window of query i: [lo, hi)
      const int lo = cross ? 0 : std::clamp(i - R - j0, 0, nc), hi = cross ? nc : std::clamp(i + R + 1 - j0, lo, nc);
      std::fill(row, row + lo, kNegInf);
      std::fill(row + hi, row + nc, kNegInf);
      if (bias_h) {
        const float* b = bias_h + (j0 - i + R);  // b[c] = bias of offset (j0 + c) - i
        if (all_ok) add_bias(row, b, lo, hi);
        else add_bias_masked(row, b, ok, lo, hi);
      } else if (!all_ok) {
        mask_keys(row, ok, lo, hi);
      }
      alpha[r] = absorb(row, nc, B.m[r], B.l[r]);
    }
    scale_rows(B.o.data(), nq, dh, alpha);
    sgemm('N', 'N', nq, dh, nc, 1.0f, B.s.data(), kKeyChunk, a.v + static_cast<int64_t>(j0) * a.kv_stride + h * dh,
          a.kv_stride, 1.0f, B.o.data(), dh);
  }
  for (int e0 = 0; e0 < a.extra; e0 += kKeyChunk) {
    const int nc = std::min(kKeyChunk, a.extra - e0);
    sgemm('N', 'T', nq, nc, dh, a.scale, qh, a.q_stride, a.ek + static_cast<int64_t>(e0) * a.e_stride + h * dh,
          a.e_stride, 0.0f, B.s.data(), kKeyChunk);
    for (int r = 0; r < nq; ++r) {
      float* row = B.s.data() + static_cast<size_t>(r) * kKeyChunk;
      if (a.extra_bias) {
        const int g = a.query_group[i0 + r];
        const float* b = a.extra_bias + static_cast<size_t>(h) * (2 * a.extra - 1) + (e0 - g + a.extra - 1);
        for (int c = 0; c < nc; ++c) row[c] += b[c];
      }
      alpha[r] = absorb(row, nc, B.m[r], B.l[r]);
    }
    scale_rows(B.o.data(), nq, dh, alpha);
    sgemm('N', 'N', nq, dh, nc, 1.0f, B.s.data(), kKeyChunk, a.ev + static_cast<int64_t>(e0) * a.e_stride + h * dh,
          a.e_stride, 1.0f, B.o.data(), dh);
  }
  for (int r = 0; r < nq; ++r) {
    float* out = a.ctx + static_cast<int64_t>(i0 + r) * a.ctx_stride + static_cast<int64_t>(h) * dh;
    const float inv = B.l[r] > 0.0f ? 1.0f / B.l[r] : 0.0f;
    const float* o = B.o.data() + static_cast<size_t>(r) * dh;
    for (int d = 0; d < dh; ++d) out[d] = o[d] * inv;
  }
}

}  // namespace

void window_attention(const WindowAttention& a) {
  if (a.length <= 0) return;
  const int nq = a.queries > 0 ? a.queries : a.length;
  const int blocks = (nq + kQueryBlock - 1) / kQueryBlock;
  const int tasks = blocks * a.heads;
#pragma omp parallel if (tasks > 1)
  {
    Block B(a.head_dim);
#pragma omp for schedule(dynamic, 2)  // a thread preempted on a busy machine does not hold the others up
    for (int t = 0; t < tasks; ++t) {
      const int qb = t / a.heads, h = t % a.heads;  // heads of one block next to each other: shared rows in cache
      const int i0 = qb * kQueryBlock;
      run_block(a, h, i0, std::min(nq, i0 + kQueryBlock), B);
    }
  }
}

void led_global_rows(const float* x, int64_t x_stride, int length, const int32_t* real, const int32_t* globals,
                     int n_globals, const GlobalRowsWeights& w, int d_model, int heads, int head_dim, float scale,
                     float* ctx, int64_t ctx_stride) {
  if (n_globals == 0) return;
  const int inner = heads * head_dim, d = d_model, H = heads;
  std::vector<float> q(inner), u(static_cast<size_t>(d) * H), c(H), s(static_cast<size_t>(length) * H),
      xbar(static_cast<size_t>(H) * d);
  for (int gi = 0; gi < n_globals; ++gi) {
    const int g = globals[gi];
    const float* xg = x + static_cast<int64_t>(g) * x_stride;
    // q = (Wq x_g + bq) * scale
    sgemm('N', 'T', 1, inner, d, 1.0f, xg, d, w.wq, d, 0.0f, q.data(), inner);
    for (int k = 0; k < inner; ++k) q[k] = (q[k] + w.bq[k]) * scale;
    // u[:, h] = Wk_hᵀ q_h ([d, H]), c[h] = q_h . bk_h
    for (int h = 0; h < H; ++h) {
      sgemm('T', 'N', d, 1, head_dim, 1.0f, w.wk + static_cast<int64_t>(h) * head_dim * d, d, q.data() + h * head_dim, 1,
            0.0f, u.data() + h, H);
      float cc = 0.0f;
      for (int k = 0; k < head_dim; ++k) cc += q[h * head_dim + k] * w.bk[h * head_dim + k];
      c[h] = cc;
    }
    // scores s[j][h] = x_j . u_h + c_h
    sgemm('N', 'N', length, H, d, 1.0f, x, x_stride, u.data(), H, 0.0f, s.data(), H);
    for (int h = 0; h < H; ++h) {
      float mx = kNegInf;
      for (int j = 0; j < length; ++j) {
        float& v = s[static_cast<size_t>(j) * H + h];
        v = real[j] ? v + c[h] : kNegInf;
        mx = std::max(mx, v);
      }
      double sum = 0.0;
      for (int j = 0; j < length; ++j) {
        float& v = s[static_cast<size_t>(j) * H + h];
        v = v == kNegInf ? 0.0f : std::exp(v - mx);
        sum += v;
      }
      const float inv = sum > 0.0 ? static_cast<float>(1.0 / sum) : 0.0f;
      for (int j = 0; j < length; ++j) s[static_cast<size_t>(j) * H + h] *= inv;
    }
    // xbar[h] = sum_j p_jh x_j ([H, d]); out_h = Wv_h xbar_h + bv_h
    sgemm('T', 'N', H, d, length, 1.0f, s.data(), H, x, x_stride, 0.0f, xbar.data(), d);
    float* out = ctx + static_cast<int64_t>(g) * ctx_stride;
    for (int h = 0; h < H; ++h) {
      sgemm('N', 'T', 1, head_dim, d, 1.0f, xbar.data() + static_cast<size_t>(h) * d, d,
            w.wv + static_cast<int64_t>(h) * head_dim * d, d, 0.0f, out + h * head_dim, head_dim);
      for (int k = 0; k < head_dim; ++k) out[h * head_dim + k] += w.bv[h * head_dim + k];
    }
  }
}

}  // namespace attend
