#include "util/files.h"

#include <fcntl.h>
#include <string.h>
#include <unistd.h>

namespace tauon {

Result<std::string> ReadFileToString(const std::filesystem::path& path) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Fail("cannot read {}: {}", path.string(), strerror(errno));
  std::string content;
  char buffer[1 << 16];
  while (true) {
    ssize_t n = read(fd, buffer, sizeof buffer);
    if (n == 0) break;
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int error = errno;
      close(fd);
      return Fail("cannot read {}: {}", path.string(), strerror(error));
    }
    content.append(buffer, static_cast<size_t>(n));
  }
  close(fd);
  return content;
}

}  // namespace tauon
