// The server's own bare copy of a registered repository, fetched from its
// URL or path. Runs read their commits from here, never from the origin.
#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <string>

#include "scm/git.h"

namespace tauon::scm {

// Not thread-safe: one caller at a time per Mirror (and per path on disk).
class Mirror {
 public:
  // Opens the bare mirror at `path`, creating it (with `url` as its origin)
  // if it does not exist or is an empty directory. `url` is anything git can
  // fetch: a path, file://, https:// or ssh:// URL. An existing mirror keeps
  // its objects and has its origin set to `url` if that changed. Fails if
  // `path` holds something other than a bare repository.
  static Result<std::unique_ptr<Mirror>> Open(const std::filesystem::path& path,
                                              const std::string& url);

  // Fetches every branch and tag from the origin, force-updating refs and
  // removing branches and tags deleted there; then points HEAD at origin's
  // default branch, so that repository().Resolve("") names it. Errors name
  // the URL (without any credentials in it) and libgit2's reason. There is
  // no credential callback yet (https credentials go in the URL; ssh keys are
  // not offered) and url.*.insteadOf is not applied.
  Status Fetch();

  // Branch name -> commit sha, after the last Fetch.
  Result<std::map<std::string, std::string>> Branches();

  GitRepository& repository() { return *repository_; }

 private:
  Mirror() = default;
  std::string url_;
  std::unique_ptr<GitRepository> repository_;
};

}  // namespace tauon::scm
