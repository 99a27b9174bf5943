// tokenizer/spm_model.hpp — a SentencePiece model loaded from the bytes of a tokenizer file.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace sentencepiece {
class SentencePieceProcessor;
}

namespace attend {

class SpmModel {
 public:
  // Loads a serialized ModelProto; throws attend::Error naming `file_name` when it is not one.
  SpmModel(const std::string& bytes, const std::string& file_name);
  ~SpmModel();
  SpmModel(SpmModel&&) noexcept;
  SpmModel& operator=(SpmModel&&) noexcept;

  // sp_model.encode(text, out_type=str)
  std::vector<std::string> encode(const std::string& text) const;
  // sp_model.decode(pieces) / decode_pieces(pieces)
  std::string decode_pieces(const std::vector<std::string>& pieces) const;
  // sp_model.piece_to_id (unknown pieces -> unk_id())
  int32_t piece_to_id(const std::string& piece) const;
  // Whether the model has exactly this piece (piece_to_id is not the unknown id, or it is "<unk>").
  bool has_piece(const std::string& piece) const;
  std::string id_to_piece(int32_t id) const;
  int32_t size() const;
  int32_t unk_id() const;
  const std::string& file_name() const { return file_name_; }

 private:
  std::unique_ptr<sentencepiece::SentencePieceProcessor> sp_;
  std::string file_name_;
};

}  // namespace attend
