// The one error type for expected failures, used across Tauon.
//
// Functions that can fail return Result<T> (std::expected<T, Error>); Status is
// Result<void>. Exceptions are caught at the edges (third-party libraries) and
// turned into Error; they never cross module boundaries.
#pragma once

#include <expected>
#include <string>
#include <utility>

#include <fmt/format.h>

namespace tauon {

struct Error {
  std::string message;
};

template <typename T>
using Result = std::expected<T, Error>;
using Status = Result<void>;

// Builds an unexpected Error from a fmt format string.
template <typename... Args>
std::unexpected<Error> Fail(fmt::format_string<Args...> format, Args&&... args) {
  return std::unexpected(Error{fmt::format(format, std::forward<Args>(args)...)});
}

inline Status Ok() { return {}; }

}  // namespace tauon
