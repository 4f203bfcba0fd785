// Reading whole files with errors as values.
#pragma once

#include <filesystem>
#include <string>

#include "util/error.h"

namespace tauon {

// The content of `path`. Fails with "cannot read PATH: REASON" (no such
// file, a directory, permission denied, ...). Never throws.
Result<std::string> ReadFileToString(const std::filesystem::path& path);

}  // namespace tauon
