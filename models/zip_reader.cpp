// models/zip_reader.cpp — defensive parser for stored (uncompressed) zip archives in memory:
// EOCD / ZIP64 EOCD, central directory, local headers, CRC-32.
#include "models/zip_reader.hpp"

#include <array>

#include "attend/error.hpp"

namespace attend {
namespace {

constexpr uint32_t kSigLocal = 0x04034b50;
constexpr uint32_t kSigCentral = 0x02014b50;
constexpr uint32_t kSigEocd = 0x06054b50;
constexpr uint32_t kSigZip64Eocd = 0x06064b50;
constexpr uint32_t kSigZip64Locator = 0x07064b50;
constexpr size_t kEocdSize = 22;
constexpr size_t kZip64LocatorSize = 20;
constexpr size_t kZip64EocdSize = 56;
constexpr size_t kCentralSize = 46;
constexpr size_t kLocalSize = 30;

uint16_t rd16(const uint8_t* p) { return static_cast<uint16_t>(p[0] | (p[1] << 8)); }
uint32_t rd32(const uint8_t* p) {
  return static_cast<uint32_t>(p[0]) | (static_cast<uint32_t>(p[1]) << 8) |
         (static_cast<uint32_t>(p[2]) << 16) | (static_cast<uint32_t>(p[3]) << 24);
}
uint64_t rd64(const uint8_t* p) {
  return static_cast<uint64_t>(rd32(p)) | (static_cast<uint64_t>(rd32(p + 4)) << 32);
}

// a + b <= limit, without overflow.
bool fits(uint64_t a, uint64_t b, uint64_t limit) { return a <= limit && b <= limit - a; }

std::array<uint32_t, 256> make_crc_table() {
  std::array<uint32_t, 256> t{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xedb88320u ^ (c >> 1) : c >> 1;
    t[i] = c;
  }
  return t;
}

}  // namespace

uint32_t crc32_update(uint32_t crc, const uint8_t* data, size_t n) {
  static const std::array<uint32_t, 256> table = make_crc_table();
  crc = ~crc;
  for (size_t i = 0; i < n; ++i) crc = table[(crc ^ data[i]) & 0xffu] ^ (crc >> 8);
  return ~crc;
}

ZipReader::ZipReader(const uint8_t* data, size_t size, std::string label)
    : data_(data), size_(size), label_(std::move(label)) {
  auto fail = [&](const std::string& msg) -> void {
    throw Error(label_ + ": not a valid zip archive: " + msg);
  };
  if (size_ < kEocdSize || data_ == nullptr) fail("file too small (" + std::to_string(size_) + " bytes)");

  // 1. End-of-central-directory record: the last one whose comment ends exactly at EOF;
  //    failing that, the last one whose comment fits in the file.
  size_t eocd = SIZE_MAX, loose = SIZE_MAX;
  const size_t lowest = size_ - kEocdSize > 0xffff ? size_ - kEocdSize - 0xffff : 0;
  for (size_t pos = size_ - kEocdSize + 1; pos-- > lowest;) {
    if (rd32(data_ + pos) != kSigEocd) continue;
    const size_t comment = rd16(data_ + pos + 20);
    if (pos + kEocdSize + comment == size_) { eocd = pos; break; }
    if (loose == SIZE_MAX && pos + kEocdSize + comment <= size_) loose = pos;
  }
  if (eocd == SIZE_MAX) eocd = loose;
  if (eocd == SIZE_MAX) fail("no end-of-central-directory record (truncated file?)");

  const uint8_t* e = data_ + eocd;
  uint64_t disk = rd16(e + 4), cd_disk = rd16(e + 6);
  uint64_t entries_on_disk = rd16(e + 8), total_entries = rd16(e + 10);
  uint64_t cd_size = rd32(e + 12), cd_offset = rd32(e + 16);
  uint64_t cd_limit = eocd;  // the central directory must end before this offset

  // 2. ZIP64: a locator right before the EOCD points at the ZIP64 EOCD record.
  if (eocd >= kZip64LocatorSize && rd32(data_ + eocd - kZip64LocatorSize) == kSigZip64Locator) {
    const uint8_t* loc = data_ + eocd - kZip64LocatorSize;
    const uint64_t z64 = rd64(loc + 8);
    const uint64_t loc_pos = eocd - kZip64LocatorSize;
    if (rd32(loc + 16) > 1) fail("multi-disk archives are not supported");
    if (!fits(z64, kZip64EocdSize, loc_pos)) fail("ZIP64 end-of-central-directory offset out of range");
    const uint8_t* z = data_ + z64;
    if (rd32(z) != kSigZip64Eocd) fail("bad ZIP64 end-of-central-directory signature");
    disk = rd32(z + 16);
    cd_disk = rd32(z + 20);
    entries_on_disk = rd64(z + 24);
    total_entries = rd64(z + 32);
    cd_size = rd64(z + 40);
    cd_offset = rd64(z + 48);
    cd_limit = z64;
  } else if (total_entries == 0xffff || cd_size == 0xffffffffu || cd_offset == 0xffffffffu) {
    fail("ZIP64 values without a ZIP64 end-of-central-directory locator");
  }
  if (disk != 0 || cd_disk != 0 || entries_on_disk != total_entries)
    fail("multi-disk archives are not supported");
  if (!fits(cd_offset, cd_size, cd_limit))
    fail("central directory (offset " + std::to_string(cd_offset) + ", size " +
         std::to_string(cd_size) + ") lies outside the file");
  if (total_entries > cd_size / kCentralSize)
    fail("entry count " + std::to_string(total_entries) + " does not fit the central directory");

  // 3. Central directory.
  entries_.reserve(static_cast<size_t>(total_entries));
  uint64_t p = cd_offset;
  const uint64_t cd_end = cd_offset + cd_size;
  for (uint64_t i = 0; i < total_entries; ++i) {
    const std::string where = "central directory entry " + std::to_string(i);
    if (!fits(p, kCentralSize, cd_end)) fail(where + " is truncated");
    const uint8_t* c = data_ + p;
    if (rd32(c) != kSigCentral) fail(where + ": bad signature at offset " + std::to_string(p));
    ZipEntry en;
    en.flags = rd16(c + 8);
    en.method = rd16(c + 10);
    en.crc32 = rd32(c + 16);
    en.compressed_size = rd32(c + 20);
    en.size = rd32(c + 24);
    const size_t name_len = rd16(c + 28), extra_len = rd16(c + 30), comment_len = rd16(c + 32);
    uint32_t disk_start = rd16(c + 34);
    en.local_header_offset = rd32(c + 42);
    if (!fits(p + kCentralSize, name_len + extra_len + comment_len, cd_end))
      fail(where + ": name/extra/comment run past the central directory");
    en.name.assign(reinterpret_cast<const char*>(c + kCentralSize), name_len);

    // ZIP64 extended information: 8-byte values for the fields saturated at 0xffffffff.
    const uint8_t* x = c + kCentralSize + name_len;
    const uint8_t* x_end = x + extra_len;
    while (x_end - x >= 4) {
      const uint16_t id = rd16(x), len = rd16(x + 2);
      if (static_cast<size_t>(x_end - x - 4) < len) fail(where + " ('" + en.name + "'): truncated extra field");
      if (id == 0x0001) {
        const uint8_t* f = x + 4;
        const uint8_t* f_end = f + len;
        auto take = [&](uint64_t* v) {
          if (f_end - f < 8) fail(where + " ('" + en.name + "'): truncated ZIP64 extra field");
          *v = rd64(f);
          f += 8;
        };
        if (en.size == 0xffffffffu) take(&en.size);
        if (en.compressed_size == 0xffffffffu) take(&en.compressed_size);
        if (en.local_header_offset == 0xffffffffu) take(&en.local_header_offset);
        if (disk_start == 0xffff && f_end - f >= 4) disk_start = rd32(f);
      }
      x += 4 + len;
    }
    if (disk_start != 0) fail(where + " ('" + en.name + "'): multi-disk archives are not supported");
    if (!index_.emplace(en.name, entries_.size()).second)
      fail("duplicate entry '" + en.name + "'");
    entries_.push_back(std::move(en));
    p += kCentralSize + name_len + extra_len + comment_len;
  }
}

const ZipEntry* ZipReader::find(const std::string& name) const {
  auto it = index_.find(name);
  return it == index_.end() ? nullptr : &entries_[it->second];
}

const uint8_t* ZipReader::entry_data(const ZipEntry& e, bool verify_crc) const {
  const std::string where = label_ + ": zip entry '" + e.name + "'";
  if (e.flags & 0x1) throw Error(where + " is encrypted");
  if (e.method != 0)
    throw Error(where + " is compressed (method " + std::to_string(e.method) +
                "); only stored entries are supported (torch.save writes them uncompressed)");
  if (e.compressed_size != e.size)
    throw Error(where + ": stored entry with compressed size " + std::to_string(e.compressed_size) +
                " != size " + std::to_string(e.size));
  if (!fits(e.local_header_offset, kLocalSize, size_))
    throw Error(where + ": local header offset " + std::to_string(e.local_header_offset) +
                " is outside the file");
  const uint8_t* h = data_ + e.local_header_offset;
  if (rd32(h) != kSigLocal)
    throw Error(where + ": bad local header signature at offset " + std::to_string(e.local_header_offset));
  const size_t name_len = rd16(h + 26), extra_len = rd16(h + 28);
  const uint64_t name_off = e.local_header_offset + kLocalSize;
  if (!fits(name_off, name_len + extra_len, size_))
    throw Error(where + ": local header name/extra field runs past the end of the file");
  if (name_len != e.name.size() || std::char_traits<char>::compare(reinterpret_cast<const char*>(h + kLocalSize),
                                                                   e.name.data(), name_len) != 0)
    throw Error(where + ": local header name does not match the central directory");
  const uint64_t data_off = name_off + name_len + extra_len;
  if (!fits(data_off, e.size, size_))
    throw Error(where + ": data (offset " + std::to_string(data_off) + ", " + std::to_string(e.size) +
                " bytes) runs past the end of the file (" + std::to_string(size_) + " bytes)");
  const uint8_t* d = data_ + data_off;
  if (verify_crc) {
    const uint32_t crc = crc32_update(0, d, static_cast<size_t>(e.size));
    if (crc != e.crc32) throw Error(where + ": CRC-32 mismatch (corrupted file)");
  }
  return d;
}

}  // namespace attend
