#include "scm/git.h"

#include <git2.h>

#include <fstream>
#include <set>

namespace tauon::scm {
namespace {

// libgit2 needs one global initialisation per process.
void EnsureInitialized() {
  static const int initialized = [] {
    git_libgit2_init();
    // Repositories made by other users (e.g. a CI checkout) are still ours to read.
    git_libgit2_opts(GIT_OPT_SET_OWNER_VALIDATION, 0);
    return 1;
  }();
  (void)initialized;
}

// Owns a libgit2 object through its free function.
template <typename T, void (*Free)(T*)>
struct GitPtr {
  T* ptr = nullptr;
  GitPtr() = default;
  GitPtr(const GitPtr&) = delete;
  ~GitPtr() {
    if (ptr) Free(ptr);
  }
  T** out() { return &ptr; }
  T* get() const { return ptr; }
};

using Object = GitPtr<git_object, git_object_free>;
using Commit = GitPtr<git_commit, git_commit_free>;
using Tree = GitPtr<git_tree, git_tree_free>;
using TreeEntry = GitPtr<git_tree_entry, git_tree_entry_free>;
using Blob = GitPtr<git_blob, git_blob_free>;
using Reference = GitPtr<git_reference, git_reference_free>;
using Index = GitPtr<git_index, git_index_free>;
using StatusList = GitPtr<git_status_list, git_status_list_free>;

std::string OidHex(const git_oid* oid) {
  char hex[GIT_OID_HEXSZ + 1];
  git_oid_tostr(hex, sizeof hex, oid);
  return hex;
}

Status CopyPath(const std::filesystem::path& from, const std::filesystem::path& to) {
  std::error_code ec;
  std::filesystem::create_directories(to.parent_path(), ec);
  if (ec) return Fail("cannot create {}: {}", to.parent_path().string(), ec.message());
  std::filesystem::file_status status = std::filesystem::symlink_status(from, ec);
  if (ec) return Fail("cannot read {}: {}", from.string(), ec.message());
  if (std::filesystem::is_symlink(status)) {
    std::filesystem::copy_symlink(from, to, ec);
  } else if (std::filesystem::is_regular_file(status)) {
    std::filesystem::copy_file(from, to, std::filesystem::copy_options::overwrite_existing, ec);
  }
  if (ec) return Fail("cannot copy {}: {}", from.string(), ec.message());
  return Ok();
}

}  // namespace

std::string LastGitError() {
  const git_error* error = git_error_last();
  return error && error->message ? error->message : "unknown libgit2 error";
}

Result<std::unique_ptr<GitRepository>> GitRepository::Open(const std::filesystem::path& path) {
  EnsureInitialized();
  git_repository* repo = nullptr;
  if (git_repository_open_ext(&repo, path.c_str(), GIT_REPOSITORY_OPEN_NO_SEARCH, nullptr) != 0) {
    return Fail("{} is not a git repository ({})", path.string(), LastGitError());
  }
  return std::unique_ptr<GitRepository>(new GitRepository(repo));
}

GitRepository::~GitRepository() { git_repository_free(repo_); }

std::filesystem::path GitRepository::workdir() const {
  const char* dir = git_repository_workdir(repo_);
  return dir ? std::filesystem::path(dir) : std::filesystem::path();
}

Result<CommitInfo> GitRepository::Resolve(std::string_view ref) {
  std::string spec = ref.empty() ? "HEAD" : std::string(ref);
  Object object;
  Reference reference;
  if (git_revparse_ext(object.out(), reference.out(), repo_, spec.c_str()) != 0) {
    if (ref.empty() && git_repository_head_unborn(repo_) == 1) {
      return Fail("the repository has no commits yet: commit something, or use --worktree");
    }
    return Fail("cannot resolve '{}': {}", spec, LastGitError());
  }
  Commit commit;
  if (git_object_peel(reinterpret_cast<git_object**>(commit.out()), object.get(),
                      GIT_OBJECT_COMMIT) != 0) {
    return Fail("'{}' does not name a commit: {}", spec, LastGitError());
  }
  CommitInfo info;
  info.sha = OidHex(git_commit_id(commit.get()));
  const char* summary = git_commit_summary(commit.get());
  info.subject = summary ? summary : "";
  const git_signature* author = git_commit_author(commit.get());
  if (author) info.author = fmt::format("{} <{}>", author->name, author->email);
  info.time = TimePoint(Duration(static_cast<int64_t>(git_commit_time(commit.get())) * 1000));

  // The branch: the ref itself if it is a branch, or HEAD's branch for "HEAD".
  git_reference* branch_ref = reference.get();
  Reference resolved;
  if (branch_ref && git_reference_type(branch_ref) == GIT_REFERENCE_SYMBOLIC) {
    if (git_reference_resolve(resolved.out(), branch_ref) == 0) branch_ref = resolved.get();
  }
  if (branch_ref && git_reference_is_branch(branch_ref)) {
    info.branch = git_reference_shorthand(branch_ref);
  } else if (branch_ref && git_reference_is_remote(branch_ref)) {
    std::string name = git_reference_shorthand(branch_ref);  // "origin/main"
    info.branch = name.substr(name.find('/') + 1);
  }
  return info;
}

std::string GitRepository::DefaultBranch() {
  auto symbolic_target = [&](const char* name) -> std::string {
    Reference ref;
    if (git_reference_lookup(ref.out(), repo_, name) != 0) return "";
    if (git_reference_type(ref.get()) != GIT_REFERENCE_SYMBOLIC) return "";
    const char* target = git_reference_symbolic_target(ref.get());
    return target ? target : "";
  };
  std::string origin = symbolic_target("refs/remotes/origin/HEAD");
  if (origin.starts_with("refs/remotes/origin/")) return origin.substr(20);
  if (git_repository_is_bare(repo_)) {
    std::string head = symbolic_target("HEAD");
    if (head.starts_with("refs/heads/")) {
      Reference exists;
      if (git_reference_lookup(exists.out(), repo_, head.c_str()) == 0) return head.substr(11);
    }
  }
  for (const char* usual : {"main", "master"}) {
    Reference branch;
    if (git_reference_lookup(branch.out(), repo_, fmt::format("refs/heads/{}", usual).c_str()) == 0) {
      return usual;
    }
  }
  return "";
}

Result<std::optional<std::string>> GitRepository::ReadFile(const std::string& sha,
                                                           std::string_view path) {
  git_oid oid;
  if (git_oid_fromstr(&oid, sha.c_str()) != 0) return Fail("invalid commit id '{}'", sha);
  Commit commit;
  if (git_commit_lookup(commit.out(), repo_, &oid) != 0) {
    return Fail("cannot read commit {}: {}", sha, LastGitError());
  }
  Tree tree;
  if (git_commit_tree(tree.out(), commit.get()) != 0) {
    return Fail("cannot read the tree of {}: {}", sha, LastGitError());
  }
  TreeEntry entry;
  std::string file(path);
  if (git_tree_entry_bypath(entry.out(), tree.get(), file.c_str()) != 0) {
    return std::optional<std::string>();
  }
  if (git_tree_entry_type(entry.get()) != GIT_OBJECT_BLOB) {
    return Fail("{} in commit {} is not a file", file, sha.substr(0, 12));
  }
  Blob blob;
  if (git_blob_lookup(blob.out(), repo_, git_tree_entry_id(entry.get())) != 0) {
    return Fail("cannot read {} in {}: {}", file, sha.substr(0, 12), LastGitError());
  }
  const char* data = static_cast<const char*>(git_blob_rawcontent(blob.get()));
  return std::optional<std::string>(
      std::string(data, static_cast<size_t>(git_blob_rawsize(blob.get()))));
}

Status GitRepository::Checkout(const std::string& sha, const std::filesystem::path& dir) {
  git_oid oid;
  if (git_oid_fromstr(&oid, sha.c_str()) != 0) return Fail("invalid commit id '{}'", sha);
  Object commit;
  if (git_object_lookup(commit.out(), repo_, &oid, GIT_OBJECT_COMMIT) != 0) {
    return Fail("cannot read commit {}: {}", sha, LastGitError());
  }
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return Fail("cannot create {}: {}", dir.string(), ec.message());
  git_checkout_options options = GIT_CHECKOUT_OPTIONS_INIT;
  options.checkout_strategy = GIT_CHECKOUT_FORCE | GIT_CHECKOUT_DONT_UPDATE_INDEX |
                              GIT_CHECKOUT_DONT_WRITE_INDEX;
  std::string target = dir.string();
  options.target_directory = target.c_str();
  // A private index, so the repository's own index is never read or changed.
  Index index;
  if (git_index_new(index.out()) != 0) return Fail("cannot create an index: {}", LastGitError());
  options.baseline_index = index.get();
  if (git_checkout_tree(repo_, commit.get(), &options) != 0) {
    return Fail("cannot check out {} into {}: {}", sha.substr(0, 12), target, LastGitError());
  }
  return Ok();
}

Status GitRepository::CopyWorkTree(const std::filesystem::path& dir,
                                   const std::optional<std::filesystem::path>& exclude) {
  std::filesystem::path root = workdir();
  if (root.empty()) return Fail("a bare repository has no work tree to run");
  std::set<std::string> paths;
  Index index;
  if (git_repository_index(index.out(), repo_) != 0) {
    return Fail("cannot read the index: {}", LastGitError());
  }
  for (size_t i = 0; i < git_index_entrycount(index.get()); ++i) {
    const git_index_entry* entry = git_index_get_byindex(index.get(), i);
    if ((entry->mode & 0170000) != 0160000) paths.insert(entry->path);  // Not submodules.
  }
  git_status_options options = GIT_STATUS_OPTIONS_INIT;
  options.show = GIT_STATUS_SHOW_WORKDIR_ONLY;
  options.flags = GIT_STATUS_OPT_INCLUDE_UNTRACKED | GIT_STATUS_OPT_RECURSE_UNTRACKED_DIRS;
  StatusList status;
  if (git_status_list_new(status.out(), repo_, &options) != 0) {
    return Fail("cannot list the work tree: {}", LastGitError());
  }
  for (size_t i = 0; i < git_status_list_entrycount(status.get()); ++i) {
    const git_status_entry* entry = git_status_byindex(status.get(), i);
    if ((entry->status & GIT_STATUS_WT_NEW) && entry->index_to_workdir) {
      paths.insert(entry->index_to_workdir->new_file.path);
    }
  }
  std::optional<std::filesystem::path> excluded;
  if (exclude) excluded = std::filesystem::weakly_canonical(*exclude);
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  for (const std::string& path : paths) {
    std::filesystem::path source = root / path;
    if (!std::filesystem::exists(std::filesystem::symlink_status(source))) continue;  // Deleted.
    if (excluded) {
      std::filesystem::path canonical = std::filesystem::weakly_canonical(source.parent_path());
      auto [end, _] = std::mismatch(excluded->begin(), excluded->end(), canonical.begin(),
                                    canonical.end());
      if (end == excluded->end()) continue;
    }
    if (Status copied = CopyPath(source, dir / path); !copied) return copied;
  }
  return Ok();
}

}  // namespace tauon::scm
