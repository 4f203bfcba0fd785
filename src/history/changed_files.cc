#include "history/changed_files.h"

#include <git2.h>

#include <algorithm>
#include <memory>

namespace tauon::history {
namespace {

template <typename T, void (*Free)(T*)>
struct Deleter {
  void operator()(T* p) const { Free(p); }
};
using Commit = std::unique_ptr<git_commit, Deleter<git_commit, git_commit_free>>;
using Tree = std::unique_ptr<git_tree, Deleter<git_tree, git_tree_free>>;
using Diff = std::unique_ptr<git_diff, Deleter<git_diff, git_diff_free>>;

std::string GitError() {
  const git_error* e = git_error_last();
  return e && e->message ? e->message : "unknown libgit2 error";
}

std::string_view WithoutExtension(std::string_view path) {
  size_t slash = path.rfind('/');
  size_t dot = path.rfind('.');
  if (dot != std::string_view::npos && (slash == std::string_view::npos || dot > slash)) {
    return path.substr(0, dot);
  }
  return path;
}

}  // namespace

Result<std::vector<std::string>> ChangedFiles(scm::GitRepository& repo, const std::string& sha) {
  git_oid oid;
  if (git_oid_fromstr(&oid, sha.c_str()) != 0) return Fail("not a commit id: '{}'", sha);
  git_commit* raw_commit = nullptr;
  if (git_commit_lookup(&raw_commit, repo.raw(), &oid) != 0) {
    return Fail("cannot read commit {}: {}", sha, GitError());
  }
  Commit commit(raw_commit);
  git_tree* raw_tree = nullptr;
  if (git_commit_tree(&raw_tree, commit.get()) != 0) return Fail("{}", GitError());
  Tree tree(raw_tree);
  Tree parent_tree;
  if (git_commit_parentcount(commit.get()) > 0) {
    git_commit* raw_parent = nullptr;
    if (git_commit_parent(&raw_parent, commit.get(), 0) != 0) return Fail("{}", GitError());
    Commit parent(raw_parent);
    git_tree* raw_parent_tree = nullptr;
    if (git_commit_tree(&raw_parent_tree, parent.get()) != 0) return Fail("{}", GitError());
    parent_tree.reset(raw_parent_tree);
  }
  git_diff* raw_diff = nullptr;
  if (git_diff_tree_to_tree(&raw_diff, repo.raw(), parent_tree.get(), tree.get(), nullptr) != 0) {
    return Fail("cannot diff commit {}: {}", sha, GitError());
  }
  Diff diff(raw_diff);
  std::vector<std::string> paths;
  size_t n = git_diff_num_deltas(diff.get());
  for (size_t i = 0; i < n && paths.size() < kMaxChangedFiles; ++i) {
    const git_diff_delta* delta = git_diff_get_delta(diff.get(), i);
    const char* path = delta->new_file.path ? delta->new_file.path : delta->old_file.path;
    if (path) paths.emplace_back(path);
  }
  std::sort(paths.begin(), paths.end());
  return paths;
}

Status RecordChangedFiles(store::Database& db, int64_t run_id,
                          const std::vector<std::string>& paths) {
  return db.Transaction([&]() -> Status {
    for (const std::string& path : paths) {
      Result<store::Statement> insert =
          db.Prepare("INSERT OR IGNORE INTO run_changed_files (run_id, path) VALUES (?, ?)");
      if (!insert) return std::unexpected(insert.error());
      if (Status ok = insert->Bind(1, run_id).Bind(2, path).Run(); !ok) return ok;
    }
    return Ok();
  });
}

Result<std::map<int64_t, std::vector<std::string>>> ChangedFilesOfRuns(store::Database& db,
                                                                        std::string_view repo) {
  Result<store::Statement> query = db.Prepare(
      "SELECT c.run_id, c.path FROM run_changed_files c JOIN runs r ON c.run_id = r.id "
      "WHERE r.repo = ? ORDER BY c.run_id, c.path");
  if (!query) return std::unexpected(query.error());
  query->Bind(1, repo);
  std::map<int64_t, std::vector<std::string>> out;
  while (true) {
    Result<bool> row = query->Step();
    if (!row) return std::unexpected(row.error());
    if (!*row) return out;
    out[query->Int(0)].push_back(query->Text(1));
  }
}

bool TestFileChanged(std::string_view classname, const std::vector<std::string>& changed) {
  if (classname.empty() || changed.empty()) return false;
  std::string candidate(classname);
  std::replace(candidate.begin(), candidate.end(), '.', '/');
  while (!candidate.empty()) {
    for (const std::string& path : changed) {
      std::string_view stem = WithoutExtension(path);
      if (stem == candidate ||
          (stem.size() > candidate.size() && stem.ends_with(candidate) &&
           stem[stem.size() - candidate.size() - 1] == '/')) {
        return true;
      }
    }
    size_t slash = candidate.rfind('/');
    if (slash == std::string::npos) break;
    candidate.resize(slash);
  }
  return false;
}

}  // namespace tauon::history
