// Git repositories through libgit2: resolving refs, reading files from
// commits and writing a commit's tree into a directory.
#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "util/clock.h"
#include "util/error.h"

struct git_repository;

namespace tauon::scm {

struct CommitInfo {
  std::string sha;      // Full hex object id.
  std::string branch;   // The branch the ref names (or HEAD is on); "" when detached.
  std::string subject;  // First line of the message.
  std::string author;   // "Name <email>"
  TimePoint time;
};

class GitRepository {
 public:
  // Opens the repository at `path` (a work tree or a bare repository).
  static Result<std::unique_ptr<GitRepository>> Open(const std::filesystem::path& path);
  ~GitRepository();

  // Resolves a commit-ish: "" (HEAD), a branch, a tag, a sha, "HEAD~2", ...
  Result<CommitInfo> Resolve(std::string_view ref);

  // The content of `path` in commit `sha`, nullopt if the commit has no such file.
  Result<std::optional<std::string>> ReadFile(const std::string& sha, std::string_view path);

  // Writes the tree of commit `sha` into `dir` (created; must not exist or be
  // empty), with file modes and symlinks. Touches neither HEAD nor the index.
  Status Checkout(const std::string& sha, const std::filesystem::path& dir);

  // Copies the work tree as it is (tracked files and untracked files that are
  // not ignored) into `dir`, leaving out paths under `exclude` if set.
  Status CopyWorkTree(const std::filesystem::path& dir,
                      const std::optional<std::filesystem::path>& exclude);

  // The repository's default branch: origin's HEAD, else (a bare mirror)
  // HEAD, else "main" or "master" if there is such a branch; "" otherwise.
  std::string DefaultBranch();

  // The work tree, or "" for a bare repository.
  std::filesystem::path workdir() const;

  // The libgit2 handle, still owned by this object; for code in scm/ that needs
  // libgit2 calls this wrapper does not offer (e.g. Mirror's remotes and fetches).
  git_repository* raw() const { return repo_; }

 private:
  explicit GitRepository(git_repository* repo) : repo_(repo) {}
  git_repository* repo_;
};

// The last libgit2 error as text.
std::string LastGitError();

}  // namespace tauon::scm
