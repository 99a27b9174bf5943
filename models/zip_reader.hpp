// models/zip_reader.hpp — minimal, defensive reader for uncompressed ("stored") zip archives
// held in memory (a mapped file), as written by torch.save. Parses the end-of-central-
// directory record (ZIP64 too) and the central directory; every offset is checked against
// the buffer, since the input is untrusted.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

namespace attend {

struct ZipEntry {
  std::string name;
  uint16_t flags = 0;
  uint16_t method = 0;           // 0 = stored, 8 = deflate, ...
  uint32_t crc32 = 0;
  uint64_t compressed_size = 0;
  uint64_t size = 0;             // uncompressed size
  uint64_t local_header_offset = 0;
};

class ZipReader {
 public:
  // Parses the archive directory of `data[0, size)`; `label` names the input in error messages.
  // The buffer must outlive the reader. Throws attend::Error on any inconsistency.
  ZipReader(const uint8_t* data, size_t size, std::string label);

  const std::vector<ZipEntry>& entries() const { return entries_; }
  // nullptr when no entry has exactly this name.
  const ZipEntry* find(const std::string& name) const;
  // Pointer to the (stored, unencrypted) contents of `e`, `e.size` bytes long, validated
  // against the local file header and the buffer bounds. Throws attend::Error naming the entry
  // for compressed/encrypted entries or bad offsets. With `verify_crc`, also checks the CRC-32.
  const uint8_t* entry_data(const ZipEntry& e, bool verify_crc = false) const;

  const std::string& label() const { return label_; }

 private:
  const uint8_t* data_;
  size_t size_;
  std::string label_;
  std::vector<ZipEntry> entries_;
  std::unordered_map<std::string, size_t> index_;
};

// Standard CRC-32 (IEEE 802.3, as used by zip), continuing from `crc` (0 to start).
uint32_t crc32_update(uint32_t crc, const uint8_t* data, size_t n);

}  // namespace attend
