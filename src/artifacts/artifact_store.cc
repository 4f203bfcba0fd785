#include "artifacts/artifact_store.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <map>
#include <memory>

namespace tauon::artifacts {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kPrefix = "sha256:";

struct Fd {
  int fd = -1;
  explicit Fd(int f) : fd(f) {}
  ~Fd() {
    if (fd >= 0) close(fd);
  }
};

// True if `path` is `root` or inside it. Both must be canonical.
bool IsWithin(const fs::path& path, const fs::path& root) {
  auto [end, _] = std::mismatch(root.begin(), root.end(), path.begin(), path.end());
  return end == root.end();
}

Status WriteAll(int fd, const char* data, size_t size) {
  while (size > 0) {
    ssize_t n = write(fd, data, size);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Fail("write failed: {}", strerror(errno));
    data += n;
    size -= static_cast<size_t>(n);
  }
  return Ok();
}

}  // namespace

Result<std::string> ArtifactStore::Put(const fs::path& file) {
  std::error_code ec;
  fs::create_directories(root_ / "tmp", ec);
  if (ec) return Fail("cannot create {}: {}", (root_ / "tmp").string(), ec.message());
  Fd in(open(file.c_str(), O_RDONLY | O_CLOEXEC));
  if (in.fd < 0) return Fail("cannot read {}: {}", file.string(), strerror(errno));
  std::string temp_template = (root_ / "tmp" / "blob-XXXXXX").string();
  Fd out(mkostemp(temp_template.data(), O_CLOEXEC));
  if (out.fd < 0) return Fail("cannot create a file in {}: {}", root_.string(), strerror(errno));
  fs::path temp(temp_template);

  // Hash while copying: one pass over the data.
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> hash(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  EVP_DigestInit_ex(hash.get(), EVP_sha256(), nullptr);
  std::vector<char> buffer(1 << 16);
  Status status = Ok();
  while (true) {
    ssize_t n = read(in.fd, buffer.data(), buffer.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      status = Fail("cannot read {}: {}", file.string(), strerror(errno));
      break;
    }
    if (n == 0) break;
    EVP_DigestUpdate(hash.get(), buffer.data(), static_cast<size_t>(n));
    if (status = WriteAll(out.fd, buffer.data(), static_cast<size_t>(n)); !status) break;
  }
  if (status && fsync(out.fd) != 0) status = Fail("fsync failed: {}", strerror(errno));
  if (!status) {
    fs::remove(temp, ec);
    return std::unexpected(status.error());
  }
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_DigestFinal_ex(hash.get(), digest, &length);
  std::string hex;
  for (unsigned int i = 0; i < length; ++i) hex += fmt::format("{:02x}", digest[i]);
  std::string name = std::string(kPrefix) + hex;

  fs::path final_path = root_ / "sha256" / hex.substr(0, 2) / hex.substr(2);
  if (fs::exists(final_path)) {
    fs::remove(temp, ec);
    return name;
  }
  fs::create_directories(final_path.parent_path(), ec);
  fchmod(out.fd, 0444);
  if (rename(temp.c_str(), final_path.c_str()) != 0) {
    int saved = errno;
    fs::remove(temp, ec);
    return Fail("cannot store {}: {}", file.string(), strerror(saved));
  }
  // Make the rename durable.
  Fd dir(open(final_path.parent_path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dir.fd >= 0) fsync(dir.fd);
  return name;
}

Result<fs::path> ArtifactStore::PathOf(std::string_view digest) const {
  if (!digest.starts_with(kPrefix)) return Fail("invalid digest '{}'", digest);
  std::string_view hex = digest.substr(kPrefix.size());
  if (hex.size() != 64 || hex.find_first_not_of("0123456789abcdef") != std::string_view::npos) {
    return Fail("invalid digest '{}'", digest);
  }
  return root_ / "sha256" / std::string(hex.substr(0, 2)) / std::string(hex.substr(2));
}

Status ArtifactStore::Restore(std::string_view digest, const fs::path& destination,
                              int mode) const {
  Result<fs::path> source = PathOf(digest);
  if (!source) return std::unexpected(source.error());
  std::error_code ec;
  fs::create_directories(destination.parent_path(), ec);
  if (ec) return Fail("cannot create {}: {}", destination.parent_path().string(), ec.message());
  fs::remove(destination, ec);  // Never write through a symlink or into a shared inode.
  fs::copy_file(*source, destination, ec);
  if (ec) return Fail("cannot restore {}: {}", destination.string(), ec.message());
  fs::permissions(destination, static_cast<fs::perms>(mode & 0777), ec);
  return Ok();
}

Result<std::vector<WorkspaceFile>> FindArtifactFiles(const fs::path& workspace,
                                                     const std::vector<std::string>& patterns) {
  std::error_code ec;
  fs::path root = fs::canonical(workspace, ec);
  if (ec) return Fail("cannot read workspace {}: {}", workspace.string(), ec.message());
  std::map<std::string, WorkspaceFile> files;  // Sorted, without duplicates.

  // Adds the file at `path` (relative name `name`), refusing escapes.
  auto add_file = [&](const fs::path& path, const std::string& name,
                      const std::string& pattern) -> Status {
    fs::path real = fs::canonical(path, ec);
    if (ec) return Fail("artifact '{}': {} is a broken symlink", pattern, name);
    if (!IsWithin(real, root)) {
      return Fail("artifact '{}': {} points outside the workspace (to {})", pattern, name,
                  real.string());
    }
    struct stat st;
    if (stat(real.c_str(), &st) != 0) return Fail("artifact '{}': cannot read {}", pattern, name);
    if (S_ISDIR(st.st_mode)) {
      return Fail("artifact '{}': {} is a symlink to a directory, which is not supported", pattern,
                  name);
    }
    if (!S_ISREG(st.st_mode)) return Fail("artifact '{}': {} is not a regular file", pattern, name);
    files[name] = WorkspaceFile{name, real, static_cast<int64_t>(st.st_size),
                                static_cast<int>(st.st_mode & 0777)};
    return Ok();
  };

  for (const std::string& pattern : patterns) {
    fs::path relative = fs::path(pattern).lexically_normal();
    if (relative.is_absolute() || relative.empty() || *relative.begin() == "..") {
      return Fail("artifact '{}' is outside the workspace", pattern);
    }
    fs::path path = root / relative;
    fs::file_status status = fs::symlink_status(path, ec);
    if (ec || !fs::exists(status)) {
      return Fail("artifact '{}' does not exist in the workspace", pattern);
    }
    // Every directory on the way must itself stay inside the workspace.
    fs::path parent = fs::canonical(path.parent_path(), ec);
    if (ec || !IsWithin(parent, root)) {
      return Fail("artifact '{}' is outside the workspace (through a symlinked directory)",
                  pattern);
    }
    if (!fs::is_directory(status)) {
      std::string name = relative.generic_string();
      if (!name.empty() && name.back() == '/') name.pop_back();
      if (Status ok = add_file(path, name, pattern); !ok) return std::unexpected(ok.error());
      continue;
    }
    for (fs::recursive_directory_iterator it(path, ec), end; !ec && it != end; it.increment(ec)) {
      fs::file_status entry_status = it->symlink_status(ec);
      if (ec) break;
      if (fs::is_directory(entry_status)) continue;
      std::string name = it->path().lexically_relative(root).generic_string();
      if (Status ok = add_file(it->path(), name, pattern); !ok) return std::unexpected(ok.error());
    }
    if (ec) return Fail("artifact '{}': cannot list {}: {}", pattern, path.string(), ec.message());
  }
  std::vector<WorkspaceFile> out;
  for (auto& [name, file] : files) out.push_back(std::move(file));
  return out;
}

}  // namespace tauon::artifacts
