// The files a commit changed, kept per run, so that the test ranking can
// tell whether a test's own file changed ("when known": work-tree runs and
// replayed CSV histories have no such information and the feature is 0).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "scm/git.h"
#include "store/sqlite.h"
#include "util/error.h"

namespace tauon::history {

// At most this many paths are kept per commit: a huge change says little
// about any one test.
inline constexpr size_t kMaxChangedFiles = 2000;

// The paths that differ between commit `sha` and its first parent (every
// path of a root commit), sorted, at most kMaxChangedFiles.
Result<std::vector<std::string>> ChangedFiles(scm::GitRepository& repo, const std::string& sha);

Status RecordChangedFiles(store::Database& db, int64_t run_id,
                          const std::vector<std::string>& paths);
// The recorded changed files of the runs of `repo`, by run id.
Result<std::map<int64_t, std::vector<std::string>>> ChangedFilesOfRuns(store::Database& db,
                                                                        std::string_view repo);

// Whether a changed path is the test's own source file, guessed from the
// JUnit classname: "tests.test_math.TestAdd" (pytest) is tests/test_math.py,
// "com.acme.MathTest" (Surefire) is .../com/acme/MathTest.java, "MathTest"
// (GoogleTest) is .../MathTest.cc. A path matches when, without its
// extension, it is the classname with dots as slashes (or that with trailing
// components dropped, for classes inside a module), or ends with "/" + that.
bool TestFileChanged(std::string_view classname, const std::vector<std::string>& changed);

}  // namespace tauon::history
