// A thin RAII layer over the SQLite C API: prepared statements with typed
// binding, and errors as Status. Not thread-safe: one Database per thread.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "util/error.h"

namespace tauon::store {

class Statement {
 public:
  // With `in_use` (the flag of a statement in the Database's cache) the
  // statement is reset and handed back when this object goes away;
  // without it, it is finalized.
  Statement(sqlite3* db, sqlite3_stmt* stmt, bool* in_use = nullptr)
      : db_(db), stmt_(stmt), in_use_(in_use) {}
  Statement(Statement&& other) noexcept
      : db_(other.db_),
        stmt_(std::exchange(other.stmt_, nullptr)),
        in_use_(std::exchange(other.in_use_, nullptr)) {}
  Statement(const Statement&) = delete;
  ~Statement();

  // Parameters are 1-based, as in SQLite.
  Statement& Bind(int index, int64_t value);
  Statement& Bind(int index, int value) { return Bind(index, static_cast<int64_t>(value)); }
  Statement& Bind(int index, double value);
  Statement& Bind(int index, std::string_view value);
  Statement& Bind(int index, const char* value) { return Bind(index, std::string_view(value)); }
  Statement& Bind(int index, const std::string& value) {
    return Bind(index, std::string_view(value));
  }
  Statement& BindNull(int index);
  template <typename T>
  Statement& Bind(int index, const std::optional<T>& value) {
    return value ? Bind(index, *value) : BindNull(index);
  }

  // Advances to the next row: true if there is one, false when done.
  Result<bool> Step();
  // Runs a statement that returns no rows.
  Status Run();

  // Columns are 0-based.
  bool IsNull(int column) const;
  int64_t Int(int column) const;
  double Double(int column) const;
  std::string Text(int column) const;
  std::optional<int64_t> OptionalInt(int column) const;
  std::optional<std::string> OptionalText(int column) const;

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_;
  bool* in_use_;  // Set for cached statements: cleared when this object goes away.
};

class Database {
 public:
  // Opens (creating if needed) with WAL journaling, foreign keys on and a busy
  // timeout, so that several processes can share one file.
  static Result<std::unique_ptr<Database>> Open(const std::filesystem::path& path);
  ~Database();

  // Prepares `sql`, reusing the compiled statement of an earlier call with the
  // same text (statements are compiled once per Database).
  Result<Statement> Prepare(std::string_view sql);
  // Runs one or more statements without parameters.
  Status Execute(std::string_view sql);
  int64_t LastInsertId() const;
  int Changes() const;

  // Runs `body` atomically, committing if it returns ok and rolling back
  // otherwise: its own transaction (BEGIN IMMEDIATE), or a savepoint when a
  // transaction is already open (see Begin), so that it nests.
  template <typename F>
  Status Transaction(F&& body) {
    const bool nested = in_transaction();
    if (auto begun = Execute(nested ? "SAVEPOINT nested" : "BEGIN IMMEDIATE"); !begun) {
      return begun;
    }
    Status result = body();
    if (!result) {
      (void)Execute(nested ? "ROLLBACK TO nested; RELEASE nested" : "ROLLBACK");
      return result;
    }
    return Execute(nested ? "RELEASE nested" : "COMMIT");
  }

  // An explicit transaction, for writers that batch several changes into one
  // commit. REQUIRES (Begin): no transaction is open.
  Status Begin() { return Execute("BEGIN IMMEDIATE"); }
  Status Commit() { return Execute("COMMIT"); }
  bool in_transaction() const { return sqlite3_get_autocommit(db_) == 0; }

 private:
  explicit Database(sqlite3* db) : db_(db) {}

  struct Cached {
    sqlite3_stmt* stmt = nullptr;
    bool in_use = false;  // A Statement holds it; a nested Prepare gets its own.
  };
  sqlite3* db_;
  std::map<std::string, Cached, std::less<>> cache_;
};

}  // namespace tauon::store
