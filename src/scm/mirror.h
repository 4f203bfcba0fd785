// The server's own bare copy of a registered repository, fetched from its
// URL or path. Runs read their commits from here, never from the origin.
#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <string>

#include "scm/git.h"

namespace tauon::scm {

class Mirror {
 public:
  // Opens the bare mirror at `path`, creating it (with `url` as its origin)
  // if it does not exist. `url` is anything git can fetch: a path, file://,
  // https:// or ssh:// URL.
  static Result<std::unique_ptr<Mirror>> Open(const std::filesystem::path& path,
                                              const std::string& url);

  // Fetches every branch and tag from the origin, force-updating refs and
  // removing branches deleted there. Errors name the URL (without any
  // credentials in it) and libgit2's reason.
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
