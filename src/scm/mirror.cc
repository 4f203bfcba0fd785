#include "scm/mirror.h"

#include <git2.h>

#include <algorithm>
#include <fstream>
#include <optional>
#include <system_error>

namespace tauon::scm {
namespace {

constexpr const char* kHeadsRefspec = "+refs/heads/*:refs/heads/*";
constexpr const char* kTagsRefspec = "+refs/tags/*:refs/tags/*";

// git_repository_init may run before anything else touched libgit2 in this
// process; git_libgit2_init is reference counted, so one extra count is harmless.
void EnsureLibgit2() {
  static const int initialized = git_libgit2_init();
  (void)initialized;
}

template <typename T, void (*Free)(T*)>
struct Owned {
  T* ptr = nullptr;
  Owned() = default;
  Owned(const Owned&) = delete;
  Owned& operator=(const Owned&) = delete;
  ~Owned() {
    if (ptr) Free(ptr);
  }
  T** out() { return &ptr; }
  T* get() const { return ptr; }
};

using Remote = Owned<git_remote, git_remote_free>;
using Config = Owned<git_config, git_config_free>;
using Reference = Owned<git_reference, git_reference_free>;
using BranchIterator = Owned<git_branch_iterator, git_branch_iterator_free>;

// The "user:password" of a scheme://user:password@host/... URL, or "".
std::string_view UserInfo(std::string_view url) {
  size_t scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) return "";
  std::string_view rest = url.substr(scheme_end + 3);
  std::string_view authority = rest.substr(0, rest.find_first_of("/?#"));
  size_t at = authority.rfind('@');
  return at == std::string_view::npos ? "" : authority.substr(0, at);
}

void ReplaceAll(std::string& text, std::string_view from, std::string_view to) {
  if (from.empty()) return;
  for (size_t at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size())) {
    text.replace(at, from.size(), to);
  }
}

// `url` without the credentials it may carry: "https://u:pw@host/r" -> "https://host/r".
std::string RedactUrl(std::string_view url) {
  std::string_view user_info = UserInfo(url);
  if (user_info.empty()) return std::string(url);
  size_t start = url.find("://") + 3;
  return std::string(url.substr(0, start)) + std::string(url.substr(start + user_info.size() + 1));
}

// LastGitError() with every copy of `url`'s credentials taken out, for
// libgit2 messages that quote the URL.
std::string RedactedGitError(std::string_view url) {
  std::string message = LastGitError();
  std::string_view user_info = UserInfo(url);
  if (user_info.empty()) return message;
  ReplaceAll(message, url, RedactUrl(url));
  ReplaceAll(message, std::string(user_info) + "@", "");
  size_t colon = user_info.find(':');
  if (colon != std::string_view::npos) ReplaceAll(message, user_info.substr(colon + 1), "***");
  return message;
}

// A value quoted for a git config file.
std::string QuoteConfigValue(std::string_view value) {
  std::string out = "\"";
  for (char c : value) {
    switch (c) {
      case '\\':
        out += "\\\\";
        break;
      case '"':
        out += "\\\"";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        out += c;
    }
  }
  return out + "\"";
}

// Adds [remote "origin"] with `url` and both refspecs to the config of the
// repository whose git directory is `git_dir`, so that `git fetch` run by hand
// in the mirror does what Fetch() does.
//
// Written as text because libgit2 1.5 leaks PCRE2 match data (~20 KiB) each
// time a config regex fails to match, and git_remote_create, git_remote_lookup
// (url.*.insteadOf) and git_config_set_multivar all run such regexes.
Status AppendOriginConfig(const std::filesystem::path& git_dir, const std::string& url) {
  std::filesystem::path file = git_dir / "config";
  std::ofstream out(file, std::ios::app | std::ios::binary);
  out << "[remote \"origin\"]\n"
      << "\turl = " << QuoteConfigValue(url) << "\n"
      << "\tfetch = " << kHeadsRefspec << "\n"
      << "\tfetch = " << kTagsRefspec << "\n";
  out.close();
  if (!out) return Fail("cannot write {}", file.string());
  return Ok();
}

// The directory a path or file:// URL names; nullopt for network URLs
// (scheme://... or scp-like host:path).
std::optional<std::filesystem::path> LocalPath(std::string_view url) {
  if (url.starts_with("file://")) {
    std::string_view rest = url.substr(7);
    return std::filesystem::path(std::string(rest.substr(std::min(rest.find('/'), rest.size()))));
  }
  if (url.find("://") != std::string_view::npos) return std::nullopt;
  size_t colon = url.find(':');
  if (colon != std::string_view::npos && colon < url.find('/')) return std::nullopt;
  return std::filesystem::path(std::string(url));
}

// Points HEAD at the branch origin's HEAD names, so that Resolve("") means
// the default branch. Best effort: an empty origin has no HEAD.
void FollowRemoteHead(git_repository* repo, git_remote* remote) {
  git_buf head = GIT_BUF_INIT;
  if (git_remote_default_branch(&head, remote) == 0 && head.ptr) {
    git_repository_set_head(repo, head.ptr);
  }
  git_buf_dispose(&head);
  git_error_clear();
}

}  // namespace

