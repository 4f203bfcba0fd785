// The files of a release: the commit's tree and the model version's files,
// both read-only, under DATA/releases/ID/.
#pragma once

#include <filesystem>

#include "store/records.h"
#include "util/error.h"

namespace tauon::deploy {

struct ReleaseDirs {
  std::filesystem::path code;   // The commit checked out: the replicas' working directory.
  std::filesystem::path model;  // $TAUON_MODEL_DIR
  std::filesystem::path logs;   // One log per replica.
};

ReleaseDirs ReleaseDirsOf(const std::filesystem::path& data_dir, int64_t release_id);

// Checks out `release.commit` from `release.source` and restores the files
// of `version` from the artifact store; both end up read-only. Idempotent:
// a release prepared before (a server restart) is left as it is.
Result<ReleaseDirs> PrepareRelease(const std::filesystem::path& data_dir,
                                   const store::ReleaseRecord& release,
                                   const store::ModelVersionRecord& version);

}  // namespace tauon::deploy
