//===- Files.cpp - Reading whole files, with limits -----------------------===//

#include "runtime/Files.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <new>
#include <sys/stat.h>
#include <unistd.h>

namespace attn::rt {

namespace {
// Closes the descriptor on every path out of readFileBytes.
struct Descriptor {
  int fd;
  ~Descriptor() {
    if (fd >= 0)
      ::close(fd);
  }
};
} // namespace

std::string readFileBytes(const std::string &path, size_t maxBytes,
                          std::string &bytes) {
  bytes.clear();
  // O_NONBLOCK: opening a FIFO must not wait for a writer; the type check
  // below refuses it. The type is checked on the open descriptor, so the
  // file cannot change between the check and the read.
  Descriptor d{::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK)};
  if (d.fd < 0)
    return path + ": cannot open the file (" + std::strerror(errno) +
           "); check the path";
  struct stat st;
  if (::fstat(d.fd, &st) != 0)
    return path + ": cannot stat the file (" + std::strerror(errno) + ")";
  if (S_ISDIR(st.st_mode))
    return path + ": is a directory; pass the path of a file";
  if (!S_ISREG(st.st_mode))
    return path + ": not a regular file (a device, pipe or socket); pass "
                  "the path of a file";
  const size_t size = size_t(st.st_size);
  if (size > maxBytes)
    return path + ": " + std::to_string(size) + " bytes, more than the " +
           std::to_string(maxBytes) +
           " this kind of file may have; is it the right file?";
  try {
    bytes.resize(size);
  } catch (const std::bad_alloc &) {
    return path + ": cannot allocate " + std::to_string(size) +
           " bytes to read it";
  }
  size_t done = 0;
  while (done < size) {
    ssize_t n = ::read(d.fd, &bytes[done], size - done);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      return path + ": read failed (" + std::strerror(errno) + ")";
    if (n == 0)
      break; // the file shrank while being read: keep what was there
    done += size_t(n);
  }
  bytes.resize(done);
  return "";
}

} // namespace attn::rt
