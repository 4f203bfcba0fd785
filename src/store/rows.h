// Reading and writing column values, shared by the store's files.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "store/sqlite.h"
#include "util/clock.h"

namespace tauon::store {

inline std::optional<std::string> TimeText(const std::optional<TimePoint>& t) {
  if (!t) return std::nullopt;
  return FormatTime(*t);
}

// A time column; nullopt when NULL or unreadable.
inline std::optional<TimePoint> TimeColumn(const Statement& row, int column) {
  std::optional<std::string> text = row.OptionalText(column);
  if (!text) return std::nullopt;
  Result<TimePoint> t = ParseTime(*text);
  if (!t) return std::nullopt;
  return *t;
}

// Collects the rows of a query through `read`.
template <typename T, typename Read>
Result<std::vector<T>> Collect(Statement& statement, Read read) {
  std::vector<T> out;
  while (true) {
    Result<bool> row = statement.Step();
    if (!row) return std::unexpected(row.error());
    if (!*row) return out;
    out.push_back(read(statement));
  }
}

}  // namespace tauon::store
