// engine/mapped_file.hpp — read-only memory mapping of a whole file (RAII) with pread copies of
// its bytes that leave the mapping untouched, and the page-level residency helpers (drop /
// populate whole pages of a range) the loader and the decoder cache use.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "engine/host_tensor.hpp"

namespace attend {

class MappedFile {
 public:
  // Maps `path` read-only; throws attend::Error naming the path on failure. Empty files are
  // allowed (data() == nullptr, size() == 0).
  static std::shared_ptr<MappedFile> open(const std::string& path);
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  const uint8_t* data() const { return data_; }
  size_t size() const { return size_; }
  const std::string& path() const { return path_; }
  // Copies the `len` mapped bytes at `at` (inside the mapping) into dst by pread, without
  // touching the mapping: nothing becomes resident in this process. A read through the mapping
  // maps the page cache's whole folio around the byte (up to 2 MB on recent kernels), so a few
  // embedding rows looked up could make megabytes resident. Thread-safe.
  void read_at(const uint8_t* at, size_t len, void* dst) const;

 private:
  MappedFile() = default;
  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
  int fd_ = -1;
  std::string path_;
};

// Drops the mapping's resident pages (madvise MADV_DONTNEED on the read-only mapping): the
// contents stay valid and are read back from the page cache when touched again.
void release_pages(const MappedFile& f);
// The same for the whole pages inside one tensor's bytes, if it lies in a mapping (else nothing).
void release_pages(const HostTensor& t);
// The same for the whole pages inside bytes [begin, end) of one tensor's data.
void release_pages(const HostTensor& t, size_t begin, size_t end);

// Any memory: drops the whole pages inside [p, p + bytes) from the resident set
// (MADV_DONTNEED; anonymous pages read as zero afterwards, file pages are read back). Best effort.
void drop_pages(const void* p, size_t bytes);
// Makes every page touching [p, p + bytes) resident and writable in one call
// (MADV_POPULATE_WRITE) instead of a page fault per page on first write. False where the kernel
// does not support it (before 5.14): callers then stop asking and pages fault in as usual.
bool populate_pages(void* p, size_t bytes);
// Bytes of the pages touching [p, p + bytes) that are resident (mincore); 0 where it fails.
size_t resident_bytes(const void* p, size_t bytes);

// Reads a whole (small) file into a string; throws attend::Error naming the path.
std::string read_text_file(const std::string& path);
bool file_exists(const std::string& path);

}  // namespace attend
