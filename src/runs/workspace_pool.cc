#include "runs/workspace_pool.h"

#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include <time.h>

namespace tauon::runs {
namespace {

namespace fs = std::filesystem;

// Coarse timestamps tick at most every 10 ms (HZ=100); twice that is safe.
constexpr int64_t kCtimeGranuleNs = 20'000'000;

int64_t Nanos(const timespec& t) { return int64_t{t.tv_sec} * 1'000'000'000 + t.tv_nsec; }

struct Fd {
  int fd;
  explicit Fd(int f) : fd(f) {}
  ~Fd() {
    if (fd >= 0) close(fd);
  }
};

// Copies `from` to the new file `to` with the kernel's copy_file_range.
Status CopyContent(const fs::path& from, const fs::path& to, mode_t mode, struct stat* copied) {
  Fd in(open(from.c_str(), O_RDONLY | O_CLOEXEC));
  if (in.fd < 0) return Fail("cannot read {}: {}", from.string(), strerror(errno));
  Fd out(open(to.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode & 07777));
  if (out.fd < 0) return Fail("cannot create {}: {}", to.string(), strerror(errno));
  while (true) {
    ssize_t n = copy_file_range(in.fd, nullptr, out.fd, nullptr, 1 << 30, 0);
    if (n == 0) break;
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Fail("cannot copy {}: {}", from.string(), strerror(errno));
  }
  if (fchmod(out.fd, mode & 07777) != 0 || fstat(out.fd, copied) != 0) {
    return Fail("cannot finish {}: {}", to.string(), strerror(errno));
  }
  return Ok();
}

}  // namespace

Status WorkspacePool::ScanCheckout() {
  std::error_code ec;
  for (fs::recursive_directory_iterator it(checkout_, ec), end; !ec && it != end;
       it.increment(ec)) {
    Entry entry;
    entry.path = it->path().lexically_relative(checkout_).generic_string();
    struct stat st;
    if (lstat(it->path().c_str(), &st) != 0) {
      return Fail("cannot read {}: {}", it->path().string(), strerror(errno));
    }
    entry.mode = st.st_mode;
    if (S_ISLNK(st.st_mode)) entry.link_target = fs::read_symlink(it->path(), ec).string();
    if (!S_ISDIR(st.st_mode) && !S_ISREG(st.st_mode) && !S_ISLNK(st.st_mode)) continue;
    index_[entry.path] = manifest_.size();
    manifest_.push_back(std::move(entry));
  }
  if (ec) return Fail("cannot read the checkout {}: {}", checkout_.string(), ec.message());
  scanned_ = true;
  return Ok();
}

Result<fs::path> WorkspacePool::Acquire(const std::string& name) {
  if (!scanned_) {
    if (Status scanned = ScanCheckout(); !scanned) return std::unexpected(scanned.error());
  }
  Workspace workspace;
  bool reused = !free_.empty();
  if (reused) {
    workspace = std::move(free_.back());
    free_.pop_back();
    if (Status cleaned = Clean(workspace); !cleaned) return std::unexpected(cleaned.error());
  } else {
    workspace.dir = root_ / name;
    std::error_code ec;
    fs::remove_all(workspace.dir, ec);
    fs::create_directories(workspace.dir, ec);
    if (ec) return Fail("cannot create the workspace {}: {}", workspace.dir.string(), ec.message());
  }
  if (Status filled = Fill(workspace); !filled) return std::unexpected(filled.error());
  clock_gettime(CLOCK_REALTIME, &workspace.acquired);
  fs::path dir = workspace.dir;
  in_use_[dir] = std::move(workspace);
  return dir;
}

void WorkspacePool::Release(const fs::path& dir) {
  auto it = in_use_.find(dir);
  if (it == in_use_.end()) return;
  free_.push_back(std::move(it->second));
  in_use_.erase(it);
}

Status WorkspacePool::Clean(Workspace& workspace) {
  std::vector<fs::path> doomed;
  std::map<std::string, Copied> kept;  // Copied files found unchanged; the rest is gone.
  std::error_code ec;
  for (fs::recursive_directory_iterator it(workspace.dir, ec), end; !ec && it != end;
       it.increment(ec)) {
    std::string path = it->path().lexically_relative(workspace.dir).generic_string();
    auto found = index_.find(path);
    struct stat st;
    bool keep = found != index_.end() && lstat(it->path().c_str(), &st) == 0;
    if (keep) {
      const Entry& entry = manifest_[found->second];
      if ((st.st_mode & S_IFMT) != (entry.mode & S_IFMT)) {
        keep = false;
      } else if (S_ISLNK(st.st_mode)) {
        keep = fs::read_symlink(it->path(), ec).string() == entry.link_target;
        ec.clear();
      } else if (S_ISREG(st.st_mode)) {
        auto copied = workspace.files.find(path);
        keep = copied != workspace.files.end() && copied->second.inode == st.st_ino &&
               copied->second.size == st.st_size &&
               Nanos(copied->second.ctime) == Nanos(st.st_ctim) &&
               st.st_mode == entry.mode;
        // A change in the same timestamp granule as the copy keeps the ctime.
        if (keep && Nanos(workspace.acquired) - Nanos(st.st_ctim) < kCtimeGranuleNs) {
          keep = SameContent(path, it->path());
        }
      }
    }
    if (keep) {
      if (S_ISREG(st.st_mode)) kept[path] = workspace.files[path];
      continue;
    }
    if (it->is_directory(ec) && !it->is_symlink(ec)) it.disable_recursion_pending();
    ec.clear();
    doomed.push_back(it->path());
  }
  if (ec) return Fail("cannot clean the workspace {}: {}", workspace.dir.string(), ec.message());
  workspace.files = std::move(kept);
  for (const fs::path& path : doomed) {
    fs::remove_all(path, ec);
    if (ec) return Fail("cannot clean {}: {}", path.string(), ec.message());
  }
  return Ok();
}

Status WorkspacePool::Fill(Workspace& workspace) {
  for (const Entry& entry : manifest_) {
    fs::path target = workspace.dir / entry.path;
    if (S_ISREG(entry.mode)) {
      if (workspace.files.contains(entry.path)) continue;
      if (Status copied = CopyFile(entry, workspace); !copied) return copied;
      continue;
    }
    std::error_code ec;
    if (fs::exists(fs::symlink_status(target, ec))) continue;  // Kept by Clean().
    if (S_ISDIR(entry.mode)) {
      fs::create_directory(target, ec);
      if (!ec) fs::permissions(target, static_cast<fs::perms>(entry.mode & 07777), ec);
    } else {
      fs::create_symlink(entry.link_target, target, ec);
    }
    if (ec) return Fail("cannot create {}: {}", target.string(), ec.message());
  }
  return Ok();
}

Status WorkspacePool::CopyFile(const Entry& entry, Workspace& workspace) {
  struct stat st;
  Status copied = CopyContent(checkout_ / entry.path, workspace.dir / entry.path, entry.mode, &st);
  if (!copied) return copied;
  workspace.files[entry.path] = Copied{st.st_ino, st.st_size, st.st_ctim};
  return Ok();
}

bool WorkspacePool::SameContent(const std::string& path, const fs::path& copy) const {
  Fd a(open((checkout_ / path).c_str(), O_RDONLY | O_CLOEXEC));
  Fd b(open(copy.c_str(), O_RDONLY | O_CLOEXEC));
  if (a.fd < 0 || b.fd < 0) return false;
  std::vector<char> x(1 << 16), y(1 << 16);
  while (true) {
    ssize_t n = read(a.fd, x.data(), x.size());
    if (n < 0) return false;
    ssize_t got = 0;
    while (got < n) {
      ssize_t m = read(b.fd, y.data() + got, static_cast<size_t>(n - got));
      if (m <= 0) return false;
      got += m;
    }
    if (n == 0) return read(b.fd, y.data(), 1) == 0;
    if (memcmp(x.data(), y.data(), static_cast<size_t>(n)) != 0) return false;
  }
}

}  // namespace tauon::runs
