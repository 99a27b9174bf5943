// engine/positions.hpp — position information exactly as transformers builds it: Marian's
// static sinusoidal table, fairseq/M2M100 sinusoidal rows, T5 relative position buckets.
#pragma once
#include <cstdint>
#include <vector>

namespace attend {

// MarianSinusoidalPositionalEmbedding: row p, w_j = p / 10000^(2*floor(j/2)/d); first half
// sin of the even-j values, second half cos of the odd-j values (computed in double, stored
// as float, like numpy then torch).
std::vector<float> marian_sinusoidal_table(int rows, int dim);

// M2M100SinusoidalPositionalEmbedding.get_embedding (float32 arithmetic like torch): row r =
// [sin(r f_0..f_{h-1}) | cos(r f_0..f_{h-1})], f_j = exp(-j ln(10000)/(h-1)), padding row zero.
std::vector<float> fairseq_sinusoidal_table(int rows, int dim, int padding_idx);

// T5Attention._relative_position_bucket for relative_position = key_pos - query_pos.
int t5_relative_bucket(int relative_position, bool bidirectional, int num_buckets, int max_distance);

}  // namespace attend
