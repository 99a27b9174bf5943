// engine/mapped_file.cpp — mmap-based MappedFile (and its pread copies), page residency helpers and
// small file helpers.
#include "engine/mapped_file.hpp"

#include <algorithm>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <vector>

#include "attend/error.hpp"

namespace attend {

std::shared_ptr<MappedFile> MappedFile::open(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw Error(path + ": cannot open: " + std::strerror(errno));
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    int e = errno; ::close(fd);
    throw Error(path + ": cannot stat: " + std::strerror(e));
  }
  if (!S_ISREG(st.st_mode)) { ::close(fd); throw Error(path + ": not a regular file"); }
  std::shared_ptr<MappedFile> f(new MappedFile());
  f->path_ = path;
  f->size_ = static_cast<size_t>(st.st_size);
  if (f->size_ > 0) {
    void* p = ::mmap(nullptr, f->size_, PROT_READ, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED) {
      int e = errno; ::close(fd);
      throw Error(path + ": cannot map: " + std::strerror(e));
    }
    f->data_ = static_cast<const uint8_t*>(p);
  }
  f->fd_ = fd;  // kept for read_at
  return f;
}

MappedFile::~MappedFile() {
  if (data_) ::munmap(const_cast<uint8_t*>(data_), size_);
  if (fd_ >= 0) ::close(fd_);
}

void MappedFile::read_at(const uint8_t* at, size_t len, void* dst) const {
  if (at < data_ || len > size_ || static_cast<size_t>(at - data_) > size_ - len)
    throw Error(path_ + ": read of " + std::to_string(len) + " bytes outside the file");
  size_t done = 0;
  const off_t offset = static_cast<off_t>(at - data_);
  while (done < len) {
    const ssize_t n = ::pread(fd_, static_cast<uint8_t*>(dst) + done, len - done, offset + static_cast<off_t>(done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {  // the file shrank or failed under us: the mapping's bytes say the same
      std::memcpy(static_cast<uint8_t*>(dst) + done, at + done, len - done);
      return;
    }
    done += static_cast<size_t>(n);
  }
}

std::string read_text_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(path + ": cannot open: " + std::strerror(errno));
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) throw Error(path + ": read error");
  return ss.str();
}

bool file_exists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

void release_pages(const MappedFile& f) {
  if (f.data() == nullptr || f.size() == 0) return;
  ::madvise(const_cast<uint8_t*>(f.data()), f.size(), MADV_DONTNEED);  // best effort
}

void release_pages(const HostTensor& t) { release_pages(t, 0, t.nbytes); }

void release_pages(const HostTensor& t, size_t from, size_t to) {
  if (!t.mapping || t.data == nullptr) return;
  to = std::min(to, t.nbytes);
  if (from >= to) return;
  drop_pages(static_cast<const uint8_t*>(t.data) + from, to - from);
}

namespace {
uintptr_t page_size() {
  static const uintptr_t page = static_cast<uintptr_t>(::sysconf(_SC_PAGESIZE));
  return page;
}
}  // namespace

void drop_pages(const void* p, size_t bytes) {
  const uintptr_t page = page_size();
  const uintptr_t begin = (reinterpret_cast<uintptr_t>(p) + page - 1) / page * page;
  const uintptr_t end = (reinterpret_cast<uintptr_t>(p) + bytes) / page * page;
  if (end > begin) ::madvise(reinterpret_cast<void*>(begin), end - begin, MADV_DONTNEED);  // best effort
}

bool populate_pages(void* p, size_t bytes) {
#ifdef MADV_POPULATE_WRITE
  if (bytes == 0) return true;
  const uintptr_t begin = reinterpret_cast<uintptr_t>(p) / page_size() * page_size();
  const uintptr_t end = reinterpret_cast<uintptr_t>(p) + bytes;
  return ::madvise(reinterpret_cast<void*>(begin), end - begin, MADV_POPULATE_WRITE) == 0;
#else
  (void)p;
  (void)bytes;
  return false;
#endif
}

size_t resident_bytes(const void* p, size_t bytes) {
  if (bytes == 0) return 0;
  const uintptr_t page = page_size();
  const uintptr_t begin = reinterpret_cast<uintptr_t>(p) / page * page;
  const uintptr_t end = reinterpret_cast<uintptr_t>(p) + bytes;
  std::vector<unsigned char> in((end - begin + page - 1) / page);
  if (::mincore(reinterpret_cast<void*>(begin), end - begin, in.data()) != 0) return 0;
  size_t n = 0;
  for (unsigned char c : in) n += c & 1u;
  return n * page;
}

}  // namespace attend
