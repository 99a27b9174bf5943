// tokenizer/spm_model.cpp — thin wrapper over the Debian SentencePiece library (load from memory,
// encode to pieces, decode pieces, piece/id lookups), turning its status codes into attend::Error.
#include "tokenizer/spm_model.hpp"

#include <sentencepiece_processor.h>

#include "attend/error.hpp"

namespace attend {

SpmModel::SpmModel(const std::string& bytes, const std::string& file_name)
    : sp_(std::make_unique<sentencepiece::SentencePieceProcessor>()), file_name_(file_name) {
  const auto status = sp_->LoadFromSerializedProto(bytes);
  if (!status.ok())
    throw Error("tokenizer: " + file_name + ": not a valid SentencePiece model: " + status.ToString());
}

SpmModel::~SpmModel() = default;
SpmModel::SpmModel(SpmModel&&) noexcept = default;
SpmModel& SpmModel::operator=(SpmModel&&) noexcept = default;

std::vector<std::string> SpmModel::encode(const std::string& text) const {
  std::vector<std::string> pieces;
  const auto status = sp_->Encode(text, &pieces);
  if (!status.ok()) throw Error("tokenizer: " + file_name_ + ": encode failed: " + status.ToString());
  return pieces;
}

std::string SpmModel::decode_pieces(const std::vector<std::string>& pieces) const {
  std::string text;
  const auto status = sp_->Decode(pieces, &text);
  if (!status.ok()) throw Error("tokenizer: " + file_name_ + ": decode failed: " + status.ToString());
  return text;
}

int32_t SpmModel::piece_to_id(const std::string& piece) const { return sp_->PieceToId(piece); }

bool SpmModel::has_piece(const std::string& piece) const {
  const int id = sp_->PieceToId(piece);
  return id != sp_->unk_id() || sp_->IdToPiece(id) == piece;
}

std::string SpmModel::id_to_piece(int32_t id) const {
  if (id < 0 || id >= sp_->GetPieceSize())
    throw Error("tokenizer: " + file_name_ + ": piece id " + std::to_string(id) + " out of range");
  return sp_->IdToPiece(id);
}

int32_t SpmModel::size() const { return sp_->GetPieceSize(); }
int32_t SpmModel::unk_id() const { return sp_->unk_id(); }

}  // namespace attend
