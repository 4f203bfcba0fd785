// Content-addressed storage for artifacts: each distinct content is stored
// once, under its sha256, and never changes after it is written.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "util/error.h"

namespace tauon::artifacts {

class ArtifactStore {
 public:
  // `root` holds the blobs (root/sha256/ab/cdef...); created on first Put.
  explicit ArtifactStore(std::filesystem::path root) : root_(std::move(root)) {}

  // Stores the content of `file` and returns its digest, "sha256:<hex>".
  // Durable (fsync'd) when it returns; storing existing content is a no-op.
  Result<std::string> Put(const std::filesystem::path& file);
  // Where the content with `digest` lives; fails for a malformed digest.
  Result<std::filesystem::path> PathOf(std::string_view digest) const;
  // Copies stored content to `destination` (parents created) with `mode`.
  Status Restore(std::string_view digest, const std::filesystem::path& destination,
                 int mode) const;

 private:
  std::filesystem::path root_;
};

struct WorkspaceFile {
  std::string path;  // Relative to the workspace, '/'-separated.
  std::filesystem::path absolute;
  int64_t size = 0;
  int mode = 0644;
};

// The regular files named by artifact `patterns` (files or directories,
// relative to `workspace`). Fails if a path does not exist, escapes the
// workspace ('..', absolute, or a symlink pointing out), or is a special file.
Result<std::vector<WorkspaceFile>> FindArtifactFiles(const std::filesystem::path& workspace,
                                                     const std::vector<std::string>& patterns);

}  // namespace tauon::artifacts
