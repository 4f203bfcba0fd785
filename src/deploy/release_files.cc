#include "deploy/release_files.h"

#include <nlohmann/json.hpp>

#include "artifacts/artifact_store.h"
#include "scm/git.h"

namespace tauon::deploy {
namespace fs = std::filesystem;
namespace {

// Takes write permission away from everything under `root`, so that a
// replica cannot change the code or the model it serves.
void MakeReadOnly(const fs::path& root) {
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(root, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (it->is_symlink(ec)) continue;
    fs::permissions(it->path(), fs::perms::owner_write | fs::perms::group_write |
                                    fs::perms::others_write,
                    fs::perm_options::remove, ec);
  }
  fs::permissions(root, fs::perms::owner_write | fs::perms::group_write | fs::perms::others_write,
                  fs::perm_options::remove, ec);
}

// A directory left half-written by a crash: writable again, then removed.
void RemoveTree(const fs::path& root) {
  std::error_code ec;
  if (!fs::exists(root, ec)) return;
  fs::permissions(root, fs::perms::owner_all, fs::perm_options::add, ec);
  for (auto it = fs::recursive_directory_iterator(root, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (!it->is_symlink(ec)) fs::permissions(it->path(), fs::perms::owner_write, fs::perm_options::add, ec);
  }
  fs::remove_all(root, ec);
}

}  // namespace

ReleaseDirs ReleaseDirsOf(const fs::path& data_dir, int64_t release_id) {
  fs::path root = data_dir / "releases" / std::to_string(release_id);
  return {root / "code", root / "model", root / "logs"};
}

Result<ReleaseDirs> PrepareRelease(const fs::path& data_dir, const store::ReleaseRecord& release,
                                   const store::ModelVersionRecord& version) {
  ReleaseDirs dirs = ReleaseDirsOf(data_dir, release.id);
  const fs::path done = dirs.code.parent_path() / ".prepared";
  std::error_code ec;
  if (fs::exists(done, ec)) return dirs;
  RemoveTree(dirs.code);
  RemoveTree(dirs.model);

  Result<std::unique_ptr<scm::GitRepository>> repo = scm::GitRepository::Open(release.source);
  if (!repo) {
    return Fail("cannot open the repository of commit {} ({}): {}", release.commit.substr(0, 12),
                release.source, repo.error().message);
  }
  if (Status ok = (*repo)->Checkout(release.commit, dirs.code); !ok) return std::unexpected(ok.error());

  artifacts::ArtifactStore store(data_dir / "artifacts");
  nlohmann::json files = nlohmann::json::parse(version.files, nullptr, false);
  if (!files.is_array()) return Fail("model {}@{} has an unreadable file list", version.name, version.version);
  fs::create_directories(dirs.model, ec);
  for (const nlohmann::json& file : files) {
    const std::string path = file.value("path", "");
    if (path.empty() || path.starts_with("/") || fs::path(path).lexically_normal().string().starts_with("..")) {
      return Fail("model {}@{} has a file outside its directory: '{}'", version.name,
                  version.version, path);
    }
    if (Status ok = store.Restore(file.value("digest", ""), dirs.model / path, 0444); !ok) {
      return std::unexpected(ok.error());
    }
  }
  MakeReadOnly(dirs.code);
  MakeReadOnly(dirs.model);
  fs::create_directories(dirs.logs, ec);
  if (ec) return Fail("cannot create {}: {}", dirs.logs.string(), ec.message());
  FILE* marker = fopen(done.c_str(), "w");
  if (marker) fclose(marker);
  return dirs;
}

}  // namespace tauon::deploy