Result<std::unique_ptr<Mirror>> Mirror::Open(const std::filesystem::path& path,
                                             const std::string& url) {
  if (url.empty()) return Fail("no URL to mirror into {}", path.string());
  std::error_code ec;
  bool exists = std::filesystem::exists(path, ec);
  if (ec) return Fail("cannot read {}: {}", path.string(), ec.message());
  if (!exists || (std::filesystem::is_directory(path, ec) && std::filesystem::is_empty(path, ec))) {
    EnsureLibgit2();
    if (path.has_parent_path()) std::filesystem::create_directories(path.parent_path(), ec);
    if (ec) return Fail("cannot create {}: {}", path.parent_path().string(), ec.message());
    git_repository* created = nullptr;
    if (git_repository_init(&created, path.c_str(), /*is_bare=*/1) != 0) {
      return Fail("cannot create the mirror {}: {}", path.string(), LastGitError());
    }
    git_repository_free(created);
  }

  Result<std::unique_ptr<GitRepository>> repository = GitRepository::Open(path);
  if (!repository) return std::unexpected(repository.error());
  git_repository* repo = (*repository)->raw();
  if (!git_repository_is_bare(repo)) {
    return Fail("{} has a work tree: a mirror must be a bare repository", path.string());
  }

  // A mirror made earlier keeps its objects; its origin follows the URL it is
  // registered with now.
  Config config;
  if (git_repository_config(config.out(), repo) != 0) {
    return Fail("cannot read the configuration of {}: {}", path.string(), LastGitError());
  }
  git_buf current = GIT_BUF_INIT;
  int found = git_config_get_string_buf(&current, config.get(), "remote.origin.url");
  std::string current_url = found == 0 && current.ptr ? current.ptr : "";
  git_buf_dispose(&current);
  if (found == GIT_ENOTFOUND) {
    if (Status written = AppendOriginConfig(git_repository_path(repo), url); !written) {
      return std::unexpected(written.error());
    }
  } else if (found != 0) {
    return Fail("cannot read the origin of {}: {}", path.string(), LastGitError());
  } else if (current_url != url) {
    if (git_config_set_string(config.get(), "remote.origin.url", url.c_str()) != 0) {
      return Fail("cannot set {} as the origin of {}: {}", RedactUrl(url), path.string(),
                  RedactedGitError(url));
    }
  }

  std::unique_ptr<Mirror> mirror(new Mirror());
  mirror->url_ = url;
  mirror->repository_ = std::move(*repository);
  return mirror;
}

Status Mirror::Fetch() {
  git_repository* repo = repository_->raw();
  // libgit2 reports a missing local path as "unsupported URL protocol".
  if (std::optional<std::filesystem::path> local = LocalPath(url_)) {
    std::error_code ec;
    if (!std::filesystem::exists(*local, ec)) {
      return Fail("cannot fetch {}: no such directory", RedactUrl(url_));
    }
  }
  // An in-memory remote for the URL, not git_remote_lookup("origin"): see
  // AppendOriginConfig. url.*.insteadOf rewriting is skipped for the same reason.
  git_remote_create_options create = GIT_REMOTE_CREATE_OPTIONS_INIT;
  create.repository = repo;
  create.flags = GIT_REMOTE_CREATE_SKIP_INSTEADOF | GIT_REMOTE_CREATE_SKIP_DEFAULT_FETCHSPEC;
  Remote remote;
  if (git_remote_create_with_opts(remote.out(), url_.c_str(), &create) != 0) {
    return Fail("cannot fetch {}: {}", RedactUrl(url_), RedactedGitError(url_));
  }
  git_fetch_options options = GIT_FETCH_OPTIONS_INIT;
  options.prune = GIT_FETCH_PRUNE;
  // The tags refspec takes every tag; no need for libgit2 to follow them too.
  options.download_tags = GIT_REMOTE_DOWNLOAD_TAGS_NONE;
  const char* specs[] = {kHeadsRefspec, kTagsRefspec};
  git_strarray refspecs = {const_cast<char**>(specs), 2};
  if (git_remote_fetch(remote.get(), &refspecs, &options, "fetch") != 0) {
    return Fail("cannot fetch {}: {}", RedactUrl(url_), RedactedGitError(url_));
  }
  FollowRemoteHead(repo, remote.get());
  return Ok();
}

Result<std::map<std::string, std::string>> Mirror::Branches() {
  git_repository* repo = repository_->raw();
  BranchIterator branches;
  if (git_branch_iterator_new(branches.out(), repo, GIT_BRANCH_LOCAL) != 0) {
    return Fail("cannot list the branches of {}: {}", RedactUrl(url_), LastGitError());
  }
  std::map<std::string, std::string> out;
  while (true) {
    Reference branch;
    git_branch_t type;
    int next = git_branch_next(branch.out(), &type, branches.get());
    if (next == GIT_ITEROVER) break;
    if (next != 0) {
      return Fail("cannot list the branches of {}: {}", RedactUrl(url_), LastGitError());
    }
    const char* name = nullptr;
    Reference resolved;
    if (git_branch_name(&name, branch.get()) != 0 ||
        git_reference_resolve(resolved.out(), branch.get()) != 0) {
      return Fail("cannot read branch {} of {}: {}", git_reference_name(branch.get()),
                  RedactUrl(url_), LastGitError());
    }
    const git_oid* target = git_reference_target(resolved.get());
    if (!target) continue;
    char hex[GIT_OID_HEXSZ + 1];
    git_oid_tostr(hex, sizeof hex, target);
    out.emplace(name, hex);
  }
  return out;
}

}  // namespace tauon::scm
